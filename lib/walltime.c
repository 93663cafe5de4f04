/* walltime_check: the bounds every path that sets a clock shares, so that
 * guest-set-time, porthole-time-adjust and the RTC agree on what is sane. */
#include "walltime.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "util.h"

const char *walltime_format(int64_t ns, char *buf, size_t size)
{
	time_t s = (time_t)(ns / NSEC_PER_SEC - (ns % NSEC_PER_SEC < 0));
	struct tm tm;

	if (gmtime_r(&s, &tm) && strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
		return buf;
	snprintf(buf, size, "%lld s since the epoch", (long long)s);
	return buf;
}

int walltime_check(int64_t ns, int64_t build_ns, char *why, size_t why_size)
{
	char at[48], limit[48];

	if (ns < build_ns) {
		snprintf(why, why_size, "%s is before this image was built (%s): refused",
			 walltime_format(ns, at, sizeof(at)),
			 walltime_format(build_ns, limit, sizeof(limit)));
		return -ERANGE;
	}
	if (ns / NSEC_PER_SEC >= WALLTIME_END_S) {
		snprintf(why, why_size, "%s is after 2069 (the RTC's and qemu-ga's limit): refused",
			 walltime_format(ns, at, sizeof(at)));
		return -ERANGE;
	}
	return 0;
}
