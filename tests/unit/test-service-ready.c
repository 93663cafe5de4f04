/* init/service-ready.c: when a starting service counts as ready. The probes
 * run against real sockets in /tmp (socket:, http: with the status line
 * read through the supervisor's loop: 200 is ready, 503 is not, a probe
 * that gets no answer is given up at the next) and a real notification
 * pipe (a line is ready; closing it without one is not). The service's
 * process is service-test.h's fake (no fork); the loop is real. */
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
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "service-conf.h"
#include "service-ready.h"
#include "service.h"
#include "service-test.h"
#include "supervise.h"
#include "svclog.h"
#include "util.h"

static struct services ss;
static struct supervisor sup;
static char dir[64], sock_path[96];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-service-ready.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/ready.sock", dir);
	test_loop_init(&sup, false); /* nothing here forks */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(sock_path);
	rmdir(dir);
	return 0;
}

/* One service NAME with READY (the value of the ready key), started. */
static struct service *start(const char *ready)
{
	struct service_spec spec;
	char text[512], err[SERVICE_ERROR_MAX];

	for (size_t i = 0; i < ss.n; i++) {
		service_ready_end(&ss, &ss.svc[i]);
		service_spec_free(&ss.svc[i].spec);
		svclog_free(ss.svc[i].log);
	}
	snprintf(text, sizeof(text), "[service]\ncommand = /bin/x\nready = %s\n", ready);
	if (service_conf_parse(text, "t.conf", "x", &spec, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	fake_reset();
	services_init(&ss, &sup, &fake_ops, &spec, 1, NULL);
	services_begin(&ss);
	assert_int_equal(ss.svc[0].state, SVC_STARTING);
	return &ss.svc[0];
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* The next probe is due: run it. */
static void probe_now(struct service *sv)
{
	now_ns = sv->next_check_ns;
	services_tick(&ss);
}

/* Turns of the loop until SV is no longer STARTING or the probe is done. */
static void loop_a_little(void)
{
	for (int i = 0; i < 10; i++)
		supervise_poll_once(&sup, 20);
}

static void test_socket(void **state)
{
	char ready[160];
	struct service *sv;
	int lfd;

	(void)state;
	snprintf(ready, sizeof(ready), "socket:%s", sock_path);
	unlink(sock_path);
	sv = start(ready);
	probe_now(sv);
	assert_int_equal(sv->state, SVC_STARTING);
	/* a socket that accepts connections: ready at the next probe */
	lfd = listen_on(sock_path);
	probe_now(sv);
	assert_int_equal(sv->state, SVC_RUNNING);
	close(lfd);
}

/* Accepts the probe's connection on LFD, checks its request, answers ANSWER. */
static void answer(int lfd, const char *answer)
{
	char req[256];
	ssize_t n;
	int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	assert_true(cfd >= 0);
	n = read(cfd, req, sizeof(req) - 1);
	assert_true(n > 0);
	req[n] = '\0';
	assert_string_equal(req, "GET /_ping HTTP/1.0\r\nHost: localhost\r\n\r\n");
	if (answer)
		assert_int_equal(write(cfd, answer, strlen(answer)), (ssize_t)strlen(answer));
	close(cfd);
}

static void test_http(void **state)
{
	char ready[160];
	struct service *sv;
	int lfd;

	(void)state;
	snprintf(ready, sizeof(ready), "http:%s:/_ping", sock_path);
	lfd = listen_on(sock_path);
	sv = start(ready);
	/* 503: not ready, the probe's socket is let go */
	probe_now(sv);
	answer(lfd, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
	loop_a_little();
	assert_int_equal(sv->state, SVC_STARTING);
	assert_int_equal(sv->probe_fd, -1);
	/* a reply that is not HTTP: not ready either */
	probe_now(sv);
	answer(lfd, "SSH-2.0-OpenSSH\r\n");
	loop_a_little();
	assert_int_equal(sv->state, SVC_STARTING);
	/* 200: ready, from the loop */
	probe_now(sv);
	answer(lfd, "HTTP/1.0 200 OK\r\n\r\nOK");
	loop_a_little();
	assert_int_equal(sv->state, SVC_RUNNING);
	assert_int_equal(sv->probe_fd, -1);
	close(lfd);
}

static void test_http_no_answer(void **state)
{
	char ready[160];
	struct service *sv;
	int lfd, first;

	(void)state;
	snprintf(ready, sizeof(ready), "http:%s:/_ping", sock_path);
	lfd = listen_on(sock_path);
	sv = start(ready);
	probe_now(sv);
	first = sv->probe_fd;
	assert_true(first >= 0);
	/* the next probe waits for the answer as long as one HTTP probe may take */
	assert_int_equal(sv->next_check_ns - now_ns, SERVICE_PROBE_HTTP_MS * NSEC_PER_MSEC);
	loop_a_little();
	assert_int_equal(sv->state, SVC_STARTING);
	/* no answer by then: given up, a new one sent */
	probe_now(sv);
	assert_true(sv->probe_fd >= 0);
	answer(lfd, NULL); /* the first connection, never answered */
	answer(lfd, "HTTP/1.1 200 OK\r\n\r\n");
	loop_a_little();
	assert_int_equal(sv->state, SVC_RUNNING);
	close(lfd);
}

static void test_notify(void **state)
{
	struct service *sv;
	int p[2];

	(void)state;
	sv = start("notify");
	/* no probes: only the line on the notification fd tells */
	assert_int_equal(sv->next_check_ns, 0);
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	service_ready_watch_notify(&ss, sv, p[0]);
	assert_int_equal(write(p[1], "almost", 6), 6);
	loop_a_little();
	assert_int_equal(sv->state, SVC_STARTING);
	assert_int_equal(write(p[1], "\n", 1), 1);
	loop_a_little();
	assert_int_equal(sv->state, SVC_RUNNING);
	assert_int_equal(sv->notify_fd, -1);
	close(p[1]);
}

static void test_notify_closed(void **state)
{
	struct service *sv;
	int p[2];

	(void)state;
	sv = start("notify:5");
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	service_ready_watch_notify(&ss, sv, p[0]);
	/* closed without a line: not ready, and the fd let go */
	close(p[1]);
	loop_a_little();
	assert_int_equal(sv->state, SVC_STARTING);
	assert_int_equal(sv->notify_fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket),	       cmocka_unit_test(test_http),
		cmocka_unit_test(test_http_no_answer), cmocka_unit_test(test_notify),
		cmocka_unit_test(test_notify_closed),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, setup, teardown);
}
