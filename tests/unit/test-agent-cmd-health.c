/* agent/cmd-health.c: porthole-health's shape, its disks and df's figure,
 * the rule that judges init's services, and the command with init's reply
 * or without init. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-test.h"
#include "cmd-health.h"
#include "options.h"
#include "tmptree.h"

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_health_table, 1);
}

/* Whether PATH is a mount point, as the kernel says (statx(2)'s
 * STATX_ATTR_MOUNT_ROOT: a bind mount of its parent's file system counts),
 * else a device other than its parent's. */
static int is_mount(const char *path)
{
	struct statx sx;
	struct stat st, up;
	char parent[256];

	if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) < 0)
		return 0;
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	snprintf(parent, sizeof(parent), "%s/..", path);
	return stat(path, &st) == 0 && stat(parent, &up) == 0 && st.st_dev != up.st_dev;
}

static void test_health(void **state)
{
	static const struct member schema[] = {
		{ "status", T_STR, true },
		{ "reasons", T_ARR, true },
		{ "uptime_ns", T_INT, true },
		{ "boot_id", T_STR, true },
		{ "load", T_ARR, true },
		{ "memory", T_OBJ, true },
		{ "pressure", T_OBJ, false },
		{ "disks", T_ARR, true },
		{ "services", T_ARR, true },
		{ "agent", T_OBJ, true },
		/* init's control socket did not answer, or a dockerd service */
		{ "services_error", T_STR, false },
		{ "engine", T_OBJ, false },
		{ NULL, T_STR, false },
	};
	static const struct member memory[] = { { "total_bytes", T_INT, true },
						{ "available_bytes", T_INT, true },
						{ "free_bytes", T_INT, true },
						{ NULL, T_STR, false } };
	static const struct member psi[] = { { "some_avg10", T_NUM, true },
					     { "full_avg10", T_NUM, false },
					     { NULL, T_STR, false } };
	static const struct member disk[] = {
		{ "path", T_STR, true },
		{ "mounted", T_BOOL, true },
		{ "total_bytes", T_INT, false },
		{ "used_bytes", T_INT, false },
		{ "available_bytes", T_INT, false },
		{ "used_percent", T_INT, false },
		{ "note", T_STR, false }, /* "no data disk: data on tmpfs" */
		{ NULL, T_STR, false },
	};
	static const struct member service[] = { { "name", T_STR, true },
						 { "state", T_STR, true },
						 { "pid", T_INT, true },
						 { NULL, T_STR, false } };
	static const struct member agent_m[] = {
		{ "version", T_STR, true },   { "protocol", T_INT, true },
		{ "uptime_ns", T_INT, true }, { "clients", T_OBJ, true },
		{ "sessions", T_OBJ, true },  { NULL, T_STR, false }
	};
	/* refused_peers: the clients' only (a vsock CID or unix uid refused) */
	static const struct member clients[] = { { "open", T_INT, true },
						 { "max", T_INT, true },
						 { "refused", T_INT, true },
						 { "refused_peers", T_INT, false },
						 { NULL, T_STR, false } };
	char dir[] = "/tmp/test-agent-cmd-health-XXXXXX";
	const char *status, *key;
	json_t *r, *v, *disks;
	size_t i;

	(void)state;
	memset(&agent, 0, sizeof(agent));
	assert_non_null(mkdtemp(dir));
	/* a data mount that is not mounted */
	snprintf(agent.cfg.data_mount, sizeof(agent.cfg.data_mount), "%s", dir);
	r = call_ok("porthole-health", NULL);
	check_struct(r, schema, "porthole-health");
	status = json_string_value(json_object_get(r, "status"));
	assert_true(strcmp(status, "ok") == 0 || strcmp(status, "degraded") == 0 ||
		    strcmp(status, "starting") == 0);
	/* reasons exactly when not ok */
	assert_int_equal(strcmp(status, "ok") != 0,
			 json_array_size(json_object_get(r, "reasons")) > 0);
	json_array_foreach(json_object_get(r, "reasons"), i, v) assert_true(json_is_string(v));
	assert_true(json_integer_value(json_object_get(r, "uptime_ns")) > 0);
	assert_int_equal(strlen(json_string_value(json_object_get(r, "boot_id"))), 36);
	assert_int_equal(json_array_size(json_object_get(r, "load")), 3);
	json_array_foreach(json_object_get(r, "load"), i, v) assert_true(json_is_real(v));
	check_struct(json_object_get(r, "memory"), memory, "memory");
	json_object_foreach(json_object_get(r, "pressure"), key, v)
	{
		assert_true(strcmp(key, "cpu") == 0 || strcmp(key, "memory") == 0 ||
			    strcmp(key, "io") == 0);
		check_struct(v, psi, "pressure");
	}
	disks = json_object_get(r, "disks");
	/* /, the data mount, then /run and /tmp where each is a mount point */
	assert_int_equal(json_array_size(disks), 2 + is_mount("/run") + is_mount("/tmp"));
	json_array_foreach(disks, i, v) check_struct(v, disk, "disk");
	if (json_array_size(disks) > 2)
		assert_true(json_is_true(json_object_get(json_array_get(disks, 2), "mounted")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 0), "path")),
			    "/");
	assert_true(json_is_true(json_object_get(json_array_get(disks, 0), "mounted")));
	assert_non_null(json_object_get(json_array_get(disks, 0), "total_bytes"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 1), "path")),
			    dir);
	assert_true(json_is_false(json_object_get(json_array_get(disks, 1), "mounted")));
	/* path, mounted and the note that the data are on tmpfs; no reason:
	 * running without a data disk does not degrade the status */
	assert_int_equal(json_object_size(json_array_get(disks, 1)), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 1), "note")),
			    "no data disk: data on tmpfs");
	json_array_foreach(json_object_get(r, "services"), i, v)
		check_struct(v, service, "service");
	/* no init socket configured here: the agent alone, and why */
	assert_non_null(strstr(json_string_value(json_object_get(r, "services_error")),
			       "only the agent is listed"));
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(r, "services"), 0), "pid")),
			 getpid());
	check_struct(json_object_get(r, "agent"), agent_m, "agent");
	check_struct(json_object_get(json_object_get(r, "agent"), "clients"), clients, "clients");
	/* porthole-shell's sessions: the same three figures */
	check_struct(json_object_get(json_object_get(r, "agent"), "sessions"), clients, "sessions");
	/* one figure of use, the one the reasons quote: df's */
	v = json_array_get(disks, 0);
	assert_int_equal(json_integer_value(json_object_get(v, "used_percent")),
			 health_disk_used_percent((unsigned long long)json_integer_value(
							  json_object_get(v, "used_bytes")),
						  (unsigned long long)json_integer_value(
							  json_object_get(v, "available_bytes"))));
	json_decref(r);

	/* df's Use%: used over used + available, rounded up */
	assert_int_equal(health_disk_used_percent(0, 0), 0);
	assert_int_equal(health_disk_used_percent(0, 100), 0);
	assert_int_equal(health_disk_used_percent(1, 1000000), 1);
	assert_int_equal(health_disk_used_percent(98, 2), 98);
	/* the full disk that once read 100.0% in the reason and 98% in the table:
	 * the root's reserve counts as neither used nor available */
	assert_int_equal(health_disk_used_percent(980, 0), 100);
	assert_int_equal(health_disk_used_percent(UINT64_MAX / 200, 1), 100);

	/* a mounted data disk: /proc is a mount point everywhere */
	snprintf(agent.cfg.data_mount, sizeof(agent.cfg.data_mount), "/proc");
	r = call_ok("porthole-health", NULL);
	disks = json_object_get(r, "disks");
	assert_true(json_is_true(json_object_get(json_array_get(disks, 1), "mounted")));
	assert_non_null(json_object_get(json_array_get(disks, 1), "total_bytes"));
	json_decref(r);
	rmdir(dir);
	memset(&agent, 0, sizeof(agent));
}

