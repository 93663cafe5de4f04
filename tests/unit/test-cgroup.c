/* init/cgroup.c against a directory laid out as cgroupfs is: the figures
 * read from memory.current, cpu.stat and memory.events; a service's
 * directories and limits; and cgroup_kill's fallback for kernels without
 * cgroup.kill, which signals every pid listed in cgroup.procs below. The
 * real cgroup2 is exercised by the sandbox and vm tiers. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "service-conf.h"
#include "tmptree.h"
#include "util.h"

static char root[64];

static void put(const char *dir, const char *file, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void get(const char *dir, const char *file, char *buf, size_t size)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, (int)size, f));
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/test-cgroup.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{

	(void)state;
	assert_int_equal(tmptree_remove(root), 0);
	return 0;
}

/* the root's controllers enabled for its children in one write, the same
 * for porthole/ (here a plain file keeps the last write whole; the kernel's
 * own answers are the vm tier's) */
static void test_setup_enables_all_at_once(void **state)
{
	char buf[256], dir[128];

	(void)state;
	put(root, "cgroup.procs", "");
	put(root, "cgroup.controllers", "cpuset cpu io memory pids\n");
	/* cgroupfs has it; write_file never creates */
	put(root, "cgroup.subtree_control", "");
	assert_int_equal(cgroup_setup(root), 0);
	get(root, "cgroup.subtree_control", buf, sizeof(buf));
	assert_string_equal(buf, "+cpuset +cpu +io +memory +pids");
	snprintf(dir, sizeof(dir), "%s/" CGROUP_SERVICES, root);
	assert_int_equal(access(dir, F_OK), 0);
	/* not a cgroup2 mount: said, and nothing made */
	put(root, "cgroup.procs", "");
	unlink(strcat(strcpy(buf, root), "/cgroup.procs"));
	assert_true(cgroup_setup(root) < 0);
}

static void test_stats(void **state)
{
	struct cgroup_stats st;

	(void)state;
	put(root, "memory.current", "73400320\n");
	put(root, "cpu.stat", "usage_usec 2100000\nuser_usec 1500000\nsystem_usec 600000\n");
	put(root, "memory.events", "low 0\nhigh 4\nmax 12\noom 2\noom_kill 3\noom_group_kill 0\n");
	cgroup_stats(root, &st);
	assert_int_equal(st.memory_bytes, 73400320);
	assert_int_equal(st.cpu_usec, 2100000);
	/* "oom_kill", not "oom" nor "oom_group_kill" */
	assert_int_equal(st.oom_kills, 3);
	assert_int_equal(cgroup_oom_kills(root), 3);
	put(root, "cgroup.events", "populated 1\nfrozen 0\n");
	assert_true(cgroup_populated(root));
	put(root, "cgroup.events", "populated 0\nfrozen 0\n");
	assert_false(cgroup_populated(root));
}

static void test_stats_missing(void **state)
{
	struct cgroup_stats st;
	char dir[128];

	(void)state;
	/* no memory controller: the figures are -1, reported as null */
	snprintf(dir, sizeof(dir), "%s/bare", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	cgroup_stats(dir, &st);
	assert_int_equal(st.memory_bytes, -1);
	assert_int_equal(st.cpu_usec, -1);
	assert_int_equal(st.oom_kills, -1);
}

static void test_prepare(void **state)
{
	struct service_spec spec = { .name = "dockerd" };
	char leaf[CGROUP_PATH_MAX], dir[CGROUP_PATH_MAX], path[CGROUP_PATH_MAX + 32], buf[64];
	struct stat stb;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/%s", root, CGROUP_SERVICES);
	assert_int_equal(mkdir(dir, 0755), 0);
	spec.memory_max = 512ll << 20;
	spec.memory_high = CG_UNSET;
	spec.pids_max = CG_MAX;
	spec.cpu_weight = 200;
	/* cgroupfs has the limit files (empty here: written without O_TRUNC) */
	snprintf(dir, sizeof(dir), "%s/%s/dockerd", root, CGROUP_SERVICES);
	assert_int_equal(mkdir(dir, 0755), 0);
	put(dir, "memory.max", "");
	put(dir, "pids.max", "");
	put(dir, "cpu.weight", "");
	assert_int_equal(cgroup_service_prepare(root, &spec, leaf, sizeof(leaf)), 0);
	assert_string_equal(leaf, dir);
	get(dir, "memory.max", buf, sizeof(buf));
	assert_string_equal(buf, "536870912");
	get(dir, "pids.max", buf, sizeof(buf));
	assert_string_equal(buf, "max");
	get(dir, "cpu.weight", buf, sizeof(buf));
	assert_string_equal(buf, "200");

	/* delegated: the process in NAME/service, NAME left to it */
	spec.delegate = true;
	assert_int_equal(cgroup_service_prepare(root, &spec, leaf, sizeof(leaf)), 0);
	snprintf(path, sizeof(path), "%s/service", dir);
	assert_string_equal(leaf, path);
	assert_int_equal(stat(path, &stb), 0);
	assert_true(S_ISDIR(stb.st_mode));
}

static void test_kill_fallback(void **state)
{
	char dir[128], sub[160], procs[64];
	pid_t a, b;
	int status;

	(void)state;
	a = fork();
	if (a == 0) {
		pause();
		_exit(0);
	}
	b = fork();
	if (b == 0) {
		pause();
		_exit(0);
	}
	/* no cgroup.kill (before Linux 5.14): each pid listed, in any cgroup
	 * below, gets SIGKILL */
	snprintf(dir, sizeof(dir), "%s/old", root);
	snprintf(sub, sizeof(sub), "%s/old/child", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(procs, sizeof(procs), "%d\n", a);
	put(dir, "cgroup.procs", procs);
	snprintf(procs, sizeof(procs), "%d\n", b);
	put(sub, "cgroup.procs", procs);
	assert_int_equal(cgroup_kill(dir), 0);
	assert_int_equal(waitpid(a, &status, 0), a);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(waitpid(b, &status, 0), b);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static void test_join_too_long(void **state)
{
	char leaf[CGROUP_PATH_MAX + 40];

	(void)state;
	memset(leaf, 'a', sizeof(leaf) - 1);
	leaf[sizeof(leaf) - 1] = '\0';
	assert_int_equal(cgroup_join_self(leaf), -ENAMETOOLONG);
	/* a leaf that is not there */
	assert_int_equal(cgroup_join_self("/nonexistent/cgroup"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_stats_missing),
		cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_kill_fallback),
		cmocka_unit_test(test_join_too_long),
		cmocka_unit_test(test_setup_enables_all_at_once),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
