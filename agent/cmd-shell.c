/* porthole-shell: a command, by default the user's login shell, on a pty
 * (or pipes), in a session process that takes the connection over once
 * the request is answered (shell-session.c). Here: the arguments checked,
 * the environment built, the bound on sessions, and their pids, which the
 * loop's reaping hands back. The dispatcher keeps the command disabled
 * unless agent.shell is set (CMD_NEEDS_SHELL); the transport refuses the
 * hand-over on a virtio-serial port. */
#include "cmd-shell.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "child-watch.h"
#include "cmd-exec.h"
#include "command.h"
#include "launcher.h"
#include "log.h"
#include "shell-session.h"
#include "util.h"

/* Entries of "argv" and of "env" (the request's size bounds them anyway). */
#define SHELL_ARGV_MAX 4096
#define SHELL_TERM_MAX 64
/* TERM when the request names none: what docker exec -t sets. */
#define SHELL_TERM_DEFAULT "xterm"
/* The login shell when the user's (passwd's) cannot be run: Debian's
 * root has /bin/bash, which the minimal image (busybox) does not. */
#define SHELL_FALLBACK "/bin/sh"
/* HOME, LOGNAME, USER, SHELL, PATH, TERM */
#define SHELL_ENV_DEFAULTS 6

struct shell_state {
	struct loop *loop;
	struct child_watch watch;
	pid_t sessions[SHELL_SESSIONS_MAX]; /* 0: a free slot */
	uint64_t refused;
};

unsigned shell_sessions_open(const struct agent *a)
{
	const struct shell_state *st = a->shell;
	unsigned n = 0;

	for (size_t i = 0; st && i < SHELL_SESSIONS_MAX; i++)
		if (st->sessions[i])
			n++;
	return n;
}

uint64_t shell_sessions_refused(const struct agent *a)
{
	const struct shell_state *st = a->shell;

	return st ? st->refused : 0;
}

/* A session process has ended; the commands it ran it reaped itself. */
static bool on_child(struct loop *l, pid_t pid, int status, void *data)
{
	struct shell_state *st = data;

	(void)l;
	for (size_t i = 0; i < SHELL_SESSIONS_MAX; i++) {
		if (st->sessions[i] != pid)
			continue;
		st->sessions[i] = 0;
		if (WIFSIGNALED(status))
			log_warn("porthole-shell: session %d was killed by signal %d", (int)pid,
				 WTERMSIG(status));
		else
			log_debug("porthole-shell: session %d ended (status %d)", (int)pid,
				  WEXITSTATUS(status));
		return true;
	}
	return false;
}

static struct shell_state *shell_state(struct agent *a, struct cmd_error *err)
{
	struct shell_state *st = a->shell;
	int r;

	if (st)
		return st;
	if (!a->loop) {
		cmd_fail(err, "porthole-shell: the agent has no event loop");
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		cmd_fail(err, "out of memory");
		return NULL;
	}
	st->loop = a->loop;
	/* a session's end comes from the launcher (main.c put its fd on the loop) */
	r = child_watch_start(&st->watch, a->loop, a->launcher, on_child, st);
	if (r < 0) {
		free(st);
		cmd_fail_errno(err, r, "porthole-shell: watch for exiting children");
		return NULL;
	}
	a->shell = st;
	return st;
}

void cmd_shell_free(struct agent *a)
{
	struct shell_state *st = a->shell;

	if (!st)
		return;
	child_watch_stop(&st->watch);
	free(st);
	a->shell = NULL;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void spec_free(void *data)
{
	struct shell_spec *spec = data;

	if (!spec)
		return;
	strv_free(spec->argv);
	strv_free(spec->envp);
	free(spec);
}

/* Sets NAME=VALUE (ENTRY) in ENVP, which has N entries and room for one
 * more: a default of the same name is replaced. */
static int env_put(char **envp, size_t *n, const char *entry)
{
	size_t name = strcspn(entry, "=");
	char *copy = strdup(entry);

	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++)
		if (strncmp(envp[i], entry, name + 1) == 0) {
			free(envp[i]);
			envp[i] = copy;
			return 0;
		}
	envp[(*n)++] = copy;
	return 0;
}

static int env_putf(char **envp, size_t *n, const char *name, const char *value)
{
	char buf[PATH_MAX + 64];

	if ((size_t)snprintf(buf, sizeof(buf), "%s=%s", name, value) >= sizeof(buf))
		return 0; /* a home or shell path that long: left out */
	return env_put(envp, n, buf);
}

