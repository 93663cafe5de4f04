/* init/svclog.c: a service's output as lines, the ring, the log file and its
 * rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "svclog.h"
#include "tmptree.h"
#include "util.h"

#define LINES_MAX 256

/* What svclog_each handed out, copied. */
struct seen {
	size_t n;
	int64_t time_us[LINES_MAX];
	enum svclog_stream stream[LINES_MAX];
	char *text[LINES_MAX];
	size_t len[LINES_MAX];
};

static void collect(const struct svclog_line *line, void *user)
{
	struct seen *s = user;

	assert_true(s->n < LINES_MAX);
	s->time_us[s->n] = line->time_us;
	s->stream[s->n] = line->stream;
	s->len[s->n] = line->len;
	s->text[s->n] = malloc(line->len + 1);
	assert_non_null(s->text[s->n]);
	memcpy(s->text[s->n], line->text, line->len);
	s->text[s->n][line->len] = '\0';
	s->n++;
}

static size_t lines_of(const struct svclog *l, size_t max, int64_t since, struct seen *s)
{
	size_t n;

	memset(s, 0, sizeof(*s));
	n = svclog_each(l, max, since, collect, s);
	assert_int_equal(n, s->n);
	return n;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->text[i]);
	s->n = 0;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void feed(struct svclog *l, enum svclog_stream stream, const char *s)
{
	svclog_feed(l, stream, s, strlen(s));
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	return 0;
}

static void test_lines_across_feeds(void **state)
{
	struct svclog *l = svclog_new("web", NULL, 0, 0, 0);
	struct seen s;
	int64_t before = now_us();

	(void)state;
	assert_non_null(l);
	feed(l, SVCLOG_STDOUT, "hel");
	assert_int_equal(lines_of(l, 0, 0, &s), 0);
	feed(l, SVCLOG_STDOUT, "lo\nwor");
	/* a partial line on one stream does not hold up the other */
	feed(l, SVCLOG_STDERR, "oops\n\n");
	feed(l, SVCLOG_STDOUT, "ld\n");
	assert_int_equal(lines_of(l, 0, 0, &s), 4);
	assert_string_equal(s.text[0], "hello");
	assert_int_equal(s.stream[0], SVCLOG_STDOUT);
	assert_string_equal(s.text[1], "oops");
	assert_int_equal(s.stream[1], SVCLOG_STDERR);
	assert_string_equal(s.text[2], ""); /* an empty line is a line */
	assert_int_equal(s.len[2], 0);
	assert_string_equal(s.text[3], "world");
	assert_int_equal(s.stream[3], SVCLOG_STDOUT);
	for (size_t i = 0; i < s.n; i++) {
		assert_true(s.time_us[i] >= before);
		assert_true(s.time_us[i] <= now_us());
	}
	assert_int_equal(svclog_dropped(l), 0);
	seen_free(&s);
	svclog_free(l);
}

static void test_partial_line_at_flush(void **state)
{
	struct svclog *l = svclog_new("web", NULL, 0, 0, 0);
	struct seen s;

	(void)state;
	feed(l, SVCLOG_STDERR, "panic: no");
	feed(l, SVCLOG_STDOUT, "half");
	svclog_flush(l, SVCLOG_STDERR);
	assert_int_equal(lines_of(l, 0, 0, &s), 1);
	assert_string_equal(s.text[0], "panic: no");
	assert_int_equal(s.stream[0], SVCLOG_STDERR);
	seen_free(&s);
	/* nothing more to flush on stderr; stdout's half waits for its own */
	svclog_flush(l, SVCLOG_STDERR);
	assert_int_equal(lines_of(l, 0, 0, &s), 1);
	seen_free(&s);
	svclog_flush(l, SVCLOG_STDOUT);
	assert_int_equal(lines_of(l, 0, 0, &s), 2);
	assert_string_equal(s.text[1], "half");
	seen_free(&s);
	svclog_free(l);
}

static void test_long_line_cut(void **state)
{
	struct svclog *l = svclog_new("web", NULL, 64 * 1024, 0, 0);
	size_t len = 2 * SVCLOG_LINE_MAX + 10;
	char *big = malloc(len + 1);
	struct seen s;

	(void)state;
	for (size_t i = 0; i < len; i++)
		big[i] = (char)('a' + i % 26);
	big[len] = '\n';
	/* in odd pieces, as a pipe would give them */
	for (size_t off = 0; off < len + 1; off += 1000)
		svclog_feed(l, SVCLOG_STDOUT, big + off,
			    len + 1 - off < 1000 ? len + 1 - off : 1000);
	assert_int_equal(lines_of(l, 0, 0, &s), 3);
	assert_int_equal(s.len[0], SVCLOG_LINE_MAX);
	assert_int_equal(s.len[1], SVCLOG_LINE_MAX);
	assert_int_equal(s.len[2], 10);
	assert_memory_equal(s.text[0], big, SVCLOG_LINE_MAX);
	assert_memory_equal(s.text[1], big + SVCLOG_LINE_MAX, SVCLOG_LINE_MAX);
	assert_memory_equal(s.text[2], big + 2 * SVCLOG_LINE_MAX, 10);
	seen_free(&s);

	/* exactly SVCLOG_LINE_MAX bytes stay one line, with no empty one after */
	big[SVCLOG_LINE_MAX] = '\n';
	svclog_feed(l, SVCLOG_STDERR, big, SVCLOG_LINE_MAX + 1);
	assert_int_equal(lines_of(l, 0, 0, &s), 4);
	assert_int_equal(s.len[3], SVCLOG_LINE_MAX);
	seen_free(&s);
	free(big);
	svclog_free(l);
}

