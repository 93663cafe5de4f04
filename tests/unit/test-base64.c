/* lib/base64.c: RFC 4648's vectors both ways, round trips, the canonical
 * form the host CLI wants and the leniency qemu-ga allows the agent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static void test_vectors(void **state)
{
	/* RFC 4648 section 10, and guest-exec outputs as qemu-ga sends them */
	static const char *const vec[][2] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
		{ "err\n", "ZXJyCg==" },
		{ "hello\n", "aGVsbG8K" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		for (unsigned flags = 0; flags <= BASE64_LENIENT; flags++) {
			char *enc;
			void *dec;
			size_t len;

			assert_int_equal(base64_encode(vec[i][0], strlen(vec[i][0]), &enc, &len),
					 0);
			assert_string_equal(enc, vec[i][1]);
			assert_int_equal(len, strlen(vec[i][1]));
			free(enc);
			dec = NULL;
			assert_int_equal(
				base64_decode(vec[i][1], strlen(vec[i][1]), flags, &dec, &len), 0);
			/* never NULL, and text comes out as a string */
			assert_non_null(dec);
			assert_int_equal(len, strlen(vec[i][0]));
			assert_string_equal(dec, vec[i][0]);
			free(dec);
		}
	}
	/* the length is optional */
	{
		char *enc;

		assert_int_equal(base64_encode("fo", 2, &enc, NULL), 0);
		assert_string_equal(enc, "Zm8=");
		free(enc);
	}
}

static void test_round_trip(void **state)
{
	unsigned char buf[300];

	(void)state;
	srand(42);
	for (size_t n = 0; n < sizeof(buf); n++) {
		char *enc;
		void *dec;
		size_t len, dlen;

		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)rand();
		assert_int_equal(base64_encode(buf, n, &enc, &len), 0);
		assert_int_equal(len, (n + 2) / 3 * 4);
		assert_int_equal(base64_decode(enc, len, 0, &dec, &dlen), 0);
		assert_int_equal(dlen, n);
		assert_memory_equal(dec, buf, n);
		free(enc);
		free(dec);
	}
}

static void test_refused_either_way(void **state)
{
	static const char *const bad[] = {
		"Z", /* a lone character is not a byte */
		"Zg=", /* short padding */
		"Zg===", /* too much */
		"====", /* padding only */
		"Zm9v=YmFy", /* data after padding */
		"Zg==Zg==", /* two padded quanta */
		"ZQ==ZQ==",   "Z=Jy", "ZX=y", /* '=' inside */
		"Zm9v!",      "ZXJ*", /* outside the alphabet */
		"Zm 9v", /* spaces are not line breaks */
		"Zm9v-_", /* the URL alphabet is another encoding */
		"Zm9v\tYmFy", /* nor tabs */
	};
	void *dec;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (unsigned flags = 0; flags <= BASE64_LENIENT; flags++) {
			dec = NULL;
			len = 77;
			if (base64_decode(bad[i], strlen(bad[i]), flags, &dec, &len) != -EINVAL)
				fail_msg("'%s' was accepted (flags %u)", bad[i], flags);
			/* out-parameters untouched on failure */
			assert_null(dec);
			assert_int_equal(len, 77);
		}
	}
	/* a NUL inside LEN is outside the alphabet, not the end */
	assert_int_equal(base64_decode("Zm9v\0YmFy", 9, BASE64_LENIENT, &dec, &len), -EINVAL);
}

static void test_lenient_as_qemu_ga(void **state)
{
	void *dec;
	size_t len;

	(void)state;
	/* what qemu-ga takes: line breaks anywhere, no padding */
	assert_int_equal(base64_decode("Zm9v\nYmFy\r\n", 11, BASE64_LENIENT, &dec, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(dec, "foobar", 6);
	free(dec);
	assert_int_equal(base64_decode("Zm9vYg", 6, BASE64_LENIENT, &dec, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(dec, "foob", 4);
	free(dec);
	assert_int_equal(base64_decode("ZXJ", 3, BASE64_LENIENT, &dec, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(dec, "er", 2);
	free(dec);

	/* the canonical form only, without the flag */
	dec = NULL;
	assert_int_equal(base64_decode("Zm9v\nYmFy", 9, 0, &dec, &len), -EINVAL);
	assert_int_equal(base64_decode("Zm9vYg", 6, 0, &dec, &len), -EINVAL);
	assert_int_equal(base64_decode("ZXJ", 3, 0, &dec, &len), -EINVAL);
	assert_null(dec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused_either_way),
		cmocka_unit_test(test_lenient_as_qemu_ga),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
