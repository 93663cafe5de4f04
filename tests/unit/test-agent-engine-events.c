/* agent/engine-events.c: which events free space; dockerd's chunked reply
 * parsed however its bytes arrive (split inside events, inside chunk-size
 * lines, inside CRLFs), an over-long event skipped and the stream going on,
 * the reply's errors; a burst's due time on a fake clock; and the watcher on
 * a real loop against a fake engine on a unix socket: one trim for a burst,
 * none for other events, a reconnect after the engine goes away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "engine-events.h"
#include "log.h"
#include "loop.h"
#include "stderr-capture.h"
#include "util.h"

#define HEADERS                                                                                    \
	"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"               \
	"Docker-Experimental: false\r\nOstype: linux\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\n" \
	"Date: Mon, 07 Dec 2026 03:30:00 GMT\r\nTransfer-Encoding: chunked\r\n\r\n"

/* events as dockerd 20.10 writes them, one JSON object and a newline each */
#define EV_UNTAG                                                                              \
	"{\"status\":\"untag\",\"id\":\"sha256:5d0da3dc9764\",\"Type\":\"image\",\"Action\":" \
	"\"untag\",\"Actor\":{\"ID\":\"sha256:5d0da3dc9764\",\"Attributes\":{\"name\":"       \
	"\"sha256:5d0da3dc9764\"}},\"scope\":\"local\",\"time\":1796614200,\"timeNano\":"     \
	"1796614200123456789}\n"
#define EV_DELETE                                                                              \
	"{\"status\":\"delete\",\"id\":\"sha256:5d0da3dc9764\",\"Type\":\"image\",\"Action\":" \
	"\"delete\",\"Actor\":{\"ID\":\"sha256:5d0da3dc9764\",\"Attributes\":{\"name\":"       \
	"\"sha256:5d0da3dc9764\"}},\"scope\":\"local\",\"time\":1796614200,\"timeNano\":"      \
	"1796614200223456789}\n"
#define EV_DESTROY                                                                              \
	"{\"status\":\"destroy\",\"id\":\"4f6c\",\"from\":\"thatbase\",\"Type\":\"container\"," \
	"\"Action\":\"destroy\",\"Actor\":{\"ID\":\"4f6c\",\"Attributes\":{\"image\":"          \
	"\"thatbase\",\"name\":\"hello\"}},\"scope\":\"local\",\"time\":1796614201,"            \
	"\"timeNano\":1796614201000000000}\n"
#define EV_VOLUME_PRUNE                                                                     \
	"{\"Type\":\"volume\",\"Action\":\"prune\",\"Actor\":{\"ID\":\"\",\"Attributes\":{" \
	"\"reclaimed\":\"1048576\"}},\"scope\":\"local\",\"time\":1796614202,\"timeNano\":" \
	"1796614202000000000}\n"
#define EV_DIE                                                                                 \
	"{\"status\":\"die\",\"id\":\"4f6c\",\"Type\":\"container\",\"Action\":\"die\","       \
	"\"Actor\":{\"ID\":\"4f6c\",\"Attributes\":{\"exitCode\":\"0\"}},\"scope\":\"local\"," \
	"\"time\":1796614203,\"timeNano\":1796614203000000000}\n"

static void test_frees(void **state)
{
	(void)state;
	assert_string_equal(engine_event_frees("image", "delete"), "image delete");
	assert_string_equal(engine_event_frees("image", "prune"), "image prune");
	assert_string_equal(engine_event_frees("container", "destroy"), "container destroy");
	assert_string_equal(engine_event_frees("container", "prune"), "container prune");
	assert_string_equal(engine_event_frees("volume", "destroy"), "volume destroy");
	assert_string_equal(engine_event_frees("volume", "prune"), "volume prune");
	/* an untag leaves the layers while another tag or a container holds
	 * them; the last one comes with a delete */
	assert_null(engine_event_frees("image", "untag"));
	assert_null(engine_event_frees("container", "die"));
	assert_null(engine_event_frees("network", "prune"));
	assert_null(engine_event_frees("network", "destroy"));
	assert_null(engine_event_frees(NULL, "delete"));
	assert_null(engine_event_frees("image", NULL));
	/* the request asks for exactly these types and actions */
	assert_non_null(strstr(ENGINE_EVENTS_REQUEST, "GET /events?filters=%7B%22type%22"));
	assert_non_null(strstr(ENGINE_EVENTS_REQUEST, "%22event%22%3A%5B%22delete%22%2C%22destroy"
						      "%22%2C%22prune%22%5D"));
	assert_non_null(strstr(ENGINE_EVENTS_REQUEST, " HTTP/1.1\r\nHost: "));
}

