/* agent/cmd-memory.c against a made-up /proc and cgroup tree: what
 * porthole-memory reports (the page cache without tmpfs, the services'
 * cgroups by name, "max" as null), what porthole-memory-reclaim writes and
 * where (gentle: each cgroup's page cache; full: all of it, drop_caches and
 * compact_memory), that a sandboxed agent refuses, and
 * porthole-memory-target's memory.high with its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-test.h"
#include "cmd-memory.h"
#include "options.h"
#include "tmptree.h"
#include "util.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *rel)
{
	static char buf[256];
	char path[PATH_MAX];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *const written[] = {
	"cg/memory.reclaim",
	"cg/porthole/dockerd/memory.reclaim",
	"cg/porthole/svc-b/memory.reclaim",
	"proc/sys/vm/drop_caches",
	"proc/sys/vm/compact_memory",
};

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/test-agent-cmd-memory.XXXXXX");
	assert_non_null(mkdtemp(root));
	put("proc/meminfo", "MemTotal:        1000000 kB\n"
			    "MemFree:          500000 kB\n"
			    "MemAvailable:     700000 kB\n"
			    "Buffers:            1000 kB\n"
			    "Cached:           300000 kB\n"
			    "AnonPages:        100000 kB\n"
			    "Shmem:             50000 kB\n"
			    "SReclaimable:      20000 kB\n"
			    "SUnreclaim:        10000 kB\n");
	put("proc/vmstat", "nr_free_pages 1\nballoon_inflate 300\nballoon_deflate 100\n");
	put("proc/pressure/memory", "some avg10=2.50 avg60=0.00 avg300=0.00 total=1\n"
				    "full avg10=0.50 avg60=0.00 avg300=0.00 total=1\n");
	put("cg/porthole/dockerd/memory.current", "209715200\n");
	put("cg/porthole/dockerd/memory.stat",
	    "anon 104857600\nfile 94371840\nkernel 10485760\nshmem 0\nfile_mapped 1\n");
	put("cg/porthole/dockerd/memory.high", "max\n");
	put("cg/porthole/dockerd/memory.max", "max\n");
	put("cg/porthole/dockerd/cpu.stat", "usage_usec 1000\n");
	put("cg/porthole/svc-b/memory.current", "67108864\n");
	put("cg/porthole/svc-b/memory.stat", "anon 1048576\nfile 33554432\n");
	put("cg/porthole/svc-b/memory.high", "max\n");
	put("cg/porthole/svc-b/memory.max", "134217728\n");
	/* a cgroup without the memory controller: not reported */
	put("cg/porthole/nomem/cgroup.procs", "");
	for (size_t i = 0; i < ARRAY_SIZE(written); i++)
		put(written[i], "");
	{
		char proc[PATH_MAX], cg[PATH_MAX];

		snprintf(proc, sizeof(proc), "%s/proc", root);
		snprintf(cg, sizeof(cg), "%s/cg", root);
		memory_set_roots(proc, cg);
	}
	options_defaults(&agent.cfg);
	agent.sandbox = false;
	return 0;
}

static int teardown(void **state)
{

	(void)state;
	assert_int_equal(tmptree_remove(root), 0);
	return 0;
}

static void test_table(void **state)
{
	(void)state;
	check_table(cmd_memory_table, 3);
	assert_int_equal(find("porthole-memory-reclaim")->args[0].type, ARG_BOOL);
	assert_true(find("porthole-memory-target")->args[0].required);
	/* the host's tools poll it: no activity */
	assert_true(find("porthole-memory")->flags & CMD_QUIET);
	assert_false(find("porthole-memory-reclaim")->flags & CMD_QUIET);
}

static void test_report(void **state)
{
	json_t *r = call_ok("porthole-memory", NULL), *cgs, *c, *b;

	(void)state;
	assert_int_equal(json_integer_value(json_object_get(r, "total_bytes")), 1000000ll * 1024);
	assert_int_equal(json_integer_value(json_object_get(r, "available_bytes")),
			 700000ll * 1024);
	/* Cached + Buffers - Shmem: tmpfs is not page cache that can go */
	assert_int_equal(json_integer_value(json_object_get(r, "page_cache_bytes")),
			 (300000ll + 1000 - 50000) * 1024);
	assert_int_equal(json_integer_value(json_object_get(r, "anon_bytes")), 100000ll * 1024);
	assert_int_equal(json_integer_value(json_object_get(r, "slab_reclaimable_bytes")),
			 20000ll * 1024);
	cgs = json_object_get(r, "cgroups");
	assert_int_equal(json_array_size(cgs), 2);
	c = json_array_get(cgs, 0);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "dockerd");
	assert_int_equal(json_integer_value(json_object_get(c, "current_bytes")), 209715200);
	assert_int_equal(json_integer_value(json_object_get(c, "file_bytes")), 94371840);
	assert_true(json_is_null(json_object_get(c, "high_bytes")));
	assert_true(json_is_null(json_object_get(c, "max_bytes")));
	c = json_array_get(cgs, 1);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "svc-b");
	assert_int_equal(json_integer_value(json_object_get(c, "max_bytes")), 134217728);
	/* absent from memory.stat: 0, not missing */
	assert_int_equal(json_integer_value(json_object_get(c, "kernel_bytes")), 0);
	b = json_object_get(r, "balloon");
	assert_true(json_is_boolean(json_object_get(b, "present")));
	assert_int_equal(json_integer_value(json_object_get(b, "inflated_bytes")),
			 200 * sysconf(_SC_PAGESIZE));
	assert_float_equal(
		json_real_value(json_object_get(json_object_get(r, "pressure"), "some_avg10")), 2.5,
		1e-9);
	c = json_object_get(r, "reclaim");
	assert_true(json_is_boolean(json_object_get(c, "auto")));
	assert_true(json_is_array(json_object_get(c, "history")));
	json_decref(r);
}

