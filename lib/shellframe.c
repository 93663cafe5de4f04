/* porthole-shell's frames (shellframe.h): every length and value checked
 * against what its type allows before a field is read, and the header
 * refused as soon as it is complete, so that a peer never makes the other
 * wait for a payload that cannot be valid. */
#include "shellframe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

static const struct {
	enum shellframe_type type;
	const char *name;
	enum shellframe_from from;
	size_t min, max; /* the payload's length */
} types[] = {
	{ SHELLFRAME_STDIN, "stdin", SHELLFRAME_FROM_HOST, 1, SHELLFRAME_DATA_MAX },
	{ SHELLFRAME_STDIN_EOF, "stdin-eof", SHELLFRAME_FROM_HOST, 0, 0 },
	{ SHELLFRAME_RESIZE, "resize", SHELLFRAME_FROM_HOST, 4, 4 },
	{ SHELLFRAME_SIGNAL, "signal", SHELLFRAME_FROM_HOST, 1, 1 },
	{ SHELLFRAME_STDOUT, "stdout", SHELLFRAME_FROM_GUEST, 1, SHELLFRAME_DATA_MAX },
	{ SHELLFRAME_STDERR, "stderr", SHELLFRAME_FROM_GUEST, 1, SHELLFRAME_DATA_MAX },
	{ SHELLFRAME_EXIT, "exit", SHELLFRAME_FROM_GUEST, 2, 2 },
	{ SHELLFRAME_ERROR, "error", SHELLFRAME_FROM_GUEST, 1, SHELLFRAME_ERROR_MAX },
};

static int find_type(unsigned type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return (int)i;
	return -1;
}

const char *shellframe_type_name(unsigned type)
{
	int i = find_type(type);

	return i < 0 ? "unknown" : types[i].name;
}

