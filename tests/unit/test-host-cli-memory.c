/* host/cli-memory.c: sizes as porthole memory target reads them; what
 * porthole memory prints of porthole-memory's answer and of the host's side
 * (a child named like QEMU stands for QEMU, a scripted QMP peer for its
 * monitor); the requests memory reclaim and memory target make, the
 * balloon's through QMP; and the command lines refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "cli.h"
#include "host-test.h"

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		int r;
		uint64_t v;
	} cases[] = {
		{ "0", 0, 0 },
		{ "4096", 0, 4096 },
		{ "768M", 0, 768ull << 20 },
		{ "768m", 0, 768ull << 20 },
		{ "1G", 0, 1ull << 30 },
		{ "2GiB", 0, 2ull << 30 },
		{ "512KB", 0, 512ull << 10 },
		{ "1T", 0, 1ull << 40 },
		{ "", -EINVAL, 0 },
		{ "M", -EINVAL, 0 },
		{ "-1M", -EINVAL, 0 },
		{ " 1M", -EINVAL, 0 },
		{ "1.5G", -EINVAL, 0 },
		{ "1X", -EINVAL, 0 },
		{ "1Gx", -EINVAL, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "17179869184G", -ERANGE, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int r = cli_parse_size(cases[i].s, &v);

		if (r != cases[i].r || (r == 0 && v != cases[i].v))
			fail_msg("'%s': %d %llu", cases[i].s, r, (unsigned long long)v);
		if (r < 0 && v != 12345)
			fail_msg("'%s': the result was touched on failure", cases[i].s);
	}
}

#define MEMORY_REPLY                                                                               \
	"{\"return\": {\"total_bytes\": 1007091712, \"available_bytes\": 859832320, "              \
	"\"free_bytes\": 800000000, \"page_cache_bytes\": 52428800, \"shmem_bytes\": 1048576, "    \
	"\"anon_bytes\": 31457280, \"slab_reclaimable_bytes\": 10485760, "                         \
	"\"slab_unreclaimable_bytes\": 20971520, \"pressure\": {\"some_avg10\": 1.5, "             \
	"\"full_avg10\": 0.25}, \"balloon\": {\"present\": true, \"free_page_reporting\": true, "  \
	"\"inflated_bytes\": 268435456}, \"cgroups\": [{\"name\": \"dockerd\", "                   \
	"\"current_bytes\": 104857600, \"anon_bytes\": 52428800, \"file_bytes\": 41943040, "       \
	"\"kernel_bytes\": 10485760, \"shmem_bytes\": 0, \"high_bytes\": 536870912, "              \
	"\"max_bytes\": null}, {\"name\": \"porthole-agent\", \"current_bytes\": 2097152, "        \
	"\"anon_bytes\": 1048576, \"file_bytes\": 0, \"kernel_bytes\": 1048576, \"shmem_bytes\": " \
	"0, \"high_bytes\": null, \"max_bytes\": 67108864}], \"reclaim\": {\"auto\": true, "       \
	"\"idle\": true, \"idle_for_s\": 95, \"count\": 2, \"freed_bytes\": 314572800, "           \
	"\"history\": [{\"time_ns\": 1795784978129112000, \"reason\": \"request\", \"full\": "     \
	"false, \"freed_bytes\": 104857600, \"duration_ms\": 12}, {\"time_ns\": "                  \
	"1795785038000000000, \"reason\": \"idle\", \"full\": true, \"freed_bytes\": 209715200, "  \
	"\"duration_ms\": 340}]}}, \"id\": 1}\n"

#define GUEST_LINES                                                        \
	"guest:    total 960.4 MiB, available 820.0 MiB, free 762.9 MiB\n" \
	"          page cache 50.0 MiB, anon 30.0 MiB, shmem 1.0 MiB\n"    \
	"          slab 10.0 MiB reclaimable, 20.0 MiB not\n"              \
	"pressure: some 1.50%, full 0.25% (avg10)\n"                       \
	"balloon:  inflated 256.0 MiB, free page reporting on\n"

#define TABLES                                                                                  \
	"\n"                                                                                    \
	"CGROUP          CURRENT    ANON      FILE      KERNEL    SHMEM  HIGH       MAX\n"      \
	"dockerd         100.0 MiB  50.0 MiB  40.0 MiB  10.0 MiB  0 B    512.0 MiB  max\n"      \
	"porthole-agent  2.0 MiB    1.0 MiB   0 B       1.0 MiB   0 B    max        64.0 MiB\n" \
	"\n"                                                                                    \
	"reclaim:  automatic on, idle yes (quiet for 1m 35s), 2 runs freed 300.0 MiB\n"

static void test_show(void **state)
{
	static const char *const show[] = { "memory", "--vm-dir", "/nonexistent/vm", NULL };
	struct cli_run *run = *state;
	char *tables;

	setenv("TZ", "UTC", 1);
	cli_ask(run, cli_memory, false, "porthole-memory", MEMORY_REPLY, show);
	assert_int_equal(run->code, CLI_EXIT_OK);
	tables = strstr(run->out, "\nCGROUP");
	assert_non_null(tables);
	assert_memory_equal(run->out, GUEST_LINES, strlen(GUEST_LINES));
	assert_memory_equal(tables, TABLES, strlen(TABLES));
	/* the history, oldest first, in the time of day the test's TZ says */
	assert_non_null(
		strstr(run->out, "TIME                     REASON   FULL  FREED      TOOK\n"));
	assert_non_null(
		strstr(run->out, "2026-11-27 13:09:38 UTC  request  no    100.0 MiB  12 ms\n"));
	assert_non_null(strstr(run->out, "  idle     yes   200.0 MiB  340 ms\n"));
	assert_true(strstr(run->out, "request") < strstr(run->out, "  idle  "));
	/* no VM here: the host's side says why */
	assert_non_null(strstr(
		run->out, "\nhost:     /nonexistent/vm/qemu.pid: No such file or directory\n"));

	/* --json: the agent's result as it is, the host's side added */
	cli_ask(run, cli_memory, true, "porthole-memory", MEMORY_REPLY, show);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_non_null(strstr(run->out, "{\"total_bytes\":1007091712,"));
	assert_non_null(strstr(run->out, "\"host\":{\"vm_dir\":\"/nonexistent/vm\",\"error\":"));
}

