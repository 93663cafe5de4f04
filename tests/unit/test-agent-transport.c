/* agent/transport.c: the real transport on a unix socket in a temporary
 * directory, run by the agent's loop (agent/loop.c) as agent/main.c runs
 * it, with the dispatcher behind it. Clients are non-blocking sockets in
 * the same thread: the test turns the loop while it waits for them. vsock
 * and the virtio-serial ports are the sandbox and vm tiers'. */
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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cmd-events.h"
#include "dispatch.h"
#include "log.h"
#include "loop.h"
#include "options.h"
#include "transport.h"
#include "util.h"

#define MS ((uint64_t)NSEC_PER_MSEC)

static struct agent agent;
static char dir[64];

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	/* a client gone mid-reply must not end the test (main.c does this) */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* The agent as main.c starts it, on DIR/agent.sock only, with at most
 * MAX_CLIENTS connections and IDLE_S seconds of silence allowed. */
static void start_with(unsigned max_clients, unsigned idle_s, const char *unix_uids)
{
	memset(&agent, 0, sizeof(agent));
	options_defaults(&agent.cfg);
	if (unix_uids)
		assert_int_equal(options_set(&agent.cfg, "unix_uids", unix_uids, "test"), 0);
	snprintf(dir, sizeof(dir), "/tmp/test-agent-transport.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(agent.cfg.unix_path, sizeof(agent.cfg.unix_path), "%s/agent.sock", dir);
	agent.cfg.vsock_port = 0;
	agent.cfg.serial = false;
	agent.cfg.max_clients = max_clients;
	agent.cfg.idle_timeout_s = idle_s;
	agent.start_mono_ns = now_mono_ns();
	assert_int_equal(loop_new(&agent.loop), 0);
	assert_true(dispatch_init(&agent) >= 0);
	assert_int_equal(transport_start(&agent), 0);
	events_start(&agent);
	assert_int_equal(transport_clients(), 0);
}

static void start(unsigned max_clients, unsigned idle_s)
{
	start_with(max_clients, idle_s, NULL);
}

static int stop(void **state)
{
	(void)state;
	events_stop(&agent);
	transport_stop(&agent);
	assert_int_equal(transport_clients(), 0);
	loop_free(agent.loop);
	/* transport_stop took the socket away */
	assert_int_equal(rmdir(dir), 0);
	return 0;
}

static void quit(struct loop *l, void *data)
{
	(void)data;
	loop_quit(l);
}

/* One short turn of the agent's loop: what is ready now is handled. */
static void turn(void)
{
	loop_timer(agent.loop, 1, quit, NULL);
	loop_run(agent.loop);
}

/* Turns the loop for MS milliseconds; returns the CPU time it took, which
 * is next to nothing unless something spins. */
static uint64_t run_for(unsigned ms)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	loop_timer(agent.loop, ms, quit, NULL);
	loop_run(agent.loop);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	return (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ull + (uint64_t)t1.tv_nsec -
	       (uint64_t)t0.tv_nsec;
}

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", agent.cfg.unix_path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Writes all of DATA, turning the loop while the agent has not read it. */
static void send_all(int fd, const char *data, size_t len)
{
	uint64_t deadline = now_mono_ns() + 5000 * MS;

	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			assert_true(now_mono_ns() < deadline);
			turn();
			continue;
		}
		data += n;
		len -= (size_t)n;
	}
}

/* What a client read: bytes, and whether the agent closed. */
struct got {
	char *data;
	size_t len;
	bool eof;
};

static size_t lines(const struct got *g)
{
	size_t n = 0;

	for (size_t i = 0; i < g->len; i++)
		n += g->data[i] == '\n';
	return n;
}

