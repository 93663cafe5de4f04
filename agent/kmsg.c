/* Reading /dev/kmsg for porthole-logs "kernel". The format is the kernel's
 * ABI (Documentation/ABI/testing/dev-kmsg); the ring keeps what a reply may
 * hold. Opening and answering are cmd-services.c's.
 *
 * Times: a record's USEC is the kernel's local_clock() at printk, counted
 * from boot and stopped during suspend, like CLOCK_MONOTONIC (which the
 * kernel derives from the same clocksource, NTP-adjusted). Adding
 * CLOCK_REALTIME - CLOCK_MONOTONIC as it is *now* gives the epoch time the
 * record would have had if the wall clock had been right all along: a step
 * of the clock since (the agent's own time sync at boot) is applied to old
 * records too, and local_clock's drift from CLOCK_MONOTONIC (sched_clock,
 * not NTP-slewed) is not corrected: for a VM up for days, some
 * milliseconds. dmesg -T makes the same approximation with BOOTTIME. */
#include "kmsg.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int parse_u64(const char **p, const char *end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *s = *p;

	if (s == end || *s < '0' || *s > '9')
		return -EINVAL;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*ret = v;
	return 0;
}

int kmsg_parse(const char *buf, size_t len, struct kmsg_record *ret)
{
	const char *p = buf, *end = buf + len, *semi, *nl;
	uint64_t prio, seq, usec;

	semi = memchr(buf, ';', len);
	if (!semi)
		return -EINVAL;
	if (parse_u64(&p, semi, &prio) < 0 || p == semi || *p++ != ',' ||
	    parse_u64(&p, semi, &seq) < 0 || p == semi || *p++ != ',' ||
	    parse_u64(&p, semi, &usec) < 0)
		return -EINVAL;
	/* then ",FLAGS" and maybe more fields, which newer kernels may add */
	if (p != semi && *p != ',')
		return -EINVAL;
	if (prio > 0xffffff)
		return -EINVAL;
	ret->level = (int)(prio & 7);
	ret->facility = (int)(prio >> 3);
	ret->seq = seq;
	ret->usec = usec;
	ret->continuation = p != semi && p[1] == 'c';
	ret->text = semi + 1;
	/* the text ends at the first newline; the dictionary lines follow */
	nl = memchr(ret->text, '\n', (size_t)(end - ret->text));
	ret->text_len = (size_t)((nl ? nl : end) - ret->text);
	return 0;
}

int kmsg_ring_init(struct kmsg_ring *r, size_t cap, size_t max_bytes)
{
	*r = (struct kmsg_ring){ .cap = cap, .max_bytes = max_bytes };
	if (cap == 0)
		return -EINVAL;
	r->lines = calloc(cap, sizeof(*r->lines));
	return r->lines ? 0 : -ENOMEM;
}

static void drop_oldest(struct kmsg_ring *r)
{
	struct kmsg_line *l = &r->lines[r->start];

	r->bytes -= l->len;
	free(l->text);
	*l = (struct kmsg_line){ 0 };
	r->start = (r->start + 1) % r->cap;
	r->n--;
}

int kmsg_ring_push(struct kmsg_ring *r, double time, int level, uint64_t seq, const char *text,
		   size_t len)
{
	char *copy;

	/* a line longer than the whole budget is cut to it */
	if (len > r->max_bytes)
		len = r->max_bytes;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	while (r->n > 0 && (r->n == r->cap || r->bytes + len > r->max_bytes))
		drop_oldest(r);
	r->lines[(r->start + r->n) % r->cap] = (struct kmsg_line){
		.time = time, .level = level, .seq = seq, .text = copy, .len = len
	};
	r->n++;
	r->bytes += len;
	return 0;
}

const struct kmsg_line *kmsg_ring_get(const struct kmsg_ring *r, size_t i)
{
	return i < r->n ? &r->lines[(r->start + i) % r->cap] : NULL;
}

void kmsg_ring_free(struct kmsg_ring *r)
{
	while (r->n > 0)
		drop_oldest(r);
	free(r->lines);
	r->lines = NULL;
}

int kmsg_read(int fd, double since, double realtime_minus_mono, struct kmsg_ring *ring)
{
	char buf[KMSG_RECORD_MAX];

	for (size_t i = 0; i < KMSG_READ_MAX; i++) {
		struct kmsg_record rec;
		ssize_t n = read(fd, buf, sizeof(buf));
		double t;
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		/* the record we were at was overwritten: the next read gives
		 * the oldest left, and the gap shows in its seq */
		if (n < 0 && errno == EPIPE)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		if (kmsg_parse(buf, (size_t)n, &rec) < 0)
			continue;
		if (rec.seq > ring->next_seq)
			ring->lost += rec.seq - ring->next_seq;
		ring->next_seq = rec.seq + 1;
		t = (double)rec.usec / USEC_PER_SEC + realtime_minus_mono;
		if (t < since)
			continue;
		r = kmsg_ring_push(ring, t, rec.level, rec.seq, rec.text, rec.text_len);
		if (r < 0)
			return r;
	}
	return 0;
}

double kmsg_realtime_minus_mono(void)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (double)(rt.tv_sec - mono.tv_sec) +
	       (double)(rt.tv_nsec - mono.tv_nsec) / NSEC_PER_SEC;
}
