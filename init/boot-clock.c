/* Reads the RTC once at boot. The kernel's CONFIG_RTC_HCTOSYS normally did it
 * already; this covers kernels and RTC drivers where it did not (a module
 * RTC driver loads after hctosys ran). */
#include "boot-clock.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "hwclock.h"
#include "log.h"
#include "util.h"
#include "walltime.h"

int boot_clock_from_rtc(const char *dev)
{
	struct timespec now, set;
	char why[64] = "", why2[160];
	int64_t t;
	int r = hwclock_read(dev, &t, why, sizeof(why));

	if (r == -ENOENT)
		return log_debug_errno(r, "open %s", dev);
	if (r == -ERANGE)
		return log_warn_errno(-EINVAL, "%s holds an invalid time (%s), clock not set", dev,
				      why);
	if (r < 0)
		return log_warn_errno(r, "read %s, clock not set", dev);
	if (walltime_check(t * NSEC_PER_SEC, WALLTIME_BUILD_NS, why2, sizeof(why2)) < 0)
		return log_warn_errno(-ERANGE, "%s: %s, clock not set", dev, why2);
	clock_gettime(CLOCK_REALTIME, &now);
	if (llabs((long long)(now.tv_sec - t)) <= 1)
		return 0;
	set = (struct timespec){ .tv_sec = (time_t)t };
	if (clock_settime(CLOCK_REALTIME, &set) < 0)
		return log_warn_errno(-errno, "set the clock from %s", dev);
	log_info("clock set from %s (was %lld s off)", dev, (long long)(now.tv_sec - t));
	return 1;
}
