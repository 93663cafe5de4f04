/* agent/initctl.c, agent/kmsg.c, agent/cmd-services.c, and what
 * agent/cmd-health.c and agent/cmd-clock.c take from init: the kernel log's
 * record parser and its bounded ring, the checks on init's replies, the
 * health rule, and the client's framing, bounds and time-outs.
 *
 * The control socket's peer here is a small server in a thread of this test,
 * there only to exercise the client's side of the exchange (a reply too long,
 * a server that never answers, nobody listening). The real porthole-init is
 * exercised by tests/sandbox/services-agent.sh and the vm tier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "cmd-health.h"
#include "cmd-services.h"
#include "command.h"
#include "initctl.h"
#include "kmsg.h"
#include "log.h"
#include "options.h"
#include "util.h"

static struct agent agent;
static struct cmd_error err;

/* ---- a stand-in for init's side of the socket ---- */

enum fake_mode {
	FAKE_REPLY, /* the reply, then a newline */
	FAKE_SILENT, /* reads the request, never answers */
	FAKE_LONG, /* 1.25 MiB without a newline */
	FAKE_CLOSE, /* closes without answering */
};

static struct fake {
	char dir[64];
	char path[108];
	int lfd;
	pthread_t thread;
	enum fake_mode mode;
	const char *reply;
	char request[8192];
	size_t request_len;
	unsigned connections;
} fake = { .lfd = -1 };

static void *fake_run(void *data)
{
	(void)data;
	for (;;) {
		int fd = accept4(fake.lfd, NULL, NULL, SOCK_CLOEXEC);
		char buf[8192];
		size_t len = 0;

		if (fd < 0)
			return NULL;
		fake.connections++;
		/* the request line, bounded */
		while (len < sizeof(buf)) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - len);

			if (n <= 0)
				break;
			len += (size_t)n;
			if (memchr(buf, '\n', len))
				break;
		}
		memcpy(fake.request, buf, len);
		fake.request_len = len;
		switch (fake.mode) {
		case FAKE_REPLY:
			send(fd, fake.reply, strlen(fake.reply), MSG_NOSIGNAL);
			send(fd, "\n", 1, MSG_NOSIGNAL);
			break;
		case FAKE_SILENT:
			/* until the client gives up and closes */
			while (read(fd, buf, sizeof(buf)) > 0)
				;
			break;
		case FAKE_LONG: {
			static char chunk[64 << 10];

			memset(chunk, 'x', sizeof(chunk));
			for (int i = 0; i < 20; i++)
				if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) < 0)
					break;
			break;
		}
		case FAKE_CLOSE:
			break;
		}
		close(fd);
	}
}

static void fake_start(enum fake_mode mode, const char *reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	fake.mode = mode;
	fake.reply = reply;
	fake.request_len = 0;
	fake.connections = 0;
	snprintf(fake.dir, sizeof(fake.dir), "/tmp/test-agent-services.XXXXXX");
	assert_non_null(mkdtemp(fake.dir));
	snprintf(fake.path, sizeof(fake.path), "%s/init.sock", fake.dir);
	/* the commands' tests ask it */
	snprintf(agent.cfg.init_socket, sizeof(agent.cfg.init_socket), "%s", fake.path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fake.path);
	fake.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fake.lfd >= 0);
	assert_int_equal(bind(fake.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fake.lfd, 8), 0);
	assert_int_equal(pthread_create(&fake.thread, NULL, fake_run, NULL), 0);
}

static void fake_stop(void)
{
	/* shutdown(2) on a listening socket wakes accept with EINVAL */
	shutdown(fake.lfd, SHUT_RDWR);
	pthread_join(fake.thread, NULL);
	close(fake.lfd);
	fake.lfd = -1;
	unlink(fake.path);
	rmdir(fake.dir);
}