/* What a feed reported: the deletes' texts, joined. */
struct seen {
	char what[1024];
	unsigned n;
};

static void note(void *user, const char *what)
{
	struct seen *s = user;
	size_t len = strlen(s->what);

	snprintf(s->what + len, sizeof(s->what) - len, "%s%s", len ? "," : "", what);
	s->n++;
}

/* A chunked body: each of PARTS as one chunk, then the last chunk. */
static char *chunked(const char *const *parts, bool last)
{
	size_t cap = 1 << 20, len = 0;
	char *out = malloc(cap);

	assert_non_null(out);
	len += (size_t)snprintf(out, cap, "%s", HEADERS);
	for (const char *const *p = parts; *p; p++)
		len += (size_t)snprintf(out + len, cap - len, "%zx\r\n%s\r\n", strlen(*p), *p);
	if (last)
		snprintf(out + len, cap - len, "0\r\n\r\n");
	return out;
}

/* Feeds TEXT in pieces of STEP bytes (0: all at once); the last return. */
static int feed(const char *text, size_t step, struct seen *seen, struct engine_stream *s,
		char *why, size_t why_size)
{
	size_t len = strlen(text), off = 0;
	int r = 0;

	while (off < len && r == 0) {
		size_t n = step && step < len - off ? step : len - off;

		r = engine_stream_feed(s, text + off, n, note, seen, why, why_size);
		off += n;
	}
	return r;
}

static void test_stream_split_anywhere(void **state)
{
	/* an event across two chunks, two in one, one per chunk */
	static const char *const parts[] = { EV_UNTAG EV_DELETE "{\"Type\":\"container\",",
					     "\"Action\":\"destroy\"}\n", EV_DIE, EV_VOLUME_PRUNE,
					     NULL };
	_cleanup_free_ char *text = chunked(parts, false);

	(void)state;
	for (size_t step = 0; step <= 17; step++) {
		struct engine_stream s;
		struct seen seen = { "", 0 };
		char why[160] = "";

		assert_int_equal(engine_stream_init(&s), 0);
		assert_int_equal(feed(text, step, &seen, &s, why, sizeof(why)), 0);
		assert_string_equal(seen.what, "image delete,container destroy,volume prune");
		assert_int_equal(s.status, 200);
		assert_int_equal(s.events, 5);
		assert_int_equal(s.skipped, 0);
		engine_stream_free(&s);
	}
}

static void test_stream_end(void **state)
{
	static const char *const parts[] = { EV_DESTROY, NULL };
	_cleanup_free_ char *text = chunked(parts, true);
	struct engine_stream s;
	struct seen seen = { "", 0 };
	char why[160] = "";

	(void)state;
	assert_int_equal(engine_stream_init(&s), 0);
	assert_int_equal(feed(text, 3, &seen, &s, why, sizeof(why)), 1);
	assert_string_equal(seen.what, "container destroy");
	engine_stream_free(&s);
}

/* Without chunked coding (an HTTP/1.0 peer, a proxy) the body is events
 * until the end. */
static void test_stream_identity(void **state)
{
	struct engine_stream s;
	struct seen seen = { "", 0 };
	char why[160] = "";

	(void)state;
	assert_int_equal(engine_stream_init(&s), 0);
	assert_int_equal(
		feed("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" EV_DELETE EV_DIE
			     EV_DESTROY,
		     7, &seen, &s, why, sizeof(why)),
		0);
	assert_string_equal(seen.what, "image delete,container destroy");
	engine_stream_free(&s);
}

