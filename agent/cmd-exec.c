/* guest-exec and guest-exec-status: processes started for the host, their
 * input written and their output read through non-blocking pipes in the
 * agent's loop. In porthole-agent they are started by the launcher
 * (launcher.c), which keeps the privileges the agent drops, and their exits
 * come from it; without one (tests) they are the agent's own children,
 * collected by the loop's SIGCHLD reaping. The
 * dispatcher keeps both commands disabled unless the configuration enables
 * them (CMD_DISABLED_BY_DEFAULT). */
#include "cmd-exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "agent.h"
#include "base64.h"
#include "child-watch.h"
#include "cmd-json.h"
#include "command.h"
#include "launcher.h"
#include "log.h"
#include "util.h"

/* Processes running or exited and not yet collected by guest-exec-status. */
#define EXEC_PROCS_MAX 64
/* Entries of "arg" and of "env" (the request's size bounds them anyway). */
#define EXEC_ARGV_MAX 4096
#define EXEC_READ_CHUNK 65536
/* When the configuration leaves exec_output_max at 0. */
#define EXEC_OUTPUT_DEFAULT (1 << 20)
/* How long the pipes may stay open after the process has exited (a
 * background child that inherited them): then they are closed and the exit
 * is reported. qemu-ga waits for ever. */
#define EXEC_DRAIN_MS 5000

/* capture-output: a bool (qemu-ga 2.5 to 7.2) or, from 8.0, a mode name. */
enum capture {
	CAPTURE_NONE,
	CAPTURE_STDOUT,
	CAPTURE_STDERR,
	CAPTURE_SEPARATED,
	CAPTURE_MERGED,
};

static const struct {
	const char *name;
	enum capture mode;
} capture_modes[] = {
	{ "none", CAPTURE_NONE },     { "stdout", CAPTURE_STDOUT },
	{ "stderr", CAPTURE_STDERR }, { "separated", CAPTURE_SEPARATED },
	{ "merged", CAPTURE_MERGED },
};

struct stream {
	int fd; /* -1: closed, or never opened */
	char *buf;
	size_t len, cap, max;
	bool truncated;
};

struct proc {
	pid_t pid; /* 0: a free slot */
	bool exited;
	int status;
	int in_fd;
	void *in;
	size_t in_len, in_off;
	struct stream out, err;
	int64_t drain_timer; /* 0: none */
};

struct exec_state {
	struct loop *loop;
	struct child_watch watch;
	struct proc procs[EXEC_PROCS_MAX];
};

static void close_fd(struct loop *l, int *fd)
{
	if (*fd < 0)
		return;
	loop_del_fd(l, *fd);
	close(*fd);
	*fd = -1;
}

static void proc_reset(struct proc *p)
{
	*p = (struct proc){ .in_fd = -1, .out.fd = -1, .err.fd = -1 };
}

static void proc_free(struct loop *l, struct proc *p)
{
	close_fd(l, &p->in_fd);
	close_fd(l, &p->out.fd);
	close_fd(l, &p->err.fd);
	loop_cancel(l, p->drain_timer);
	free(p->in);
	free(p->out.buf);
	free(p->err.buf);
	proc_reset(p);
}

static void close_input(struct loop *l, struct proc *p)
{
	close_fd(l, &p->in_fd);
	free(p->in);
	p->in = NULL;
}

/* Output, up to the stream's bound; past it, read and dropped (so that the
 * process never blocks on a full pipe) and the stream marked truncated. */