/* Reads what FD has now into G; false when there was nothing. */
static bool read_now(int fd, struct got *g)
{
	char buf[65536];
	bool any = false;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0) {
			assert_true(errno == EAGAIN || errno == ECONNRESET);
			return any;
		}
		if (n == 0) {
			g->eof = true;
			return true;
		}
		g->data = realloc(g->data, g->len + (size_t)n + 1);
		assert_non_null(g->data);
		memcpy(g->data + g->len, buf, (size_t)n);
		g->len += (size_t)n;
		g->data[g->len] = '\0';
		any = true;
	}
}

/* Turns the loop and reads FD until N lines came or the agent closed, for
 * MAX_MS at most. */
static void read_lines(int fd, struct got *g, size_t n, unsigned max_ms)
{
	uint64_t deadline = now_mono_ns() + max_ms * MS;

	while (lines(g) < n && !g->eof && now_mono_ns() < deadline) {
		turn();
		read_now(fd, g);
	}
}

/* Sends REQUEST on FD and returns its one-line reply (free it). */
static char *call(int fd, const char *request)
{
	struct got g = { 0 };

	send_all(fd, request, strlen(request));
	read_lines(fd, &g, 1, 2000);
	assert_int_equal(lines(&g), 1);
	return g.data;
}

static void expect_ping(int fd)
{
	char *r = call(fd, "{\"execute\":\"guest-ping\"}");

	assert_string_equal(r, "{\"return\": {}}\n");
	free(r);
}

/* 200 requests in one write: 200 replies, in order. */
static void test_pipelined_requests_all_answered(void **state)
{
	char req[200 * 64], want[200 * 32];
	size_t rlen = 0, wlen = 0;
	struct got g = { 0 };
	int fd;

	(void)state;
	start(8, 300);
	fd = client();
	for (int i = 0; i < 200; i++) {
		rlen += (size_t)snprintf(req + rlen, sizeof(req) - rlen,
					 "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":%d}}",
					 i);
		wlen += (size_t)snprintf(want + wlen, sizeof(want) - wlen, "{\"return\": %d}\n", i);
	}
	assert_int_equal(write(fd, req, rlen), (ssize_t)rlen);
	read_lines(fd, &g, 200, 5000);
	assert_int_equal(lines(&g), 200);
	assert_string_equal(g.data, want);
	assert_false(g.eof);
	free(g.data);
	close(fd);
}

/* A client that sends and never reads: once its replies back up, the agent
 * stops reading its requests, answers the others meanwhile, and owes it
 * every reply once it reads again. */
static void test_client_not_reading_is_paused(void **state)
{
	static const char req[] = "{\"execute\":\"guest-info\"}";
	enum { N = 1000 };
	char *all = malloc(N * sizeof(req));
	struct got g = { 0 };
	size_t one, len = 0, sent = 0;
	int slow, other, queued;
	char *r;

	(void)state;
	start(8, 300);
	/* a quarter of what SLOW is owed: a reply past it would be dropped,
	 * so that all of them coming back says the agent paused, not dropped */
	agent.cfg.max_output = 256 * 1024;
	slow = client();
	other = client();
	/* how big a reply is: all of them are many times what the agent and
	 * the kernel hold for one client */
	r = call(slow, req);
	one = strlen(r);
	free(r);
	assert_true(one * N > 2 * 1024 * 1024);
	for (int i = 0; i < N; i++) {
		memcpy(all + len, req, sizeof(req) - 1);
		len += sizeof(req) - 1;
	}
	/* as much as goes in without reading; the agent turns meanwhile */
	for (int idle = 0; idle < 50 && sent < len;) {
		ssize_t n = write(slow, all + sent, len - sent);

		if (n > 0)
			sent += (size_t)n;
		else
			idle++;
		turn();
	}
	/* paused: the agent neither answers more nor spins on the requests
	 * it has not read (epoll says readable until it reads them) */
	assert_true(run_for(300) < 100 * MS);
	/* not all of it answered: what waits for SLOW is bounded */
	assert_int_equal(ioctl(slow, FIONREAD, &queued), 0);
	assert_true((size_t)queued < one * N / 2);
	/* the others are served meanwhile */
	expect_ping(other);
	expect_ping(other);

	/* SLOW reads: every reply comes, none lost */
	send_all(slow, all + sent, len - sent);
	read_lines(slow, &g, N, 20000);
	assert_int_equal(lines(&g), N);
	assert_int_equal(g.len, one * N);
	assert_false(g.eof);
	free(g.data);
	free(all);
	close(slow);
	close(other);
}