/* TERM: a terminal type's name, as terminfo files are named. */
static bool term_ok(const char *t)
{
	size_t len = strlen(t);

	if (len < 1 || len > SHELL_TERM_MAX)
		return false;
	for (const char *p = t; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && !strchr("._+-", *p))
			return false;
	return true;
}

/* An integer argument in [1, 65535], or DEF when absent. */
static int dimension(json_t *args, const char *name, unsigned def, unsigned *ret,
		     struct cmd_error *err)
{
	json_t *v = json_object_get(args, name);
	json_int_t n;

	if (!v) {
		*ret = def;
		return 0;
	}
	n = json_integer_value(v);
	if (n < 1 || n > 65535)
		return cmd_fail(err, "Parameter '%s' must be 1 to 65535", name);
	*ret = (unsigned)n;
	return 0;
}

/* The environment: the user's login defaults (HOME, LOGNAME, USER, SHELL,
 * PATH, and TERM with a tty), then ENV's entries, each replacing a default
 * of the same name. */
static int build_env(struct shell_spec *spec, json_t *env, const struct passwd *pw,
		     const char *shell, const char *term, struct cmd_error *err)
{
	size_t n = 0, i;
	json_t *v;

	spec->envp = calloc(SHELL_ENV_DEFAULTS + json_array_size(env) + 1, sizeof(char *));
	if (!spec->envp)
		return cmd_fail(err, "out of memory");
	if (env_putf(spec->envp, &n, "HOME", pw && pw->pw_dir ? pw->pw_dir : "/") < 0 ||
	    (pw && pw->pw_name && env_putf(spec->envp, &n, "LOGNAME", pw->pw_name) < 0) ||
	    (pw && pw->pw_name && env_putf(spec->envp, &n, "USER", pw->pw_name) < 0) ||
	    env_putf(spec->envp, &n, "SHELL", shell) < 0 ||
	    env_putf(spec->envp, &n, "PATH", EXEC_DEFAULT_PATH) < 0 ||
	    (spec->tty && env_putf(spec->envp, &n, "TERM", term) < 0))
		return cmd_fail(err, "out of memory");
	json_array_foreach(env, i, v)
	{
		const char *s = json_string_value(v);

		if (s[0] == '=' || !strchr(s, '='))
			return cmd_fail(err, "Parameter 'env': element %zu is not NAME=VALUE", i);
		if (env_put(spec->envp, &n, s) < 0)
			return cmd_fail(err, "out of memory");
	}
	return 0;
}

/* argv as asked, or the login shell: passwd's shell for the agent's user
 * when it can be run, else SHELL_FALLBACK, with "-" before its name in
 * argv[0], which tells a shell it is a login shell (as login(1) does). */
static int build_argv(struct shell_spec *spec, json_t *argv, const char *shell,
		      struct cmd_error *err)
{
	size_t i, n = argv ? json_array_size(argv) : 1;
	json_t *v;

	spec->argv = calloc(n + 1, sizeof(char *));
	if (!spec->argv)
		return cmd_fail(err, "out of memory");
	if (!argv) {
		const char *base = strrchr(shell, '/');

		if (asprintf(&spec->argv[0], "-%s", base ? base + 1 : shell) < 0) {
			spec->argv[0] = NULL;
			return cmd_fail(err, "out of memory");
		}
		return 0;
	}
	json_array_foreach(argv, i, v)
	{
		spec->argv[i] = strdup(json_string_value(v));
		if (!spec->argv[i])
			return cmd_fail(err, "out of memory");
	}
	return 0;
}

static int shell_start(struct agent *a, void *data, int fd, const void *owed, size_t owed_len,
		       const void *sent, size_t sent_len, char *why, size_t why_size)
{
	struct shell_state *st = a->shell;
	struct shell_spec *spec = data;
	struct shell_io io;
	size_t slot;
	pid_t pid;
	int r;

	/* checked by the handler, in the same turn of the loop */
	for (slot = 0; slot < SHELL_SESSIONS_MAX && st->sessions[slot]; slot++)
		;
	if (slot == SHELL_SESSIONS_MAX) {
		snprintf(why, why_size, "%d sessions are open", SHELL_SESSIONS_MAX);
		return -EBUSY;
	}
	shell_io_init(&io);
	r = shell_io_open(&io, spec, why, why_size);
	if (r < 0)
		return r;
	/* porthole-agent's sessions come from the launcher, which has the
	 * privileges the agent dropped (launcher.h); a test's are forked here */
	if (a->launcher) {
		r = launcher_session(a->launcher, spec, &io, fd, owed, owed_len, sent, sent_len,
				     &pid);
		shell_io_close(&io);
		if (r < 0) {
			snprintf(why, why_size, "the launcher: %s", strerror(-r));
			return r;
		}
		st->sessions[slot] = pid;
		return pid;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		shell_io_close(&io);
		snprintf(why, why_size, "fork: %s", strerror(-r));
		return r;
	}
	if (pid == 0)
		shell_session_run(spec, &io, fd, owed, owed_len, sent, sent_len);
	shell_io_close(&io);
	st->sessions[slot] = pid;
	return pid;
}