static json_t *request_sent(void)
{
	json_t *j;

	/* exactly one line: the JSON, then its newline */
	assert_true(fake.request_len > 0);
	assert_int_equal(fake.request[fake.request_len - 1], '\n');
	assert_null(memchr(fake.request, '\n', fake.request_len - 1));
	j = json_loadb(fake.request, fake.request_len - 1, 0, NULL);
	assert_non_null(j);
	return j;
}

static char why[INITCTL_WHY_MAX];

static int call_fake(int timeout_ms, json_t **reply)
{
	json_t *req = json_pack("{s:s}", "op", "services");
	int r;

	*reply = NULL;
	why[0] = '\0';
	r = initctl_call(fake.path, req, timeout_ms, reply, why, sizeof(why));
	json_decref(req);
	return r;
}

static void test_initctl_exchange(void **state)
{
	json_t *reply, *sent;

	(void)state;
	fake_start(FAKE_REPLY, "{\"services\": []}");
	assert_int_equal(call_fake(2000, &reply), 0);
	assert_true(json_is_array(json_object_get(reply, "services")));
	json_decref(reply);
	sent = request_sent();
	assert_string_equal(json_string_value(json_object_get(sent, "op")), "services");
	json_decref(sent);
	fake_stop();

	/* init's error: its text, as it is */
	fake_start(FAKE_REPLY, "{\"error\": \"no service named \\\"x\\\"\"}");
	assert_int_equal(call_fake(2000, &reply), -EREMOTEIO);
	assert_null(reply);
	assert_string_equal(why, "no service named \"x\"");
	fake_stop();

	fake_start(FAKE_REPLY, "[1, 2");
	assert_int_equal(call_fake(2000, &reply), -EPROTO);
	assert_non_null(strstr(why, "the reply is not JSON"));
	fake_stop();

	fake_start(FAKE_REPLY, "{\"error\": 5}");
	assert_int_equal(call_fake(2000, &reply), -EPROTO);
	fake_stop();
}

static void test_initctl_bounds(void **state)
{
	char path_why[INITCTL_WHY_MAX];
	json_t *reply, *big;
	uint64_t t0, ms;
	char *s;

	(void)state;
	/* a reply past 1 MiB and its slack: refused, not buffered for ever */
	fake_start(FAKE_LONG, NULL);
	assert_int_equal(call_fake(5000, &reply), -EMSGSIZE);
	assert_non_null(strstr(why, "longer than"));
	fake_stop();

	/* a server that never answers: an error within the bound */
	fake_start(FAKE_SILENT, NULL);
	t0 = now_mono_ns();
	assert_int_equal(call_fake(300, &reply), -ETIMEDOUT);
	ms = (now_mono_ns() - t0) / 1000000;
	assert_true(ms >= 290 && ms < 1500);
	assert_non_null(strstr(why, "no answer within 300 ms"));
	fake_stop();

	fake_start(FAKE_CLOSE, NULL);
	assert_int_equal(call_fake(2000, &reply), -EPIPE);
	assert_non_null(strstr(why, "without answering"));
	fake_stop();

	/* a request over init's line limit is not sent */
	fake_start(FAKE_REPLY, "{}");
	s = calloc(1, INITCTL_REQUEST_MAX);
	assert_non_null(s);
	memset(s, 'a', INITCTL_REQUEST_MAX - 1);
	big = json_pack("{s:s,s:s}", "op", "logs", "name", s);
	assert_int_equal(initctl_call(fake.path, big, 2000, &reply, why, sizeof(why)), -E2BIG);
	json_decref(big);
	free(s);
	assert_int_equal(fake.connections, 0);
	fake_stop();

	/* nobody listening: the socket file is there, its listener gone */
	fake_start(FAKE_REPLY, "{}");
	shutdown(fake.lfd, SHUT_RDWR);
	pthread_join(fake.thread, NULL);
	close(fake.lfd);
	big = json_pack("{s:s}", "op", "services");
	assert_int_equal(initctl_call(fake.path, big, 2000, &reply, path_why, sizeof(path_why)),
			 -ECONNREFUSED);
	snprintf(why, sizeof(why), "porthole-init's control socket %s: Connection refused",
		 fake.path);
	assert_string_equal(path_why, why);
	unlink(fake.path);
	assert_int_equal(initctl_call(fake.path, big, 2000, &reply, path_why, sizeof(path_why)),
			 -ENOENT);
	assert_non_null(strstr(path_why, "No such file or directory"));
	assert_int_equal(initctl_call("", big, 2000, &reply, path_why, sizeof(path_why)), -ENOENT);
	assert_non_null(strstr(path_why, "not configured"));
	json_decref(big);
	rmdir(fake.dir);
	fake.lfd = -1;
}

