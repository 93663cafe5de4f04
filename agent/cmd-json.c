/* cmd_json_*: strings that are always valid UTF-8 and insertions that report
 * failure. Used by the cmd-*.c handlers; the dispatcher serialises. */
#include "cmd-json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at S (at most N bytes), 0 if invalid:
 * RFC 3629, without overlong forms, surrogates or code points past U+10FFFF,
 * which is what jansson accepts. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

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

json_t *cmd_json_stringn(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t bad = 0, i, k;
	char *out;
	json_t *j;

	for (i = 0; i < len; i += k ? k : 1) {
		k = u[i] ? utf8_seq(u + i, len - i) : 0;
		if (!k)
			bad++;
	}
	if (!bad)
		return json_stringn(s, len);
	/* each bad byte (or NUL, which a C string cannot carry) becomes the
	 * three bytes of U+FFFD */
	out = malloc(len + 2 * bad + 1);
	if (!out)
		return NULL;
	for (i = 0, bad = 0; i < len; i += k ? k : 1) {
		k = u[i] ? utf8_seq(u + i, len - i) : 0;
		if (k) {
			memcpy(out + bad, s + i, k);
			bad += k;
		} else {
			memcpy(out + bad, "\xef\xbf\xbd", 3);
			bad += 3;
		}
	}
	j = json_stringn(out, bad);
	free(out);
	return j;
}

json_t *cmd_json_string(const char *s)
{
	return cmd_json_stringn(s, strlen(s));
}

int cmd_json_set(json_t *obj, const char *key, json_t *value)
{
	if (!value)
		return -ENOMEM;
	return json_object_set_new(obj, key, value) < 0 ? -ENOMEM : 0;
}

int cmd_json_append(json_t *array, json_t *value)
{
	if (!value)
		return -ENOMEM;
	return json_array_append_new(array, value) < 0 ? -ENOMEM : 0;
}
