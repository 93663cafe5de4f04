/* When to restart what init keeps alive, services and the console shell
 * alike: a delay that starts at a first value and doubles with each restart
 * up to a ceiling, starting over after a run that lasted; and the crash
 * window, which tells a crash loop. What to restart and when it has died is
 * the caller's (service.c, supervise.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define BACKOFF_FIRST_MS 500 /* restart_delay's default; the console shell's */
#define BACKOFF_MAX_MS 30000 /* restart_delay_max's default; the console shell's */
#define BACKOFF_STABLE_MS 10000 /* a run this long starts the doubling over */
/* Times remembered in the crash window. More restarts than this within it
 * (crash_limit goes to 1000) share the newest slot's time with their
 * neighbour: they leave the window a little late, never early. */
#define BACKOFF_RECENT_MAX 32

struct backoff {
	unsigned step; /* the next delay is first << step, up to the ceiling */
	struct {
		uint64_t ns; /* CLOCK_MONOTONIC of the latest restart counted here */
		unsigned n; /* restarts counted here */
	} recent[BACKOFF_RECENT_MAX];
	unsigned n_recent; /* slots in use, oldest first */
	unsigned in_window; /* restarts in the window at the last check */
};

/* Forgets every restart: the next delay is the first one. */
void backoff_reset(struct backoff *b);

/* The delay before the next restart of what ran LIVED_MS: FIRST_MS doubled
 * once per earlier restart, at most MAX_MS; the doubling starts over after
 * a run of BACKOFF_STABLE_MS or more. */
uint64_t backoff_next_ms(struct backoff *b, uint64_t lived_ms, unsigned first_ms, unsigned max_ms);

/* A restart asked for at NOW_NS (CLOCK_MONOTONIC): true when LIMIT restarts
 * were already counted within the last WINDOW_MS, a crash loop, and then it
 * is not counted; otherwise it is counted and false. LIMIT 0: no limit. */
bool backoff_crash_loop(struct backoff *b, uint64_t now_ns, unsigned limit, unsigned window_ms);
