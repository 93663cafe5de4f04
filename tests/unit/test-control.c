/* init/control.c, init's control socket, in this process: a real listening
 * socket in a temporary directory, served by a real supervisor loop over
 * services that run nowhere (service-test.h's fake ops). Each request is a
 * line from a client socket; the loop turns until the reply's line is there.
 * What the agent relies on (docs/control.md): every line gets one answer,
 * errors say what was wrong, client-given numbers are range-checked, a
 * shutdown is only recorded, and the connection limit gives way to peers
 * that have gone. The socket admits root only: without root, skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "service-test.h"

#include "control.h"
#include "log.h"
#include "service-conf.h"
#include "svclog.h"

static struct supervisor sup;
static struct services ss;
static char dir[] = "/tmp/test-control.XXXXXX";
static char path[sizeof(dir) + 16];

static int setup(void **state)
{
	static const char *const defs[][2] = {
		{ "web", "[service]\ncommand = /bin/web\n" },
		{ "db", "[service]\ncommand = /bin/db\n" },
	};
	struct service_spec specs[2];
	char err[SERVICE_ERROR_MAX];

	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	if (geteuid() != 0)
		return 0; /* every test skips, saying why */
	test_loop_init(&sup, false);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(service_conf_parse(defs[i][1], "t.conf", defs[i][0], &specs[i],
						    err, sizeof(err)),
				 0);
	fake_reset();
	services_init(&ss, &sup, &fake_ops, specs, 2, NULL);
	services_begin(&ss);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/init.sock", dir);
	assert_int_equal(control_start(&sup, &ss, path), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (path[0])
		unlink(path);
	rmdir(dir);
	return 0;
}

static void need_root(void)
{
	if (geteuid() != 0) {
		print_message("# SKIP the control socket admits root only, and this is not root\n");
		skip();
	}
}

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Turns the loop until FD has a whole line (or is closed); the line, or
 * "EOF". What came after the line is kept for the next call on the same
 * connection. Bounded: 200 turns of at most 10 ms. */
static char *read_line(int fd)
{
	static char buf[65536], line[65536];
	static size_t len;
	static int buf_fd = -1;

	if (fd != buf_fd)
		len = 0, buf_fd = fd;
	for (int turn = 0; turn < 200; turn++) {
		char *nl = memchr(buf, '\n', len);
		ssize_t n;

		if (nl) {
			size_t used = (size_t)(nl - buf) + 1;

			memcpy(line, buf, used - 1);
			line[used - 1] = '\0';
			memmove(buf, buf + used, len - used);
			len -= used;
			return line;
		}
		supervise_poll_once(&sup, 10);
		n = recv(fd, buf + len, sizeof(buf) - len, MSG_DONTWAIT);
		if (n == 0)
			return strcpy(line, "EOF");
		if (n > 0)
			len += (size_t)n;
	}
	fail_msg("no answer after 200 turns of the loop (got %zu bytes)", len);
	return NULL;
}

/* One request on a connection of its own: the reply, parsed. */
static json_t *ask(const char *line)
{
	int fd = client();
	json_t *r;

	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	assert_int_equal(write(fd, "\n", 1), 1);
	r = json_loads(read_line(fd), 0, NULL);
	close(fd);
	if (!r)
		fail_msg("%s: the answer is not JSON", line);
	return r;
}

/* The error text of LINE's answer, which must be an error. */
static void expect_error(const char *line, const char *needle)
{
	json_t *r = ask(line);
	const char *e = json_string_value(json_object_get(r, "error"));

	if (!e || !strstr(e, needle))
		fail_msg("%s: expected an error saying '%s', got %s", line, needle,
			 e ? e : "no error");
	json_decref(r);
}

static void test_services(void **state)
{
	json_t *r, *list;
	size_t i;
	json_t *s;
	int seen = 0;

	(void)state;
	need_root();
	r = ask("{\"op\":\"services\"}");
	list = json_object_get(r, "services");
	assert_int_equal(json_array_size(list), 2);
	json_array_foreach(list, i, s)
	{
		const char *name = json_string_value(json_object_get(s, "name"));

		assert_non_null(name);
		assert_string_equal(json_string_value(json_object_get(s, "state")), "running");
		assert_true(json_is_integer(json_object_get(s, "pid")));
		seen |= strcmp(name, "web") == 0 ? 1 : strcmp(name, "db") == 0 ? 2 : 0;
	}
	assert_int_equal(seen, 3);
	json_decref(r);
}

/* The boot's timeline: the services the loop started are there, each
 * started, ready (their readiness is none) and running, on the boot clock */
static void test_boot(void **state)
{
	json_t *r, *list, *e;
	size_t i;
	int seen = 0;
	json_int_t now;

	(void)state;
	need_root();
	r = ask("{\"op\":\"boot\"}");
	list = json_object_get(r, "boot");
	now = json_integer_value(json_object_get(r, "now_ns"));
	assert_true(json_is_array(list));
	assert_true(now > 0);
	assert_int_equal(json_integer_value(json_object_get(r, "dropped")), 0);
	json_array_foreach(list, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		json_int_t start = json_integer_value(json_object_get(e, "start_ns"));

		assert_non_null(name);
		if (strcmp(name, "web") != 0 && strcmp(name, "db") != 0)
			continue;
		assert_string_equal(json_string_value(json_object_get(e, "kind")), "service");
		assert_true(start > 0 && start <= now);
		assert_true(json_integer_value(json_object_get(e, "ready_ns")) >= start);
		assert_true(json_is_null(json_object_get(e, "end_ns")));
		assert_true(json_integer_value(json_object_get(e, "runs")) >= 1);
		seen |= strcmp(name, "web") == 0 ? 1 : 2;
	}
	assert_int_equal(seen, 3);
	json_decref(r);
}