static void test_stream_long_event_skipped(void **state)
{
	size_t big = ENGINE_EVENT_MAX + 1000;
	char *label = malloc(big), *ev = malloc(big + 200), log[2048];
	const char *parts[] = { NULL, EV_DELETE, NULL };
	struct engine_stream s;
	struct seen seen = { "", 0 };
	struct stderr_capture cap;
	char why[160] = "";
	char *text;
	int r;

	(void)state;
	assert_non_null(label);
	assert_non_null(ev);
	memset(label, 'x', big - 1);
	label[big - 1] = '\0';
	/* an image delete with a huge label: skipped, though a delete */
	snprintf(ev, big + 200,
		 "{\"Type\":\"image\",\"Action\":\"delete\",\"Actor\":{\"Attributes\":"
		 "{\"l\":\"%s\"}}}\n",
		 label);
	parts[0] = ev;
	text = chunked(parts, false);
	assert_int_equal(engine_stream_init(&s), 0);
	stderr_capture_start(&cap);
	r = feed(text, 4093, &seen, &s, why, sizeof(why));
	stderr_capture_stop(&cap, log, sizeof(log));
	assert_int_equal(r, 0);
	/* the stream went on: the next event counted */
	assert_string_equal(seen.what, "image delete");
	assert_int_equal(seen.n, 1);
	assert_int_equal(s.skipped, 1);
	assert_non_null(strstr(log, "skipped"));
	engine_stream_free(&s);
	free(text);
	free(ev);
	free(label);
}

static void test_stream_not_json(void **state)
{
	struct engine_stream s;
	struct seen seen = { "", 0 };
	struct stderr_capture cap;
	char why[160] = "", log[1024];

	(void)state;
	assert_int_equal(engine_stream_init(&s), 0);
	stderr_capture_start(&cap);
	assert_int_equal(feed(HEADERS "6\r\n[1,2]\n\r\n"
				      "c\r\n{\"Type\":1}\n\r\n",
			      0, &seen, &s, why, sizeof(why)),
			 0);
	stderr_capture_stop(&cap, log, sizeof(log));
	assert_int_equal(seen.n, 0);
	assert_int_equal(s.skipped, 1); /* the array; a bad Type is just not a delete */
	assert_int_equal(s.events, 2);
	engine_stream_free(&s);
}