/* Over agent.max_clients a newcomer reads why, then the end; it is counted
 * and the clients already there go on. */
static void test_client_limit_refuses_with_an_error(void **state)
{
	uint64_t refused = transport_refused();
	struct got g = { 0 };
	int fds[3], extra;

	(void)state;
	start(3, 300);
	for (int i = 0; i < 3; i++) {
		fds[i] = client();
		expect_ping(fds[i]);
	}
	assert_int_equal(transport_clients(), 3);
	extra = client();
	read_lines(extra, &g, 1, 2000);
	read_lines(extra, &g, 2, 500); /* and then the end */
	assert_true(g.eof);
	assert_string_equal(
		g.data, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"too many clients: "
			"3 connections are open (agent.max_clients), try again later\"}}\n");
	assert_int_equal(transport_refused(), refused + 1);
	assert_int_equal(transport_clients(), 3);
	for (int i = 0; i < 3; i++) {
		expect_ping(fds[i]);
		close(fds[i]);
	}
	free(g.data);
	close(extra);
}

/* Clients that hung up but whose end the loop has not read yet do not hold
 * places: newcomers waiting to be accepted behind them get in. */
static void test_hung_up_peers_let_go_before_refusing(void **state)
{
	uint64_t refused = transport_refused();
	int fds[3], late[2];

	(void)state;
	start(3, 300);
	for (int i = 0; i < 3; i++) {
		fds[i] = client();
		expect_ping(fds[i]);
	}
	/* the newcomers first, then the hang-ups: the listener is ready before
	 * the connections that ended, so the accept finds them still there */
	late[0] = client();
	late[1] = client();
	close(fds[0]);
	close(fds[1]);
	expect_ping(late[0]);
	expect_ping(late[1]);
	expect_ping(fds[2]);
	assert_int_equal(transport_refused(), refused);
	assert_int_equal(transport_clients(), 3);
	close(fds[2]);
	close(late[0]);
	close(late[1]);
}

/* agent.idle_timeout_s: a silent client is closed at the next sweep (every
 * 5 s); one that keeps talking is not. */
static void test_idle_clients_closed(void **state)
{
	struct got g = { 0 };
	int silent, talking;
	uint64_t deadline;

	(void)state;
	start(8, 1);
	silent = client();
	talking = client();
	expect_ping(silent);
	deadline = now_mono_ns() + 8000 * MS;
	while (!g.eof && now_mono_ns() < deadline) {
		expect_ping(talking);
		for (int i = 0; i < 100; i++)
			turn();
		read_now(silent, &g);
	}
	assert_true(g.eof);
	assert_int_equal(g.len, 0);
	assert_int_equal(transport_clients(), 1);
	expect_ping(talking);
	close(silent);
	close(talking);
}

/* A late reply (a porthole-events long poll) goes to the connection that
 * asked, with its id, and ahead of what that connection sent after it;
 * the others are answered while it waits, and the wait costs no CPU. */