/* A VM directory with a "QEMU" (a child renamed so) and a scripted QMP. */
struct fake_vm {
	char dir[64];
	pid_t pid;
	struct peer qmp;
};

static void fake_vm_start(struct fake_vm *vm, const struct step *qmp_steps, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(vm->dir, sizeof(vm->dir), "/tmp/test-host-cli-memory.XXXXXX");
	assert_non_null(mkdtemp(vm->dir));
	vm->pid = fork();
	assert_true(vm->pid >= 0);
	if (vm->pid == 0) {
		prctl(PR_SET_NAME, "qemu-system-x86");
		pause();
		_exit(0);
	}
	snprintf(path, sizeof(path), "%s/qemu.pid", vm->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%d\n", (int)vm->pid);
	fclose(f);
	/* the child names itself after fork: wait for it */
	for (int i = 0; i < 500; i++) {
		char status[64] = "", p[64];
		FILE *s;

		snprintf(p, sizeof(p), "/proc/%d/comm", (int)vm->pid);
		s = fopen(p, "r");
		if (s) {
			if (!fgets(status, sizeof(status), s))
				status[0] = '\0';
			fclose(s);
		}
		if (strncmp(status, "qemu", 4) == 0)
			break;
		usleep(10000);
	}
	peer_start(&vm->qmp, qmp_steps, n);
	snprintf(path, sizeof(path), "%s/qmp.sock", vm->dir);
	assert_int_equal(symlink(vm->qmp.path, path), 0);
}

static void fake_vm_stop(struct fake_vm *vm)
{
	char path[128];

	kill(vm->pid, SIGKILL);
	waitpid(vm->pid, NULL, 0);
	peer_stop(&vm->qmp);
	snprintf(path, sizeof(path), "%s/qmp.sock", vm->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/qemu.pid", vm->dir);
	unlink(path);
	rmdir(vm->dir);
}

#define QMP_GREETING                                                         \
	{ "", "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n", 0 }, \
	{                                                                    \
		"qmp_capabilities", "{\"return\": {}, \"id\": 1}\r\n", 0     \
	}

static void test_show_host(void **state)
{
	static const struct step qmp[] = {
		QMP_GREETING,
		{ "query-balloon", "{\"return\": {\"actual\": 805306368}, \"id\": 2}\r\n", 0 },
		{ "never sent", NULL, 0 },
	};
	struct cli_run *run = *state;
	struct fake_vm vm;
	const char *show[] = { "memory", "--vm-dir", NULL, NULL };
	char expect[128];

	fake_vm_start(&vm, qmp, sizeof(qmp) / sizeof(qmp[0]));
	show[2] = vm.dir;
	cli_ask(run, cli_memory, false, "porthole-memory", MEMORY_REPLY, show);
	fake_vm_stop(&vm);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_non_null(strstr(run->out, "          actual 768.0 MiB (QMP query-balloon)\n"));
	snprintf(expect, sizeof(expect), "\nhost:     QEMU (pid %d) holds ", (int)vm.pid);
	assert_non_null(strstr(run->out, expect));
	assert_non_null(strstr(run->out, ": anon "));
	assert_non_null(strstr(run->out, ", shmem "));
}

static void test_reclaim(void **state)
{
	static const char *const reclaim[] = { "memory", "reclaim", "--full", NULL };
	struct cli_run *run = *state;

	cli_ask(run, cli_memory, false, "porthole-memory-reclaim",
		"{\"return\": {\"full\": true, \"freed_bytes\": 524288000, "
		"\"page_cache_before_bytes\": 555745280, \"page_cache_after_bytes\": 31457280, "
		"\"available_before_bytes\": 314572800, \"available_after_bytes\": 838860800, "
		"\"duration_ms\": 420, \"cgroups\": [{\"name\": \"dockerd\", \"before_bytes\": "
		"104857600, \"after_bytes\": 52428800}]}, \"id\": 1}\n",
		reclaim);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_true(peer_got(&run->peer, "\"arguments\":{\"full\":true}"));
	assert_string_equal(run->out, "freed 500.0 MiB in 420 ms (full): page cache 530.0 MiB -> "
				      "30.0 MiB, available 300.0 MiB -> 800.0 MiB\n"
				      "  dockerd          100.0 MiB -> 50.0 MiB\n");
}

static void test_target(void **state)
{
	static const char *const engine[] = { "memory", "target", "--engine", "512M", NULL };
	static const char *const nolimit[] = { "memory", "target", "--engine=max", NULL };
	static const struct step qmp[] = {
		QMP_GREETING,
		{ "\"balloon\"", "{\"return\": {}, \"id\": 2}\r\n", 0 },
		{ "query-balloon", "{\"return\": {\"actual\": 1073741824}, \"id\": 3}\r\n", 0 },
		{ "never sent", NULL, 0 },
	};
	static const struct step qmp_max[] = {
		QMP_GREETING,
		{ "query-memory-size-summary",
		  "{\"return\": {\"base-memory\": 1073741824}, \"id\": 2}\r\n", 0 },
		{ "\"balloon\"", "{\"return\": {}, \"id\": 3}\r\n", 0 },
		{ "query-balloon", "{\"return\": {\"actual\": 805306368}, \"id\": 4}\r\n", 0 },
		{ "never sent", NULL, 0 },
	};
	struct cli_run *run = *state;
	struct fake_vm vm;
	const char *balloon[] = { "memory", "target", "--balloon", "768M", "--vm-dir", NULL, NULL };
	const char *bmax[] = { "memory", "target", "--balloon", "max", "--vm-dir", NULL, NULL };

	cli_ask(run, cli_memory, false, "porthole-memory-target",
		"{\"return\": {\"service\": \"dockerd\", \"high_bytes\": 536870912}, \"id\": 1}\n",
		engine);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_true(peer_got(&run->peer, "\"arguments\":{\"engine_high_bytes\":536870912}"));
	assert_string_equal(run->out, "engine: dockerd memory.high 512.0 MiB\n");

	cli_ask(run, cli_memory, false, "porthole-memory-target",
		"{\"return\": {\"service\": \"dockerd\", \"high_bytes\": null}, \"id\": 1}\n",
		nolimit);
	assert_true(peer_got(&run->peer, "\"arguments\":{\"engine_high_bytes\":0}"));
	assert_string_equal(run->out, "engine: dockerd memory.high max\n");

	/* the engine's error is the guest's */
	cli_ask(run, cli_memory, false, "porthole-memory-target",
		"{\"error\": {\"class\": \"GenericError\", \"desc\": \"no engine configured\"}, "
		"\"id\": 1}\n",
		engine);
	assert_int_equal(run->code, CLI_EXIT_GUEST);
	assert_non_null(strstr(run->err, "no engine configured"));

	/* the balloon: through QMP only, the agent not asked */
	fake_vm_start(&vm, qmp, sizeof(qmp) / sizeof(qmp[0]));
	balloon[5] = vm.dir;
	cli_ask(run, cli_memory, false, "porthole-", "", balloon);
	fake_vm_stop(&vm);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_false(peer_got(&run->peer, "porthole-"));
	assert_true(peer_got(&vm.qmp, "{\"execute\":\"balloon\",\"id\":2,\"arguments\":{\"value\":"
				      "805306368}}"));
	assert_string_equal(run->out, "balloon: target 768.0 MiB, actual 1.0 GiB now (the guest's "
				      "driver gets there over the next seconds)\n");

	fake_vm_start(&vm, qmp_max, sizeof(qmp_max) / sizeof(qmp_max[0]));
	bmax[5] = vm.dir;
	cli_ask(run, cli_memory, true, "porthole-", "", bmax);
	fake_vm_stop(&vm);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_true(peer_got(&vm.qmp, "\"arguments\":{\"value\":1073741824}"));
	assert_string_equal(run->out, "{\"target_bytes\":1073741824,\"actual_bytes\":805306368}\n");

	/* no QMP there */
	balloon[5] = "/nonexistent/vm";
	cli_ask(run, cli_memory, false, "porthole-", "", balloon);
	assert_int_equal(run->code, CLI_EXIT_CONNECT);
	assert_non_null(strstr(run->err, "/nonexistent/vm/qmp.sock"));
}

static void test_usage(void **state)
{
	static const char *const bad[][5] = {
		{ "memory", "free" },
		{ "memory", "reclaim", "now" },
		{ "memory", "--full" },
		{ "memory", "reclaim", "--engine", "1G" },
		{ "memory", "target" },
		{ "memory", "target", "--engine", "12X" },
		{ "memory", "target", "--balloon", "0" },
		{ "memory", "target", "--balloon", "-5M" },
		{ "memory", "--bogus" },
	};
	struct cli_run *run = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[6] = {
			bad[i][0], bad[i][1], bad[i][2], bad[i][3], bad[i][4], NULL
		};

		cli_ask(run, cli_memory, false, "porthole-", "", argv);
		if (run->code != CLI_EXIT_USAGE)
			fail_msg("command line %zu: exit %d", i, run->code);
		assert_false(peer_got(&run->peer, "porthole-"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test_setup_teardown(test_show, cli_run_setup, cli_run_teardown),
		cmocka_unit_test_setup_teardown(test_show_host, cli_run_setup, cli_run_teardown),
		cmocka_unit_test_setup_teardown(test_reclaim, cli_run_setup, cli_run_teardown),
		cmocka_unit_test_setup_teardown(test_target, cli_run_setup, cli_run_teardown),
		cmocka_unit_test_setup_teardown(test_usage, cli_run_setup, cli_run_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
