/* Estimating the guest clock's offset from the host's the way NTP does:
 * from round trips, trusting the one with the smallest round trip, whose
 * error is at most half of it. Pure functions: tests feed them samples. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One round trip: the host's CLOCK_REALTIME and CLOCK_MONOTONIC before the
 * request and after the reply, and the guest's time from the reply. */
struct ts_sample {
	int64_t rt0, mono0;
	int64_t guest;
	int64_t rt1, mono1;
};

struct ts_estimate {
	int64_t offset_ns; /* guest minus host: positive when the guest is ahead */
	int64_t bound_ns; /* the offset is right to within this */
	int64_t rtt_ns; /* of the sample used */
	size_t used; /* which sample */
	size_t rejected; /* samples thrown out (host clock stepped, nonsense) */
};

/* -EINVAL when no sample is usable. A sample is thrown out when the host's
 * realtime moved differently from its monotonic clock during it (the host
 * clock was stepped mid-measurement) or its times are out of order. */
int timesync_estimate(const struct ts_sample *s, size_t n, struct ts_estimate *ret);