static void test_ring_drops_oldest(void **state)
{
	/* 1000 bytes: records of "line NNN" (8 bytes and a 16-byte header) do
	 * not divide it, so records wrap around its end, text and headers */
	struct svclog *l = svclog_new("web", NULL, 1000, 0, 0);
	struct seen s;
	size_t n;

	(void)state;
	for (int i = 0; i < 200; i++) {
		char line[32];

		snprintf(line, sizeof(line), "line %03d\n", i);
		feed(l, SVCLOG_STDOUT, line);
	}
	n = lines_of(l, 0, 0, &s);
	assert_true(n > 10);
	assert_true(n * (8 + 16) <= 1000); /* the bound holds, bookkeeping included */
	assert_int_equal(svclog_dropped(l), 200 - n);
	/* the newest are kept, in order */
	for (size_t i = 0; i < n; i++) {
		char want[32];

		snprintf(want, sizeof(want), "line %03zu", 200 - n + i);
		assert_string_equal(s.text[i], want);
	}
	seen_free(&s);
	svclog_free(l);

	/* a ring smaller than one line keeps none, and says so */
	l = svclog_new("web", NULL, 20, 0, 0);
	feed(l, SVCLOG_STDOUT, "too long for the ring\n");
	assert_int_equal(lines_of(l, 0, 0, &s), 0);
	assert_int_equal(svclog_dropped(l), 1);
	svclog_free(l);
}

static void test_since_and_max(void **state)
{
	struct svclog *l = svclog_new("web", NULL, 0, 0, 0);
	struct seen all, s;
	struct timespec pause = { 0, 3 * 1000 * 1000 };

	(void)state;
	for (int i = 0; i < 4; i++) {
		char line[16];

		snprintf(line, sizeof(line), "l%d\n", i);
		feed(l, SVCLOG_STDOUT, line);
		nanosleep(&pause, NULL);
	}
	svclog_note(l, "exited with status %d", 1);
	assert_int_equal(lines_of(l, 0, 0, &all), 5);
	/* a note is init's, on stderr */
	assert_string_equal(all.text[4], "porthole-init: exited with status 1");
	assert_int_equal(all.stream[4], SVCLOG_STDERR);
	for (size_t i = 1; i < all.n; i++)
		assert_true(all.time_us[i] > all.time_us[i - 1]);

	/* the last MAX */
	assert_int_equal(lines_of(l, 2, 0, &s), 2);
	assert_string_equal(s.text[0], "l3");
	assert_string_equal(s.text[1], all.text[4]);
	seen_free(&s);
	/* at or after SINCE */
	assert_int_equal(lines_of(l, 0, all.time_us[2], &s), 3);
	assert_string_equal(s.text[0], "l2");
	seen_free(&s);
	/* both: the last MAX of those at or after SINCE */
	assert_int_equal(lines_of(l, 1, all.time_us[1], &s), 1);
	assert_string_equal(s.text[0], all.text[4]);
	seen_free(&s);
	assert_int_equal(lines_of(l, 10, all.time_us[3], &s), 2);
	assert_string_equal(s.text[0], "l3");
	seen_free(&s);
	assert_int_equal(lines_of(l, 0, all.time_us[4] + 1, &s), 0);
	seen_free(&all);
	svclog_free(l);
}

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-svclog.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void remove_dir(void)
{

	assert_int_equal(tmptree_remove(dir), 0);
}

/* The lines of DIR/NAME, each checked for the time and stream format; only
 * their texts are kept, joined by '|'. Returns -ENOENT for no file. */
static int file_texts(const char *name, char *out, size_t size, size_t *ret_bytes)
{
	_cleanup_free_ char *data = NULL;
	char path[128];
	size_t len, n = 0;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = read_file(path, 1 << 20, &data, &len);
	if (r < 0)
		return r;
	out[0] = '\0';
	for (char *line = data, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		struct tm tm = { 0 };
		char *rest;
		int ms = -1;
		time_t t;

		*nl = '\0';
		/* 2026-11-27T15:20:01.123Z out TEXT */
		rest = strptime(line, "%Y-%m-%dT%H:%M:%S", &tm);
		assert_non_null(rest);
		assert_int_equal(sscanf(rest, ".%3dZ ", &ms), 1);
		assert_true(ms >= 0 && ms <= 999);
		assert_int_equal(rest[4], 'Z');
		t = timegm(&tm);
		assert_true(llabs((long long)(t - time(NULL))) < 60);
		rest += 6;
		assert_true(strncmp(rest, "out ", 4) == 0 || strncmp(rest, "err ", 4) == 0);
		n += (size_t)snprintf(out + n, size - n, "%s%s", n ? "|" : "", rest);
	}
	if (ret_bytes)
		*ret_bytes = len;
	return 0;
}

