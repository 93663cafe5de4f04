/* lib/shellframe.c: porthole-shell's frames both ways, round trips, every
 * prefix of a frame waited for, and hostile headers and values refused as
 * soon as they can be, with a message that names the fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shellframe.h"

static long decode(const void *buf, size_t len, enum shellframe_from from, struct shellframe *f,
		   char *why)
{
	why[0] = '\0';
	return shellframe_decode(buf, len, from, f, why, SHELLFRAME_WHY_MAX);
}

static void test_round_trip(void **state)
{
	uint8_t buf[SHELLFRAME_MAX], data[SHELLFRAME_DATA_MAX];
	char why[SHELLFRAME_WHY_MAX];
	struct shellframe f;
	long n;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);

	n = shellframe_encode_data(buf, sizeof(buf), SHELLFRAME_STDIN, "ls\r", 3);
	assert_int_equal(n, 7);
	assert_memory_equal(buf, "\x01\x00\x00\x03ls\r", 7);
	assert_int_equal(decode(buf, (size_t)n, SHELLFRAME_FROM_HOST, &f, why), 7);
	assert_int_equal(f.type, SHELLFRAME_STDIN);
	assert_int_equal(f.len, 3);
	assert_ptr_equal(f.data, buf + 4);

	/* the largest data frame, both data types of the guest */
	n = shellframe_encode_data(buf, sizeof(buf), SHELLFRAME_STDERR, data, sizeof(data));
	assert_int_equal(n, SHELLFRAME_MAX);
	assert_int_equal(decode(buf, (size_t)n, SHELLFRAME_FROM_GUEST, &f, why), SHELLFRAME_MAX);
	assert_int_equal(f.type, SHELLFRAME_STDERR);
	assert_int_equal(f.len, SHELLFRAME_DATA_MAX);
	assert_memory_equal(f.data, data, sizeof(data));
	n = shellframe_encode_data(buf, sizeof(buf), SHELLFRAME_STDOUT, data, 1);
	assert_int_equal(decode(buf, (size_t)n, SHELLFRAME_FROM_GUEST, &f, why), 5);
	assert_int_equal(f.type, SHELLFRAME_STDOUT);

	n = shellframe_encode_eof(buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "\x02\x00\x00\x00", 4);
	assert_int_equal(decode(buf, 4, SHELLFRAME_FROM_HOST, &f, why), 4);
	assert_int_equal(f.type, SHELLFRAME_STDIN_EOF);

	n = shellframe_encode_resize(buf, sizeof(buf), 50, 65535);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "\x03\x00\x00\x04\x00\x32\xff\xff", 8);
	assert_int_equal(decode(buf, 8, SHELLFRAME_FROM_HOST, &f, why), 8);
	assert_int_equal(f.rows, 50);
	assert_int_equal(f.cols, 65535);

	n = shellframe_encode_signal(buf, sizeof(buf), 2);
	assert_int_equal(decode(buf, (size_t)n, SHELLFRAME_FROM_HOST, &f, why), 5);
	assert_int_equal(f.type, SHELLFRAME_SIGNAL);
	assert_int_equal(f.signal, 2);

	n = shellframe_encode_exit(buf, sizeof(buf), 7, 0);
	assert_memory_equal(buf, "\x83\x00\x00\x02\x00\x07", 6);
	assert_int_equal(decode(buf, (size_t)n, SHELLFRAME_FROM_GUEST, &f, why), 6);
	assert_int_equal(f.exit_code, 7);
	assert_int_equal(f.signal, 0);
	n = shellframe_encode_exit(buf, sizeof(buf), 0, 9);
	assert_int_equal(decode(buf, (size_t)n, SHELLFRAME_FROM_GUEST, &f, why), 6);
	assert_int_equal(f.exit_code, -1);
	assert_int_equal(f.signal, 9);
	n = shellframe_encode_exit(buf, sizeof(buf), 255, 0);
	assert_int_equal(decode(buf, (size_t)n, SHELLFRAME_FROM_GUEST, &f, why), 6);
	assert_int_equal(f.exit_code, 255);

	n = shellframe_encode_error(buf, sizeof(buf), "bad frame");
	assert_int_equal(n, 13);
	assert_int_equal(decode(buf, (size_t)n, SHELLFRAME_FROM_GUEST, &f, why), 13);
	assert_int_equal(f.type, SHELLFRAME_ERROR);
	assert_memory_equal(f.data, "bad frame", 9);
}

/* Every proper prefix of a valid frame is "not yet", never an error. */
static void test_prefixes_wait(void **state)
{
	uint8_t buf[64];
	char why[SHELLFRAME_WHY_MAX];
	struct shellframe f;
	long n = shellframe_encode_resize(buf, sizeof(buf), 24, 80);

	(void)state;
	for (size_t i = 0; i < (size_t)n; i++)
		assert_int_equal(decode(buf, i, SHELLFRAME_FROM_HOST, &f, why), 0);
	n = shellframe_encode_data(buf, sizeof(buf), SHELLFRAME_STDOUT, "hello", 5);
	for (size_t i = 0; i < (size_t)n; i++)
		assert_int_equal(decode(buf, i, SHELLFRAME_FROM_GUEST, &f, why), 0);
}