static void on_output(struct loop *l, int fd, uint32_t events, void *data)
{
	static char scratch[EXEC_READ_CHUNK];
	struct stream *s = data;
	ssize_t n;

	(void)events;
	/* out of memory: what does not fit is read and dropped, as past max */
	if (s->len == s->cap && s->cap < s->max)
		(void)buf_reserve(&s->buf, &s->cap, s->len + 1, 4096, s->max);
	if (s->len < s->cap) {
		size_t room = s->cap - s->len;

		n = read(fd, s->buf + s->len, room < EXEC_READ_CHUNK ? room : EXEC_READ_CHUNK);
		if (n > 0)
			s->len += (size_t)n;
	} else {
		n = read(fd, scratch, sizeof(scratch));
		if (n > 0)
			s->truncated = true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF: the process (and everything that inherited the pipe) closed it */
	if (n <= 0)
		close_fd(l, &s->fd);
}

/* input-data, written as the pipe takes it. A process that exits or closes
 * its stdin early gives EPIPE (SIGPIPE is ignored by the agent): the rest is
 * dropped, as it would be by a shell. */
static void on_input(struct loop *l, int fd, uint32_t events, void *data)
{
	struct proc *p = data;
	ssize_t n;

	(void)events;
	n = write(fd, (char *)p->in + p->in_off, p->in_len - p->in_off);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		p->in_off += (size_t)n;
	if (n < 0 || p->in_off == p->in_len)
		close_input(l, p);
}

static void on_drain_timeout(struct loop *l, void *data)
{
	struct proc *p = data;

	p->drain_timer = 0;
	if (p->out.fd < 0 && p->err.fd < 0)
		return;
	log_info("guest-exec: process %d exited %d s ago but its output is still held open "
		 "(by a child it left running?): closing it",
		 (int)p->pid, EXEC_DRAIN_MS / 1000);
	close_fd(l, &p->out.fd);
	close_fd(l, &p->err.fd);
}

/* The loop's SIGCHLD reaping asks here about every child; those that
 * guest-exec did not start (porthole-shell's sessions) are another
 * watcher's. */
static bool on_child(struct loop *l, pid_t pid, int status, void *data)
{
	struct exec_state *st = data;

	for (size_t i = 0; i < EXEC_PROCS_MAX; i++) {
		struct proc *p = &st->procs[i];

		if (p->pid != pid || p->exited)
			continue;
		p->exited = true;
		p->status = status;
		if (p->out.fd >= 0 || p->err.fd >= 0) {
			int64_t id = loop_timer(l, EXEC_DRAIN_MS, on_drain_timeout, p);

			p->drain_timer = id > 0 ? id : 0;
		}
		return true;
	}
	return false;
}

static struct exec_state *exec_state(struct agent *a, struct cmd_error *err)
{
	struct exec_state *st = a->exec;
	int r;

	if (st)
		return st;
	if (!a->loop) {
		cmd_fail(err, "guest-exec: the agent has no event loop");
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		cmd_fail(err, "out of memory");
		return NULL;
	}
	st->loop = a->loop;
	for (size_t i = 0; i < EXEC_PROCS_MAX; i++)
		proc_reset(&st->procs[i]);
	/* the launcher's fd is on the loop already (main.c) */
	r = child_watch_start(&st->watch, a->loop, a->launcher, on_child, st);
	if (r < 0) {
		free(st);
		cmd_fail_errno(err, r, "guest-exec: watch for exiting children");
		return NULL;
	}
	a->exec = st;
	return st;
}

void cmd_exec_free(struct agent *a)
{
	struct exec_state *st = a->exec;

	if (!st)
		return;
	for (size_t i = 0; i < EXEC_PROCS_MAX; i++)
		if (st->procs[i].pid)
			proc_free(st->loop, &st->procs[i]);
	child_watch_stop(&st->watch);
	free(st);
	a->exec = NULL;
}

/* "arg" and "env": arrays of strings (the dispatcher checked), none with a
 * NUL (the parser refuses one). Fills OUT from index FIRST, NULL-terminated. */
static void string_list(json_t *list, const char **out, size_t first)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v) out[first + i] = json_string_value(v);
	out[first + i] = NULL;
}

static int parse_capture(json_t *v, enum capture *ret, struct cmd_error *err)
{
	if (!v || json_is_null(v)) {
		*ret = CAPTURE_NONE;
		return 0;
	}
	if (json_is_boolean(v)) {
		*ret = json_is_true(v) ? CAPTURE_SEPARATED : CAPTURE_NONE;
		return 0;
	}
	if (json_is_string(v)) {
		for (size_t i = 0; i < ARRAY_SIZE(capture_modes); i++) {
			if (strcmp(json_string_value(v), capture_modes[i].name) == 0) {
				*ret = capture_modes[i].mode;
				return 0;
			}
		}
	}
	return cmd_fail(err, "Parameter 'capture-output' expects a boolean or one of none, stdout, "
			     "stderr, separated, merged");
}