/* ---- the kernel log ---- */

static void test_kmsg_parse(void **state)
{
	static const char rec[] = "6,339,5140900,-;NET: Registered protocol family 10\n"
				  " SUBSYSTEM=net\n DEVICE=+net:lo\n";
	struct kmsg_record r;

	(void)state;
	assert_int_equal(kmsg_parse(rec, sizeof(rec) - 1, &r), 0);
	assert_int_equal(r.level, 6);
	assert_int_equal(r.facility, 0);
	assert_int_equal(r.seq, 339);
	assert_int_equal(r.usec, 5140900);
	assert_false(r.continuation);
	assert_int_equal(r.text_len, strlen("NET: Registered protocol family 10"));
	assert_memory_equal(r.text, "NET: Registered protocol family 10", r.text_len);

	/* a user-space writer's facility, the continuation flag, and fields
	 * newer kernels add after the flags */
	assert_int_equal(kmsg_parse("30,7,99,c,caller=T1;porthole-init: up", 37, &r), 0);
	assert_int_equal(r.level, 6);
	assert_int_equal(r.facility, 3);
	assert_true(r.continuation);
	assert_int_equal(r.text_len, strlen("porthole-init: up"));
	/* an empty message */
	assert_int_equal(kmsg_parse("4,1,2,-;\n", 9, &r), 0);
	assert_int_equal(r.text_len, 0);

	for (const char *const *bad =
		     (const char *const[]){ "6,339,5140900,-", "6,339;text", ";text", "x,1,2,-;t",
					    "6,,2,-;t", "6,1,2x,-;t",
					    "6,1,99999999999999999999,-;t", "-6,1,2,-;t", NULL };
	     *bad; bad++)
		if (kmsg_parse(*bad, strlen(*bad), &r) == 0)
			fail_msg("'%s' parsed", *bad);
}

static void test_kmsg_ring(void **state)
{
	struct kmsg_ring ring;
	char text[32];

	(void)state;
	assert_int_equal(kmsg_ring_init(&ring, 3, 1000), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "line %d", i);
		assert_int_equal(kmsg_ring_push(&ring, i, 6, (uint64_t)i, text, strlen(text)), 0);
	}
	/* the last three, oldest first */
	assert_int_equal(ring.n, 3);
	assert_string_equal(kmsg_ring_get(&ring, 0)->text, "line 7");
	assert_string_equal(kmsg_ring_get(&ring, 2)->text, "line 9");
	assert_null(kmsg_ring_get(&ring, 3));
	assert_int_equal(ring.bytes, 18);
	kmsg_ring_free(&ring);

	/* the byte budget: the oldest go until the new line fits */
	assert_int_equal(kmsg_ring_init(&ring, 100, 20), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(kmsg_ring_push(&ring, i, 6, (uint64_t)i, "0123456789", 8), 0);
	assert_int_equal(ring.n, 2);
	assert_true(ring.bytes <= 20);
	assert_string_equal(kmsg_ring_get(&ring, 0)->text, "01234567");
	/* a line longer than the budget is cut to it, alone */
	assert_int_equal(kmsg_ring_push(&ring, 9, 6, 9, "abcdefghijklmnopqrstuvwxyz", 26), 0);
	assert_int_equal(ring.n, 1);
	assert_int_equal(kmsg_ring_get(&ring, 0)->len, 20);
	kmsg_ring_free(&ring);
	assert_int_equal(kmsg_ring_init(&ring, 0, 20), -EINVAL);
}