/* Frames one after another in one buffer, as a read delivers them. */
static void test_stream(void **state)
{
	uint8_t buf[256];
	char why[SHELLFRAME_WHY_MAX];
	struct shellframe f;
	size_t len = 0, off = 0;
	enum shellframe_type seen[8];
	size_t n_seen = 0;
	long n;

	(void)state;
	len += (size_t)shellframe_encode_resize(buf + len, sizeof(buf) - len, 40, 120);
	len += (size_t)shellframe_encode_data(buf + len, sizeof(buf) - len, SHELLFRAME_STDIN, "x",
					      1);
	len += (size_t)shellframe_encode_signal(buf + len, sizeof(buf) - len, 15);
	len += (size_t)shellframe_encode_eof(buf + len, sizeof(buf) - len);
	while ((n = decode(buf + off, len - off, SHELLFRAME_FROM_HOST, &f, why)) > 0) {
		seen[n_seen++] = f.type;
		off += (size_t)n;
	}
	assert_int_equal(n, 0);
	assert_int_equal(off, len);
	assert_int_equal(n_seen, 4);
	assert_int_equal(seen[0], SHELLFRAME_RESIZE);
	assert_int_equal(seen[1], SHELLFRAME_STDIN);
	assert_int_equal(seen[2], SHELLFRAME_SIGNAL);
	assert_int_equal(seen[3], SHELLFRAME_STDIN_EOF);
}

static void expect_refused(const void *buf, size_t len, enum shellframe_from from,
			   const char *words)
{
	char why[SHELLFRAME_WHY_MAX];
	struct shellframe f;
	long n = decode(buf, len, from, &f, why);

	if (n != -EBADMSG || !strstr(why, words))
		fail_msg("expected a refusal naming '%s', got %ld '%s'", words, n, why);
}

static void test_hostile(void **state)
{
	(void)state;
	/* an unknown type: told from its first byte, nothing more needed */
	expect_refused("\x00", 1, SHELLFRAME_FROM_HOST, "unknown frame type 0x00");
	expect_refused("{", 1, SHELLFRAME_FROM_HOST, "unknown frame type 0x7b");
	expect_refused("\xff\x00\x00\x00", 4, SHELLFRAME_FROM_GUEST, "unknown frame type 0xff");
	/* the other side's frames */
	expect_refused("\x81", 1, SHELLFRAME_FROM_HOST, "a stdout frame (0x81) from the host");
	expect_refused("\x83\x00\x00\x02\x00\x00", 6, SHELLFRAME_FROM_HOST, "only the guest");
	expect_refused("\x01", 1, SHELLFRAME_FROM_GUEST, "a stdin frame (0x01) from the guest");
	expect_refused("\x04\x00\x00\x01\x09", 5, SHELLFRAME_FROM_GUEST, "only the host");
	/* flags, told from the second byte */
	expect_refused("\x01\x80", 2, SHELLFRAME_FROM_HOST, "flags 0x80");
	/* lengths: told from the header, before any payload arrives */
	expect_refused("\x01\x00\xff\xff", 4, SHELLFRAME_FROM_HOST,
		       "a stdin frame of 65535 bytes: it carries 1 to 32768");
	expect_refused("\x01\x00\x80\x01", 4, SHELLFRAME_FROM_HOST, "32769 bytes");
	expect_refused("\x81\x00\x00\x00", 4, SHELLFRAME_FROM_GUEST, "a stdout frame of 0 bytes");
	expect_refused("\x02\x00\x00\x01", 4, SHELLFRAME_FROM_HOST,
		       "a stdin-eof frame of 1 bytes: it carries 0");
	expect_refused("\x03\x00\x00\x03", 4, SHELLFRAME_FROM_HOST, "it carries 4");
	expect_refused("\x04\x00\x00\x02", 4, SHELLFRAME_FROM_HOST, "it carries 1");
	expect_refused("\x83\x00\x00\x04", 4, SHELLFRAME_FROM_GUEST, "it carries 2");
	expect_refused("\x84\x00\x02\x01", 4, SHELLFRAME_FROM_GUEST, "it carries 1 to 512");
	/* values */
	expect_refused("\x03\x00\x00\x04\x00\x00\x00\x50", 8, SHELLFRAME_FROM_HOST,
		       "a resize to 0 rows and 80 columns");
	expect_refused("\x03\x00\x00\x04\x00\x18\x00\x00", 8, SHELLFRAME_FROM_HOST, "0 columns");
	expect_refused("\x04\x00\x00\x01\x00", 5, SHELLFRAME_FROM_HOST,
		       "signal 0: signals are 1 to 64");
	expect_refused("\x04\x00\x00\x01\x41", 5, SHELLFRAME_FROM_HOST, "signal 65");
	expect_refused("\x04\x00\x00\x01\xff", 5, SHELLFRAME_FROM_HOST, "signal 255");
	expect_refused("\x83\x00\x00\x02\x02\x00", 6, SHELLFRAME_FROM_GUEST, "kind 2");
	expect_refused("\x83\x00\x00\x02\x01\x00", 6, SHELLFRAME_FROM_GUEST, "an exit by signal 0");
	expect_refused("\x83\x00\x00\x02\x01\x80", 6, SHELLFRAME_FROM_GUEST, "signal 128");
}

