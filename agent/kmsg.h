/* The kernel log as porthole-logs shows it: /dev/kmsg's records
 * (Documentation/ABI/testing/dev-kmsg) parsed, timed in seconds since the
 * epoch, and the last N kept in a bounded ring while reading. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KMSG_PATH "/dev/kmsg"
/* one read(2) returns one record; the kernel's are under 1 KiB of text
 * plus their dictionary */
#define KMSG_RECORD_MAX 8192
/* records read in one call at most, whatever keeps writing meanwhile */
#define KMSG_READ_MAX 1000000

/* One record: "PRIO,SEQ,USEC,FLAGS[,...];TEXT\n[ KEY=VALUE\n]..." */
struct kmsg_record {
	int level; /* 0 (emerg) to 7 (debug) */
	int facility; /* 0 for the kernel's own */
	uint64_t seq;
	uint64_t usec; /* the kernel's clock (local_clock) when logged */
	bool continuation; /* FLAGS had 'c' */
	const char *text; /* into the record, not NUL-terminated */
	size_t text_len;
};

/* Parses the LEN bytes of one record; -EINVAL when it is not one. */
int kmsg_parse(const char *buf, size_t len, struct kmsg_record *ret);

struct kmsg_line {
	double time; /* seconds since the epoch */
	int level;
	uint64_t seq;
	char *text; /* malloc'd, NUL-terminated */
	size_t len;
};

/* The last CAP lines and at most MAX_BYTES of text: the oldest go first. */
struct kmsg_ring {
	struct kmsg_line *lines;
	size_t cap, start, n;
	size_t bytes, max_bytes;
	uint64_t next_seq; /* the seq expected next; 0 before the first */
	uint64_t lost; /* records the kernel overwrote before we read them */
};

int kmsg_ring_init(struct kmsg_ring *r, size_t cap, size_t max_bytes);
/* Adds a copy of TEXT; the oldest lines leave when CAP or MAX_BYTES would
 * be passed. -ENOMEM leaves the ring as it was. */
int kmsg_ring_push(struct kmsg_ring *r, double time, int level, uint64_t seq, const char *text,
		   size_t len);
/* The I-th line, 0 the oldest. */
const struct kmsg_line *kmsg_ring_get(const struct kmsg_ring *r, size_t i);
void kmsg_ring_free(struct kmsg_ring *r);

/* Reads FD (/dev/kmsg opened O_RDONLY|O_NONBLOCK: one record per read, from
 * the oldest the kernel still holds) until EAGAIN, keeping in RING the
 * records logged at SINCE or later (seconds since the epoch). A record's
 * time is its USEC plus REALTIME_MINUS_MONO (seconds): see kmsg.c for why
 * that is an approximation. Sequence gaps, from the start and from EPIPE
 * (overwritten while we read), are counted in RING->lost. */
int kmsg_read(int fd, double since, double realtime_minus_mono, struct kmsg_ring *ring);

/* CLOCK_REALTIME - CLOCK_MONOTONIC now, in seconds. */
double kmsg_realtime_minus_mono(void);
