/* agent/privilege.c: the capabilities kept for a configuration (the
 * defaults, commands blocked or allowed one by one, exec and shell), their
 * names, and the drop itself in a child process: what /proc/self/status
 * shows afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatch.h"
#include "log.h"
#include "options.h"
#include "privilege.h"
#include "util.h"
#include "probe.h"

#define B(cap) PRIVILEGE_BIT(cap)

/* The set for the defaults with KEY=VALUE pairs applied (NULL-ended). */
static privilege_set needed_with(const char *const *kv)
{
	static struct agent a;

	options_defaults(&a.cfg);
	for (; kv && kv[0]; kv += 2)
		assert_int_equal(options_set(&a.cfg, kv[0], kv[1], "test"), 0);
	dispatch_init(&a);
	return privilege_needed(&a);
}

static void defaults_keep_four(void **state)
{

	(void)state;
	/* docs/security.md's table for the default configuration */
	assert_int_equal(needed_with(NULL),
			 B(CAP_SYS_TIME) | B(CAP_SYS_ADMIN) | B(CAP_NET_ADMIN) | B(CAP_SYSLOG));
}

static void blocked_commands_drop_theirs(void **state)
{
	/* the time commands blocked, but the PTP sync still steers the clock */
	const char *const time_blocked[] = { "block_rpcs", "guest-set-time,porthole-time-adjust",
					     NULL };
	const char *const no_time[] = { "block_rpcs", "guest-set-time,porthole-time-adjust",
					"ptp_sync", "0", NULL };
	const char *const no_ports_logs[] = { "block_rpcs", "porthole-ports,porthole-logs", NULL };
	/* trim, mounts and the periodic trim: no CAP_SYS_ADMIN */
	const char *const no_admin[] = {
		"block_rpcs", "guest-fstrim,porthole-trim,porthole-mount,porthole-unmount",
		"trim_interval", "0", NULL
	};
	const char *const admin_by_trim[] = {
		"block_rpcs", "guest-fstrim,porthole-trim,porthole-mount,porthole-unmount", NULL
	};

	(void)state;
	assert_true(needed_with(time_blocked) & B(CAP_SYS_TIME));
	assert_false(needed_with(no_time) & B(CAP_SYS_TIME));
	assert_int_equal(needed_with(no_ports_logs), B(CAP_SYS_TIME) | B(CAP_SYS_ADMIN));
	assert_int_equal(needed_with(no_admin), B(CAP_SYS_TIME) | B(CAP_NET_ADMIN) | B(CAP_SYSLOG));
	assert_true(needed_with(admin_by_trim) & B(CAP_SYS_ADMIN));
}

static void allow_list_keeps_only_its_needs(void **state)
{
	const char *const ping_only[] = { "allow_rpcs", "guest-ping,guest-info", "ptp_sync",
					  "0",		"trim_interval",	 "0",
					  NULL };
	const char *const mount_only[] = {
		"allow_rpcs", "guest-ping,porthole-mount", "ptp_sync", "0", "trim_interval", "0",
		NULL
	};

	(void)state;
	assert_int_equal(needed_with(ping_only), 0);
	assert_int_equal(needed_with(mount_only), B(CAP_SYS_ADMIN));
}

/* guest-exec's commands and porthole-shell's sessions come from the
 * launcher: the agent keeps the defaults' set with either enabled */
static void exec_and_shell_need_nothing_more(void **state)
{
	const char *const exec[] = { "exec", "1", NULL };
	const char *const shell[] = { "shell", "1", NULL };
	const privilege_set defaults =
		B(CAP_SYS_TIME) | B(CAP_SYS_ADMIN) | B(CAP_NET_ADMIN) | B(CAP_SYSLOG);

	(void)state;
	assert_int_equal(needed_with(exec), defaults);
	assert_int_equal(needed_with(shell), defaults);
}

static void names(void **state)
{
	char buf[256];

	(void)state;
	privilege_format(B(CAP_SYS_TIME) | B(CAP_NET_ADMIN), buf, sizeof(buf));
	assert_string_equal(buf, "cap_net_admin,cap_sys_time");
	privilege_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	privilege_format(B(CAP_SYS_TIME) | B(CAP_NET_ADMIN), buf, 8);
	assert_int_equal(strlen(buf), 7);
}

/* The "CapXxx:" line of /proc/self/status, as a set. */
static int status_caps(const char *status, const char *key, privilege_set *ret)
{
	const char *p = strstr(status, key);
	unsigned long long v;

	if (!p || sscanf(p + strlen(key), " %llx", &v) != 1)
		return -ENOENT;
	*ret = (privilege_set)v;
	return 0;
}

static void drop_in_a_child(void **state)
{
	const privilege_set keep = B(CAP_SYS_TIME) | B(CAP_NET_ADMIN);
	int pipefd[2], status;
	char buf[4096] = "";
	privilege_set eff, prm, bnd, inh, amb;
	ssize_t n;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		skip(); /* the bounding set can be trimmed by root only */
		return;
	}
	PROBE_SKIP_UNLESS(probe_one_thread());
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		_cleanup_free_ char *s = NULL;

		close(pipefd[0]);
		if (privilege_drop(keep) < 0 ||
		    read_file("/proc/self/status", 1 << 16, &s, NULL) < 0)
			syscall(SYS_exit_group, 1);
		(void)!write(pipefd[1], s, strlen(s));
		syscall(SYS_exit_group, 0);
	}
	close(pipefd[1]);
	/* the status is a few hundred bytes: a pipe holds it whole */
	n = 0;
	for (ssize_t got; (got = read(pipefd[0], buf + n, sizeof(buf) - 1 - (size_t)n)) > 0;)
		n += got;
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(n > 0);
	assert_int_equal(status_caps(buf, "\nCapEff:", &eff), 0);
	assert_int_equal(status_caps(buf, "\nCapPrm:", &prm), 0);
	assert_int_equal(status_caps(buf, "\nCapBnd:", &bnd), 0);
	assert_int_equal(status_caps(buf, "\nCapInh:", &inh), 0);
	assert_int_equal(status_caps(buf, "\nCapAmb:", &amb), 0);
	assert_int_equal(eff, keep);
	assert_int_equal(prm, keep);
	assert_int_equal(bnd, keep);
	assert_int_equal(inh, 0);
	assert_int_equal(amb, 0);
	assert_non_null(strstr(buf, "\nNoNewPrivs:\t1\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_keep_four),
		cmocka_unit_test(blocked_commands_drop_theirs),
		cmocka_unit_test(allow_list_keeps_only_its_needs),
		cmocka_unit_test(exec_and_shell_need_nothing_more),
		cmocka_unit_test(names),
		cmocka_unit_test(drop_in_a_child),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
