/* lib/util.c: the number, boolean and duration syntaxes every program
 * parses, list lookup, directories and files made as promised (modes under
 * any umask, atomic replacement, bounded reads), mountinfo's escapes, and
 * the deadline helpers on real sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmptree.h"
#include "util.h"

static void test_parse_seconds_ms(void **state)
{
	static const struct {
		const char *s;
		unsigned min_ms, max_ms;
		int r;
		unsigned ms;
	} cases[] = {
		{ "90", 0, 86400000, 0, 90000 },
		{ "0.5", 0, 86400000, 0, 500 },
		{ "1.250", 0, 86400000, 0, 1250 },
		{ "1.25", 0, 86400000, 0, 1250 },
		{ "0.001", 1, 86400000, 0, 1 },
		{ "0", 0, 1000, 0, 0 },
		{ "86400", 1, 86400000, 0, 86400000 },
		/* out of range */
		{ "0", 1, 86400000, -ERANGE, 0 },
		{ "0.05", 100, 1000, -ERANGE, 0 },
		{ "86400.001", 1, 86400000, -ERANGE, 0 },
		{ "4294968", 0, UINT_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 0, UINT_MAX, -ERANGE, 0 },
		/* not the syntax */
		{ "", 0, 1000, -EINVAL, 0 },
		{ ".5", 0, 1000, -EINVAL, 0 },
		{ "1.", 0, 1000, -EINVAL, 0 },
		{ "0.0001", 0, 1000, -EINVAL, 0 },
		{ "-1", 0, 1000, -EINVAL, 0 },
		{ "+1", 0, 1000, -EINVAL, 0 },
		{ " 1", 0, 1000, -EINVAL, 0 },
		{ "1 ", 0, 1000, -EINVAL, 0 },
		{ "1e3", 0, 1000000, -EINVAL, 0 },
		{ "0x10", 0, 1000000, -EINVAL, 0 },
		{ "1s", 0, 1000000, -EINVAL, 0 },
		{ "inf", 0, 1000000, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned ms = 12345;
		int r = parse_seconds_ms(cases[i].s, cases[i].min_ms, cases[i].max_ms, &ms);

		if (r != cases[i].r)
			fail_msg("\"%s\": %d, expected %d", cases[i].s, r, cases[i].r);
		/* the result, or untouched on failure */
		assert_int_equal(ms, r == 0 ? cases[i].ms : 12345);
	}
}

static void test_str_in_list(void **state)
{
	static const char *const list[] = { "name", "state", NULL };
	static const char *const empty[] = { NULL };

	(void)state;
	assert_true(str_in_list("name", list));
	assert_true(str_in_list("state", list));
	assert_false(str_in_list("nam", list));
	assert_false(str_in_list("", list));
	assert_false(str_in_list("name", empty));
}

static void test_parse_int64(void **state)
{
	static const struct {
		const char *s;
		int64_t min, max;
		int r;
		int64_t v;
	} cases[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "-5", -5, 5, 0, -5 },
		{ "007", 0, 10, 0, 7 }, /* decimal, not octal */
		{ "9223372036854775807", INT64_MIN, INT64_MAX, 0, INT64_MAX },
		{ "-9223372036854775808", INT64_MIN, INT64_MAX, 0, INT64_MIN },
		/* out of the range asked for, or of int64 */
		{ "11", 0, 10, -ERANGE, 0 },
		{ "-6", -5, 5, -ERANGE, 0 },
		{ "-1", 0, 10, -ERANGE, 0 },
		{ "9223372036854775808", INT64_MIN, INT64_MAX, -ERANGE, 0 },
		{ "-9223372036854775809", INT64_MIN, INT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 0, 10, -ERANGE, 0 },
		/* not a decimal integer */
		{ "", 0, 10, -EINVAL, 0 },
		{ "x", 0, 10, -EINVAL, 0 },
		{ "5x", 0, 10, -EINVAL, 0 },
		{ "5 ", 0, 10, -EINVAL, 0 },
		{ "0x5", 0, 10, -EINVAL, 0 },
		{ "1.5", 0, 10, -EINVAL, 0 },
		{ "1e1", 0, 100, -EINVAL, 0 },
		{ "-", 0, 10, -EINVAL, 0 },
	};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r;

		v = 12345;
		r = parse_int64(cases[i].s, cases[i].min, cases[i].max, &v);
		if (r != cases[i].r)
			fail_msg("\"%s\": %d, expected %d", cases[i].s, r, cases[i].r);
		/* the result, or untouched on failure */
		assert_int_equal(v, r == 0 ? cases[i].v : 12345);
	}
	assert_int_equal(parse_int64(NULL, 0, 10, &v), -EINVAL);
}

