/* Restart backoff and the crash window: arithmetic on a small struct, no
 * clock of its own (the caller passes the time), so that the service state
 * machine and its tests decide what "now" is. */
#include "backoff.h"

#include <string.h>

#include "util.h"

/* first << 16 is past any ceiling a service file allows (3600 s) */
#define STEP_MAX 16

void backoff_reset(struct backoff *b)
{
	memset(b, 0, sizeof(*b));
}

uint64_t backoff_next_ms(struct backoff *b, uint64_t lived_ms, unsigned first_ms, unsigned max_ms)
{
	uint64_t delay;

	if (lived_ms >= BACKOFF_STABLE_MS)
		b->step = 0;
	delay = (uint64_t)first_ms << (b->step < STEP_MAX ? b->step : STEP_MAX);
	if (delay > max_ms)
		delay = max_ms;
	if (b->step < STEP_MAX)
		b->step++;
	return delay;
}

bool backoff_crash_loop(struct backoff *b, uint64_t now_ns, unsigned limit, unsigned window_ms)
{
	uint64_t window_ns = (uint64_t)window_ms * NSEC_PER_MSEC;
	unsigned kept = 0;

	/* restarts older than the window no longer count */
	b->in_window = 0;
	for (unsigned i = 0; i < b->n_recent; i++)
		if (now_ns - b->recent[i].ns < window_ns) {
			b->recent[kept++] = b->recent[i];
			b->in_window += b->recent[i].n;
		}
	b->n_recent = kept;
	if (limit && b->in_window >= limit)
		return true;
	if (b->n_recent == BACKOFF_RECENT_MAX) {
		/* full: the two oldest become one, at the later one's time */
		b->recent[1].n += b->recent[0].n;
		memmove(&b->recent[0], &b->recent[1],
			(BACKOFF_RECENT_MAX - 1) * sizeof(b->recent[0]));
		b->n_recent--;
	}
	b->recent[b->n_recent].ns = now_ns;
	b->recent[b->n_recent].n = 1;
	b->n_recent++;
	b->in_window++;
	return false;
}
