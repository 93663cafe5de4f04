/* host/qmp.c, the QMP client: against QEMU itself (qemu-system-x86_64
 * -machine none, the real peer, started per test in a few milliseconds;
 * skipped, saying so, where QEMU is not installed), and against a scripted
 * peer for what QEMU never does on purpose: a server that is not QMP, one
 * that says nothing, a message over the limit, a flood of events, an answer
 * with another id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host-test.h"
#include "qmp.h"

#define QEMU "qemu-system-x86_64"
#define GREETING                                                                          \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, " \
	"\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"

/* ---- QEMU ---- */

struct qemu {
	char dir[64];
	char path[108];
	pid_t pid;
};

/* Where QEMU is not installed: why the tests that need it skip. */
static char no_qemu[128];

static bool qemu_found(void)
{
	const char *path = getenv("PATH");
	char buf[4096], *save, *d;

	snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
	for (d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char p[4200];

		snprintf(p, sizeof(p), "%s/" QEMU, d);
		if (access(p, X_OK) == 0)
			return true;
	}
	return false;
}

/* Starts QEMU with no machine and its monitor on a unix socket, and waits
 * (5 s at most) for the socket to be there. */
static void qemu_start(struct qemu *q)
{
	struct stat st;

	snprintf(q->dir, sizeof(q->dir), "/tmp/test-host-qmp.XXXXXX");
	assert_non_null(mkdtemp(q->dir));
	snprintf(q->path, sizeof(q->path), "%s/qmp.sock", q->dir);
	q->pid = fork();
	assert_true(q->pid >= 0);
	if (q->pid == 0) {
		char qmp[200];

		snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", q->path);
		if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "r", stdin))
			_exit(127);
		execlp(QEMU, QEMU, "-machine", "none", "-nodefaults", "-display", "none",
		       "-no-user-config", "-qmp", qmp, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && stat(q->path, &st) < 0; i++)
		usleep(10000);
	assert_int_equal(stat(q->path, &st), 0);
}

static void qemu_stop(struct qemu *q)
{
	int status;

	kill(q->pid, SIGKILL);
	waitpid(q->pid, &status, 0);
	unlink(q->path);
	rmdir(q->dir);
}

#define NEED_QEMU()                                            \
	do {                                                   \
		if (no_qemu[0]) {                              \
			print_message("# SKIP %s\n", no_qemu); \
			skip();                                \
		}                                              \
	} while (0)

static void test_qemu_commands(void **state)
{
	struct client_error err = { 0 };
	struct qemu qemu;
	struct qmp *q = NULL;
	json_t *ret = NULL, *args;

	(void)state;
	NEED_QEMU();
	qemu_start(&qemu);
	assert_int_equal(qmp_open(qemu.path, 5000, &q, &err), 0);
	/* a command without arguments */
	assert_int_equal(qmp_execute(q, "query-version", NULL, 5000, &ret, &err), 0);
	assert_true(json_is_integer(json_object_get(json_object_get(ret, "qemu"), "major")));
	json_decref(ret);
	/* one with arguments: they reach QEMU */
	args = json_pack("{s:s,s:s}", "path", "/machine", "property", "type");
	assert_int_equal(qmp_execute(q, "qom-get", args, 5000, &ret, &err), 0);
	json_decref(args);
	assert_string_equal(json_string_value(ret), "none-machine");
	json_decref(ret);
	/* stop sends a STOP event before its answer: skipped, and the next
	 * command's answer is the next command's */
	assert_int_equal(qmp_execute(q, "stop", NULL, 5000, NULL, &err), 0);
	assert_int_equal(qmp_execute(q, "query-status", NULL, 5000, &ret, &err), 0);
	assert_true(json_is_false(json_object_get(ret, "running")));
	json_decref(ret);
	qmp_close(q);
	qemu_stop(&qemu);
}

static void test_qemu_errors(void **state)
{
	struct client_error err = { 0 };
	struct qemu qemu;
	struct qmp *q = NULL;
	json_t *ret = NULL, *args;

	(void)state;
	NEED_QEMU();
	qemu_start(&qemu);
	assert_int_equal(qmp_open(qemu.path, 5000, &q, &err), 0);
	/* the error's class and desc as QEMU sent them */
	args = json_pack("{s:I}", "value", (json_int_t)512 << 20);
	assert_int_equal(qmp_execute(q, "balloon", args, 5000, &ret, &err), -EREMOTEIO);
	json_decref(args);
	assert_null(ret);
	assert_string_equal(err.class, "DeviceNotActive");
	assert_non_null(strstr(err.desc, "balloon"));
	assert_int_equal(qmp_execute(q, "no-such-command", NULL, 5000, &ret, &err), -EREMOTEIO);
	assert_string_equal(err.class, "CommandNotFound");
	/* and the connection goes on */
	assert_int_equal(qmp_execute(q, "query-status", NULL, 5000, &ret, &err), 0);
	json_decref(ret);
	qmp_close(q);
	qemu_stop(&qemu);
}

static void test_no_server(void **state)
{
	struct client_error err = { 0 };
	struct qmp *q = NULL;

	(void)state;
	assert_int_equal(qmp_open("/tmp/test-host-qmp-none/qmp.sock", 1000, &q, &err), -ENOENT);
	assert_null(q);
	assert_non_null(strstr(err.desc, "qmp.sock"));
}

/* ---- a scripted peer ---- */

/* qmp_open against STEPS; returns its result, *RET the connection. */
static int scripted_open(struct peer *p, const struct step *steps, size_t n, int timeout_ms,
			 struct qmp **ret, struct client_error *err)
{
	peer_start(p, steps, n);
	return qmp_open(p->path, timeout_ms, ret, err);
}