static void test_parse_bool(void **state)
{
	static const char *const yes[] = { "1", "yes", "true", "on", "YES", "True", "On" };
	static const char *const no[] = { "0", "no", "false", "off", "NO", "False", "OFF" };
	static const char *const neither[] = { "", "2", "y", "n", "yess", "of", "enabled", " 1" };
	bool b;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		b = false;
		assert_int_equal(parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		b = true;
		assert_int_equal(parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < ARRAY_SIZE(neither); i++) {
		b = true;
		if (parse_bool(neither[i], &b) != -EINVAL)
			fail_msg("\"%s\" was taken for a boolean", neither[i]);
		assert_true(b);
	}
}

/* ---- files, in a temporary directory ---- */

static char dir[64];

static int dir_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-util.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int dir_teardown(void **state)
{

	(void)state;
	return tmptree_remove(dir);
}

static const char *in_dir(const char *rel)
{
	static char p[4][256];
	static unsigned n;
	char *s = p[n++ % 4];

	snprintf(s, sizeof(p[0]), "%s/%s", dir, rel);
	return s;
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* The first SIZE bytes, fewer only at the file's end; -errno for a file
 * that is not there. */
static void test_read_head_of(void **state)
{
	unsigned char buf[8];

	(void)state;
	assert_int_equal(write_file_atomic(in_dir("head"), "0123456789", 10, 0644), 0);
	assert_int_equal(read_head_of(in_dir("head"), buf, 4), 4);
	assert_memory_equal(buf, "0123", 4);
	assert_int_equal(read_head_of(in_dir("head"), buf, 8), 8);
	assert_memory_equal(buf, "01234567", 8);
	assert_int_equal(write_file_atomic(in_dir("short"), "abc", 3, 0644), 0);
	assert_int_equal(read_head_of(in_dir("short"), buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(read_head_of(in_dir("none"), buf, sizeof(buf)), -ENOENT);
}

/* What it creates has MODE exactly, whatever the umask (the agent runs
 * under 077); what exists is left alone. */
static void test_mkdir_p(void **state)
{
	mode_t old;

	(void)state;
	assert_int_equal(mkdir(in_dir("old"), 0700), 0);
	old = umask(077);
	assert_int_equal(mkdir_p(in_dir("old/a//b/c/"), 0755), 0);
	umask(old);
	assert_int_equal(mode_of(in_dir("old/a")), 0755);
	assert_int_equal(mode_of(in_dir("old/a/b")), 0755);
	assert_int_equal(mode_of(in_dir("old/a/b/c")), 0755);
	assert_int_equal(mode_of(in_dir("old")), 0700);
	/* again: all there, nothing changes */
	assert_int_equal(chmod(in_dir("old/a"), 0750), 0);
	assert_int_equal(mkdir_p(in_dir("old/a/b"), 0711), 0);
	assert_int_equal(mode_of(in_dir("old/a")), 0750);
	assert_int_equal(mode_of(in_dir("old/a/b")), 0755);
	/* a file on the way */
	assert_int_equal(write_file_atomic(in_dir("file"), "x", 1, 0644), 0);
	assert_int_equal(mkdir_p(in_dir("file/sub"), 0755), -ENOTDIR);
	/* ...or where the directory should be: not "there already" */
	assert_int_equal(mkdir_p(in_dir("file"), 0755), -ENOTDIR);
	assert_int_equal(mkdir_p("", 0755), -ENAMETOOLONG);
}

static void test_write_file_atomic(void **state)
{
	struct dirent **names;
	char *text = NULL;
	size_t len = 0;
	mode_t old;
	int fd, n;

	(void)state;
	old = umask(077);
	assert_int_equal(write_file_atomic(in_dir("f"), "first", 5, 0644), 0);
	umask(old);
	assert_int_equal(mode_of(in_dir("f")), 0644);
	/* a reader that opened the old file goes on reading it whole; a new
	 * open sees the new contents whole: never a part of either */
	fd = open(in_dir("f"), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write_file_atomic(in_dir("f"), "second!", 7, 0600), 0);
	assert_int_equal(mode_of(in_dir("f")), 0600);
	assert_int_equal(read_file(in_dir("f"), 100, &text, &len), 0);
	assert_int_equal(len, 7);
	assert_string_equal(text, "second!");
	free(text);
	{
		char old_text[16] = "";

		assert_int_equal(read(fd, old_text, sizeof(old_text) - 1), 5);
		assert_string_equal(old_text, "first");
	}
	close(fd);
	/* an empty file is a file */
	assert_int_equal(write_file_atomic(in_dir("f"), "", 0, 0644), 0);
	assert_int_equal(read_file(in_dir("f"), 100, &text, &len), 0);
	assert_int_equal(len, 0);
	free(text);
	/* failures leave nothing behind: no directory, or a directory in the way */
	assert_int_equal(write_file_atomic(in_dir("none/f"), "x", 1, 0644), -ENOENT);
	assert_int_equal(mkdir(in_dir("d"), 0755), 0);
	assert_int_equal(write_file_atomic(in_dir("d"), "x", 1, 0644), -EISDIR);
	n = scandir(dir, &names, NULL, alphasort);
	assert_int_equal(n, 4); /* ".", "..", "d", "f": no temporary file */
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void test_read_file(void **state)
{
	char *text = (char *)"untouched";
	char data[100];
	size_t len = 0;

	(void)state;
	memset(data, 'a', sizeof(data));
	assert_int_equal(write_file_atomic(in_dir("f"), data, sizeof(data), 0644), 0);
	/* longer than the bound: -EFBIG, nothing returned */
	assert_int_equal(read_file(in_dir("f"), 99, &text, &len), -EFBIG);
	assert_string_equal(text, "untouched");
	assert_int_equal(read_file(in_dir("f"), 10, &text, NULL), -EFBIG);
	/* exactly the bound: read (only a longer file is refused) */
	assert_int_equal(read_file(in_dir("f"), 100, &text, &len), 0);
	assert_int_equal(len, 100);
	free(text);
	/* within it: all, NUL-terminated */
	assert_int_equal(read_file(in_dir("f"), 4096, &text, &len), 0);
	assert_int_equal(len, 100);
	assert_int_equal(text[100], '\0');
	assert_memory_equal(text, data, 100);
	free(text);
	/* files whose size stat(2) does not know: /proc's */
	assert_int_equal(read_file("/proc/self/stat", 4096, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_true(len > 0);
	free(text);
	text = (char *)"untouched";
	assert_int_equal(read_file(in_dir("missing"), 100, &text, NULL), -ENOENT);
	assert_string_equal(text, "untouched");
	/* write_file writes what exists, and creates nothing */
	assert_int_equal(write_file(in_dir("f"), "new"), 0);
	assert_int_equal(read_file(in_dir("f"), 4096, &text, &len), 0);
	assert_int_equal(len, 100);
	assert_memory_equal(text, "newaaa", 6);
	free(text);
	assert_int_equal(write_file(in_dir("missing"), "x"), -ENOENT);
	assert_int_equal(access(in_dir("missing"), F_OK), -1);
}

static void test_mountinfo_unescape(void **state)
{
	static const char *const cases[][2] = {
		{ "/mnt/my\\040dir", "/mnt/my dir" },
		{ "a\\011b\\012c", "a\tb\nc" },
		{ "back\\134slash", "back\\slash" },
		{ "\\040\\040", "  " },
		/* not an escape: left as it is */
		{ "a\\b", "a\\b" },
		{ "a\\04", "a\\04" },
		{ "a\\400", "a\\400" },
		{ "a\\08x", "a\\08x" },
		{ "trailing\\", "trailing\\" },
		{ "", "" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i][0]);
		mountinfo_unescape(buf);
		assert_string_equal(buf, cases[i][1]);
	}
}

/* ---- deadlines ---- */

/* The milliseconds, rounded up, from the call's own now to DEADLINE: a now
 * that lies between the clock's readings before and after the call, however
 * long the call took (an emulator's can take more than a microsecond). */
static void check_ms_until(uint64_t from_now)
{
	uint64_t before = now_mono_ns(), deadline = before + from_now, after;
	int ms = ms_until(deadline);
	uint64_t most, least;

	after = now_mono_ns();
	most = (from_now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	least = after >= deadline ? 0 : (deadline - after + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	if (ms < 0 || (uint64_t)ms > most || (uint64_t)ms < least)
		fail_msg("ms_until(now + %llu ns) = %d, not in [%llu, %llu]",
			 (unsigned long long)from_now, ms, (unsigned long long)least,
			 (unsigned long long)most);
}

static void test_clocks_and_ms_until(void **state)
{
	uint64_t now = now_mono_ns();

	(void)state;
	assert_true(now_mono_ns() >= now);
	assert_true(now_boot_ns() >= now); /* boot time counts suspend too */
	assert_int_equal(ms_until(0), 0);
	assert_int_equal(ms_until(now), 0);
	/* rounded up: poll(2) never wakes before the deadline (a microsecond
	 * ahead is 1 ms, unless the clock has passed it by the call's own now) */
	check_ms_until(1000);
	check_ms_until(1500 * NSEC_PER_MSEC + 1);
	check_ms_until(5 * NSEC_PER_SEC);
}

static void test_fd_wait(void **state)
{
	uint64_t t0;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	/* nothing to read: a time-out at the deadline, not before, not long after */
	t0 = now_mono_ns();
	assert_int_equal(fd_wait(sv[0], POLLIN, t0 + 100 * NSEC_PER_MSEC), -ETIMEDOUT);
	assert_true(now_mono_ns() - t0 >= 100 * NSEC_PER_MSEC);
	assert_true(now_mono_ns() - t0 < 1000 * NSEC_PER_MSEC);
	/* ready at once */
	assert_int_equal(fd_wait(sv[0], POLLOUT, now_mono_ns() + NSEC_PER_SEC), 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(fd_wait(sv[0], POLLIN, now_mono_ns() + NSEC_PER_SEC), 0);
	/* a peer that went away: ready, and the read says so */
	close(sv[1]);
	t0 = now_mono_ns();
	assert_int_equal(fd_wait(sv[0], POLLIN, t0 + 5 * NSEC_PER_SEC), 0);
	assert_true(now_mono_ns() - t0 < NSEC_PER_SEC);
	close(sv[0]);
}

struct drain {
	int fd;
	size_t got;
	unsigned char sum;
};

static void *drain_run(void *data)
{
	struct drain *d = data;
	unsigned char buf[65536];
	ssize_t n;

	while ((n = read(d->fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			/* in order: byte k is k mod 251 */
			if (buf[i] != (unsigned char)((d->got) % 251))
				d->sum = 1;
			d->got++;
		}
	return NULL;
}

static void test_send_all_until(void **state)
{
	size_t big = 8 << 20;
	unsigned char *data = malloc(big);
	struct drain d = { 0 };
	pthread_t thread;
	uint64_t t0;
	int sv[2];

	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (unsigned char)(i % 251);
	/* a reader that keeps up: everything arrives, in order */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	d.fd = sv[1];
	assert_int_equal(pthread_create(&thread, NULL, drain_run, &d), 0);
	assert_int_equal(send_all_until(sv[0], data, big, now_mono_ns() + 30 * NSEC_PER_SEC), 0);
	close(sv[0]);
	pthread_join(thread, NULL);
	close(sv[1]);
	assert_int_equal(d.got, big);
	assert_int_equal(d.sum, 0);

	/* a peer that reads nothing: -ETIMEDOUT at the deadline */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	t0 = now_mono_ns();
	assert_int_equal(send_all_until(sv[0], data, big, t0 + 200 * NSEC_PER_MSEC), -ETIMEDOUT);
	assert_true(now_mono_ns() - t0 >= 200 * NSEC_PER_MSEC);
	assert_true(now_mono_ns() - t0 < 2 * NSEC_PER_SEC);
	/* a peer that went away: -EPIPE, and no SIGPIPE (which would end this
	 * test: it is not ignored here) */
	close(sv[1]);
	assert_int_equal(send_all_until(sv[0], "x", 1, now_mono_ns() + NSEC_PER_SEC), -EPIPE);
	close(sv[0]);
	free(data);
}

/* sock_error: a refused non-blocking connect's error, once (reading clears
 * it); none on a fresh socket; getsockopt's own error on what is no socket. */
static void test_sock_error(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0), c, fds[2];
	struct pollfd pfd;

	(void)state;
	if (l < 0)
		skip();
	/* a port nobody listens on: bound, then closed */
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	close(l);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c >= 0);
	assert_int_equal(sock_error(c), 0);
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != EINPROGRESS) {
		/* refused at once: nothing is left pending to read */
		assert_int_equal(errno, ECONNREFUSED);
	} else {
		pfd = (struct pollfd){ .fd = c, .events = POLLOUT };
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		assert_int_equal(sock_error(c), -ECONNREFUSED);
		assert_int_equal(sock_error(c), 0);
	}
	close(c);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(sock_error(fds[0]), -ENOTSOCK);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_seconds_ms),
		cmocka_unit_test(test_str_in_list),
		cmocka_unit_test(test_parse_int64),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test_setup_teardown(test_mkdir_p, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_head_of, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_write_file_atomic, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_file, dir_setup, dir_teardown),
		cmocka_unit_test(test_mountinfo_unescape),
		cmocka_unit_test(test_clocks_and_ms_until),
		cmocka_unit_test(test_fd_wait),
		cmocka_unit_test(test_send_all_until),
		cmocka_unit_test(test_sock_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