static void test_file_and_rotation(void **state)
{
	/* "2026-11-27T15:20:01.123Z out line NN\n" is 37 bytes: 5 to a file of
	 * 201, and room for the note (53) after 4 */
	struct svclog *l;
	char texts[1024];
	size_t bytes;

	(void)state;
	make_dir();
	l = svclog_new("web", dir, 0, 201, 2);
	for (int i = 0; i < 19; i++) {
		char line[16];

		snprintf(line, sizeof(line), "line %02d\n", i);
		feed(l, SVCLOG_STDOUT, line);
	}
	svclog_note(l, "stopped");
	assert_int_equal(file_texts("web.log.2", texts, sizeof(texts), &bytes), 0);
	assert_string_equal(texts, "out line 05|out line 06|out line 07|out line 08|out line 09");
	assert_true(bytes <= 201);
	assert_int_equal(file_texts("web.log.1", texts, sizeof(texts), &bytes), 0);
	assert_string_equal(texts, "out line 10|out line 11|out line 12|out line 13|out line 14");
	assert_true(bytes <= 201);
	assert_int_equal(file_texts("web.log", texts, sizeof(texts), &bytes), 0);
	assert_string_equal(texts, "out line 15|out line 16|out line 17|out line 18|"
				   "err porthole-init: stopped");
	/* KEEP files and no more: the oldest lines are gone */
	assert_int_equal(file_texts("web.log.3", texts, sizeof(texts), NULL), -ENOENT);
	svclog_free(l);

	/* a file left from before is appended to, and rotated when it is full */
	l = svclog_new("web", dir, 0, 201, 2);
	feed(l, SVCLOG_STDERR, "again\n");
	assert_int_equal(file_texts("web.log.1", texts, sizeof(texts), NULL), 0);
	assert_string_equal(texts, "out line 15|out line 16|out line 17|out line 18|"
				   "err porthole-init: stopped");
	assert_int_equal(file_texts("web.log", texts, sizeof(texts), NULL), 0);
	assert_string_equal(texts, "err again");
	feed(l, SVCLOG_STDOUT, "more\n");
	assert_int_equal(file_texts("web.log", texts, sizeof(texts), NULL), 0);
	assert_string_equal(texts, "err again|out more");
	svclog_free(l);
	remove_dir();
}

static void test_log_dir_created(void **state)
{
	struct svclog *l;
	char sub[128], texts[256];

	(void)state;
	make_dir();
	snprintf(sub, sizeof(sub), "%s/var/log/porthole", dir);
	l = svclog_new("db", sub, 0, 0, 3);
	feed(l, SVCLOG_STDOUT, "ready\n");
	assert_int_equal(file_texts("var/log/porthole/db.log", texts, sizeof(texts), NULL), 0);
	assert_string_equal(texts, "out ready");
	svclog_free(l);
	remove_dir();
}

/* Runs FN with stderr going to a file; returns what was written there. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/test-svclog-stderr.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	char *text = NULL;

	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	fn(arg);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(read_file(path, 1 << 20, &text, NULL), 0);
	unlink(path);
	return text;
}

static void feed_three(void *arg)
{
	struct svclog *l = arg;

	log_set_level(LOG_LEVEL_WARN);
	feed(l, SVCLOG_STDOUT, "one\ntwo\n");
	feed(l, SVCLOG_STDERR, "three\n");
	log_set_level(LOG_LEVEL_EMERG);
}

static void test_unwritable_dir(void **state)
{
	struct svclog *l;
	char notdir[128], *said, *p;
	unsigned times = 0;
	struct seen s;

	(void)state;
	/* a regular file where the directory should be: ENOTDIR, even as root */
	make_dir();
	snprintf(notdir, sizeof(notdir), "%s/file", dir);
	assert_int_equal(write_file_atomic(notdir, "x", 1, 0644), 0);
	l = svclog_new("web", notdir, 0, 0, 3);
	said = capture_stderr(feed_three, l);
	for (p = said; (p = strstr(p, "/file/web.log")); p++)
		times++;
	assert_int_equal(times, 1);
	assert_non_null(strstr(said, "Not a directory"));
	free(said);
	/* the ring does not depend on the file */
	assert_int_equal(lines_of(l, 0, 0, &s), 3);
	assert_string_equal(s.text[0], "one");
	assert_string_equal(s.text[2], "three");
	seen_free(&s);
	svclog_free(l);
	remove_dir();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_across_feeds),
		cmocka_unit_test(test_partial_line_at_flush),
		cmocka_unit_test(test_long_line_cut),
		cmocka_unit_test(test_ring_drops_oldest),
		cmocka_unit_test(test_since_and_max),
		cmocka_unit_test(test_file_and_rotation),
		cmocka_unit_test(test_log_dir_created),
		cmocka_unit_test(test_unwritable_dir),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