static void test_late_reply_to_its_connection(void **state)
{
	static const char
		poll_a[] = "{\"execute\":\"porthole-events\",\"arguments\":{\"since\":1000000,"
			   "\"timeout_ms\":400},\"id\":\"a\"}",
		poll_b[] = "{\"execute\":\"porthole-events\",\"arguments\":{\"since\":1000000,"
			   "\"timeout_ms\":100},\"id\":\"b\"}",
		sync_a[] = "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":7}}";
	struct got ga = { 0 }, gb = { 0 };
	uint64_t cpu;
	int a, b, c;

	(void)state;
	start(8, 300);
	a = client();
	b = client();
	c = client();
	send_all(a, poll_a, strlen(poll_a));
	send_all(b, poll_b, strlen(poll_b));
	/* nothing for A or B yet; C is served */
	expect_ping(c);
	read_now(a, &ga);
	read_now(b, &gb);
	assert_int_equal(ga.len + gb.len, 0);
	/* A sends on while it waits: that waits too */
	send_all(a, sync_a, strlen(sync_a));
	cpu = run_for(50);

	/* B's time-out comes first: its reply, with its id, to B only */
	read_lines(b, &gb, 1, 2000);
	assert_int_equal(lines(&gb), 1);
	assert_non_null(strstr(gb.data, "\"id\": \"b\""));
	assert_non_null(strstr(gb.data, "\"events\": []"));
	read_now(a, &ga);
	assert_int_equal(ga.len, 0);

	/* then A's, and then the request A sent behind it */
	cpu += run_for(300);
	read_lines(a, &ga, 2, 2000);
	assert_int_equal(lines(&ga), 2);
	assert_non_null(strstr(ga.data, "\"id\": \"a\""));
	assert_non_null(strstr(ga.data, "}\n{\"return\": 7}\n"));
	assert_int_equal(lines(&gb), 1);
	assert_true(cpu < 100 * MS);
	free(ga.data);
	free(gb.data);
	close(a);
	close(b);
	close(c);
}

/* A child that becomes UID connects, pings and says what it got: 0 for
 * the reply, 1 for a close without a byte, 2 for anything else. The
 * parent turns the agent's loop meanwhile. */
static int ping_as(uid_t uid)
{
	pid_t pid;
	int status = 0;
	uint64_t deadline = now_mono_ns() + 5000 * MS;

	/* the child must reach the socket through the test's directory */
	assert_int_equal(chmod(dir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static const char ping[] = "{\"execute\":\"guest-ping\"}";
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char buf[256];
		ssize_t n = 0, got = 0;
		int fd;

		if (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
			_exit(2);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", agent.cfg.unix_path);
		alarm(4);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(2);
		/* refused: the write may already meet the close */
		(void)!send(fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL);
		while ((n = read(fd, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0) {
			got += n;
			if (memchr(buf, '\n', (size_t)got))
				break;
		}
		buf[got] = '\0';
		if (got == 0 && n <= 0)
			_exit(1);
		_exit(strcmp(buf, "{\"return\": {}}\n") == 0 ? 0 : 2);
	}
	while (waitpid(pid, &status, WNOHANG) == 0 && now_mono_ns() < deadline)
		turn();
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* The socket's mode is the first fence, the peer's uid the second: with
 * the mode opened (agent.unix_uids does that), a uid not listed is closed
 * at accept, before a byte is read, and counted; a listed one is served. */
static void test_unix_peers_by_uid(void **state)
{
	uint64_t refused = transport_refused_peers();

	(void)state;
	if (geteuid() != 0)
		skip(); /* becoming another uid needs root */
	start_with(4, 300, "65533");
	assert_int_equal(agent.cfg.unix_mode, 0666);
	assert_int_equal(ping_as(65533), 0);
	assert_int_equal(transport_refused_peers(), refused);
	assert_int_equal(ping_as(65534), 1);
	assert_int_equal(transport_refused_peers(), refused + 1);
	assert_int_equal(transport_clients(), 0);
	/* root still is */
	{
		int fd = client();

		expect_ping(fd);
		close(fd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pipelined_requests_all_answered, stop),
		cmocka_unit_test_teardown(test_client_not_reading_is_paused, stop),
		cmocka_unit_test_teardown(test_client_limit_refuses_with_an_error, stop),
		cmocka_unit_test_teardown(test_hung_up_peers_let_go_before_refusing, stop),
		cmocka_unit_test_teardown(test_idle_clients_closed, stop),
		cmocka_unit_test_teardown(test_late_reply_to_its_connection, stop),
		cmocka_unit_test_teardown(test_unix_peers_by_uid, stop),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
