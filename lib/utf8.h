/* Text that ends up in JSON: jansson refuses a string that is not valid
 * UTF-8, so every text porthole did not write itself (file contents, service
 * output, mount points, the kernel's strings) and every text cut to fit a
 * buffer goes through here. Used by init, the agent and the host CLI. */
#pragma once

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at S (at most N bytes), 0 if it is not
 * one: RFC 3629, without overlong forms, surrogates or code points past
 * U+10FFFF, which is what jansson accepts. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Cuts the NUL-terminated S before a multi-byte sequence left incomplete at
 * its end (by a truncating snprintf or "%.*s"); returns the new length. */
size_t utf8_cut(char *s);

/* How many bytes of S, at most MAX, end on a character boundary: for
 * "%.*s", which would cut a character in two where "%.64s" does. */
int utf8_prefix(const char *s, size_t max);

/* vsnprintf into BUF, cut on a character boundary when it did not fit (and
 * when it fit, it changes nothing). Returns the length. */
size_t utf8_vformat(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
size_t utf8_format(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A JSON string from the first LEN bytes of S, which should be UTF-8 but
 * need not be: each invalid byte (and NUL, which a C string cannot carry)
 * becomes U+FFFD. NULL only when out of memory. */
json_t *utf8_json_stringn(const char *s, size_t len);
json_t *utf8_json_string(const char *s);
