/* Reads the RTC once at boot. The kernel's CONFIG_RTC_HCTOSYS normally did it
 * already; this covers kernels and RTC drivers where it did not (a module
 * RTC driver loads after hctosys ran). */
#include "rtc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/rtc.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>

#include "log.h"
#include "util.h"

int rtc_set_system_clock(const char *dev)
{
	_cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC);
	struct rtc_time rt;
	struct tm tm = { 0 };
	struct timespec now, set;
	time_t t;

	if (fd < 0)
		return log_debug_errno(-errno, "open %s", dev);
	if (ioctl(fd, RTC_RD_TIME, &rt) < 0)
		return log_warn_errno(-errno, "read %s, clock not set", dev);
	tm.tm_sec = rt.tm_sec;
	tm.tm_min = rt.tm_min;
	tm.tm_hour = rt.tm_hour;
	tm.tm_mday = rt.tm_mday;
	tm.tm_mon = rt.tm_mon;
	tm.tm_year = rt.tm_year;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return log_warn_errno(-EINVAL, "%s holds an invalid time, clock not set", dev);
	clock_gettime(CLOCK_REALTIME, &now);
	if (llabs((long long)(now.tv_sec - t)) <= 1)
		return 0;
	set = (struct timespec){ .tv_sec = t };
	if (clock_settime(CLOCK_REALTIME, &set) < 0)
		return log_warn_errno(-errno, "set the clock from %s", dev);
	log_info("clock set from %s (was %lld s off)", dev, (long long)(now.tv_sec - t));
	return 1;
}