static enum cmd_result shell_cmd(struct agent *a, json_t *args, json_t **result,
				 struct cmd_error *err)
{
	struct shell_state *st = shell_state(a, err);
	json_t *argv = json_object_get(args, "argv"), *env = json_object_get(args, "env");
	json_t *tty = json_object_get(args, "tty"), *term = json_object_get(args, "term");
	struct shell_spec *spec = NULL;
	const struct passwd *pw;
	const char *shell;
	int r;

	if (!st)
		return CMD_FAILED;
	if (shell_sessions_open(a) >= SHELL_SESSIONS_MAX) {
		st->refused++;
		return cmd_fail(err,
				"porthole-shell: %d sessions are open, the most there may be; end "
				"one first",
				SHELL_SESSIONS_MAX);
	}
	if (argv && (json_array_size(argv) < 1 || json_array_size(argv) > SHELL_ARGV_MAX ||
		     !json_string_length(json_array_get(argv, 0))))
		return cmd_fail(err,
				"Parameter 'argv' must name a program: 1 to %d strings, the first "
				"not empty",
				SHELL_ARGV_MAX);
	if (env && json_array_size(env) > SHELL_ARGV_MAX)
		return cmd_fail(err, "Parameter 'env' has more than %d entries", SHELL_ARGV_MAX);
	if (term && !term_ok(json_string_value(term)))
		return cmd_fail(err,
				"Parameter 'term' must be a terminal type: 1 to %d letters, digits "
				"and . _ + -",
				SHELL_TERM_MAX);
	spec = calloc(1, sizeof(*spec));
	if (!spec)
		return cmd_fail(err, "out of memory");
	spec->tty = tty ? json_is_true(tty) : true;
	if (dimension(args, "rows", 24, &spec->rows, err) < 0 ||
	    dimension(args, "cols", 80, &spec->cols, err) < 0)
		goto fail;
	pw = getpwuid(geteuid());
	shell = pw && pw->pw_shell && pw->pw_shell[0] == '/' && access(pw->pw_shell, X_OK) == 0
			? pw->pw_shell
			: SHELL_FALLBACK;
	snprintf(spec->dir, sizeof(spec->dir), "%s", pw && pw->pw_dir ? pw->pw_dir : "/");
	if (build_argv(spec, argv, shell, err) < 0 ||
	    build_env(spec, env, pw, shell, term ? json_string_value(term) : SHELL_TERM_DEFAULT,
		      err) < 0)
		goto fail;
	/* a program that is not there is told now, as guest-exec tells it */
	r = exec_resolve(argv ? spec->argv[0] : shell, (const char *const *)spec->envp, spec->file,
			 sizeof(spec->file));
	if (r < 0) {
		cmd_fail(err, "porthole-shell: cannot run \"%s\" (%s)",
			 argv ? spec->argv[0] : shell, strerror(-r));
		goto fail;
	}
	*result = json_pack("{s:s,s:b}", "path", spec->file, "tty", spec->tty);
	if (!*result) {
		cmd_fail(err, "out of memory");
		goto fail;
	}
	r = cmd_upgrade_take(&(struct cmd_upgrade){ shell_start, spec_free, spec });
	if (r < 0) {
		json_decref(*result);
		*result = NULL;
		if (r == -ENOTCONN)
			cmd_fail(err, "porthole-shell: the request came from no connection to take "
				      "over");
		else
			cmd_fail(err, "out of memory");
		goto fail;
	}
	return CMD_OK;
fail:
	spec_free(spec);
	return CMD_FAILED;
}

const struct command cmd_shell_table[] = {
	{ "porthole-shell",
	  shell_cmd,
	  { { "argv", ARG_STRING_ARRAY, false },
	    { "env", ARG_STRING_ARRAY, false },
	    { "tty", ARG_BOOL, false },
	    { "rows", ARG_INT, false },
	    { "cols", ARG_INT, false },
	    { "term", ARG_STRING, false } },
	  CMD_NEEDS_SHELL },
	{ 0 },
};