/* /dev/kmsg gives one record per read(2) and EAGAIN at the end when opened
 * O_NONBLOCK: a non-blocking SOCK_SEQPACKET pair behaves the same. */
static int kmsg_pair(const char *const *records, int *ret_writer)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
			 0);
	for (const char *const *r = records; *r; r++)
		assert_int_equal(write(sv[1], *r, strlen(*r)), (ssize_t)strlen(*r));
	*ret_writer = sv[1];
	return sv[0];
}

static const char *const kernel_records[] = {
	/* seq 0 and 1 are gone: overwritten before anyone read them */
	"6,2,1000000,-;first\n",
	"3,3,2000000,-;second\n",
	"not a record",
	/* 4 to 6 overwritten while reading (EPIPE) */
	"4,7,3000000,-;third\n SUBSYSTEM=x\n",
	"6,8,4000000,-;fourth \\xff\n",
	NULL,
};

static void test_kmsg_read(void **state)
{
	struct kmsg_ring ring;
	int w, fd;

	(void)state;
	fd = kmsg_pair(kernel_records, &w);
	assert_int_equal(kmsg_ring_init(&ring, 2, 1 << 20), 0);
	assert_int_equal(kmsg_read(fd, 0, 1000.0, &ring), 0);
	assert_int_equal(ring.n, 2);
	assert_string_equal(kmsg_ring_get(&ring, 0)->text, "third");
	assert_string_equal(kmsg_ring_get(&ring, 1)->text, "fourth \\xff");
	assert_true(kmsg_ring_get(&ring, 0)->time == 1003.0);
	assert_int_equal(kmsg_ring_get(&ring, 0)->level, 4);
	assert_int_equal(ring.lost, 5);
	kmsg_ring_free(&ring);
	close(fd);
	close(w);

	/* since: only what was logged then or later */
	fd = kmsg_pair(kernel_records, &w);
	assert_int_equal(kmsg_ring_init(&ring, 100, 1 << 20), 0);
	assert_int_equal(kmsg_read(fd, 1002.0, 1000.0, &ring), 0);
	assert_int_equal(ring.n, 3);
	assert_string_equal(kmsg_ring_get(&ring, 0)->text, "second");
	kmsg_ring_free(&ring);
	close(fd);
	close(w);
}

static void test_kernel_log_json(void **state)
{
	json_t *r, *line;
	int w, fd;

	(void)state;
	fd = kmsg_pair(kernel_records, &w);
	assert_int_equal(cmd_services_kernel_log(fd, 3, 0, &r, why, sizeof(why)), 0);
	assert_int_equal(json_array_size(json_object_get(r, "lines")), 3);
	assert_int_equal(json_integer_value(json_object_get(r, "dropped")), 5);
	line = json_array_get(json_object_get(r, "lines"), 0);
	assert_int_equal(json_object_size(line), 4);
	assert_string_equal(json_string_value(json_object_get(line, "stream")), "kernel");
	assert_string_equal(json_string_value(json_object_get(line, "text")), "second");
	assert_int_equal(json_integer_value(json_object_get(line, "level")), 3);
	/* a time since the epoch: boot + 2 s, within this run */
	assert_true(json_real_value(json_object_get(line, "time")) > 1.6e9);
	json_decref(r);
	close(fd);
	close(w);
}

/* ---- init's replies, checked ---- */