/* PATH search as qemu-ga's g_spawn does it (G_SPAWN_SEARCH_PATH_FROM_ENVP):
 * the PATH of the given environment, else the agent's, else a default. */
int exec_resolve(const char *path, const char *const *envp, char *ret, size_t size)
{
	const char *search = NULL;
	int r = -ENOENT;

	if (strchr(path, '/')) {
		if ((size_t)snprintf(ret, size, "%s", path) >= size)
			return -ENAMETOOLONG;
		return 0;
	}
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			search = envp[i] + 5;
	if (!search)
		search = getenv("PATH");
	if (!search || !*search)
		search = EXEC_DEFAULT_PATH;
	for (const char *dir = search; dir; dir = strchr(dir, ':') ? strchr(dir, ':') + 1 : NULL) {
		size_t dlen = strcspn(dir, ":");
		struct stat st;

		if (dlen == 0)
			continue;
		if ((size_t)snprintf(ret, size, "%.*s/%s", (int)dlen, dir, path) >= size)
			continue;
		if (stat(ret, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (access(ret, X_OK) == 0)
			return 0;
		r = -EACCES;
	}
	return r;
}

/* A pipe whose ends are above the standard descriptors (the agent may have
 * been started with 0, 1 or 2 closed), close-on-exec: the child gets its end
 * through posix_spawn's dup2. */
static int pipe_above_stdio(int p[2])
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		if (p[i] > 2)
			continue;
		int fd = fcntl(p[i], F_DUPFD_CLOEXEC, 3);

		if (fd < 0) {
			int r = -errno;

			close(p[0]);
			close(p[1]);
			return r;
		}
		close(p[i]);
		p[i] = fd;
	}
	return 0;
}

struct spawn_fds {
	int in[2], out[2], err[2];
};

static void spawn_fds_close(struct spawn_fds *f)
{
	int *all[] = { &f->in[0], &f->in[1], &f->out[0], &f->out[1], &f->err[0], &f->err[1] };

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		if (*all[i] >= 0)
			close(*all[i]);
		*all[i] = -1;
	}
}

/* posix_spawn(3): the error of a failed exec comes back to us (glibc's
 * CLONE_VFORK), which a fork + exec does not give without a pipe of its own.
 * The child starts a session of its own, with no signal blocked (the agent
 * blocks SIGCHLD for its signalfd) and every signal at its default (the
 * agent ignores SIGPIPE), umask 022; no descriptor but 0, 1, 2 survives. Stdin is
 * /dev/null without input-data, as with qemu-ga; an output not captured goes
 * to /dev/null. */
