/* A service's output: lines cut from its pipes, kept in a bounded ring and
 * appended to a log file rotated by size. Reading the pipes is the
 * supervisor's; answering porthole-logs is the control socket's.
 *
 * The ring is one buffer of ring_bytes holding records (a header, then the
 * text) back to back; a record may wrap around the end, so a wrapped line is
 * copied out before it is handed to a caller. */
#include "svclog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define NOTE_PREFIX "porthole-init: "

struct record {
	int64_t time_us;
	uint32_t len;
	uint32_t stream;
};

struct partial {
	char buf[SVCLOG_LINE_MAX];
	size_t len;
};

struct svclog {
	char *name;
	char *dir; /* NULL: the ring only */
	char *path; /* DIR/NAME.log */
	int fd; /* -1 while not open */
	bool file_failed;
	uint64_t file_size;
	size_t rotate_bytes;
	unsigned keep;

	char *ring;
	size_t cap, head, used, count;
	uint64_t dropped;

	struct partial part[2]; /* stdout, stderr */
};

/* 0 takes the default, for RING_BYTES and ROTATE_BYTES; KEEP 0 keeps no
 * rotated file (the full file starts again empty). */
struct svclog *svclog_new(const char *name, const char *dir, size_t ring_bytes, size_t rotate_bytes,
			  unsigned keep)
{
	struct svclog *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->fd = -1;
	l->cap = ring_bytes ? ring_bytes : SVCLOG_RING_DEFAULT;
	l->rotate_bytes = rotate_bytes ? rotate_bytes : SVCLOG_ROTATE_DEFAULT;
	l->keep = keep;
	l->name = strdup(name);
	l->ring = malloc(l->cap);
	if (!l->name || !l->ring)
		goto fail;
	if (dir) {
		l->dir = strdup(dir);
		if (!l->dir || asprintf(&l->path, "%s/%s.log", dir, name) < 0) {
			l->path = NULL;
			goto fail;
		}
	}
	return l;
fail:
	svclog_free(l);
	return NULL;
}

void svclog_free(struct svclog *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->name);
	free(l->dir);
	free(l->path);
	free(l->ring);
	free(l);
}

static void ring_put(struct svclog *l, size_t off, const void *src, size_t n)
{
	size_t first = n < l->cap - off ? n : l->cap - off;

	memcpy(l->ring + off, src, first);
	memcpy(l->ring, (const char *)src + first, n - first);
}

static void ring_get(const struct svclog *l, size_t off, void *dst, size_t n)
{
	size_t first = n < l->cap - off ? n : l->cap - off;

	memcpy(dst, l->ring + off, first);
	memcpy((char *)dst + first, l->ring, n - first);
}

static size_t ring_next(const struct svclog *l, size_t off, const struct record *r)
{
	return (off + sizeof(*r) + r->len) % l->cap;
}

static void ring_drop_oldest(struct svclog *l)
{
	struct record r;

	ring_get(l, l->head, &r, sizeof(r));
	l->head = ring_next(l, l->head, &r);
	l->used -= sizeof(r) + r.len;
	l->count--;
	l->dropped++;
}

static void ring_push(struct svclog *l, const struct record *r, const char *text)
{
	size_t need = sizeof(*r) + r->len, tail;

	if (need > l->cap) {
		/* a ring smaller than one line: the line never enters it */
		l->dropped++;
		return;
	}
	while (l->cap - l->used < need)
		ring_drop_oldest(l);
	tail = (l->head + l->used) % l->cap;
	ring_put(l, tail, r, sizeof(*r));
	ring_put(l, (tail + sizeof(*r)) % l->cap, text, r->len);
	l->used += need;
	l->count++;
}

static void file_give_up(struct svclog *l, int err, const char *what)
{
	log_warn_errno(err, "%s: %s %s, its lines are kept in memory only from now on", l->name,
		       what, l->path);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->file_failed = true;
}

static int file_open(struct svclog *l)
{
	struct stat st;

	l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (l->fd < 0 && errno == ENOENT && mkdir_p(l->dir, 0755) == 0)
		l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (l->fd < 0)
		return -errno;
	if (fstat(l->fd, &st) < 0)
		return -errno;
	l->file_size = (uint64_t)st.st_size;
	return 0;
}

/* NAME.log.KEEP-1 to NAME.log.KEEP, ..., NAME.log to NAME.log.1: the oldest
 * is replaced by the next oldest, as logrotate does. */