static const char services_reply[] =
	"{\"services\": [{\"name\": \"dockerd\", \"description\": \"Docker Engine\", "
	"\"state\": \"running\", \"pid\": 812, \"since\": 1795766400, \"restarts\": 1, "
	"\"last_exit\": {\"signal\": 9}, \"ready\": true, \"ready_ms\": 9120, "
	"\"cgroup\": \"/porthole/dockerd\", \"memory_bytes\": 73400320, \"cpu_usec\": 2100000, "
	"\"oom_kills\": 0, \"requires\": [\"containerd\"], \"after\": [], \"future\": 1}, "
	"{\"name\": \"containerd\", \"state\": \"stopped\", \"pid\": null, \"since\": 1.5, "
	"\"last_exit\": null, \"ready_ms\": null, \"memory_bytes\": null}]}";

static void test_services_reply(void **state)
{
	json_t *reply = json_loads(services_reply, 0, NULL), *list = NULL, *d;

	(void)state;
	assert_int_equal(cmd_services_from_init(reply, &list, why, sizeof(why)), 0);
	assert_int_equal(json_array_size(list), 2);
	d = json_array_get(list, 0);
	/* every documented member kept; the unknown one left out */
	assert_int_equal(json_object_size(d), 15);
	assert_null(json_object_get(d, "future"));
	assert_int_equal(json_integer_value(json_object_get(d, "pid")), 812);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(d, "last_exit"), "signal")), 9);
	assert_true(json_is_null(json_object_get(json_array_get(list, 1), "pid")));
	json_decref(list);
	json_decref(reply);

	for (const char *const *bad =
		     (const char *const[]){
			     "{}", "{\"services\": {}}", "{\"services\": [5]}",
			     "{\"services\": [{\"state\": \"running\"}]}",
			     "{\"services\": [{\"name\": \"a\", \"state\": \"running\", \"pid\": \"12\"}]}",
			     "{\"services\": [{\"name\": \"a\", \"state\": \"running\", \"ready\": null}]}",
			     "{\"services\": [{\"name\": \"a\", \"state\": \"x\", \"requires\": [1]}]}",
			     "{\"services\": [{\"name\": \"a\", \"state\": \"x\", \"last_exit\": {}}]}",
			     "{\"services\": [{\"name\": \"a\", \"state\": \"x\", \"since\": \"now\"}]}",
			     NULL };
	     *bad; bad++) {
		reply = json_loads(*bad, 0, NULL);
		assert_non_null(reply);
		list = NULL;
		if (cmd_services_from_init(reply, &list, why, sizeof(why)) != -EPROTO)
			fail_msg("accepted: %s", *bad);
		assert_null(list);
		assert_non_null(strstr(why, "porthole-init's reply: "));
		json_decref(reply);
	}
	reply = json_loads("{\"services\": [{\"name\": \"a\", \"state\": \"x\"}, "
			   "{\"name\": \"b\", \"state\": \"x\", \"pid\": 1.5}]}",
			   0, NULL);
	assert_int_equal(cmd_services_from_init(reply, &list, why, sizeof(why)), -EPROTO);
	assert_string_equal(why,
			    "porthole-init's reply: services[1].pid: expected an integer or null");
	json_decref(reply);
}