static int spawn(struct launcher *ln, const char *file, const char *const *argv,
		 const char *const *envp, bool input, enum capture capture, struct spawn_fds *f,
		 pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	mode_t old_mask;
	bool cap_out = capture == CAPTURE_STDOUT || capture == CAPTURE_SEPARATED ||
		       capture == CAPTURE_MERGED;
	bool cap_err = capture == CAPTURE_STDERR || capture == CAPTURE_SEPARATED;
	int r;

	if ((input && (r = pipe_above_stdio(f->in)) < 0) ||
	    (cap_out && (r = pipe_above_stdio(f->out)) < 0) ||
	    (cap_err && (r = pipe_above_stdio(f->err)) < 0))
		return r;
	/* the launcher does the same with the ends it is passed */
	if (ln) {
		const int fds[3] = { input ? f->in[0] : -1, cap_out ? f->out[1] : -1,
				     capture == CAPTURE_MERGED ? f->out[1]
				     : cap_err		       ? f->err[1]
							       : -1 };

		return launcher_spawn(ln, file, argv, envp, fds, ret_pid);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETSID);
	if (input)
		posix_spawn_file_actions_adddup2(&fa, f->in[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (cap_out)
		posix_spawn_file_actions_adddup2(&fa, f->out[1], 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (capture == CAPTURE_MERGED)
		posix_spawn_file_actions_adddup2(&fa, f->out[1], 2);
	else if (cap_err)
		posix_spawn_file_actions_adddup2(&fa, f->err[1], 2);
	else
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	/* the agent's own umask (077) is for what it creates; a command run for
	 * the host gets the usual 022, as under qemu-ga. posix_spawn has no
	 * attribute for it; the agent is one thread, so set and restore. */
	old_mask = umask(022);
	r = -posix_spawn(ret_pid, file, &fa, &attr, (char *const *)argv, (char *const *)envp);
	umask(old_mask);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return r;
}

/* Hands the parent's end of a pipe to the loop, non-blocking. A loop with no
 * room left closes it: the process sees EOF or EPIPE, the agent goes on. */
static void watch(struct loop *l, int *fd, uint32_t events, loop_fd_fn fn, void *data)
{
	int r;

	if (fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    (r = loop_add_fd(l, *fd, events, fn, data)) < 0) {
		log_warn("guest-exec: cannot watch a pipe, closing it");
		close(*fd);
		*fd = -1;
	}
}

static enum cmd_result exec_cmd(struct agent *a, json_t *args, json_t **result,
				struct cmd_error *err)
{
	struct exec_state *st = exec_state(a, err);
	json_t *jarg = json_object_get(args, "arg"), *jenv = json_object_get(args, "env");
	json_t *jin = json_object_get(args, "input-data");
	const char *path = json_string_value(json_object_get(args, "path"));
	struct spawn_fds f = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
	_cleanup_free_ const char **argv = NULL;
	_cleanup_free_ const char **envp = NULL;
	_cleanup_free_ void *input = NULL;
	size_t nargs = jarg ? json_array_size(jarg) : 0, input_len = 0;
	char file[PATH_MAX];
	enum capture capture = CAPTURE_NONE;
	struct proc *p = NULL;
	pid_t pid;
	int r;

	if (!st)
		return -1;
	if (!*path)
		return cmd_fail(err, "Parameter 'path' must not be empty");
	if (nargs > EXEC_ARGV_MAX || (jenv && json_array_size(jenv) > EXEC_ARGV_MAX))
		return cmd_fail(err, "more than %d entries in 'arg' or 'env'", EXEC_ARGV_MAX);
	if (parse_capture(json_object_get(args, "capture-output"), &capture, err) < 0)
		return -1;
	for (size_t i = 0; i < EXEC_PROCS_MAX && !p; i++)
		if (!st->procs[i].pid)
			p = &st->procs[i];
	if (!p)
		return cmd_fail(err,
				"guest-exec: %d processes are running or not yet collected with "
				"guest-exec-status",
				EXEC_PROCS_MAX);
	/* argv[0] is the path as given, as qemu-ga does */
	argv = calloc(nargs + 2, sizeof(*argv));
	if (!argv)
		return cmd_fail(err, "out of memory");
	argv[0] = path;
	if (jarg)
		string_list(jarg, argv, 1);
	/* "env" replaces the environment; without it the agent's is inherited */
	if (jenv) {
		envp = calloc(json_array_size(jenv) + 1, sizeof(*envp));
		if (!envp)
			return cmd_fail(err, "out of memory");
		string_list(jenv, envp, 0);
	}
	if (jin) {
		const char *s = json_string_value(jin);

		r = base64_decode(s, json_string_length(jin), BASE64_LENIENT, &input, &input_len);
		if (r == -ENOMEM)
			return cmd_fail(err, "out of memory");
		if (r < 0)
			return cmd_fail(err, "Parameter 'input-data': invalid base64");
	}
	r = exec_resolve(path, envp, file, sizeof(file));
	if (r == 0)
		r = spawn(a->launcher, file, argv, envp ? envp : (const char *const *)environ,
			  jin != NULL, capture, &f, &pid);
	if (r < 0) {
		spawn_fds_close(&f);
		return cmd_fail(err, "Failed to execute child process \"%s\" (%s)", path,
				strerror(-r));
	}
	/* the child has its ends; ours are watched by the loop */
	if (f.in[0] >= 0)
		close(f.in[0]);
	if (f.out[1] >= 0)
		close(f.out[1]);
	if (f.err[1] >= 0)
		close(f.err[1]);
	proc_reset(p);
	p->pid = pid;
	p->in_fd = f.in[1];
	p->out.fd = f.out[0];
	p->err.fd = f.err[0];
	p->out.max = p->err.max =
		a->cfg.exec_output_max ? a->cfg.exec_output_max : EXEC_OUTPUT_DEFAULT;
	log_info("guest-exec: started %s as process %d", path, (int)pid);
	if (p->out.fd >= 0)
		watch(st->loop, &p->out.fd, EPOLLIN, on_output, &p->out);
	if (p->err.fd >= 0)
		watch(st->loop, &p->err.fd, EPOLLIN, on_output, &p->err);
	if (p->in_fd >= 0) {
		p->in = input;
		p->in_len = input_len;
		input = NULL;
		watch(st->loop, &p->in_fd, EPOLLOUT, on_input, p);
		/* most inputs fit in the pipe at once */
		if (p->in_fd >= 0)
			on_input(st->loop, p->in_fd, EPOLLOUT, p);
		else
			close_input(st->loop, p);
	}
	*result = json_pack("{s:i}", "pid", (int)pid);
	return *result ? 0 : cmd_fail(err, "out of memory");
}

static int add_output(json_t *res, const char *data_key, const char *trunc_key,
		      const struct stream *s)
{
	char *b64;
	int r;

	/* qemu-ga reports a stream only when it produced something, and then
	 * with its truncated flag */
	if (s->len == 0)
		return 0;
	r = base64_encode(s->buf, s->len, &b64, NULL);
	if (r < 0)
		return r;
	r = cmd_json_set(res, data_key, json_string(b64));
	free(b64);
	if (r < 0)
		return r;
	return cmd_json_set(res, trunc_key, json_boolean(s->truncated));
}

/* Reports the process as exited once it has been reaped and its output read
 * to the end; that report is the last: the entry is then forgotten. */
static enum cmd_result exec_status(struct agent *a, json_t *args, json_t **result,
				   struct cmd_error *err)
{
	struct exec_state *st = a->exec;
	json_int_t pid = json_integer_value(json_object_get(args, "pid"));
	struct proc *p = NULL;
	json_t *res;

	for (size_t i = 0; st && pid > 0 && i < EXEC_PROCS_MAX && !p; i++)
		if (st->procs[i].pid == pid)
			p = &st->procs[i];
	if (!p)
		return cmd_fail(err, "Invalid parameter 'pid'");
	if (!p->exited || p->out.fd >= 0 || p->err.fd >= 0) {
		*result = json_pack("{s:b}", "exited", 0);
		return *result ? 0 : cmd_fail(err, "out of memory");
	}
	res = json_pack("{s:b}", "exited", 1);
	if (!res)
		return cmd_fail(err, "out of memory");
	if ((WIFEXITED(p->status) &&
	     cmd_json_set(res, "exitcode", json_integer(WEXITSTATUS(p->status))) < 0) ||
	    (WIFSIGNALED(p->status) &&
	     cmd_json_set(res, "signal", json_integer(WTERMSIG(p->status))) < 0) ||
	    add_output(res, "out-data", "out-truncated", &p->out) < 0 ||
	    add_output(res, "err-data", "err-truncated", &p->err) < 0) {
		/* the entry stays: the client may ask again */
		json_decref(res);
		return cmd_fail(err, "out of memory");
	}
	proc_free(st->loop, p);
	*result = res;
	return 0;
}

const struct command cmd_exec_table[] = {
	{ "guest-exec",
	  exec_cmd,
	  { { "path", ARG_STRING, true },
	    { "arg", ARG_STRING_ARRAY, false },
	    { "env", ARG_STRING_ARRAY, false },
	    { "input-data", ARG_STRING, false },
	    { "capture-output", ARG_ANY, false } },
	  CMD_DISABLED_BY_DEFAULT },
	{ "guest-exec-status", exec_status, { { "pid", ARG_INT, true } }, CMD_DISABLED_BY_DEFAULT },
	{ 0 },
};
