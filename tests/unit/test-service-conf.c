/* init/service-conf.c: service files, their errors and the directory. The
 * dependency check across files is test-service-graph.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "service-conf.h"
#include "service-seccomp.h"
#include "tmptree.h"
#include "util.h"

#define F "/etc/porthole/services/web.conf"

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG); /* the errors below are expected */
	return 0;
}

static int parse(const char *text, struct service_spec *s, char *err)
{
	return service_conf_parse(text, F, "web", s, err, SERVICE_ERROR_MAX);
}

/* TEXT is refused with exactly MESSAGE, and nothing of it is kept. */
static void expect_error(const char *text, const char *message)
{
	struct service_spec s;
	char err[SERVICE_ERROR_MAX];

	memset(&s, 0x5a, sizeof(s));
	assert_int_equal(parse(text, &s, err), -EINVAL);
	assert_string_equal(err, message);
	assert_null(s.strings);
	assert_null(s.argv[0]);
	assert_null(s.env[0]);
	assert_string_equal(s.name, "");
	service_spec_free(&s);
}

/* TEXT parses; the caller frees S. */
static void expect_ok(const char *text, struct service_spec *s)
{
	char err[SERVICE_ERROR_MAX];
	int r = parse(text, s, err);

	if (r < 0)
		fail_msg("%s", err);
}

static const struct service_rlimit *find_rlimit(const struct service_spec *s, int resource)
{
	for (size_t i = 0; i < s->n_rlimits; i++)
		if (s->rlimits[i].resource == resource)
			return &s->rlimits[i];
	return NULL;
}

static void test_defaults(void **state)
{
	struct service_spec s;

	(void)state;
	expect_ok("[service]\ncommand = /bin/true\n", &s);
	assert_string_equal(s.name, "web");
	assert_string_equal(s.file, F);
	assert_string_equal(s.description, "");
	assert_true(s.enabled);
	assert_string_equal(s.argv[0], "/bin/true");
	assert_null(s.argv[1]);
	assert_null(s.env[0]);
	assert_string_equal(s.directory, "");
	assert_false(s.has_user);
	assert_false(s.has_group);
	assert_int_equal(s.n_after, 0);
	assert_int_equal(s.n_requires, 0);
	assert_int_equal(s.ready, READY_NONE);
	assert_int_equal(s.ready_fd, 3);
	assert_int_equal(s.ready_timeout_ms, 90000);
	assert_int_equal(s.restart, RESTART_ON_FAILURE);
	assert_int_equal(s.restart_delay_ms, 500);
	assert_int_equal(s.restart_delay_max_ms, 30000);
	assert_int_equal(s.crash_limit, 5);
	assert_int_equal(s.crash_window_ms, 60000);
	assert_int_equal(s.stop_signal, SIGTERM);
	assert_int_equal(s.stop_timeout_ms, 10000);
	assert_false(s.has_oom_score_adj);
	assert_int_equal(s.output, OUTPUT_LOG);
	assert_false(s.kill_process_only);
	assert_false(s.wait_started);
	assert_false(s.has_caps);
	assert_int_equal(s.n_rlimits, 0);
	assert_int_equal(s.memory_max, CG_UNSET);
	assert_int_equal(s.memory_high, CG_UNSET);
	assert_int_equal(s.pids_max, CG_UNSET);
	assert_int_equal(s.cpu_weight, 0);
	assert_false(s.delegate);
	service_spec_free(&s);
	assert_null(s.strings);
	assert_null(s.argv[0]);
}