static int file_rotate(struct svclog *l)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];
	size_t size = sizeof(from);

	close(l->fd);
	l->fd = -1;
	if (strlen(l->path) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (l->keep == 0) {
		if (unlink(l->path) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	for (unsigned i = l->keep - 1; i >= 1; i--) {
		snprintf(from, size, "%s.%u", l->path, i);
		snprintf(to, size, "%s.%u", l->path, i + 1);
		if (rename(from, to) < 0 && errno != ENOENT)
			return -errno;
	}
	snprintf(to, size, "%s.1", l->path);
	if (rename(l->path, to) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* "2026-11-27T15:20:01.123Z err TEXT\n" */
static void file_write(struct svclog *l, const struct record *r, const char *text)
{
	char line[64 + SVCLOG_LINE_MAX];
	time_t secs = (time_t)(r->time_us / 1000000);
	struct tm tm;
	size_t n;
	int err;

	if (!l->path || l->file_failed)
		return;
	gmtime_r(&secs, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ %s ",
			      (int)(r->time_us / 1000 % 1000),
			      r->stream == SVCLOG_STDERR ? "err" : "out");
	memcpy(line + n, text, r->len);
	n += r->len;
	line[n++] = '\n';

	if (l->fd >= 0 && l->file_size > 0 && l->file_size + n > l->rotate_bytes) {
		err = file_rotate(l);
		if (err < 0) {
			file_give_up(l, err, "rotate");
			return;
		}
	}
	if (l->fd < 0) {
		err = file_open(l);
		if (err < 0) {
			file_give_up(l, err, "open");
			return;
		}
		/* a file left from before, already full */
		if (l->file_size > 0 && l->file_size + n > l->rotate_bytes) {
			err = file_rotate(l);
			if (err >= 0)
				err = file_open(l);
			if (err < 0) {
				file_give_up(l, err, "rotate");
				return;
			}
		}
	}
	err = write_all(l->fd, line, n);
	if (err < 0) {
		file_give_up(l, err, "write");
		return;
	}
	l->file_size += n;
}

static void add_line(struct svclog *l, enum svclog_stream stream, const char *text, size_t len)
{
	struct timespec ts;
	struct record r;

	clock_gettime(CLOCK_REALTIME, &ts);
	r.time_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	r.len = (uint32_t)len;
	r.stream = stream;
	ring_push(l, &r, text);
	file_write(l, &r, text);
}

static struct partial *partial_of(struct svclog *l, enum svclog_stream stream)
{
	return &l->part[stream == SVCLOG_STDERR];
}

void svclog_feed(struct svclog *l, enum svclog_stream stream, const char *buf, size_t len)
{
	struct partial *p = partial_of(l, stream);

	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t chunk = nl ? (size_t)(nl - buf) : len;

		while (chunk > 0) {
			size_t take;

			/* cut only when more of the line comes: a line of exactly
			 * SVCLOG_LINE_MAX bytes stays one line */
			if (p->len == SVCLOG_LINE_MAX) {
				add_line(l, stream, p->buf, p->len);
				p->len = 0;
			}
			take = SVCLOG_LINE_MAX - p->len < chunk ? SVCLOG_LINE_MAX - p->len : chunk;
			memcpy(p->buf + p->len, buf, take);
			p->len += take;
			buf += take;
			len -= take;
			chunk -= take;
		}
		if (nl) {
			add_line(l, stream, p->buf, p->len);
			p->len = 0;
			buf++;
			len--;
		}
	}
}

void svclog_flush(struct svclog *l, enum svclog_stream stream)
{
	struct partial *p = partial_of(l, stream);

	if (p->len == 0)
		return;
	add_line(l, stream, p->buf, p->len);
	p->len = 0;
}

void svclog_note(struct svclog *l, const char *fmt, ...)
{
	char text[SVCLOG_LINE_MAX + 1];
	size_t n = sizeof(NOTE_PREFIX) - 1;
	va_list ap;
	int r;

	memcpy(text, NOTE_PREFIX, n);
	va_start(ap, fmt);
	r = vsnprintf(text + n, sizeof(text) - n, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	n += (size_t)r;
	if (n > SVCLOG_LINE_MAX)
		n = SVCLOG_LINE_MAX;
	/* one note, one line */
	for (size_t i = 0; i < n; i++)
		if (text[i] == '\n')
			text[i] = ' ';
	add_line(l, SVCLOG_STDERR, text, n);
}

size_t svclog_each(const struct svclog *l, size_t max, int64_t since_us, svclog_fn fn, void *user)
{
	char copy[SVCLOG_LINE_MAX];
	size_t matching = 0, skip, called = 0, off = l->head;
	struct record r;

	for (size_t i = 0; i < l->count; i++, off = ring_next(l, off, &r)) {
		ring_get(l, off, &r, sizeof(r));
		matching += r.time_us >= since_us;
	}
	skip = max && matching > max ? matching - max : 0;
	off = l->head;
	for (size_t i = 0; i < l->count; i++, off = ring_next(l, off, &r)) {
		size_t text_off = (off + sizeof(r)) % l->cap;
		struct svclog_line line;

		ring_get(l, off, &r, sizeof(r));
		if (r.time_us < since_us)
			continue;
		if (skip) {
			skip--;
			continue;
		}
		line.time_us = r.time_us;
		line.stream = (enum svclog_stream)r.stream;
		line.len = r.len;
		if (text_off + r.len <= l->cap) {
			line.text = l->ring + text_off;
		} else {
			ring_get(l, text_off, copy, r.len);
			line.text = copy;
		}
		fn(&line, user);
		called++;
	}
	return called;
}

uint64_t svclog_dropped(const struct svclog *l)
{
	return l->dropped;
}
