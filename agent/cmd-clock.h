/* The clock commands' parts that the agent's main and the tests use: the
 * watcher started at boot, and the checks a time adjustment must pass. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "util.h"

#define CLOCK_OFFSET_MAX_NS (100LL * 366 * 86400 * NSEC_PER_SEC) /* a century */
#define CLOCK_SLEW_MAX_NS (500 * NSEC_PER_MSEC) /* 0.5 s: at 500 ppm, 1000 s to work off */
#define CLOCK_THRESHOLD_DEFAULT_NS \
	(100 * NSEC_PER_MSEC) /* step above 100 ms, as Lima and libkrun */

enum clock_mode {
	CLOCK_AUTO,
	CLOCK_STEP,
	CLOCK_SLEW,
};

/* Decides how OFFSET_NS is applied at NOW_NS: MODE, or for auto a step above
 * THRESHOLD_NS and a slew below. Refuses (-EINVAL, WHY filled) an offset
 * beyond a century, a result that walltime_check refuses (before BUILD_NS,
 * the image's build time, or after 2069), and a slew over 0.5 s. */
int clock_adjust_check(int64_t now_ns, int64_t offset_ns, enum clock_mode mode,
		       int64_t threshold_ns, int64_t build_ns, enum clock_mode *ret_applied,
		       char *why, size_t why_size);

/* Starts the watchers: clock jumps (timerfd with TFD_TIMER_CANCEL_ON_SET),
 * suspend (boottime against monotonic), and the ptp_kvm clock when there
 * is one and agent.ptp_sync is on. */
int clock_watch_start(struct agent *a);
void clock_watch_stop(struct agent *a);