/* Each: the reply, the error, a word of WHY. */
static void test_stream_errors(void **state)
{
	static const struct {
		const char *text;
		int r;
		const char *why;
	} cases[] = {
		{ "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n"
		  "{\"message\":\"invalid filter\"}",
		  -EREMOTEIO, "400 Bad Request" },
		{ "HTTP/1.1 404 Not Found\r\n\r\n", -EREMOTEIO, "404" },
		{ "SSH-2.0-OpenSSH_9.2\r\n", -EPROTO, "not an HTTP/1 reply" },
		{ "HTTP/2 200\r\n\r\n", -EPROTO, "not an HTTP/1 reply" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -EPROTO, "gzip" },
		{ HEADERS "zz\r\n", -EPROTO, "bad chunk size" },
		{ HEADERS "5x\r\n", -EPROTO, "bad chunk size" },
		{ HEADERS "fffffffffffffffffff\r\n", -EPROTO, "too large" },
		{ HEADERS "2\r\n{}XY", -EPROTO, "CRLF" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct engine_stream s;
		struct seen seen = { "", 0 };
		char why[160] = "";

		assert_int_equal(engine_stream_init(&s), 0);
		assert_int_equal(feed(cases[i].text, 5, &seen, &s, why, sizeof(why)), cases[i].r);
		if (!strstr(why, cases[i].why))
			fail_msg("case %zu: '%s' has no '%s'", i, why, cases[i].why);
		engine_stream_free(&s);
	}
}

/* Bounded: headers without end, a chunk-size line without end. */
static void test_stream_bounds(void **state)
{
	struct engine_stream s;
	struct seen seen = { "", 0 };
	char why[160] = "", *text = malloc(ENGINE_HEADERS_MAX + 100);
	size_t len;

	(void)state;
	assert_non_null(text);
	len = (size_t)snprintf(text, 100, "HTTP/1.1 200 OK\r\n");
	while (len < ENGINE_HEADERS_MAX + 50)
		len += (size_t)snprintf(text + len, 100, "X-A: b\r\n");
	assert_int_equal(engine_stream_init(&s), 0);
	assert_int_equal(feed(text, 100, &seen, &s, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "headers over"));
	engine_stream_free(&s);

	/* a long header field is not an error (only one field is read) */
	memset(text, 0, ENGINE_HEADERS_MAX + 100);
	len = (size_t)snprintf(text, 100, "HTTP/1.1 200 OK\r\nX-Long: ");
	memset(text + len, 'v', 1000);
	snprintf(text + len + 1000, 600, "\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n",
		 strlen(EV_DELETE), EV_DELETE);
	assert_int_equal(engine_stream_init(&s), 0);
	assert_int_equal(feed(text, 0, &seen, &s, why, sizeof(why)), 0);
	assert_string_equal(seen.what, "image delete");
	engine_stream_free(&s);

	memset(text, 0, ENGINE_HEADERS_MAX + 100);
	len = (size_t)snprintf(text, 400, "%s1;", HEADERS);
	memset(text + len, 'e', ENGINE_CHUNK_LINE_MAX + 10);
	assert_int_equal(engine_stream_init(&s), 0);
	seen.n = 0;
	assert_int_equal(feed(text, 0, &seen, &s, why, sizeof(why)), 0); /* no LF yet */
	assert_int_equal(engine_stream_feed(&s, "\r\n", 2, note, &seen, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "chunk size line over"));
	engine_stream_free(&s);
	free(text);
}

#define S(x) ((uint64_t)(x)*NSEC_PER_SEC)

/* The burst's due time on a fake clock: 5 s after its last delete, 60 s
 * after its first at the latest. */
static void test_burst(void **state)
{
	struct engine_burst b = { 0 };

	(void)state;
	engine_burst_note(&b, S(100), "image delete");
	assert_true(b.pending);
	assert_int_equal(engine_burst_due_ns(&b, 5000), S(105));
	/* more deletes move it */
	engine_burst_note(&b, S(103), "container destroy");
	assert_int_equal(engine_burst_due_ns(&b, 5000), S(108));
	assert_int_equal(b.deletes, 2);
	assert_string_equal(b.what, "image delete");
	/* a steady stream, one every 2 s: never later than 60 s after the first */
	for (unsigned t = 105; t < 200; t += 2)
		engine_burst_note(&b, S(t), "image delete");
	assert_int_equal(engine_burst_due_ns(&b, 5000), S(160));
	/* the next burst starts over */
	b.pending = false;
	engine_burst_note(&b, S(300), "volume prune");
	assert_int_equal(b.deletes, 1);
	assert_string_equal(b.what, "volume prune");
	assert_int_equal(engine_burst_due_ns(&b, 5000), S(305));
	/* a delay over the 60 s bound is the bound itself */
	engine_burst_note(&b, S(350), "volume prune");
	assert_int_equal(engine_burst_due_ns(&b, 120000), S(420));
	assert_int_equal(engine_burst_due_ns(&b, 1000), S(351));
}

/* ---- the watcher against a fake engine ---- */

struct fake_engine {
	int lfd;
	int trimmed[2]; /* a pipe: a byte for each trim the watcher asked for */
	char request[2048];
	int conns; /* connections accepted */
	volatile int done; /* the thread did all it had to */
	pthread_t thread;
};

static struct fake_engine f;

static void wait_trim(void)
{
	char b;

	while (read(f.trimmed[0], &b, 1) < 0 && errno == EINTR)
		;
}

/* Accepts one connection: reads the request, answers with a burst of three
 * deletes among other events, 3 bytes at a time; after its trim, a burst of
 * one; after that one's trim, goes away. Then accepts the watcher's next
 * connection. The test's own order, not the clock's. */
static void *fake_engine_run(void *data)
{
	static const char *const parts[] = { EV_UNTAG EV_DELETE,
					     EV_DESTROY EV_DIE "{\"Type\":\"vol",
					     "ume\",\"Action\":\"destroy\"}\n", EV_DIE, NULL };
	_cleanup_free_ char *first = chunked(parts, false);
	char chunk[1024];
	int c, len;
	ssize_t n;

	(void)data;
	c = accept(f.lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	f.conns++;
	n = read(c, f.request, sizeof(f.request) - 1);
	if (n > 0)
		f.request[n] = '\0';
	for (size_t off = 0, l = strlen(first); off < l; off += 3) {
		if (write(c, first + off, l - off < 3 ? l - off : 3) < 0)
			break;
		usleep(100);
	}
	wait_trim();
	len = snprintf(chunk, sizeof(chunk), "%zx\r\n%s\r\n", strlen(EV_VOLUME_PRUNE),
		       EV_VOLUME_PRUNE);
	if (write(c, chunk, (size_t)len) < 0)
		return NULL;
	wait_trim();
	close(c); /* the engine goes away */
	c = accept(f.lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	f.conns++;
	f.done = 1;
	close(c);
	return NULL;
}

static struct {
	unsigned trims;
	unsigned deletes[4];
	const char *what[4];
} trims;

static void fake_trim(struct agent *a, const struct engine_burst *b)
{
	(void)a;
	if (trims.trims < 4) {
		trims.deletes[trims.trims] = b->deletes;
		trims.what[trims.trims] = b->what;
	}
	trims.trims++;
	if (write(f.trimmed[1], "t", 1) != 1)
		fail_msg("the test's pipe");
}

static void quit(struct loop *l, void *data)
{
	(void)data;
	loop_quit(l);
}

/* Ends the loop once the fake engine is done, looked at every 50 ms. */
static void quit_when_done(struct loop *l, void *data)
{
	if (f.done)
		loop_quit(l);
	else
		loop_timer(l, 50, quit_when_done, data);
}

static void test_watcher(void **state)
{
	struct agent a = { 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/test-engine-events.XXXXXX", log[8192];
	struct stderr_capture cap;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pipe(f.trimmed), 0);
	snprintf(a.cfg.engine_socket, sizeof(a.cfg.engine_socket), "%s/docker.sock", dir);
	snprintf(a.cfg.data_mount, sizeof(a.cfg.data_mount), "%s", dir);
	a.cfg.trim_after_delete_s = 1;
	assert_int_equal(loop_new(&a.loop), 0);

	/* no engine yet: the tries at 1 s and 2 s fail, said once */
	stderr_capture_start(&cap);
	engine_events_start(&a, fake_trim);
	loop_timer(a.loop, 3500, quit, NULL);
	assert_int_equal(loop_run(a.loop), 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", a.cfg.engine_socket);
	f.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f.lfd >= 0);
	assert_int_equal(bind(f.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f.lfd, 4), 0);
	assert_int_equal(pthread_create(&f.thread, NULL, fake_engine_run, NULL), 0);
	/* a bound for a hang only: the fake engine says when it is done */
	loop_timer(a.loop, 60000, quit, NULL);
	loop_timer(a.loop, 50, quit_when_done, NULL);
	assert_int_equal(loop_run(a.loop), 0);
	engine_events_stop(&a);
	stderr_capture_stop(&cap, log, sizeof(log));
	shutdown(f.lfd, SHUT_RDWR);
	close(f.trimmed[1]); /* a thread still waiting for a trim ends */
	pthread_join(f.thread, NULL);
	close(f.lfd);
	close(f.trimmed[0]);
	unlink(a.cfg.engine_socket);
	rmdir(dir);
	loop_free(a.loop);

	assert_true(f.done);
	assert_non_null(strstr(f.request, ENGINE_EVENTS_REQUEST));
	/* one trim for the first burst's three deletes, one for the prune */
	assert_int_equal(trims.trims, 2);
	assert_int_equal(trims.deletes[0], 3);
	assert_string_equal(trims.what[0], "image delete");
	assert_int_equal(trims.deletes[1], 1);
	assert_string_equal(trims.what[1], "volume prune");
	/* the engine went away: connected again */
	assert_int_equal(f.conns, 2);
	/* said once while it was not there, not at every try */
	{
		const char *p = strstr(log, "no engine yet");

		assert_non_null(p);
		assert_null(strstr(p + 1, "no engine yet"));
	}
	assert_non_null(strstr(log, "watching"));
	assert_non_null(strstr(log, "reconnecting"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frees),
		cmocka_unit_test(test_stream_split_anywhere),
		cmocka_unit_test(test_stream_end),
		cmocka_unit_test(test_stream_identity),
		cmocka_unit_test(test_stream_long_event_skipped),
		cmocka_unit_test(test_stream_not_json),
		cmocka_unit_test(test_stream_errors),
		cmocka_unit_test(test_stream_bounds),
		cmocka_unit_test(test_burst),
		cmocka_unit_test(test_watcher),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
