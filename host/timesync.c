/* The offset estimator (timesync.h). NTP's clock filter keeps, of several
 * samples, the one with the least delay: its offset's error is bounded by
 * half its round trip, whatever the asymmetry of the two directions. */
#include "timesync.h"

#include <errno.h>
#include <stdlib.h>

/* A step of the host's clock within a sample shows as realtime and monotonic
 * disagreeing about how long it took; they run at the same rate otherwise
 * (up to NTP's slew of 500 ppm, far below this over a round trip). */
#define STEP_TOLERANCE_NS 1000000LL

int timesync_estimate(const struct ts_sample *s, size_t n, struct ts_estimate *ret)
{
	struct ts_estimate best = { .rtt_ns = INT64_MAX };

	for (size_t i = 0; i < n; i++) {
		int64_t rtt = s[i].mono1 - s[i].mono0, rt = s[i].rt1 - s[i].rt0;

		if (rtt < 0 || rt < 0 || llabs(rt - rtt) > STEP_TOLERANCE_NS) {
			best.rejected++;
			continue;
		}
		if (rtt < best.rtt_ns) {
			best.rtt_ns = rtt;
			best.used = i;
			/* the guest read its clock somewhere in [rt0, rt1]: the middle
			 * is wrong by half the round trip at most */
			best.offset_ns = s[i].guest - (s[i].rt0 + rt / 2);
			best.bound_ns = (rtt + 1) / 2;
		}
	}
	if (best.rtt_ns == INT64_MAX) {
		ret->rejected = best.rejected;
		return -EINVAL;
	}
	*ret = best;
	return 0;
}
