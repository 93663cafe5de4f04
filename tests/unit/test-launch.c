/* init/launch.c: what a program init starts finds when it runs. Each case
 * starts /bin/sh for real and reads what it prints: the environment, the
 * directory, stdin, a passed fd, its session, its signal mask, its limits;
 * and the "porthole-init: WHAT: error" line and status 127 when a step
 * fails. Capabilities and the user change need root: skipped without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "service-conf.h"
#include "launch.h"
#include "util.h"

/* Runs OPTS with stdout and stderr (unless OPTS sets them) into one pipe;
 * returns the exit status, the output in OUT. */
static int run(struct launch_opts *opts, char *out, size_t size)
{
	int p[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	if (opts->stdout_fd < 0)
		opts->stdout_fd = p[1];
	if (opts->stderr_fd < 0)
		opts->stderr_fd = p[1];
	pid = launch_start(opts);
	assert_true(pid > 0);
	close(p[1]);
	while (len < size - 1 && (n = read(p[0], out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int sh(struct launch_opts *opts, const char *script, char *out, size_t size)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };

	opts->argv = argv;
	return run(opts, out, size);
}

static void test_env(void **state)
{
	char *env[8];
	char *extra[] = { "HOME=/var/lib/x", "FOO=bar", NULL };

	(void)state;
	/* the base: PATH and HOME, nothing of init's own environment */
	assert_int_equal(launch_env(NULL, env, ARRAY_SIZE(env)), 2);
	assert_string_equal(env[0], "PATH=" LAUNCH_PATH);
	assert_string_equal(env[1], "HOME=/root");
	assert_null(env[2]);
	/* a variable of the service's overrides the base's, once */
	assert_int_equal(launch_env(extra, env, ARRAY_SIZE(env)), 3);
	assert_string_equal(env[0], "PATH=" LAUNCH_PATH);
	assert_string_equal(env[1], "HOME=/var/lib/x");
	assert_string_equal(env[2], "FOO=bar");
	assert_null(env[3]);
	/* bounded: what does not fit is left out, the array stays terminated */
	assert_int_equal(launch_env(extra, env, 3), 2);
	assert_null(env[2]);
}

static void test_environment_and_directory(void **state)
{
	char *extra[] = { "FOO=bar baz", NULL };
	struct launch_opts o;
	char out[512];

	(void)state;
	setenv("PORTHOLE_TEST_LEAK", "1", 1);
	launch_opts_init(&o, NULL);
	o.env = extra;
	o.directory = "/tmp";
	assert_int_equal(sh(&o, "echo \"$PATH|$HOME|$FOO|${PORTHOLE_TEST_LEAK-unset}\"; pwd", out,
			    sizeof(out)),
			 0);
	assert_string_equal(out, LAUNCH_PATH "|/root|bar baz|unset\n/tmp\n");
}

static void test_stdin_is_null(void **state)
{
	struct launch_opts o;
	char out[64];

	(void)state;
	/* cat ends at once: stdin is /dev/null, not init's console */
	launch_opts_init(&o, NULL);
	assert_int_equal(sh(&o, "cat; echo end", out, sizeof(out)), 0);
	assert_string_equal(out, "end\n");
}

static void test_pass_fd(void **state)
{
	struct launch_opts o;
	char out[64], note[16] = "";
	int p[2];

	(void)state;
	/* s6's notification fd: the pipe's end appears as fd 5 */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	launch_opts_init(&o, NULL);
	o.pass_fd = p[1];
	o.pass_fd_as = 5;
	assert_int_equal(sh(&o, "echo ready >&5", out, sizeof(out)), 0);
	close(p[1]);
	assert_int_equal(read(p[0], note, sizeof(note) - 1), 6);
	assert_string_equal(note, "ready\n");
	close(p[0]);
}

static void test_session_and_signals(void **state)
{
	struct launch_opts o;
	char out[1024];
	sigset_t term, old;

	(void)state;
	/* init runs with every signal blocked: its children must not */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	launch_opts_init(&o, NULL);
	o.new_session = true;
	/* field 6 of stat is the session: the shell leads its own; the mask is
	 * read by grep exec'd in its place (a shell blocks signals while it
	 * waits for a child) */
	assert_int_equal(sh(&o,
			    "set -- $(cat /proc/$$/stat); [ \"$6\" = $$ ] && echo leader; "
			    "exec grep SigBlk /proc/self/status",
			    out, sizeof(out)),
			 0);
	assert_string_equal(out, "leader\nSigBlk:\t0000000000000000\n");
	launch_opts_init(&o, NULL);
	assert_int_equal(sh(&o, "set -- $(cat /proc/$$/stat); [ \"$6\" = $$ ] || echo not", out,
			    sizeof(out)),
			 0);
	assert_string_equal(out, "not\n");
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void test_limits_and_oom_score(void **state)
{
	struct service_rlimit lim = { RLIMIT_NOFILE, { 100, 200 } };
	struct launch_opts o;
	char out[128];

	(void)state;
	launch_opts_init(&o, NULL);
	o.rlimits = &lim;
	o.n_rlimits = 1;
	o.has_oom_score_adj = true;
	o.oom_score_adj = 900; /* raising it needs no privilege */
	assert_int_equal(
		sh(&o, "ulimit -n; ulimit -Hn; cat /proc/$$/oom_score_adj", out, sizeof(out)), 0);
	assert_string_equal(out, "100\n200\n900\n");
}

static void test_failures(void **state)
{
	char *missing[] = { "/nonexistent/program", NULL };
	struct launch_opts o;
	char out[256];

	(void)state;
	/* a directory that is not there: the service does not run elsewhere */
	launch_opts_init(&o, NULL);
	o.directory = "/nonexistent";
	assert_int_equal(sh(&o, "echo ran", out, sizeof(out)), 127);
	assert_string_equal(out, "porthole-init: chdir /nonexistent: No such file or directory\n");
	/* unless it is optional (the console shell's /root): then / */
	launch_opts_init(&o, NULL);
	o.directory = "/nonexistent";
	o.directory_optional = true;
	assert_int_equal(sh(&o, "pwd", out, sizeof(out)), 0);
	assert_string_equal(out, "/\n");
	/* exec fails: said on stderr, s6's 127 */
	launch_opts_init(&o, missing);
	assert_int_equal(run(&o, out, sizeof(out)), 127);
	assert_string_equal(
		out, "porthole-init: exec /nonexistent/program: No such file or directory\n");
}

static void test_caps_and_user(void **state)
{
	struct launch_opts o;
	char out[256];

	(void)state;
	if (geteuid() != 0)
		skip();
	/* only CAP_CHOWN (0) left in the bounding set, then nobody */
	launch_opts_init(&o, NULL);
	o.has_caps = true;
	o.caps = 1;
	o.has_user = o.has_group = true;
	o.uid = 65534;
	o.gid = 65534;
	assert_int_equal(
		sh(&o, "grep CapBnd /proc/$$/status; id -u; id -g; id -G", out, sizeof(out)), 0);
	assert_string_equal(out, "CapBnd:\t0000000000000001\n65534\n65534\n65534\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_environment_and_directory),
		cmocka_unit_test(test_stdin_is_null),
		cmocka_unit_test(test_pass_fd),
		cmocka_unit_test(test_session_and_signals),
		cmocka_unit_test(test_limits_and_oom_score),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_caps_and_user),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