static void test_scripted_events_and_arguments(void **state)
{
	static const struct step steps[] = {
		{ "", GREETING, 0 },
		{ "\"qmp_capabilities\"", "{\"return\": {}, \"id\": 1}\r\n", 0 },
		{ "\"balloon\"",
		  "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": "
		  "\"BALLOON_CHANGE\", \"data\": {\"actual\": 1073741824}}\r\n"
		  "{\"return\": {}, \"id\": 2}\r\n",
		  0 },
		{ "\"query-balloon\"",
		  "{\"event\": \"BALLOON_CHANGE\", \"data\": {\"actual\": 805306368}}\r\n"
		  "{\"return\": {\"actual\": 805306368}, \"id\": 3}\r\n",
		  0 },
		{ "\n", NULL, 0 },
	};
	struct client_error err = { 0 };
	struct peer p;
	struct qmp *q = NULL;
	json_t *ret = NULL, *args = json_pack("{s:I}", "value", (json_int_t)805306368);

	(void)state;
	assert_int_equal(scripted_open(&p, steps, 5, 5000, &q, &err), 0);
	assert_int_equal(qmp_execute(q, "balloon", args, 5000, NULL, &err), 0);
	assert_int_equal(qmp_execute(q, "query-balloon", NULL, 5000, &ret, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(ret, "actual")), 805306368);
	json_decref(ret);
	json_decref(args);
	qmp_close(q);
	peer_stop(&p);
	assert_true(peer_got(&p, "{\"execute\":\"qmp_capabilities\",\"id\":1}"));
	assert_true(peer_got(&p, "\"arguments\":{\"value\":805306368}"));
}

static void test_scripted_not_qmp(void **state)
{
	static const struct step steps[] = { { "", "{\"return\": {}}\n", 0 } };
	struct client_error err = { 0 };
	struct peer p;
	struct qmp *q = NULL;

	(void)state;
	assert_int_equal(scripted_open(&p, steps, 1, 2000, &q, &err), -EPROTO);
	assert_non_null(strstr(err.desc, "not a QMP server"));
	peer_stop(&p);
}

static void test_scripted_silent(void **state)
{
	/* the peer accepts and waits for bytes that never come */
	static const struct step steps[] = { { "never sent", NULL, 0 } };
	struct client_error err = { 0 };
	struct peer p;
	struct qmp *q = NULL;

	(void)state;
	assert_int_equal(scripted_open(&p, steps, 1, 200, &q, &err), -ETIMEDOUT);
	assert_non_null(strstr(err.desc, "in time"));
	peer_stop(&p);
}

static void test_scripted_too_long(void **state)
{
	static struct step steps[1];
	size_t len = QMP_MESSAGE_MAX + 4096;
	char *big = malloc(len);
	struct client_error err = { 0 };
	struct peer p;
	struct qmp *q = NULL;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', len);
	memcpy(big, "{\"QMP\": \"", 9);
	steps[0] = (struct step){ "", big, len };
	assert_int_equal(scripted_open(&p, steps, 1, 5000, &q, &err), -EMSGSIZE);
	/* the peer's write fails once we are gone */
	peer_stop(&p);
	free(big);
}

static void test_scripted_event_flood(void **state)
{
	static const char event[] = "{\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 1}}\n";
	static struct step steps[3];
	size_t n = (QMP_EVENTS_MAX + 1) * (sizeof(event) - 1);
	char *flood = malloc(n);
	struct client_error err = { 0 };
	struct peer p;
	struct qmp *q = NULL;

	(void)state;
	assert_non_null(flood);
	for (size_t i = 0; i <= QMP_EVENTS_MAX; i++)
		memcpy(flood + i * (sizeof(event) - 1), event, sizeof(event) - 1);
	steps[0] = (struct step){ "", GREETING, 0 };
	steps[1] = (struct step){ "qmp_capabilities", flood, n };
	steps[2] = (struct step){ "never sent", NULL, 0 };
	assert_int_equal(scripted_open(&p, steps, 3, 5000, &q, &err), -EPROTO);
	assert_non_null(strstr(err.desc, "events"));
	peer_stop(&p);
	free(flood);
}

static void test_scripted_other_id(void **state)
{
	static const struct step steps[] = {
		{ "", GREETING, 0 },
		{ "qmp_capabilities", "{\"return\": {}, \"id\": 1}\n", 0 },
		{ "query-status", "{\"return\": {}, \"id\": 7}\n", 0 },
		{ "never sent", NULL, 0 },
	};
	struct client_error err = { 0 };
	struct peer p;
	struct qmp *q = NULL;
	json_t *ret = NULL;

	(void)state;
	assert_int_equal(scripted_open(&p, steps, 4, 5000, &q, &err), 0);
	assert_int_equal(qmp_execute(q, "query-status", NULL, 5000, &ret, &err), -EPROTO);
	assert_null(ret);
	qmp_close(q);
	peer_stop(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_commands),
		cmocka_unit_test(test_qemu_errors),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_scripted_events_and_arguments),
		cmocka_unit_test(test_scripted_not_qmp),
		cmocka_unit_test(test_scripted_silent),
		cmocka_unit_test(test_scripted_too_long),
		cmocka_unit_test(test_scripted_event_flood),
		cmocka_unit_test(test_scripted_other_id),
	};

	/* a scripted peer writing to a client that has gone gets EPIPE */
	signal(SIGPIPE, SIG_IGN);
	if (!qemu_found())
		snprintf(no_qemu, sizeof(no_qemu), "no %s on PATH (scripts/deps installs it)",
			 QEMU);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