static void test_restart(void **state)
{
	json_t *r;
	size_t calls_before = n_calls;

	(void)state;
	need_root();
	r = ask("{\"op\":\"restart\",\"name\":\"web\"}");
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	/* asked of the service: it was told to stop (a kill recorded) */
	assert_true(n_calls > calls_before);
	expect_error("{\"op\":\"restart\",\"name\":\"nope\"}", "no service named \"nope\"");
	expect_error("{\"op\":\"restart\",\"name\":5}", "\"name\" must be a service name");
	expect_error("{\"op\":\"restart\"}", "\"name\" must be a service name");
}

/* A name quoted in an error is cut to fit between two characters, never
 * inside one: the answer stays JSON (it once was no answer at all). */
static void test_error_text_cut_on_a_character(void **state)
{
	char line[512] = "{\"op\":\"restart\",\"name\":\"a";
	json_t *r;
	const char *e;

	(void)state;
	need_root();
	for (int i = 0; i < 40; i++)
		strcat(line, "\xc3\xa9");
	strcat(line, "\"}");
	r = ask(line);
	e = json_string_value(json_object_get(r, "error"));
	assert_non_null(e);
	assert_non_null(strstr(e, "no service named \"a\xc3\xa9"));
	json_decref(r);
}

static void test_logs_and_events_ranges(void **state)
{
	json_t *r;

	(void)state;
	need_root();
	r = ask("{\"op\":\"logs\",\"name\":\"web\",\"lines\":5}");
	assert_true(json_is_array(json_object_get(r, "lines")));
	assert_true(json_is_integer(json_object_get(r, "dropped")));
	json_decref(r);
	expect_error("{\"op\":\"logs\",\"name\":\"web\",\"lines\":0}", "from 1 to 10000");
	expect_error("{\"op\":\"logs\",\"name\":\"web\",\"lines\":10001}", "from 1 to 10000");
	/* past what microseconds hold: refused before it is converted */
	expect_error("{\"op\":\"logs\",\"name\":\"web\",\"since\":9.3e12}",
		     "from 0 to 253402300799");
	expect_error("{\"op\":\"logs\",\"name\":\"web\",\"since\":-1}", "from 0 to 253402300799");
	r = ask("{\"op\":\"logs\",\"name\":\"web\",\"since\":253402300799}");
	assert_int_equal(json_array_size(json_object_get(r, "lines")), 0);
	json_decref(r);
	r = ask("{\"op\":\"events\",\"after\":0}");
	assert_true(json_is_array(json_object_get(r, "events")));
	assert_true(json_is_integer(json_object_get(r, "next")));
	json_decref(r);
	expect_error("{\"op\":\"events\",\"after\":-1}", "must be a sequence number");
}

static void test_bad_requests(void **state)
{
	char big[CONTROL_LINE_MAX + 16];
	int fd;

	(void)state;
	need_root();
	expect_error("hello", "not JSON");
	expect_error("[1]", "a request is a JSON object");
	expect_error("{}", "\"op\" is missing");
	expect_error("{\"op\":null}", "\"op\" is missing");
	expect_error("{\"op\":\"dance\"}", "unknown op \"dance\"");
	expect_error("{\"op\":\"shutdown\",\"kind\":\"sideways\"}",
		     "must be poweroff, reboot or halt");
	assert_int_equal(sup.requested, SHUTDOWN_NONE);
	/* a line over the limit: said, then the connection closes */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fd = client();
	assert_int_equal(write(fd, big, strlen(big)), (ssize_t)strlen(big));
	assert_non_null(strstr(read_line(fd), "at most 4096 bytes"));
	assert_string_equal(read_line(fd), "EOF");
	close(fd);
}

/* Two requests on one connection, in one write: two answers, in order. */
static void test_pipelined(void **state)
{
	static const char two[] = "{\"op\":\"events\"}\n{\"op\":\"dance\"}\n";
	int fd;

	(void)state;
	need_root();
	fd = client();
	assert_int_equal(write(fd, two, strlen(two)), (ssize_t)strlen(two));
	assert_non_null(strstr(read_line(fd), "\"events\""));
	assert_non_null(strstr(read_line(fd), "unknown op"));
	close(fd);
}

/* CONTROL_CONNS_MAX held open: the next is told so; once the holders have
 * hung up, a newcomer is served though the loop has not read their ends. */
static void test_connection_limit(void **state)
{
	int held[CONTROL_CONNS_MAX], fd;
	json_t *r;

	(void)state;
	need_root();
	for (int i = 0; i < CONTROL_CONNS_MAX; i++) {
		held[i] = client();
		supervise_poll_once(&sup, 10); /* accepted */
	}
	fd = client();
	assert_non_null(strstr(read_line(fd), "too many connections"));
	close(fd);
	for (int i = 0; i < CONTROL_CONNS_MAX; i++)
		close(held[i]);
	/* no turn of the loop between: the places are still taken */
	r = ask("{\"op\":\"events\"}");
	assert_true(json_is_array(json_object_get(r, "events")));
	json_decref(r);
}

/* A shutdown is only recorded for the loop to act on. */
static void test_shutdown_recorded(void **state)
{
	json_t *r;

	(void)state;
	need_root();
	r = ask("{\"op\":\"shutdown\",\"kind\":\"reboot\"}");
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	assert_int_equal(sup.requested, SHUTDOWN_REBOOT);
	sup.requested = SHUTDOWN_NONE;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_boot),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_error_text_cut_on_a_character),
		cmocka_unit_test(test_logs_and_events_ranges),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_connection_limit),
		cmocka_unit_test(test_shutdown_recorded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
