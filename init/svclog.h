/* A service's output: lines read from its stdout and stderr pipes, kept in a
 * bounded ring in init's memory (what porthole-logs returns) and appended to
 * /var/log/porthole/NAME.log, rotated by size (NAME.log.1 ... NAME.log.KEEP).
 * Nothing here blocks or grows without bound: a line longer than
 * SVCLOG_LINE_MAX is cut into pieces, the oldest lines leave the ring first,
 * and a log file that cannot be written is given up on (said once). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SVCLOG_LINE_MAX 4096
#define SVCLOG_RING_DEFAULT (128 * 1024)
#define SVCLOG_ROTATE_DEFAULT (1024 * 1024)
#define SVCLOG_KEEP_DEFAULT 3

enum svclog_stream {
	SVCLOG_STDOUT = 1,
	SVCLOG_STDERR = 2,
};

struct svclog_line {
	int64_t time_us; /* CLOCK_REALTIME when the line was complete */
	enum svclog_stream stream;
	const char *text; /* without the newline; valid until the next feed */
	size_t len;
};

struct svclog;

/* DIR NULL: no file, the ring only. RING_BYTES bounds the ring (text and
 * bookkeeping); ROTATE_BYTES the file before it is rotated; KEEP how many
 * rotated files stay. NULL when out of memory. */
struct svclog *svclog_new(const char *name, const char *dir, size_t ring_bytes, size_t rotate_bytes,
			  unsigned keep);
void svclog_free(struct svclog *l);

/* Bytes read from STREAM's pipe. Complete lines go to the ring and the
 * file; a partial line waits for its end (per stream). */
void svclog_feed(struct svclog *l, enum svclog_stream stream, const char *buf, size_t len);
/* STREAM's pipe reached its end: a partial line is taken as a line. */
void svclog_flush(struct svclog *l, enum svclog_stream stream);
/* A line init writes itself ("started, pid 12", "exited with status 1"),
 * marked as init's in the file and the ring (stream SVCLOG_STDERR). */
void svclog_note(struct svclog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef void (*svclog_fn)(const struct svclog_line *line, void *user);
/* Calls FN for the last MAX lines (0: all in the ring) whose time is at or
 * after SINCE_US (0: any), oldest first. Returns how many. */
size_t svclog_each(const struct svclog *l, size_t max, int64_t since_us, svclog_fn fn, void *user);
/* Lines that left the ring since it was made (for "N lines dropped"). */
uint64_t svclog_dropped(const struct svclog *l);
