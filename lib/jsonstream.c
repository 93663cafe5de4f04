/* The JSON stream splitter (jsonstream.h). It keeps only what it needs to
 * find where a top-level value ends (depth, in a string, after a backslash):
 * the value's bytes are buffered up to the limit, for the caller to parse
 * once whole. Past the limit the bytes are counted, not kept, so a hostile
 * 10 MB request costs nothing but the time to look at it. */
#include "jsonstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
int jsonstream_init(struct jsonstream *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
	s->depth_max = JSONSTREAM_DEPTH_MAX;
	/* grown on demand: an idle connection holds no buffer */
	return 0;
}

void jsonstream_free(struct jsonstream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

bool jsonstream_pending(const struct jsonstream *s)
{
	return s->len > 0 || s->depth > 0 || s->scalar || s->dropping;
}

static void reset(struct jsonstream *s)
{
	s->len = 0;
	s->depth = 0;
	s->in_string = s->escape = s->scalar = s->dropping = s->too_deep = false;
	/* give a large buffer back once it has served */
	if (s->cap > 4096) {
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
}

bool jsonstream_over_limit(const struct jsonstream *s)
{
	return s->dropping && !s->too_deep;
}

size_t jsonstream_reset(struct jsonstream *s)
{
	size_t kept = s->len;

	reset(s);
	s->recovering = false;
	return kept;
}

static int append(struct jsonstream *s, char ch)
{
	if (s->dropping)
		return 0;
	if (s->len == s->max) {
		/* over the limit: drop the value as it goes by */
		s->dropping = true;
		return 0;
	}
	if (s->len == s->cap && buf_reserve(&s->buf, &s->cap, s->len + 1, 256, s->max) < 0)
		return -ENOMEM;
	s->buf[s->len++] = ch;
	return 0;
}

/* APPEND for N bytes at once: what fits under the limit is kept, and the
 * rest drops the value, as N calls of append would. */
static int append_span(struct jsonstream *s, const char *p, size_t n)
{
	size_t room = s->max - s->len;

	if (s->dropping)
		return 0;
	if (n > room) {
		n = room;
		s->dropping = true;
	}
	if (s->len + n > s->cap && buf_reserve(&s->buf, &s->cap, s->len + n, 256, s->max) < 0)
		return -ENOMEM;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

/* A value ended: report it (or why it was dropped) and start afresh. */
static bool finish(struct jsonstream *s, jsonstream_fn fn, void *user)
{
	struct jsonstream_item item = { .event = JSONSTREAM_VALUE, .data = s->buf, .len = s->len };
	bool more;

	if (s->too_deep)
		item = (struct jsonstream_item){ .event = JSONSTREAM_TOO_DEEP };
	else if (s->dropping)
		item = (struct jsonstream_item){ .event = JSONSTREAM_TOO_LONG };
	more = fn(user, &item);
	reset(s);
	return more;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static bool is_delimiter(char ch)
{
	return is_space(ch) || ch == '{' || ch == '[' || ch == '}' || ch == ']' || ch == '"' ||
	       ch == ',' || ch == ':';
}

long jsonstream_feed(struct jsonstream *s, const char *data, size_t n, jsonstream_fn fn, void *user)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = data[i];

		/* Inside a string only a quote, a backslash or 0xFF means
		 * anything: the bytes up to one are kept at once. Most of a
		 * request's bytes are in strings, and byte by byte they cost
		 * as much as the rest of the framing. */
		if (s->in_string && !s->escape) {
			size_t j = i;

			while (j < n && data[j] != '"' && data[j] != '\\' &&
			       (unsigned char)data[j] != 0xFF)
				j++;
			if (j > i) {
				if (append_span(s, data + i, j - i) < 0)
					return -ENOMEM;
				i = j;
				if (i == n)
					break;
				ch = data[i];
			}
		}
		if ((unsigned char)ch == 0xFF) {
			/* qemu-ga's lexer: 0xFF is an error token that resets the
			 * parser; clients send it to resynchronise */
			struct jsonstream_item item = { .event = JSONSTREAM_RESYNC,
							.partial = jsonstream_pending(s) };

			reset(s);
			s->recovering = true;
			if (!fn(user, &item))
				return (long)(i + 1);
			continue;
		}
		if (s->recovering) {
			/* QEMU's lexer after an error: what follows is dropped up to a
			 * structural character, a control character or 0xFE, so that
			 * "\xffgarbage{...}" draws one error, not two */
			if (!strchr("{}[]:,", ch) && (unsigned char)ch >= 0x20 &&
			    (unsigned char)ch != 0xFE)
				continue;
			s->recovering = false;
		}
		if (s->scalar && is_delimiter(ch)) {
			/* a bare scalar at the top level ends before a delimiter */
			if (!finish(s, fn, user))
				return (long)i;
		}
		if (s->depth == 0 && !s->in_string && !s->scalar) {
			if (is_space(ch))
				continue;
			if (ch == '}' || ch == ']') {
				/* a closer without an opener: a value of its own, which
				 * the parser will call what it is */
				if (append(s, ch) < 0)
					return -ENOMEM;
				if (!finish(s, fn, user))
					return (long)(i + 1);
				continue;
			}
			if (ch != '{' && ch != '[' && ch != '"')
				s->scalar = true;
		}
		if (append(s, ch) < 0)
			return -ENOMEM;
		if (s->scalar)
			continue;
		if (s->in_string) {
			if (s->escape)
				s->escape = false;
			else if (ch == '\\')
				s->escape = true;
			else if (ch == '"') {
				s->in_string = false;
				if (s->depth == 0 && !finish(s, fn, user))
					return (long)(i + 1);
			}
			continue;
		}
		switch (ch) {
		case '"':
			s->in_string = true;
			break;
		case '{':
		case '[':
			if (++s->depth > s->depth_max && !s->too_deep) {
				s->too_deep = true;
				s->dropping = true;
			}
			break;
		case '}':
		case ']':
			if (--s->depth == 0 && !finish(s, fn, user))
				return (long)(i + 1);
			break;
		}
	}
	return (long)i;
}