static void test_every_field(void **state)
{
	struct service_spec s;

	(void)state;
	expect_ok("# Docker\n"
		  "[service]\n"
		  "description = Docker Engine\n"
		  "command = /usr/sbin/dockerd --config-file /etc/docker/daemon.json\n"
		  "environment = DOCKER_RAMDISK=1\n"
		  "environment = EMPTY=\n"
		  "environment = URL=http://x/?a=b\n"
		  "directory = /var/lib/docker\n"
		  "user = root\n"
		  "group = 0\n"
		  "after = containerd, net-up\n"
		  "after = time.sync\n"
		  "requires = containerd\n"
		  "ready = http:/run/docker.sock:/_ping\n"
		  "ready_timeout = 0.5\n"
		  "restart = always\n"
		  "restart_delay = 0.25\n"
		  "restart_delay_max = 8\n"
		  "crash_limit = 0\n"
		  "crash_window = 120\n"
		  "stop_signal = SIGINT\n"
		  "stop_timeout = 2.5\n"
		  "oom_score_adj = -500\n"
		  "output = console\n"
		  "kill_mode = process\n"
		  "wait = started\n"
		  "capabilities = cap_net_admin cap_sys_admin\n"
		  "enabled = off\n"
		  "[limits]\n"
		  "nofile = 1048576\n"
		  "nproc = 100:infinity\n"
		  "core = unlimited\n"
		  "[cgroup]\n"
		  "memory_max = 512M\n"
		  "memory_high = 400m\n"
		  "cpu_weight = 10000\n"
		  "pids_max = 4096\n"
		  "delegate = yes\n",
		  &s);
	assert_string_equal(s.description, "Docker Engine");
	assert_string_equal(s.argv[0], "/usr/sbin/dockerd");
	assert_string_equal(s.argv[1], "--config-file");
	assert_string_equal(s.argv[2], "/etc/docker/daemon.json");
	assert_null(s.argv[3]);
	assert_string_equal(s.env[0], "DOCKER_RAMDISK=1");
	assert_string_equal(s.env[1], "EMPTY=");
	assert_string_equal(s.env[2], "URL=http://x/?a=b");
	assert_null(s.env[3]);
	/* argv and env live in the one allocation */
	for (size_t i = 0; s.argv[i]; i++)
		assert_true(s.argv[i] >= s.strings);
	assert_string_equal(s.directory, "/var/lib/docker");
	assert_true(s.has_user);
	assert_true(s.has_group);
	assert_int_equal(s.uid, 0);
	assert_int_equal(s.gid, 0);
	assert_int_equal(s.n_after, 3);
	assert_string_equal(s.after[0], "containerd");
	assert_string_equal(s.after[1], "net-up");
	assert_string_equal(s.after[2], "time.sync");
	assert_int_equal(s.n_requires, 1);
	assert_string_equal(s.requires[0], "containerd");
	assert_int_equal(s.ready, READY_HTTP);
	assert_string_equal(s.ready_path, "/run/docker.sock");
	assert_string_equal(s.ready_http_path, "/_ping");
	assert_int_equal(s.ready_timeout_ms, 500);
	assert_int_equal(s.restart, RESTART_ALWAYS);
	assert_int_equal(s.restart_delay_ms, 250);
	assert_int_equal(s.restart_delay_max_ms, 8000);
	assert_int_equal(s.crash_limit, 0);
	assert_int_equal(s.crash_window_ms, 120000);
	assert_int_equal(s.stop_signal, SIGINT);
	assert_int_equal(s.stop_timeout_ms, 2500);
	assert_true(s.has_oom_score_adj);
	assert_int_equal(s.oom_score_adj, -500);
	assert_int_equal(s.output, OUTPUT_CONSOLE);
	assert_true(s.kill_process_only);
	assert_true(s.wait_started);
	assert_true(s.has_caps);
	assert_int_equal(s.caps, (UINT64_C(1) << CAP_NET_ADMIN) | (UINT64_C(1) << CAP_SYS_ADMIN));
	assert_false(s.enabled);
	assert_int_equal(s.n_rlimits, 3);
	assert_non_null(find_rlimit(&s, RLIMIT_NOFILE));
	assert_int_equal(find_rlimit(&s, RLIMIT_NOFILE)->lim.rlim_cur, 1048576);
	assert_int_equal(find_rlimit(&s, RLIMIT_NOFILE)->lim.rlim_max, 1048576);
	assert_int_equal(find_rlimit(&s, RLIMIT_NPROC)->lim.rlim_cur, 100);
	assert_true(find_rlimit(&s, RLIMIT_NPROC)->lim.rlim_max == RLIM_INFINITY);
	assert_true(find_rlimit(&s, RLIMIT_CORE)->lim.rlim_cur == RLIM_INFINITY);
	assert_int_equal(s.memory_max, 512 * 1024 * 1024);
	assert_int_equal(s.memory_high, 400 * 1024 * 1024);
	assert_int_equal(s.cpu_weight, 10000);
	assert_int_equal(s.pids_max, 4096);
	assert_true(s.delegate);
	service_spec_free(&s);
	/* twice is harmless */
	service_spec_free(&s);
}

static void test_command_quoting(void **state)
{
	struct service_spec s;

	(void)state;
	expect_ok("[service]\n"
		  "command = /bin/sh -c \"echo 'a  b' \\\"q\\\"\" 'x \"y\" \\z' a\\ b \"\" c\\;d\n",
		  &s);
	assert_string_equal(s.argv[0], "/bin/sh");
	assert_string_equal(s.argv[1], "-c");
	assert_string_equal(s.argv[2], "echo 'a  b' \"q\"");
	/* inside '...' everything is as it is, a backslash too */
	assert_string_equal(s.argv[3], "x \"y\" \\z");
	assert_string_equal(s.argv[4], "a b");
	assert_string_equal(s.argv[5], "");
	assert_string_equal(s.argv[6], "c;d");
	assert_null(s.argv[7]);
	service_spec_free(&s);

	/* quotes join with what touches them; a long command goes on over
	 * indented lines; no expansion of any kind */
	expect_ok("[service]\n"
		  "command = /bin/echo pre\"fix\"'ed' $HOME ~ *\n"
		  "\t--more 'two words'\n"
		  "  last\n",
		  &s);
	assert_string_equal(s.argv[1], "prefixed");
	assert_string_equal(s.argv[2], "$HOME");
	assert_string_equal(s.argv[3], "~");
	assert_string_equal(s.argv[4], "*");
	assert_string_equal(s.argv[5], "--more");
	assert_string_equal(s.argv[6], "two words");
	assert_string_equal(s.argv[7], "last");
	assert_null(s.argv[8]);
	service_spec_free(&s);
}