static void test_logs_and_events_reply(void **state)
{
	json_t *reply, *out = NULL, *events = NULL;
	int64_t next = -1;

	(void)state;
	reply = json_loads("{\"lines\": [{\"time\": 1795766401.25, \"stream\": \"stderr\", "
			   "\"text\": \"hi\", \"extra\": 1}], \"dropped\": 3}",
			   0, NULL);
	assert_int_equal(logs_from_init(reply, &out, why, sizeof(why)), 0);
	assert_int_equal(json_integer_value(json_object_get(out, "dropped")), 3);
	assert_int_equal(json_object_size(json_array_get(json_object_get(out, "lines"), 0)), 3);
	json_decref(out);
	json_decref(reply);
	for (const char *const *bad =
		     (const char *const[]){
			     "{\"lines\": []}", "{\"lines\": [], \"dropped\": -1}",
			     "{\"lines\": [{\"time\": 1, \"stream\": \"stdout\"}], \"dropped\": 0}",
			     "{\"lines\": [{\"time\": \"1\", \"stream\": \"stdout\", \"text\": \"\"}], "
			     "\"dropped\": 0}",
			     NULL };
	     *bad; bad++) {
		reply = json_loads(*bad, 0, NULL);
		out = NULL;
		if (logs_from_init(reply, &out, why, sizeof(why)) != -EPROTO)
			fail_msg("accepted: %s", *bad);
		json_decref(reply);
	}

	reply = json_loads("{\"events\": [{\"seq\": 5, \"time\": 1795766401.2, \"service\": "
			   "\"dockerd\", \"type\": \"oom_kill\", \"detail\": \"1 process\"}], "
			   "\"next\": 5}",
			   0, NULL);
	assert_int_equal(events_from_init(reply, &events, &next, why, sizeof(why)), 0);
	assert_int_equal(next, 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "type")),
			    "oom_kill");
	json_decref(events);
	json_decref(reply);
	reply = json_loads("{\"events\": [{\"seq\": 5}], \"next\": 5}", 0, NULL);
	assert_int_equal(events_from_init(reply, &events, &next, why, sizeof(why)), -EPROTO);
	json_decref(reply);
	reply = json_loads("{\"events\": []}", 0, NULL);
	assert_int_equal(events_from_init(reply, &events, &next, why, sizeof(why)), -EPROTO);
	json_decref(reply);
}

/* ---- the health rule ---- */

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

/* ---- the commands, through their tables ---- */

static const struct command *find(const struct command *table, const char *name)
{
	for (const struct command *c = table; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	for (const struct command *c = cmd_health_table; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	for (const struct command *c = cmd_events_table; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	fail_msg("no command %s", name);
	return NULL;
}

static int call(const char *name, const char *args, json_t **result)
{
	const struct command *c = find(cmd_services_table, name);
	json_t *a = json_loads(args ? args : "{}", 0, NULL);
	int r;

	assert_non_null(a);
	*result = NULL;
	memset(&err, 0, sizeof(err));
	r = c->handler(&agent, a, result, &err);
	json_decref(a);
	return r;
}

static void call_fails(const char *name, const char *args, const char *desc)
{
	json_t *res;

	assert_int_equal(call(name, args, &res), -1);
	assert_string_equal(err.class, "GenericError");
	if (strcmp(err.desc, desc) != 0)
		fail_msg("%s %s: '%s', not '%s'", name, args, err.desc, desc);
}

static void test_commands(void **state)
{
	json_t *r, *sent;

	(void)state;
	options_defaults(&agent.cfg);
	fake_start(FAKE_REPLY, services_reply);
	assert_int_equal(call("porthole-services", NULL, &r), 0);
	assert_true(json_is_array(r));
	assert_int_equal(json_array_size(r), 2);
	json_decref(r);
	fake_stop();

	/* restart: {} on success, init's error text as it is */
	fake_start(FAKE_REPLY, "{\"ok\": true}");
	assert_int_equal(call("porthole-service-restart", "{\"name\": \"dockerd\"}", &r), 0);
	assert_null(r);
	sent = request_sent();
	assert_string_equal(json_string_value(json_object_get(sent, "op")), "restart");
	assert_string_equal(json_string_value(json_object_get(sent, "name")), "dockerd");
	json_decref(sent);
	fake_stop();
	fake_start(FAKE_REPLY, "{\"error\": \"no service named \\\"nope\\\"\"}");
	call_fails("porthole-service-restart", "{\"name\": \"nope\"}", "no service named \"nope\"");
	call_fails("porthole-service-restart", "{\"name\": \"\"}",
		   "Parameter 'name' must be 1 to 255 bytes");
	fake_stop();

	/* logs: the arguments init gets, and what comes back */
	fake_start(FAKE_REPLY, "{\"lines\": [{\"time\": 1795766401.25, \"stream\": \"stdout\", "
			       "\"text\": \"hello\"}], \"dropped\": 0}");
	assert_int_equal(call("porthole-logs", "{\"service\": \"web\", \"since\": 12.5}", &r), 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(r, "lines"), 0), "text")),
			    "hello");
	json_decref(r);
	sent = request_sent();
	assert_string_equal(json_string_value(json_object_get(sent, "op")), "logs");
	assert_string_equal(json_string_value(json_object_get(sent, "name")), "web");
	assert_int_equal(json_integer_value(json_object_get(sent, "lines")), 100);
	assert_true(json_number_value(json_object_get(sent, "since")) == 12.5);
	json_decref(sent);
	call_fails("porthole-logs", "{\"service\": \"web\", \"lines\": 0}",
		   "Parameter 'lines' must be 1 to 10000");
	call_fails("porthole-logs", "{\"service\": \"web\", \"lines\": 10001}",
		   "Parameter 'lines' must be 1 to 10000");
	call_fails("porthole-logs", "{\"service\": \"web\", \"since\": -1}",
		   "Parameter 'since' must be seconds since the epoch, from 0 to 253402300799 "
		   "(9999-12-31)");
	/* far in the future: refused before it is converted (it once returned
	 * every line, past what int64 microseconds hold) */
	call_fails("porthole-logs", "{\"service\": \"web\", \"since\": 9.3e12}",
		   "Parameter 'since' must be seconds since the epoch, from 0 to 253402300799 "
		   "(9999-12-31)");
	fake_stop();

	/* init not there: said, with the socket's path */
	snprintf(agent.cfg.init_socket, sizeof(agent.cfg.init_socket), "%s",
		 "/nonexistent/init.sock");
	call_fails("porthole-services", NULL,
		   "porthole-init's control socket /nonexistent/init.sock: No such file or "
		   "directory");
}