static int judge(const char *services, json_t **reasons, json_t **engine)
{
	json_t *list = json_loads(services, 0, NULL);
	int r;

	assert_non_null(list);
	*reasons = json_array();
	*engine = NULL;
	r = health_judge_services(list, *reasons, engine);
	json_decref(list);
	return r;
}

static const char *reason(json_t *reasons, size_t i)
{
	return json_string_value(json_array_get(reasons, i));
}

static void test_health_rule(void **state)
{
	json_t *reasons, *engine;

	(void)state;
	/* all well, and what is not a fault: waiting, disabled, a one-shot
	 * that ended with status 0, a service being restarted */
	assert_int_equal(judge("[{\"name\": \"a\", \"state\": \"running\", \"ready\": true, "
			       "\"ready_ms\": 5},"
			       "{\"name\": \"b\", \"state\": \"waiting\", \"ready_ms\": null},"
			       "{\"name\": \"c\", \"state\": \"disabled\"},"
			       "{\"name\": \"d\", \"state\": \"stopped\", \"last_exit\": "
			       "{\"status\": 0}, \"ready\": false, \"ready_ms\": 3},"
			       "{\"name\": \"e\", \"state\": \"stopping\", \"ready\": false, "
			       "\"ready_ms\": 3}]",
			       &reasons, &engine),
			 HEALTH_OK);
	assert_int_equal(json_array_size(reasons), 0);
	assert_null(engine);
	json_decref(reasons);

	assert_int_equal(judge("[{\"name\": \"a\", \"state\": \"failed\", \"last_exit\": "
			       "{\"status\": 1}},"
			       "{\"name\": \"b\", \"state\": \"backoff\", \"last_exit\": "
			       "{\"signal\": 9}},"
			       "{\"name\": \"c\", \"state\": \"stopped\", \"last_exit\": "
			       "{\"status\": 2}},"
			       "{\"name\": \"d\", \"state\": \"starting\", \"ready\": false, "
			       "\"ready_ms\": 40}]",
			       &reasons, &engine),
			 HEALTH_DEGRADED);
	assert_int_equal(json_array_size(reasons), 4);
	assert_string_equal(reason(reasons, 0), "service a: failed, last exit status 1");
	assert_string_equal(reason(reasons, 1), "service b: exited (signal 9), restart pending");
	assert_string_equal(reason(reasons, 2), "service c: stopped after exit status 2");
	assert_string_equal(reason(reasons, 3), "service d: was ready, is not now (starting)");
	json_decref(reasons);

	/* the engine: never ready yet is "starting", with a reason */
	assert_int_equal(judge("[{\"name\": \"dockerd\", \"state\": \"starting\", \"ready\": "
			       "false, \"ready_ms\": null}]",
			       &reasons, &engine),
			 HEALTH_STARTING);
	assert_non_null(engine);
	assert_string_equal(json_string_value(json_object_get(engine, "service")), "dockerd");
	assert_true(json_is_false(json_object_get(engine, "ready")));
	assert_true(json_is_null(json_object_get(engine, "ready_ms")));
	assert_string_equal(reason(reasons, 0), "engine: dockerd is not ready yet (starting)");
	json_decref(engine);
	json_decref(reasons);

	/* ready once, not now: degraded */
	assert_int_equal(judge("[{\"name\": \"dockerd\", \"state\": \"waiting\", \"ready\": false, "
			       "\"ready_ms\": 9120}]",
			       &reasons, &engine),
			 HEALTH_DEGRADED);
	assert_int_equal(json_integer_value(json_object_get(engine, "ready_ms")), 9120);
	json_decref(engine);
	json_decref(reasons);

	/* ready: ok; a failed service elsewhere still degrades */
	assert_int_equal(judge("[{\"name\": \"dockerd\", \"state\": \"running\", \"ready\": true, "
			       "\"ready_ms\": 9120}]",
			       &reasons, &engine),
			 HEALTH_OK);
	assert_true(json_is_true(json_object_get(engine, "ready")));
	json_decref(engine);
	json_decref(reasons);
	assert_int_equal(judge("[{\"name\": \"dockerd\", \"state\": \"starting\", \"ready\": "
			       "false, \"ready_ms\": null}, {\"name\": \"x\", \"state\": "
			       "\"failed\"}]",
			       &reasons, &engine),
			 HEALTH_DEGRADED);
	json_decref(engine);
	json_decref(reasons);
	assert_string_equal(health_status_name(HEALTH_STARTING), "starting");
}

