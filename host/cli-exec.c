/* porthole exec: runs a command in the guest with guest-exec (capture-output,
 * stdin from porthole's own with --stdin), polls guest-exec-status until it
 * exits, writes its output and exits with its status. With -t or -i the
 * command runs in a porthole-shell session instead (cli-shell.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "base64.h"
#include "cli.h"
#include "util.h"

#define EXEC_WAIT_MS_DEFAULT (300u * 1000)
#define EXEC_ENV_MAX 64
#define EXEC_STDIN_MAX (1024 * 1024)
/* guest-exec-status polling: quick at first for short commands, then
 * at most this often. */
#define EXEC_POLL_MIN_MS 5
#define EXEC_POLL_MAX_MS 250

/* Reads all of stdin, at most MAX bytes. */
static int read_stdin(size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;

	for (;;) {
		ssize_t n;

		/* one byte past MAX tells a longer input */
		if (len == cap) {
			int r = buf_reserve(&buf, &cap, len + 1, 4096, max + 1);

			if (r < 0) {
				free(buf);
				return r == -E2BIG ? -EFBIG : r;
			}
		}
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return -EFBIG;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* Writes base64 DATA of an exec status member to F. */
static void write_b64(json_t *data, FILE *f, const char *what)
{
	void *buf;
	size_t len;

	if (!json_is_string(data))
		return;
	if (base64_decode(json_string_value(data), json_string_length(data), 0, &buf, &len) < 0) {
		cli_error("guest-exec-status: %s is not base64, ignoring", what);
		return;
	}
	fwrite(buf, 1, len, f);
	fflush(f);
	free(buf);
}

/* --stdin: porthole's standard input as guest-exec's input-data. */
static int stdin_arg(json_t *args)
{
	char *data = NULL, *b64 = NULL;
	size_t len = 0;
	int r = read_stdin(EXEC_STDIN_MAX, &data, &len);

	if (r < 0) {
		cli_error("read stdin (at most %d bytes): %s", EXEC_STDIN_MAX, strerror(-r));
		return CLI_EXIT_USAGE;
	}
	r = base64_encode(data, len, &b64, NULL);
	free(data);
	if (r < 0) {
		cli_error("encode stdin: %s", strerror(-r));
		return CLI_EXIT_USAGE;
	}
	json_object_set_new(args, "input-data", json_string(b64));
	free(b64);
	return CLI_EXIT_OK;
}

/* -t and -i: a porthole-shell session instead of guest-exec. */
struct exec_mode {
	bool tty, interactive;
};

static const struct option exec_longs[] = {
	{ "wait", required_argument, NULL, 'w' },  { "env", required_argument, NULL, 'e' },
	{ "stdin", no_argument, NULL, 'S' },	   { "tty", no_argument, NULL, 't' },
	{ "interactive", no_argument, NULL, 'i' }, { 0 },
};
const struct cli_options cli_exec_options = { "+ti", exec_longs };

/* ARGS gets guest-exec's arguments from the command line; a usage error
 * returns its exit code (and ARGS may be half filled). */
static int exec_args(const char *cmd, int argc, char **argv, json_t *args, unsigned *wait_ms,
		     struct exec_mode *mode)
{
	json_t *env = json_array(), *arg = json_array();
	bool wait_given = false, want_stdin = false;
	int c, r = CLI_EXIT_OK;

	optind = 1;
	/* "+": options end at the command, whose own options are its own. */
	while (r == CLI_EXIT_OK && (c = getopt_long(argc, argv, cli_exec_options.shorts,
						    cli_exec_options.longs, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (parse_seconds_ms(optarg, 1, CLI_TIMEOUT_MS_MAX, wait_ms) < 0)
				r = cli_usage_error(cmd, "--wait: seconds from 0.001 to %u, not %s",
						    CLI_TIMEOUT_MS_MAX / 1000, optarg);
			wait_given = true;
			break;
		case 't':
			mode->tty = true;
			break;
		case 'e':
			if (!strchr(optarg, '='))
				r = cli_usage_error(cmd, "--env wants NAME=VALUE, not %s", optarg);
			else if (json_array_size(env) >= EXEC_ENV_MAX)
				r = cli_usage_error(cmd, "at most %d --env", EXEC_ENV_MAX);
			else
				json_array_append_new(env, json_string(optarg));
			break;
		case 'i':
			mode->interactive = true;
			break;
		case 'S':
			want_stdin = true;
			break;
		default:
			r = cli_usage_error(cmd, "bad option");
		}
	}
	/* a session streams stdin and lasts as long as its command */
	if (r == CLI_EXIT_OK && (mode->tty || mode->interactive) && (wait_given || want_stdin))
		r = cli_usage_error(cmd,
				    "--wait and --stdin are for guest-exec: not with -t or -i, "
				    "which stream stdin for as long as the command runs");
	if (r == CLI_EXIT_OK && optind >= argc)
		r = cli_usage_error(cmd, "exec needs a command");
	if (r == CLI_EXIT_OK && want_stdin)
		r = stdin_arg(args);
	if (r == CLI_EXIT_OK) {
		json_object_set_new(args, "path", json_string(argv[optind]));
		for (int i = optind + 1; i < argc; i++)
			json_array_append_new(arg, json_string(argv[i]));
		if (json_array_size(arg))
			json_object_set(args, "arg", arg);
		if (json_array_size(env))
			json_object_set(args, "env", env);
		json_object_set_new(args, "capture-output", json_true());
	}
	json_decref(env);
	json_decref(arg);
	return r;
}

static int exec_status_code(json_t *st, const char *path)
{
	json_t *code = json_object_get(st, "exitcode");
	json_t *sig = json_object_get(st, "signal");

	if (json_is_true(json_object_get(st, "out-truncated")))
		cli_error("%s: the guest truncated the captured stdout", path);
	if (json_is_true(json_object_get(st, "err-truncated")))
		cli_error("%s: the guest truncated the captured stderr", path);
	if (json_is_integer(code))
		return (int)(json_integer_value(code) & 0xff);
	if (json_is_integer(sig)) {
		cli_error("%s: killed by signal %" JSON_INTEGER_FORMAT, path,
			  json_integer_value(sig));
		return 128 + (int)(json_integer_value(sig) & 0x7f);
	}
	cli_error("%s: exited, but the guest gave neither exit code nor signal", path);
	return CLI_EXIT_GUEST;
}

int cli_exec(struct cli *cli, int argc, char **argv)
{
	json_t *args = json_object(), *result = NULL, *st = NULL, *sargs = NULL;
	unsigned wait_ms = EXEC_WAIT_MS_DEFAULT;
	unsigned poll_ms = EXEC_POLL_MIN_MS;
	struct exec_mode mode = { 0 };
	const char *path;
	uint64_t deadline;
	json_int_t pid;
	int r;

	r = exec_args(argv[0], argc, argv, args, &wait_ms, &mode);
	if (r != CLI_EXIT_OK)
		goto out;
	path = json_string_value(json_object_get(args, "path"));
	if (mode.tty || mode.interactive) {
		json_t *full = json_pack("[s]", path), *arg = json_object_get(args, "arg");

		/* porthole-shell's argv is the whole of it, the program first */
		if (!full || (arg && json_array_extend(full, arg) < 0)) {
			json_decref(full);
			cli_error("out of memory");
			r = CLI_EXIT_CONNECT;
			goto out;
		}
		r = cli_session(cli, path, full, json_object_get(args, "env"), mode.tty);
		json_decref(full);
		goto out;
	}
	r = cli_call(cli, "guest-exec", args, &result);
	if (r != CLI_EXIT_OK)
		goto out;
	if (!json_is_integer(json_object_get(result, "pid"))) {
		cli_error("guest-exec on %s: the result has no pid", cli->address);
		r = CLI_EXIT_CONNECT;
		goto out;
	}
	pid = json_integer_value(json_object_get(result, "pid"));
	sargs = json_pack("{s:I}", "pid", pid);
	deadline = now_mono_ns() + (uint64_t)wait_ms * NSEC_PER_MSEC;
	for (;;) {
		r = cli_call(cli, "guest-exec-status", sargs, &st);
		if (r != CLI_EXIT_OK)
			goto out;
		if (json_is_true(json_object_get(st, "exited")))
			break;
		json_decref(st);
		st = NULL;
		if (now_mono_ns() + poll_ms * (uint64_t)NSEC_PER_MSEC > deadline) {
			cli_error("%s (pid %" JSON_INTEGER_FORMAT
				  ") still runs in the guest after %g s",
				  path, pid, wait_ms / 1000.0);
			r = CLI_EXIT_CONNECT;
			goto out;
		}
		usleep(poll_ms * 1000);
		poll_ms = poll_ms * 2 > EXEC_POLL_MAX_MS ? EXEC_POLL_MAX_MS : poll_ms * 2;
	}
	if (cli->json) {
		cli_print_json(st, JSON_COMPACT);
	} else {
		/* qemu-ga forgets the process once it reported its exit: this
		 * is the only copy of the output. */
		write_b64(json_object_get(st, "out-data"), stdout, "out-data");
		write_b64(json_object_get(st, "err-data"), stderr, "err-data");
	}
	r = exec_status_code(st, path);
out:
	json_decref(args);
	json_decref(sargs);
	json_decref(result);
	json_decref(st);
	return r;
}
