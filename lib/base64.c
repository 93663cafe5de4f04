/* Base64 encoding, and decoding that validates everything before it writes
 * a byte (base64.h). Knows nothing of who asks: the agent decodes with
 * qemu-ga's leniency, the host CLI without. */
#include "base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *src, size_t n, char **ret, size_t *ret_len)
{
	const uint8_t *s = src;
	size_t len, i;
	char *out, *o;

	if (n > (SIZE_MAX - 1) / 4 * 3 - 2)
		return -EOVERFLOW;
	len = (n + 2) / 3 * 4;
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	o = out;
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 0x3f];
		*o++ = alphabet[(v >> 6) & 0x3f];
		*o++ = alphabet[v & 0x3f];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;

		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 0x3f];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;

		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 0x3f];
		*o++ = alphabet[(v >> 6) & 0x3f];
		*o++ = '=';
	}
	*o = '\0';
	*ret = out;
	if (ret_len)
		*ret_len = len;
	return 0;
}

/* The value of an alphabet character, -1 for '=', -2 for a line break
 * (skipped when lenient, as qemu's qbase64_decode allows), -3 for anything
 * else. */
static int value_of(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	if (c == '=')
		return -1;
	if (c == '\n' || c == '\r')
		return -2;
	return -3;
}

int base64_decode(const char *src, size_t len, unsigned flags, void **ret, size_t *ret_len)
{
	bool lenient = flags & BASE64_LENIENT;
	size_t digits = 0, pad = 0, n = 0;
	uint32_t acc = 0;
	uint8_t *out;

	/* first pass: validate and count, so that the output is sized exactly */
	for (size_t i = 0; i < len; i++) {
		int v = value_of((unsigned char)src[i]);

		if (v == -3 || (v == -2 && !lenient))
			return -EINVAL;
		if (v == -2)
			continue;
		if (v == -1)
			pad++;
		else if (pad)
			return -EINVAL; /* data after padding */
		else
			digits++;
	}
	/* a lone character carries 6 bits: not a byte; padding only completes
	 * the last quantum of four, and RFC 4648 wants it there */
	if (digits % 4 == 1 || pad > 2 || (pad && (digits + pad) % 4))
		return -EINVAL;
	if (!lenient && (digits + pad) % 4)
		return -EINVAL;
	/* whole quanta, and room for the last one's two bytes and the NUL */
	out = malloc(digits / 4 * 3 + 3);
	if (!out)
		return -ENOMEM;
	digits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = value_of((unsigned char)src[i]);

		if (v < 0)
			continue;
		acc = acc << 6 | (uint32_t)v;
		if (++digits % 4 == 0) {
			out[n++] = (uint8_t)(acc >> 16);
			out[n++] = (uint8_t)(acc >> 8);
			out[n++] = (uint8_t)acc;
			acc = 0;
		}
	}
	/* the partial quantum: 2 characters are one byte, 3 are two */
	if (digits % 4 == 2) {
		out[n++] = (uint8_t)(acc >> 4);
	} else if (digits % 4 == 3) {
		out[n++] = (uint8_t)(acc >> 10);
		out[n++] = (uint8_t)(acc >> 2);
	}
	out[n] = '\0';
	*ret = out;
	*ret_len = n;
	return 0;
}