/* Every byte value as a type: only the direction's own decode. */
static void test_every_type(void **state)
{
	char why[SHELLFRAME_WHY_MAX];
	struct shellframe f;
	unsigned host = 0, guest = 0;

	(void)state;
	for (unsigned t = 0; t < 256; t++) {
		uint8_t b[1] = { (uint8_t)t };

		if (decode(b, 1, SHELLFRAME_FROM_HOST, &f, why) == 0)
			host++;
		if (decode(b, 1, SHELLFRAME_FROM_GUEST, &f, why) == 0)
			guest++;
		else
			assert_true(why[0] != '\0');
	}
	assert_int_equal(host, 4);
	assert_int_equal(guest, 4);
}

static void test_encoders_refuse(void **state)
{
	uint8_t buf[SHELLFRAME_MAX + 16], small[6];
	char big[SHELLFRAME_DATA_MAX + 1] = { 0 };

	(void)state;
	assert_int_equal(shellframe_encode_data(buf, sizeof(buf), SHELLFRAME_STDIN, "", 0),
			 -EINVAL);
	assert_int_equal(
		shellframe_encode_data(buf, sizeof(buf), SHELLFRAME_STDIN, big, sizeof(big)),
		-EINVAL);
	assert_int_equal(shellframe_encode_data(buf, sizeof(buf), SHELLFRAME_EXIT, "ab", 2),
			 -EINVAL);
	assert_int_equal(shellframe_encode_data(small, sizeof(small), SHELLFRAME_STDOUT, "abc", 3),
			 -ENOBUFS);
	assert_int_equal(shellframe_encode_resize(buf, sizeof(buf), 0, 80), -EINVAL);
	assert_int_equal(shellframe_encode_resize(buf, sizeof(buf), 24, 65536), -EINVAL);
	assert_int_equal(shellframe_encode_resize(small, 7, 24, 80), -ENOBUFS);
	assert_int_equal(shellframe_encode_signal(buf, sizeof(buf), 0), -EINVAL);
	assert_int_equal(shellframe_encode_signal(buf, sizeof(buf), 65), -EINVAL);
	assert_int_equal(shellframe_encode_exit(buf, sizeof(buf), 256, 0), -EINVAL);
	assert_int_equal(shellframe_encode_exit(buf, sizeof(buf), -1, 0), -EINVAL);
	assert_int_equal(shellframe_encode_exit(buf, sizeof(buf), 0, 65), -EINVAL);
	assert_int_equal(shellframe_encode_eof(buf, 3), -ENOBUFS);
	assert_int_equal(shellframe_encode_error(buf, sizeof(buf), ""), -EINVAL);
	assert_int_equal(shellframe_put_header(buf, SHELLFRAME_RESIZE, 5), -EINVAL);
	assert_int_equal(shellframe_put_header(buf, (enum shellframe_type)0x7f, 0), -EINVAL);
}

/* An error text longer than the frame allows is cut between characters. */
static void test_error_cut(void **state)
{
	uint8_t buf[SHELLFRAME_MAX];
	char text[1001], why[SHELLFRAME_WHY_MAX];
	struct shellframe f;
	long n;

	(void)state;
	/* "é" is two bytes: 'a' first puts every boundary on an odd offset */
	text[0] = 'a';
	for (size_t i = 1; i + 1 < sizeof(text); i += 2)
		memcpy(text + i, "\xc3\xa9", 2);
	text[sizeof(text) - 1] = '\0';
	n = shellframe_encode_error(buf, sizeof(buf), text);
	assert_true(n > 0);
	assert_int_equal(decode(buf, (size_t)n, SHELLFRAME_FROM_GUEST, &f, why), n);
	assert_int_equal(f.len, SHELLFRAME_ERROR_MAX - 1);
	assert_int_equal(f.data[f.len - 1], 0xa9);
}

static void test_skip_space(void **state)
{
	(void)state;
	assert_int_equal(shellframe_skip_space("\n\x81", 2), 1);
	assert_int_equal(shellframe_skip_space(" \t\r\n", 4), 4);
	assert_int_equal(shellframe_skip_space("\x01\n", 2), 0);
	assert_int_equal(shellframe_skip_space("", 0), 0);
	assert_string_equal(shellframe_type_name(SHELLFRAME_RESIZE), "resize");
	assert_string_equal(shellframe_type_name(0x55), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_prefixes_wait),
		cmocka_unit_test(test_stream),	   cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_every_type), cmocka_unit_test(test_encoders_refuse),
		cmocka_unit_test(test_error_cut),  cmocka_unit_test(test_skip_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