static void test_command_errors(void **state)
{
	char text[2048];
	size_t n;

	(void)state;
	expect_error("[service]\ndescription = x\n",
		     F ": no command (command = /absolute/path and its arguments, under "
		       "[service])");
	expect_error("[service]\ncommand = /bin/sh -c 'echo\n",
		     F ":2: command: a ' quote is not closed (words are split at blanks; "
		       "\"...\" and '...' group words)");
	expect_error("[service]\n\ncommand = /bin/sh \"-c\n",
		     F ":3: command: a \" quote is not closed (words are split at blanks; "
		       "\"...\" and '...' group words)");
	expect_error("[service]\ncommand = /bin/echo a\\\n",
		     F ":2: command: ends in a backslash (a backslash takes the next character "
		       "as it is: \\\\ for one)");
	expect_error("[service]\ncommand = dockerd -H fd://\n",
		     F ":2: command: \"dockerd\" is not an absolute path of at most 255 bytes");
	expect_error("[service]\ncommand = \"\"\n",
		     F ":2: command: \"\" is not an absolute path of at most 255 bytes");
	expect_error("[service]\ncommand =\n", F ":2: command: empty");
	expect_error("[service]\ncommand = /bin/a\ncommand = /bin/b\n",
		     F ":3: command: given twice (first on line 2)");

	/* 64 words pass, 65 do not: over indented lines, since a line is short */
	n = (size_t)snprintf(text, sizeof(text), "[service]\ncommand = /bin/echo");
	for (int i = 1; i < SERVICE_ARGS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sw%d", i % 16 ? " " : "\n ", i);
	{
		struct service_spec s;

		expect_ok(text, &s);
		assert_string_equal(s.argv[SERVICE_ARGS_MAX - 1], "w63");
		assert_null(s.argv[SERVICE_ARGS_MAX]);
		service_spec_free(&s);
	}
	snprintf(text + n, sizeof(text) - n, " w64\n");
	expect_error(text, F ":5: command: more than 64 words");
}

static void test_environment(void **state)
{
	char text[4096];
	size_t n;

	(void)state;
	expect_error("[service]\ncommand = /bin/true\nenvironment = 1X=a\n",
		     F ":3: environment: \"1X=a\" is not NAME=VALUE (NAME of letters, digits "
		       "and _, not starting with a digit)");
	expect_error("[service]\ncommand = /bin/true\nenvironment = NOEQUALS\n",
		     F ":3: environment: \"NOEQUALS\" is not NAME=VALUE (NAME of letters, "
		       "digits and _, not starting with a digit)");
	expect_error("[service]\ncommand = /bin/true\nenvironment = =x\n",
		     F ":3: environment: \"=x\" is not NAME=VALUE (NAME of letters, digits and "
		       "_, not starting with a digit)");
	expect_error("[service]\ncommand = /bin/true\nenvironment = A=1\nenvironment = A=2\n",
		     F ":4: environment: A is given twice");

	/* 32 pass (one per line, or indented lines), 33 do not */
	n = (size_t)snprintf(text, sizeof(text), "[service]\ncommand = /bin/true\nenvironment =");
	for (int i = 0; i < SERVICE_ENV_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sV%d=%d", i ? "\n  " : " ", i,
				      i);
	{
		struct service_spec s;

		expect_ok(text, &s);
		assert_string_equal(s.env[0], "V0=0");
		assert_string_equal(s.env[SERVICE_ENV_MAX - 1], "V31=31");
		assert_null(s.env[SERVICE_ENV_MAX]);
		service_spec_free(&s);
	}
	snprintf(text + n, sizeof(text) - n, "\nenvironment = V32=32\n");
	expect_error(text, F ":35: environment: more than 32 variables");
}

static void test_user_and_group(void **state)
{
	struct service_spec s;

	(void)state;
	/* root is in every /etc/passwd: its group is root's primary one */
	expect_ok("[service]\ncommand = /bin/true\nuser = root\n", &s);
	assert_true(s.has_user);
	assert_false(s.has_group);
	assert_int_equal(s.uid, 0);
	assert_int_equal(s.gid, 0);
	service_spec_free(&s);

	expect_ok("[service]\ncommand = /bin/true\nuser = 0\n", &s);
	assert_int_equal(s.uid, 0);
	assert_int_equal(s.gid, 0);
	service_spec_free(&s);

	expect_ok("[service]\ncommand = /bin/true\nuser = 4000000001\ngroup = 4000000002\n", &s);
	assert_int_equal(s.uid, 4000000001u);
	assert_int_equal(s.gid, 4000000002u);
	assert_true(s.has_group);
	service_spec_free(&s);

	expect_ok("[service]\ncommand = /bin/true\ngroup = root\n", &s);
	assert_false(s.has_user);
	assert_true(s.has_group);
	assert_int_equal(s.gid, 0);
	service_spec_free(&s);

	expect_error("[service]\ncommand = /bin/true\nuser = 4000000001\n",
		     F ":3: user: 4000000001 is not in /etc/passwd, so its group is not known "
		       "(give group too)");
	expect_error("[service]\ncommand = /bin/true\nuser = no-such-user-here\n",
		     F ":3: user: no user \"no-such-user-here\" in /etc/passwd (a user name or "
		       "number)");
	expect_error("[service]\ncommand = /bin/true\ngroup = no-such-group-here\n",
		     F ":3: group: no group \"no-such-group-here\" in /etc/group (a group name or "
		       "number)");
	expect_error("[service]\ncommand = /bin/true\nuser = 4294967295\n",
		     F ":3: user: 4294967295 is not a user id (0 to 4294967294)");
}

static void test_ready(void **state)
{
	struct service_spec s;

	(void)state;
	expect_ok("[service]\ncommand = /bin/true\nready = socket:/run/containerd/c.sock\n", &s);
	assert_int_equal(s.ready, READY_SOCKET);
	assert_string_equal(s.ready_path, "/run/containerd/c.sock");
	service_spec_free(&s);
	expect_ok("[service]\ncommand = /bin/true\nready = file:/run/foo.pid\n", &s);
	assert_int_equal(s.ready, READY_FILE);
	assert_string_equal(s.ready_path, "/run/foo.pid");
	service_spec_free(&s);
	expect_ok("[service]\ncommand = /bin/true\nready = notify\n", &s);
	assert_int_equal(s.ready, READY_NOTIFY);
	assert_int_equal(s.ready_fd, 3);
	service_spec_free(&s);
	expect_ok("[service]\ncommand = /bin/true\nready = notify:4\n", &s);
	assert_int_equal(s.ready, READY_NOTIFY);
	assert_int_equal(s.ready_fd, 4);
	service_spec_free(&s);
	expect_ok("[service]\ncommand = /bin/true\nready = none\n", &s);
	assert_int_equal(s.ready, READY_NONE);
	service_spec_free(&s);

	expect_error("[service]\ncommand = /bin/true\nready = tcp:80\n",
		     F ":3: ready: \"tcp:80\" is not one of none, notify, notify:FD, socket:PATH, "
		       "file:PATH, http:SOCKET:PATH");
	expect_error("[service]\ncommand = /bin/true\nready = notify:2\n",
		     F ":3: ready: \"2\": the descriptor is a number from 3 to 1023");
	expect_error("[service]\ncommand = /bin/true\nready = socket:run/x.sock\n",
		     F ":3: ready: \"run/x.sock\" is not an absolute path of at most 255 bytes");
	expect_error("[service]\ncommand = /bin/true\nready = http:/run/d.sock\n",
		     F ":3: ready: \"http:/run/d.sock\" is not http:SOCKET:PATH (SOCKET an "
		       "absolute path of at most 255 bytes)");
	expect_error("[service]\ncommand = /bin/true\nready = http:/run/d.sock:_ping\n",
		     F ":3: ready: \"_ping\" is not an HTTP path (starting with /, at most 63 "
		       "bytes)");
	expect_error("[service]\ncommand = /bin/true\nready = http:/run/d.sock:/a b\n",
		     F ":3: ready: the HTTP path \"/a b\" holds a blank or a control character");
}

static void test_durations_and_numbers(void **state)
{
	struct service_spec s;

	(void)state;
	expect_ok("[service]\ncommand = /bin/true\nready_timeout = 0\nrestart_delay = 60\n"
		  "stop_timeout = 0\n",
		  &s);
	assert_int_equal(s.ready_timeout_ms, 0);
	assert_int_equal(s.restart_delay_ms, 60000);
	/* the ceiling follows a first delay above its default */
	assert_int_equal(s.restart_delay_max_ms, 60000);
	assert_int_equal(s.stop_timeout_ms, 0);
	service_spec_free(&s);

	expect_ok("[service]\ncommand = /bin/true\nready_timeout = 1.001\n", &s);
	assert_int_equal(s.ready_timeout_ms, 1001);
	service_spec_free(&s);

	expect_error("[service]\ncommand = /bin/true\nready_timeout = 0.0005\n",
		     F ":3: ready_timeout: \"0.0005\" is not seconds from 0 to 86400 (to the "
		       "millisecond: 0.5; 0 waits for ever)");
	expect_error("[service]\ncommand = /bin/true\nready_timeout = 90s\n",
		     F ":3: ready_timeout: \"90s\" is not seconds from 0 to 86400 (to the "
		       "millisecond: 0.5; 0 waits for ever)");
	expect_error("[service]\ncommand = /bin/true\nready_timeout = 86401\n",
		     F ":3: ready_timeout: \"86401\" is not seconds from 0 to 86400 (to the "
		       "millisecond: 0.5; 0 waits for ever)");
	expect_error("[service]\ncommand = /bin/true\nrestart_delay = 0\n",
		     F ":3: restart_delay: \"0\" is not seconds from 0.01 to 3600");
	expect_error("[service]\ncommand = /bin/true\nrestart_delay = .5\n",
		     F ":3: restart_delay: \".5\" is not seconds from 0.01 to 3600");
	expect_error("[service]\ncommand = /bin/true\nrestart_delay = 2\nrestart_delay_max = 1\n",
		     F ":4: restart_delay_max: below restart_delay (2.000 s)");
	expect_error("[service]\ncommand = /bin/true\ncrash_limit = -1\n",
		     F ":3: crash_limit: \"-1\" is not a number from 0 to 1000 (0: no limit)");
	expect_error("[service]\ncommand = /bin/true\ncrash_window = 0\n",
		     F ":3: crash_window: \"0\" is not seconds from 1 to 86400");
	expect_error("[service]\ncommand = /bin/true\nstop_timeout = 3601\n",
		     F ":3: stop_timeout: \"3601\" is not seconds from 0 to 3600");
	expect_error("[service]\ncommand = /bin/true\noom_score_adj = 1001\n",
		     F ":3: oom_score_adj: \"1001\" is not a number from -1000 to 1000");
	expect_error("[service]\ncommand = /bin/true\nrestart = sometimes\n",
		     F ":3: restart: \"sometimes\" is not one of always, on-failure, never");
	expect_error("[service]\ncommand = /bin/true\noutput = syslog\n",
		     F ":3: output: \"syslog\" is not one of log, console, null");
	expect_error("[service]\ncommand = /bin/true\nkill_mode = mixed\n",
		     F ":3: kill_mode: \"mixed\" is not one of cgroup, process");
	expect_error("[service]\ncommand = /bin/true\nwait = forever\n",
		     F ":3: wait: \"forever\" is not one of ready, started");
	expect_error("[service]\ncommand = /bin/true\nenabled = maybe\n",
		     F ":3: enabled: \"maybe\" is not yes or no (also true/false, on/off, 1/0)");
}

static void test_restart_and_output_values(void **state)
{
	static const struct {
		const char *line;
		int restart, output;
	} cases[] = {
		{ "restart = never\noutput = null\n", RESTART_NEVER, OUTPUT_NULL },
		{ "restart = on-failure\noutput = log\n", RESTART_ON_FAILURE, OUTPUT_LOG },
		{ "restart = always\noutput = console\n", RESTART_ALWAYS, OUTPUT_CONSOLE },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct service_spec s;
		char text[256];

		snprintf(text, sizeof(text), "[service]\ncommand = /bin/true\n%s", cases[i].line);
		expect_ok(text, &s);
		assert_int_equal(s.restart, cases[i].restart);
		assert_int_equal(s.output, cases[i].output);
		service_spec_free(&s);
	}
}

static void test_stop_signal(void **state)
{
	static const struct {
		const char *v;
		int sig;
	} cases[] = {
		{ "TERM", SIGTERM },	{ "SIGTERM", SIGTERM }, { "int", SIGINT },
		{ "SigQuit", SIGQUIT }, { "9", SIGKILL },	{ "HUP", SIGHUP },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct service_spec s;
		char text[256];

		snprintf(text, sizeof(text), "[service]\ncommand = /bin/true\nstop_signal = %s\n",
			 cases[i].v);
		expect_ok(text, &s);
		assert_int_equal(s.stop_signal, cases[i].sig);
		service_spec_free(&s);
	}
	expect_error("[service]\ncommand = /bin/true\nstop_signal = SIGFOO\n",
		     F ":3: stop_signal: \"SIGFOO\" is not a signal (a name such as TERM, SIGINT "
		       "or QUIT, or a number from 1 to 64)");
	expect_error("[service]\ncommand = /bin/true\nstop_signal = 0\n",
		     F ":3: stop_signal: \"0\" is not a signal (a name such as TERM, SIGINT or "
		       "QUIT, or a number from 1 to 64)");
	expect_error("[service]\ncommand = /bin/true\nstop_signal = 65\n",
		     F ":3: stop_signal: \"65\" is not a signal (a name such as TERM, SIGINT or "
		       "QUIT, or a number from 1 to 64)");
}

static void test_capabilities(void **state)
{
	struct service_spec s;

	(void)state;
	expect_ok("[service]\ncommand = /bin/true\ncapabilities = all\n", &s);
	assert_false(s.has_caps);
	service_spec_free(&s);

	expect_ok("[service]\ncommand = /bin/true\ncapabilities = none\n", &s);
	assert_true(s.has_caps);
	assert_int_equal(s.caps, 0);
	service_spec_free(&s);

	expect_ok("[service]\ncommand = /bin/true\ncapabilities = all -cap_sys_module\n"
		  "  -CAP_SYS_RAWIO\n",
		  &s);
	assert_true(s.has_caps);
	assert_int_equal(s.caps,
			 ~((UINT64_C(1) << CAP_SYS_MODULE) | (UINT64_C(1) << CAP_SYS_RAWIO)));
	service_spec_free(&s);

	expect_ok("[service]\ncommand = /bin/true\ncapabilities = cap_chown,cap_kill\n"
		  "\tcap_setuid\n",
		  &s);
	assert_true(s.has_caps);
	assert_int_equal(s.caps, (UINT64_C(1) << CAP_CHOWN) | (UINT64_C(1) << CAP_KILL) |
					 (UINT64_C(1) << CAP_SETUID));
	service_spec_free(&s);

	expect_error("[service]\ncommand = /bin/true\ncapabilities = cap_nonsense\n",
		     F ":3: capabilities: \"cap_nonsense\" is not a capability (a name from "
		       "capabilities(7), such as cap_net_admin)");
	expect_error("[service]\ncommand = /bin/true\ncapabilities = cap_chown -cap_kill\n",
		     F ":3: capabilities: \"-cap_kill\" follows only \"all\" (all, none, "
		       "capability names, or all followed by -names to leave out)");
	expect_error("[service]\ncommand = /bin/true\ncapabilities = all cap_kill\n",
		     F ":3: capabilities: \"cap_kill\" cannot follow all or none (all, none, "
		       "capability names, or all followed by -names to leave out)");
	expect_error("[service]\ncommand = /bin/true\ncapabilities = none cap_kill\n",
		     F ":3: capabilities: \"cap_kill\" cannot follow all or none (all, none, "
		       "capability names, or all followed by -names to leave out)");
	expect_error("[service]\ncommand = /bin/true\ncapabilities = cap_kill all\n",
		     F ":3: capabilities: \"all\" comes first, alone (all, none, capability "
		       "names, or all followed by -names to leave out)");
}

static void test_seccomp(void **state)
{
	struct service_spec s;

	(void)state;
	/* unset: no filter, no no_new_privs */
	expect_ok("[service]\ncommand = /bin/true\n", &s);
	assert_int_equal(s.seccomp.mode, SECCOMP_OFF);
	assert_false(s.no_new_privs);
	service_spec_free(&s);

	expect_ok("[service]\ncommand = /bin/true\nseccomp = none\n", &s);
	assert_int_equal(s.seccomp.mode, SECCOMP_OFF);
	assert_true(s.seccomp.said_none);
	assert_false(s.no_new_privs);
	service_spec_free(&s);

	/* a profile: a deny list, EPERM, and no_new_privs with it */
	expect_ok("[service]\ncommand = /bin/true\nseccomp = default\n", &s);
	assert_int_equal(s.seccomp.mode, SECCOMP_DENY);
	assert_int_equal(s.seccomp.profile, service_seccomp_profile_find("default"));
	assert_int_equal(s.seccomp.n_calls, 0);
	assert_int_equal(service_seccomp_action(&s.seccomp), SECCOMP_ACTION_EPERM);
	assert_true(s.no_new_privs);
	service_spec_free(&s);

	/* deny: a profile, calls left out of it, calls added, over two lines */
	expect_ok("[service]\ncommand = /bin/true\nseccomp = deny: @default -finit_module "
		  "-init_module\n\tunshare, mount\nseccomp_action = kill\nno_new_privs = no\n",
		  &s);
	assert_int_equal(s.seccomp.mode, SECCOMP_DENY);
	assert_int_equal(s.seccomp.n_except, 2);
	assert_int_equal(s.seccomp.except[0], SYS_finit_module);
	assert_int_equal(s.seccomp.except[1], SYS_init_module);
	assert_int_equal(s.seccomp.n_calls, 2);
	assert_int_equal(s.seccomp.calls[0], SYS_unshare);
	assert_int_equal(s.seccomp.calls[1], SYS_mount);
	assert_int_equal(service_seccomp_action(&s.seccomp), SECCOMP_ACTION_KILL);
	assert_false(s.no_new_privs);
	service_spec_free(&s);

	/* allow: kill by default; a name given twice counts once */
	expect_ok("[service]\ncommand = /bin/true\nseccomp = allow: read write\n  read "
		  "exit_group\n",
		  &s);
	assert_int_equal(s.seccomp.mode, SECCOMP_ALLOW);
	assert_int_equal(s.seccomp.profile, -1);
	assert_int_equal(s.seccomp.n_calls, 3);
	assert_int_equal(s.seccomp.calls[2], SYS_exit_group);
	assert_int_equal(service_seccomp_action(&s.seccomp), SECCOMP_ACTION_KILL);
	assert_true(s.no_new_privs);
	service_spec_free(&s);

	/* no_new_privs alone, without a filter */
	expect_ok("[service]\ncommand = /bin/true\nno_new_privs = yes\n", &s);
	assert_int_equal(s.seccomp.mode, SECCOMP_OFF);
	assert_true(s.no_new_privs);
	service_spec_free(&s);

	expect_error("[service]\ncommand = /bin/true\nseccomp = deny: unshare sys_mount\n",
		     F ":3: seccomp: \"sys_mount\" is not a system call (a name from syscalls(2), "
		       "as libseccomp knows it: mount, not sys_mount or a number)");
	expect_error("[service]\ncommand = /bin/true\nseccomp = allow: read\n\t165\n",
		     F ":4: seccomp: \"165\" is not a system call (a name from syscalls(2), as "
		       "libseccomp knows it: mount, not sys_mount or a number)");
#ifdef __x86_64__
	/* known to libseccomp, but an i386 call only */
	expect_error("[service]\ncommand = /bin/true\nseccomp = deny: vm86\n",
		     F ":3: seccomp: \"vm86\" is not a system call on x86_64");
#endif
	expect_error("[service]\ncommand = /bin/true\nseccomp = strict\n",
		     F ":3: seccomp: \"strict\" is not a profile (default) or none, nor allow: "
		       "or deny: and system call names");
	expect_error("[service]\ncommand = /bin/true\nseccomp = default unshare\n",
		     F ":3: seccomp: \"default unshare\" is not a profile (default) or none, nor "
		       "allow: or deny: and system call names");
	expect_error("[service]\ncommand = /bin/true\nseccomp = default\n  unshare\n",
		     F ":4: seccomp: a profile or none stands alone (deny: @PROFILE NAME... adds "
		       "to one)");
	expect_error("[service]\ncommand = /bin/true\nseccomp = allow: @default\n",
		     F ":3: seccomp: \"@default\" comes first, in a deny list only (PROFILE, "
		       "none, allow: NAME..., or deny: [@PROFILE [-NAME...]] NAME...)");
	expect_error("[service]\ncommand = /bin/true\nseccomp = deny: @nosuch\n",
		     F ":3: seccomp: \"nosuch\" is not a profile (default)");
	expect_error("[service]\ncommand = /bin/true\nseccomp = deny: unshare -reboot\n",
		     F ":3: seccomp: \"-reboot\" follows only a profile (PROFILE, none, allow: "
		       "NAME..., or deny: [@PROFILE [-NAME...]] NAME...)");
	expect_error("[service]\ncommand = /bin/true\nseccomp = deny: @default -mount\n",
		     F ":3: seccomp: \"mount\" is not in the profile default");
	expect_error("[service]\ncommand = /bin/true\nseccomp = deny:\n",
		     F ":3: seccomp: no system call named (allow: NAME... or deny: NAME...)");
	expect_error("[service]\ncommand = /bin/true\nseccomp_action = kill\n",
		     F ":3: seccomp_action: without a seccomp filter to act on");
	expect_error("[service]\ncommand = /bin/true\nseccomp = default\nseccomp_action = "
		     "trap\n",
		     F ":4: seccomp_action: \"trap\" is not one of eperm, kill, log");
	expect_error("[service]\ncommand = /bin/true\nuser = 65534\ngroup = 65534\nseccomp = "
		     "default\nno_new_privs = no\n",
		     F ":6: no_new_privs: no, with seccomp, needs the service to run as root "
		       "(user 65534 cannot load a filter without it)");
	expect_error("[service]\ncommand = /bin/true\nseccomp = default\nseccomp = none\n",
		     F ":4: seccomp: given twice (first on line 3)");
}

static void test_limits(void **state)
{
	struct service_spec s;

	(void)state;
	expect_ok("[service]\ncommand = /bin/true\n[limits]\nas = infinity\nmemlock = 65536\n"
		  "stack = 8388608:infinity\nrtprio=0\n",
		  &s);
	assert_int_equal(s.n_rlimits, 4);
	assert_true(find_rlimit(&s, RLIMIT_AS)->lim.rlim_max == RLIM_INFINITY);
	assert_int_equal(find_rlimit(&s, RLIMIT_MEMLOCK)->lim.rlim_cur, 65536);
	assert_int_equal(find_rlimit(&s, RLIMIT_STACK)->lim.rlim_cur, 8388608);
	assert_true(find_rlimit(&s, RLIMIT_STACK)->lim.rlim_max == RLIM_INFINITY);
	assert_int_equal(find_rlimit(&s, RLIMIT_RTPRIO)->lim.rlim_max, 0);
	service_spec_free(&s);

	expect_error("[service]\ncommand = /bin/true\n[limits]\nfiles = 10\n",
		     F ":4: unknown limit \"files\" in [limits] (as, core, cpu, data, fsize, "
		       "locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, "
		       "sigpending, stack)");
	expect_error("[service]\ncommand = /bin/true\n[limits]\nnofile = 20:10\n",
		     F ":4: nofile: \"20:10\": the soft limit is above the hard one");
	expect_error("[service]\ncommand = /bin/true\n[limits]\nnofile = 1M\n",
		     F ":4: nofile: \"1M\" is not a limit (a number or infinity, or SOFT:HARD "
		       "for two)");
	expect_error("[service]\ncommand = /bin/true\n[limits]\nnofile = 10:\n",
		     F ":4: nofile: \"10:\" is not a limit (a number or infinity, or SOFT:HARD "
		       "for two)");
	expect_error("[service]\ncommand = /bin/true\n[limits]\nnofile = 10\nnofile = 11\n",
		     F ":5: nofile: given twice (first on line 4)");
}

static void test_cgroup(void **state)
{
	struct service_spec s;

	(void)state;
	expect_ok("[service]\ncommand = /bin/true\n[cgroup]\nmemory_max = max\nmemory_high = 1\n"
		  "pids_max = max\ncpu_weight = 1\ndelegate = no\n",
		  &s);
	assert_int_equal(s.memory_max, CG_MAX);
	assert_int_equal(s.memory_high, 1);
	assert_int_equal(s.pids_max, CG_MAX);
	assert_int_equal(s.cpu_weight, 1);
	assert_false(s.delegate);
	service_spec_free(&s);

	expect_ok("[service]\ncommand = /bin/true\n[cgroup]\nmemory_max = 2G\nmemory_high = 3T\n"
		  "[cgroup]\npids_max = 1\n",
		  &s);
	assert_int_equal(s.memory_max, INT64_C(2) << 30);
	assert_int_equal(s.memory_high, INT64_C(3) << 40);
	assert_int_equal(s.pids_max, 1);
	service_spec_free(&s);

	expect_error("[service]\ncommand = /bin/true\n[cgroup]\nmemory_max = 512MB\n",
		     F ":4: memory_max: \"512MB\" is not bytes (a number with K, M, G or T for "
		       "powers of 1024: 512M) or max");
	expect_error("[service]\ncommand = /bin/true\n[cgroup]\nmemory_high = 9000000T\n",
		     F ":4: memory_high: \"9000000T\" is not bytes (a number with K, M, G or T for "
		       "powers of 1024: 512M) or max");
	expect_error("[service]\ncommand = /bin/true\n[cgroup]\ncpu_weight = 0\n",
		     F ":4: cpu_weight: \"0\" is not a number from 1 to 10000 (100 is the "
		       "default)");
	expect_error("[service]\ncommand = /bin/true\n[cgroup]\npids_max = 0\n",
		     F ":4: pids_max: \"0\" is not a number from 1 to 4194304, or max");
	expect_error("[service]\ncommand = /bin/true\n[cgroup]\ndelegate = sure\n",
		     F ":4: delegate: \"sure\" is not yes or no (also true/false, on/off, 1/0)");
	expect_error("[service]\ncommand = /bin/true\n[cgroup]\nio_weight = 10\n",
		     F ":4: unknown key \"io_weight\" in [cgroup] (memory_max, memory_high, "
		       "cpu_weight, pids_max, delegate)");
}

static void test_file_structure_errors(void **state)
{
	char text[512];

	(void)state;
	expect_error("[service]\ncomand = /bin/true\n",
		     F ":2: unknown key \"comand\" in [service] (the keys are in "
		       "docs/services.md)");
	expect_error("command = /bin/true\n",
		     F ":1: command: not in a section (keys go under [service], [limits] or "
		       "[cgroup])");
	expect_error("[service]\ncommand = /bin/true\n\n[unit]\nx = 1\n",
		     F ":5: unknown section [unit] (sections: [service], [limits], [cgroup])");
	expect_error("[service]\ncommand = /bin/true\ndescription = a\n  b\n",
		     F ":4: description: takes one value, not more on an indented line");
	expect_error("[service]\ncommand = /bin/true\nrestart = never\nrestart = always\n",
		     F ":4: restart: given twice (first on line 3)");
	/* inih's syntax error, with its line, and not a later one */
	expect_error("[service]\ncommand = /bin/true\nthis is not a key\nrestart = sometimes\n",
		     F ":3: syntax error (expected 'key = value' or '[section]')");
	/* an earlier error of ours wins over a later syntax error */
	expect_error("[service]\nrestart = sometimes\ncommand = /bin/true\nnot a key\n",
		     F ":2: restart: \"sometimes\" is not one of always, on-failure, never");
	expect_error("[service]\ncommand = /bin/true\n[limits\n",
		     F ":3: syntax error (expected 'key = value' or '[section]')");
	/* a line too long for inih is refused, not cut */
	snprintf(text, sizeof(text), "[service]\ncommand = /bin/true\ndescription = %0250d\n", 0);
	expect_error(text, F ":3: line longer than 198 bytes (a list can go on over indented "
			     "lines)");
	expect_error("[service]\ncommand = /bin/true\ndescription = "
		     "0123456789012345678901234567890123456789012345678901234567890123456789"
		     "0123456789012345678901234567890123456789012345678901234567890123456789\n",
		     F ":3: description: longer than 127 characters");
	expect_error("[service]\ncommand = /bin/true\ndirectory = var/lib\n",
		     F ":3: directory: \"var/lib\" is not an absolute path of at most 255 bytes");
}

static void test_names_and_dependencies_in_a_file(void **state)
{
	struct service_spec s;
	char err[SERVICE_ERROR_MAX];

	(void)state;
	assert_int_equal(service_conf_parse("[service]\ncommand = /bin/true\n", "/x/Web.conf",
					    "Web", &s, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "/x/Web.conf: \"Web\" is not a service name (a-z and 0-9 first, "
				 "then also '.', '_' and '-', at most 31 characters)");
	assert_int_equal(service_conf_parse("[service]\ncommand = /bin/true\n", "/x/.conf", "", &s,
					    err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(service_conf_parse("[service]\ncommand = /bin/true\n", "/x/a.conf",
					    "0123456789012345678901234567890123", &s, err,
					    sizeof(err)),
			 -EINVAL);
	expect_ok("[service]\ncommand = /bin/true\nafter = a b a\nafter = b c\n", &s);
	assert_int_equal(s.n_after, 3); /* repeated names count once */
	service_spec_free(&s);

	expect_error("[service]\ncommand = /bin/true\nafter = web\n",
		     F ":3: after: \"web\" is this service itself");
	expect_error("[service]\ncommand = /bin/true\nrequires = Docker\n",
		     F ":3: requires: \"Docker\" is not a service name (a-z, 0-9, '.', '_' and "
		       "'-', at most 31 characters)");
	expect_error("[service]\ncommand = /bin/true\nrequires = a b c d\n  e f g h i\n",
		     F ":4: requires: at most 8 services in all, each a name of at most 31 "
		       "characters");
}

/* A directory of service files, removed at the end. */
static char dir[64];

static void put_file(const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static void remove_dir(void)
{

	assert_int_equal(tmptree_remove(dir), 0);
}

static void test_load_dir(void **state)
{
	struct service_spec specs[SERVICES_MAX];
	char path[256];
	unsigned n_bad = 99;
	size_t n;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-service-conf.XXXXXX");
	assert_non_null(mkdtemp(dir));
	put_file("b-bad.conf", "[service]\ncommand = /bin/true\nrestart = sometimes\n");
	put_file("c.conf", "[service]\ncommand = /bin/c\n");
	put_file("a.conf", "[service]\ncommand = /bin/a\n");
	put_file("Upper.conf", "[service]\ncommand = /bin/u\n");
	put_file("notes.txt", "[service]\ncommand = /bin/n\n");
	put_file(".hidden.conf", "[service]\ncommand = /bin/h\n");
	put_file("c.conf.orig", "[service]\ncommand = /bin/o\n");
	snprintf(path, sizeof(path), "%s/d.conf", dir);
	assert_int_equal(mkdir(path, 0755), 0);

	n = service_conf_load_dir(dir, specs, SERVICES_MAX, &n_bad);
	assert_int_equal(n, 2);
	assert_int_equal(n_bad, 2); /* b-bad and Upper; d.conf is not a file */
	assert_string_equal(specs[0].name, "a");
	assert_string_equal(specs[0].argv[0], "/bin/a");
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	assert_string_equal(specs[0].file, path);
	assert_string_equal(specs[1].name, "c");
	assert_string_equal(specs[1].argv[0], "/bin/c");
	for (size_t i = 0; i < n; i++)
		service_spec_free(&specs[i]);

	/* at most MAX: the first ones by name */
	n = service_conf_load_dir(dir, specs, 1, &n_bad);
	assert_int_equal(n, 1);
	assert_string_equal(specs[0].name, "a");
	service_spec_free(&specs[0]);
	remove_dir();

	/* no directory: no services, and no error */
	n_bad = 99;
	assert_int_equal(service_conf_load_dir(dir, specs, SERVICES_MAX, &n_bad), 0);
	assert_int_equal(n_bad, 0);
}

static void test_free_is_safe(void **state)
{
	struct service_spec s;

	(void)state;
	memset(&s, 0, sizeof(s));
	service_spec_free(&s);
	service_spec_free(&s);
	assert_null(s.strings);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_field),
		cmocka_unit_test(test_command_quoting),
		cmocka_unit_test(test_command_errors),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_user_and_group),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_durations_and_numbers),
		cmocka_unit_test(test_restart_and_output_values),
		cmocka_unit_test(test_stop_signal),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_seccomp),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_cgroup),
		cmocka_unit_test(test_file_structure_errors),
		cmocka_unit_test(test_names_and_dependencies_in_a_file),
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_free_is_safe),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