static void reset_written(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(written); i++)
		put(written[i], "");
}

static void test_reclaim_gentle(void **state)
{
	json_t *r;

	(void)state;
	reset_written();
	r = call_ok("porthole-memory-reclaim", NULL);
	assert_false(json_is_true(json_object_get(r, "full")));
	/* each service its page cache (memory.stat's file), then the root
	 * what is left of the page cache (meminfo's, unchanged here) */
	assert_string_equal(get("cg/porthole/dockerd/memory.reclaim"), "94371840");
	assert_string_equal(get("cg/porthole/svc-b/memory.reclaim"), "33554432");
	assert_string_equal(get("cg/memory.reclaim"), "257024000");
	assert_string_equal(get("proc/sys/vm/drop_caches"), "");
	assert_string_equal(get("proc/sys/vm/compact_memory"), "");
	/* nothing changed in the fake meminfo: nothing freed, and said so */
	assert_int_equal(json_integer_value(json_object_get(r, "freed_bytes")), 0);
	assert_int_equal(json_array_size(json_object_get(r, "cgroups")), 2);
	json_decref(r);
}

static void test_reclaim_full(void **state)
{
	json_t *r;

	(void)state;
	reset_written();
	r = call_ok("porthole-memory-reclaim", "{\"full\": true}");
	assert_true(json_is_true(json_object_get(r, "full")));
	/* all a cgroup holds (anon stays without swap: the kernel's call) */
	assert_string_equal(get("cg/porthole/dockerd/memory.reclaim"), "209715200");
	assert_string_equal(get("cg/porthole/svc-b/memory.reclaim"), "67108864");
	assert_string_equal(get("proc/sys/vm/drop_caches"), "3");
	assert_string_equal(get("proc/sys/vm/compact_memory"), "1");
	json_decref(r);
}

/* The history keeps the last 16, oldest first; the count and the total go on. */
static void test_history_bounded(void **state)
{
	json_t *r, *h;
	json_int_t count0;

	(void)state;
	r = call_ok("porthole-memory", NULL);
	count0 = json_integer_value(json_object_get(json_object_get(r, "reclaim"), "count"));
	json_decref(r);
	for (int i = 0; i < 20; i++) {
		reset_written();
		json_decref(
			call_ok("porthole-memory-reclaim", i == 19 ? "{\"full\": true}" : NULL));
	}
	r = call_ok("porthole-memory", NULL);
	h = json_object_get(json_object_get(r, "reclaim"), "history");
	assert_int_equal(json_array_size(h), 16);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(r, "reclaim"), "count")),
		count0 + 20);
	/* the newest last: the full one */
	assert_true(json_is_true(json_object_get(json_array_get(h, 15), "full")));
	assert_false(json_is_true(json_object_get(json_array_get(h, 14), "full")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "reason")),
			    "request");
	json_decref(r);
}

static void test_reclaim_sandbox(void **state)
{
	(void)state;
	reset_written();
	agent.sandbox = true;
	call_fails("porthole-memory-reclaim", "{\"full\": true}", "not in its VM");
	agent.sandbox = false;
	assert_string_equal(get("proc/sys/vm/drop_caches"), "");
	assert_string_equal(get("cg/memory.reclaim"), "");
}

static void test_target(void **state)
{
	json_t *r;

	(void)state;
	put("cg/porthole/dockerd/memory.high", "");
	r = call_ok("porthole-memory-target", "{\"engine_high_bytes\": 1073741824}");
	assert_string_equal(json_string_value(json_object_get(r, "service")), "dockerd");
	assert_int_equal(json_integer_value(json_object_get(r, "high_bytes")), 1073741824);
	json_decref(r);
	assert_string_equal(get("cg/porthole/dockerd/memory.high"), "1073741824");
	put("cg/porthole/dockerd/memory.high", "");
	r = call_ok("porthole-memory-target", "{\"engine_high_bytes\": 0}");
	assert_true(json_is_null(json_object_get(r, "high_bytes")));
	json_decref(r);
	assert_string_equal(get("cg/porthole/dockerd/memory.high"), "max");
	/* refusals change nothing */
	call_fails("porthole-memory-target", "{\"engine_high_bytes\": 1048576}", "too low");
	call_fails("porthole-memory-target", "{\"engine_high_bytes\": -5}", "too low");
	assert_string_equal(get("cg/porthole/dockerd/memory.high"), "max");
	snprintf(agent.cfg.memory_engine, sizeof(agent.cfg.memory_engine), "nosuch");
	call_fails("porthole-memory-target", "{\"engine_high_bytes\": 0}", "does not exist");
	agent.cfg.memory_engine[0] = '\0';
	call_fails("porthole-memory-target", "{\"engine_high_bytes\": 0}", "no engine");
	options_defaults(&agent.cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),		cmocka_unit_test(test_report),
		cmocka_unit_test(test_reclaim_gentle),	cmocka_unit_test(test_reclaim_full),
		cmocka_unit_test(test_history_bounded), cmocka_unit_test(test_reclaim_sandbox),
		cmocka_unit_test(test_target),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, setup, teardown);
}
