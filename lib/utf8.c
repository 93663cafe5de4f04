/* utf8_*: validation by RFC 3629, cutting on character boundaries, and JSON
 * strings made valid. No allocation but the JSON string's. */
#include "utf8.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t utf8_cut(char *s)
{
	size_t len = strlen(s), start = len;

	/* back over at most three continuation bytes to the lead byte */
	while (start > 0 && len - start < 4 && ((unsigned char)s[start - 1] & 0xc0) == 0x80)
		start--;
	if (start > 0 && (unsigned char)s[start - 1] >= 0xc0) {
		start--;
		if (!utf8_seq_len((const unsigned char *)s + start, len - start)) {
			s[start] = '\0';
			return start;
		}
	}
	return len;
}

int utf8_prefix(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	/* S goes on past MAX: back off continuation bytes to a lead byte */
	if (n == max && s[n] != '\0')
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	return n > INT_MAX ? INT_MAX : (int)n;
}

size_t utf8_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	if (size == 0)
		return 0;
	if (vsnprintf(buf, size, fmt, ap) < 0)
		buf[0] = '\0';
	return utf8_cut(buf);
}

size_t utf8_format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = utf8_vformat(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

json_t *utf8_json_stringn(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t bad = 0, i, k, o;
	char *out;
	json_t *j;

	for (i = 0; i < len; i += k ? k : 1) {
		k = u[i] ? utf8_seq_len(u + i, len - i) : 0;
		if (!k)
			bad++;
	}
	if (!bad)
		return json_stringn(s, len);
	/* each bad byte becomes the three bytes of U+FFFD */
	out = malloc(len + 2 * bad + 1);
	if (!out)
		return NULL;
	for (i = 0, o = 0; i < len; i += k ? k : 1) {
		k = u[i] ? utf8_seq_len(u + i, len - i) : 0;
		if (k) {
			memcpy(out + o, s + i, k);
			o += k;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
		}
	}
	j = json_stringn(out, o);
	free(out);
	return j;
}

json_t *utf8_json_string(const char *s)
{
	return utf8_json_stringn(s, strlen(s));
}