static void test_health_command(void **state)
{
	const struct command *c = find(cmd_health_table, "porthole-health");
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

static void test_events_command(void **state)
{
	const struct command *c = find(cmd_events_table, "porthole-events");
	json_t *args, *r = NULL, *ev;

	(void)state;
	options_defaults(&agent.cfg);
	fake_start(FAKE_REPLY,
		   "{\"events\": [{\"seq\": 4, \"time\": 1795766401.2, \"service\": \"web\", "
		   "\"type\": \"exited\", \"detail\": \"status 1\"}, {\"seq\": 5, \"time\": "
		   "1795766402.5, \"service\": \"dockerd\", \"type\": \"oom_kill\", \"detail\": "
		   "\"\"}], \"next\": 5}");
	/* without service_after: the clock's events only, as before */
	args = json_pack("{}");
	assert_int_equal(c->handler(&agent, args, &r, &err), 0);
	assert_null(json_object_get(r, "service_events"));
	assert_true(json_is_array(json_object_get(r, "events")));
	json_decref(r);
	json_decref(args);
	assert_int_equal(fake.connections, 0);
	/* with it: init's events after it, and where to go on from */
	args = json_pack("{s:i}", "service_after", 4);
	assert_int_equal(c->handler(&agent, args, &r, &err), 0);
	ev = json_object_get(r, "service_events");
	assert_int_equal(json_array_size(ev), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ev, 0), "type")),
			    "oom_kill");
	assert_int_equal(json_integer_value(json_object_get(r, "service_next")), 5);
	assert_null(json_object_get(r, "service_error"));
	json_decref(r);
	json_decref(args);
	fake_stop();
	assert_int_equal(fake.connections, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initctl_exchange),
		cmocka_unit_test(test_initctl_bounds),
		cmocka_unit_test(test_kmsg_parse),
		cmocka_unit_test(test_kmsg_ring),
		cmocka_unit_test(test_kmsg_read),
		cmocka_unit_test(test_kernel_log_json),
		cmocka_unit_test(test_services_reply),
		cmocka_unit_test(test_logs_and_events_reply),
		cmocka_unit_test(test_health_rule),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_health_command),
		cmocka_unit_test(test_events_command),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