static long refuse(char *why, size_t why_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static long refuse(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why && why_size) {
		va_start(ap, fmt);
		utf8_vformat(why, why_size, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

long shellframe_decode(const void *buf, size_t len, enum shellframe_from from,
		       struct shellframe *ret, char *why, size_t why_size)
{
	const uint8_t *b = buf;
	struct shellframe f = { 0 };
	size_t plen;
	int t;

	/* the type alone can be refused: a stray byte is told at once */
	if (len < 1)
		return 0;
	t = find_type(b[0]);
	if (t < 0)
		return refuse(why, why_size, "unknown frame type 0x%02x", b[0]);
	if (types[t].from != from)
		return refuse(why, why_size,
			      "a %s frame (0x%02x) from the %s: only the %s sends it",
			      types[t].name, b[0], from == SHELLFRAME_FROM_HOST ? "host" : "guest",
			      from == SHELLFRAME_FROM_HOST ? "guest" : "host");
	if (len < 2)
		return 0;
	if (b[1])
		return refuse(why, why_size, "a %s frame with flags 0x%02x: none is defined",
			      types[t].name, b[1]);
	if (len < SHELLFRAME_HEADER)
		return 0;
	plen = get16(b + 2);
	if (plen < types[t].min || plen > types[t].max) {
		if (types[t].min == types[t].max)
			return refuse(why, why_size, "a %s frame of %zu bytes: it carries %zu",
				      types[t].name, plen, types[t].min);
		return refuse(why, why_size, "a %s frame of %zu bytes: it carries %zu to %zu",
			      types[t].name, plen, types[t].min, types[t].max);
	}
	if (len < SHELLFRAME_HEADER + plen)
		return 0;
	b += SHELLFRAME_HEADER;
	f.type = types[t].type;
	switch (f.type) {
	case SHELLFRAME_STDIN:
	case SHELLFRAME_STDOUT:
	case SHELLFRAME_STDERR:
	case SHELLFRAME_ERROR:
		f.data = b;
		f.len = plen;
		break;
	case SHELLFRAME_STDIN_EOF:
		break;
	case SHELLFRAME_RESIZE:
		f.rows = get16(b);
		f.cols = get16(b + 2);
		if (!f.rows || !f.cols)
			return refuse(why, why_size,
				      "a resize to %u rows and %u columns: each is 1 to 65535",
				      f.rows, f.cols);
		break;
	case SHELLFRAME_SIGNAL:
		f.signal = b[0];
		if (f.signal < 1 || f.signal > SHELLFRAME_SIGNAL_MAX)
			return refuse(why, why_size, "signal %d: signals are 1 to %d", f.signal,
				      SHELLFRAME_SIGNAL_MAX);
		break;
	case SHELLFRAME_EXIT:
		if (b[0] == 0) {
			f.exit_code = b[1];
		} else if (b[0] == 1) {
			f.exit_code = -1;
			f.signal = b[1];
			if (f.signal < 1 || f.signal > SHELLFRAME_SIGNAL_MAX)
				return refuse(why, why_size,
					      "an exit by signal %d: signals are 1 to %d", f.signal,
					      SHELLFRAME_SIGNAL_MAX);
		} else {
			return refuse(why, why_size,
				      "an exit frame of kind %u: 0 (an exit code) or 1 (a signal)",
				      b[0]);
		}
		break;
	}
	*ret = f;
	return (long)(SHELLFRAME_HEADER + plen);
}

int shellframe_put_header(void *buf, enum shellframe_type type, size_t len)
{
	uint8_t *b = buf;
	int t = find_type(type);

	if (t < 0 || len < types[t].min || len > types[t].max)
		return -EINVAL;
	b[0] = (uint8_t)type;
	b[1] = 0;
	put16(b + 2, (unsigned)len);
	return 0;
}

/* A frame of TYPE whose payload is PAYLOAD (LEN bytes). */
static long encode(void *buf, size_t size, enum shellframe_type type, const void *payload,
		   size_t len)
{
	int r;

	if (size < SHELLFRAME_HEADER || size - SHELLFRAME_HEADER < len) {
		/* a value the type refuses is -EINVAL whatever the room */
		int t = find_type(type);

		return t < 0 || len < types[t].min || len > types[t].max ? -EINVAL : -ENOBUFS;
	}
	r = shellframe_put_header(buf, type, len);
	if (r < 0)
		return r;
	if (len)
		memcpy((uint8_t *)buf + SHELLFRAME_HEADER, payload, len);
	return (long)(SHELLFRAME_HEADER + len);
}

long shellframe_encode_data(void *buf, size_t size, enum shellframe_type type, const void *data,
			    size_t len)
{
	if (type != SHELLFRAME_STDIN && type != SHELLFRAME_STDOUT && type != SHELLFRAME_STDERR)
		return -EINVAL;
	return encode(buf, size, type, data, len);
}

long shellframe_encode_eof(void *buf, size_t size)
{
	return encode(buf, size, SHELLFRAME_STDIN_EOF, NULL, 0);
}

long shellframe_encode_resize(void *buf, size_t size, unsigned rows, unsigned cols)
{
	uint8_t p[4];

	if (rows < 1 || rows > 0xffff || cols < 1 || cols > 0xffff)
		return -EINVAL;
	put16(p, rows);
	put16(p + 2, cols);
	return encode(buf, size, SHELLFRAME_RESIZE, p, sizeof(p));
}

long shellframe_encode_signal(void *buf, size_t size, int sig)
{
	uint8_t p = (uint8_t)sig;

	if (sig < 1 || sig > SHELLFRAME_SIGNAL_MAX)
		return -EINVAL;
	return encode(buf, size, SHELLFRAME_SIGNAL, &p, 1);
}

long shellframe_encode_exit(void *buf, size_t size, int code, int sig)
{
	uint8_t p[2] = { sig ? 1 : 0, (uint8_t)(sig ? sig : code) };

	if (sig ? sig < 0 || sig > SHELLFRAME_SIGNAL_MAX : code < 0 || code > 255)
		return -EINVAL;
	return encode(buf, size, SHELLFRAME_EXIT, p, sizeof(p));
}

long shellframe_encode_error(void *buf, size_t size, const char *text)
{
	size_t len = (size_t)utf8_prefix(text, SHELLFRAME_ERROR_MAX);

	return encode(buf, size, SHELLFRAME_ERROR, text, len);
}

size_t shellframe_skip_space(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	size_t n = 0;

	while (n < len && (b[n] == ' ' || b[n] == '\t' || b[n] == '\n' || b[n] == '\r'))
		n++;
	return n;
}