static void test_health_command(void **state)
{
	const struct command *c = find("porthole-health");
	json_t *args = json_object(), *r = NULL, *svc;

	(void)state;
	options_defaults(&agent.cfg);
	fake_start(FAKE_REPLY,
		   "{\"services\": [{\"name\": \"dockerd\", \"state\": \"starting\", \"pid\": 9, "
		   "\"ready\": false, \"ready_ms\": null, \"restarts\": 0, \"oom_kills\": 0, "
		   "\"cgroup\": \"/porthole/dockerd\"}]}");
	assert_int_equal(c->handler(&agent, args, &r, &err), 0);
	fake_stop();
	svc = json_array_get(json_object_get(r, "services"), 0);
	assert_string_equal(json_string_value(json_object_get(svc, "name")), "dockerd");
	/* the summary's members only */
	assert_null(json_object_get(svc, "cgroup"));
	assert_int_equal(json_integer_value(json_object_get(svc, "pid")), 9);
	assert_non_null(json_object_get(r, "engine"));
	assert_null(json_object_get(r, "services_error"));
	/* starting, unless this machine's memory or disks degrade it */
	if (json_array_size(json_object_get(r, "reasons")) == 1)
		assert_string_equal(json_string_value(json_object_get(r, "status")), "starting");
	else
		assert_string_equal(json_string_value(json_object_get(r, "status")), "degraded");
	json_decref(r);

	/* no init: the agent alone, and why */
	snprintf(agent.cfg.init_socket, sizeof(agent.cfg.init_socket), "/nonexistent/init.sock");
	assert_int_equal(c->handler(&agent, args, &r, &err), 0);
	svc = json_array_get(json_object_get(r, "services"), 0);
	assert_string_equal(json_string_value(json_object_get(svc, "name")), "porthole-agent");
	assert_int_equal(json_integer_value(json_object_get(svc, "pid")), getpid());
	assert_non_null(strstr(json_string_value(json_object_get(r, "services_error")),
			       "/nonexistent/init.sock: No such file or directory"));
	assert_null(json_object_get(r, "engine"));
	json_decref(r);
	json_decref(args);
}

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

/* judge_cg: health_judge_cgroup on DIR at NOW seconds; the reasons' first
 * line in WHY ("" when none). */
static int judge_cg(struct health_oom_table *t, const char *dir, uint64_t now_s, char *why,
		    size_t size)
{
	json_t *reasons = json_array();
	int r = health_judge_cgroup(t, "svc-mem", dir, now_s * 1000000000ull, reasons);

	assert_true(r >= 0);
	assert_int_equal((size_t)r, json_array_size(reasons));
	snprintf(why, size, "%s", r ? json_string_value(json_array_get(reasons, 0)) : "");
	json_decref(reasons);
	return r;
}

static const char events_quiet[] = "low 0\nhigh 0\nmax 12\noom 0\noom_kill 0\n"
				   "oom_group_kill 0\n";

static void test_health_cgroup(void **state)
{
	static struct health_oom_table t;
	char dir[] = "/tmp/test-agent-cmd-health-cg-XXXXXX", why[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* no memory controller (no memory.current): nothing to judge */
	assert_int_equal(judge_cg(&t, dir, 100, why, sizeof(why)), 0);

	/* no limit: whatever it uses is no reason */
	put(dir, "memory.max", "max\n");
	put(dir, "memory.current", "1073741824\n");
	put(dir, "memory.stat", "anon 1073741824\nfile 0\ninactive_file 0\n");
	put(dir, "memory.events", events_quiet);
	assert_int_equal(judge_cg(&t, dir, 100, why, sizeof(why)), 0);

	/* 62 of 64 MiB, none of it cache that reclaim drops: at its limit */
	put(dir, "memory.max", "67108864\n");
	put(dir, "memory.current", "65011712\n");
	put(dir, "memory.stat",
	    "anon 1048576\nfile 63963136\nshmem 62914560\n"
	    "inactive_file 0\n");
	assert_int_equal(judge_cg(&t, dir, 101, why, sizeof(why)), 1);
	assert_string_equal(why, "service svc-mem: memory at its limit, 62 of 64 MiB in use "
				 "(memory.max)");
	/* the same use, but 40 MiB of it inactive page cache: below 90 % */
	put(dir, "memory.stat", "anon 1048576\nfile 63963136\ninactive_file 41943040\n");
	assert_int_equal(judge_cg(&t, dir, 102, why, sizeof(why)), 0);

	/* the OOM killer: the counters' first sight (above) was the baseline;
	 * a rise is a reason for 30 s, then no more */
	put(dir, "memory.events", "low 0\nhigh 0\nmax 40\noom 1\noom_kill 2\n");
	assert_int_equal(judge_cg(&t, dir, 110, why, sizeof(why)), 1);
	assert_string_equal(why, "service svc-mem: out of memory in its cgroup 0 s ago, 2 "
				 "process(es) killed (memory.events)");
	assert_int_equal(judge_cg(&t, dir, 130, why, sizeof(why)), 1);
	assert_string_equal(why, "service svc-mem: out of memory in its cgroup 20 s ago, 2 "
				 "process(es) killed (memory.events)");
	put(dir, "memory.events", "low 0\nhigh 0\nmax 41\noom 2\noom_kill 3\n");
	assert_int_equal(judge_cg(&t, dir, 135, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "0 s ago, 3 process(es) killed"));
	assert_int_equal(judge_cg(&t, dir, 166, why, sizeof(why)), 0);
	/* a new spell counts afresh */
	put(dir, "memory.events", "low 0\nhigh 0\nmax 41\noom 3\noom_kill 4\n");
	assert_int_equal(judge_cg(&t, dir, 200, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "0 s ago, 1 process(es) killed"));
	/* at its limit while the killer works (tmpfs it cannot free): both,
	 * and the kills are followed meanwhile */
	put(dir, "memory.stat", "anon 1048576\nfile 63963136\ninactive_file 0\n");
	put(dir, "memory.events", "low 0\nhigh 0\nmax 50\noom 4\noom_kill 5\n");
	assert_int_equal(judge_cg(&t, dir, 250, why, sizeof(why)), 2);
	assert_string_equal(why, "service svc-mem: memory at its limit, 62 of 64 MiB in use "
				 "(memory.max)");
	put(dir, "memory.stat", "anon 1048576\nfile 63963136\ninactive_file 41943040\n");
	assert_int_equal(judge_cg(&t, dir, 260, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "10 s ago, 1 process(es) killed"));

	/* a service seen for the first time with kills behind it: baseline */
	memset(&t, 0, sizeof(t));
	assert_int_equal(judge_cg(&t, dir, 300, why, sizeof(why)), 0);
	assert_int_equal(judge_cg(&t, dir, 301, why, sizeof(why)), 0);

	/* a limit that reads wrong is not a reason */
	put(dir, "memory.max", "lots\n");
	put(dir, "memory.stat", "inactive_file 0\n");
	assert_int_equal(judge_cg(&t, dir, 302, why, sizeof(why)), 0);

	assert_int_equal(tmptree_remove(dir), 0);
}

/* A data disk init found and did not mount is a fault, with init's line
 * (init/storage.c writes it); no line is no data disk, which is not. */
static void test_health_data_disk(void **state)
{
	char path[] = "/tmp/test-health-disk.XXXXXX";
	json_t *d = json_object(), *reasons = json_array();
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	/* empty: nothing recorded */
	assert_int_equal(health_judge_data_disk(path, d, reasons), 0);
	assert_int_equal(json_array_size(reasons), 0);
	assert_null(json_object_get(d, "note"));
	static const char line[] = "e2fsck /dev/vda: errors left (status 4): not mounted: "
				   "Structure needs cleaning\n";
	assert_int_equal(write(fd, line, sizeof(line) - 1), (ssize_t)sizeof(line) - 1);
	close(fd);
	assert_int_equal(health_judge_data_disk(path, d, reasons), 1);
	assert_string_equal(json_string_value(json_array_get(reasons, 0)),
			    "data disk not mounted: e2fsck /dev/vda: errors left (status 4): not "
			    "mounted: Structure needs cleaning");
	assert_string_equal(json_string_value(json_object_get(d, "note")),
			    json_string_value(json_array_get(reasons, 0)));
	unlink(path);
	/* gone: nothing */
	json_array_clear(reasons);
	assert_int_equal(health_judge_data_disk(path, d, reasons), 0);
	assert_int_equal(json_array_size(reasons), 0);
	json_decref(d);
	json_decref(reasons);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),	      cmocka_unit_test(test_health),
		cmocka_unit_test(test_health_rule),   cmocka_unit_test(test_health_command),
		cmocka_unit_test(test_health_cgroup), cmocka_unit_test(test_health_data_disk),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
