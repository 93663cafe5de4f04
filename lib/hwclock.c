/* rtc(4): RTC_RD_TIME and RTC_SET_TIME carry broken-down UTC; each field is
 * checked before use, since an RTC that was never set reads as anything. */
#include "hwclock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/rtc.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int hwclock_read(const char *dev, int64_t *ret_s, char *why, size_t why_size)
{
	_cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC);
	struct rtc_time rt;
	struct tm tm = { 0 };
	time_t t;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, RTC_RD_TIME, &rt) < 0)
		return -errno;
	if (rt.tm_sec < 0 || rt.tm_sec > 60 || rt.tm_min < 0 || rt.tm_min > 59 || rt.tm_hour < 0 ||
	    rt.tm_hour > 23 || rt.tm_mday < 1 || rt.tm_mday > 31 || rt.tm_mon < 0 ||
	    rt.tm_mon > 11 || rt.tm_year < 70 || rt.tm_year >= 170) {
		snprintf(why, why_size, "%04d-%02d-%02d %02d:%02d:%02d", rt.tm_year + 1900,
			 rt.tm_mon + 1, rt.tm_mday, rt.tm_hour, rt.tm_min, rt.tm_sec);
		return -ERANGE;
	}
	tm.tm_sec = rt.tm_sec;
	tm.tm_min = rt.tm_min;
	tm.tm_hour = rt.tm_hour;
	tm.tm_mday = rt.tm_mday;
	tm.tm_mon = rt.tm_mon;
	tm.tm_year = rt.tm_year;
	t = timegm(&tm);
	if (t == (time_t)-1) {
		snprintf(why, why_size, "not a time timegm(3) accepts");
		return -ERANGE;
	}
	*ret_s = t;
	return 0;
}

int hwclock_write(const char *dev)
{
	_cleanup_close_ int fd = open(dev, O_RDONLY | O_CLOEXEC);
	struct rtc_time rt = { 0 };
	struct timespec now;
	struct tm tm;

	if (fd < 0)
		return -errno;
	clock_gettime(CLOCK_REALTIME, &now);
	if (!gmtime_r(&now.tv_sec, &tm))
		return -EOVERFLOW;
	rt.tm_sec = tm.tm_sec;
	rt.tm_min = tm.tm_min;
	rt.tm_hour = tm.tm_hour;
	rt.tm_mday = tm.tm_mday;
	rt.tm_mon = tm.tm_mon;
	rt.tm_year = tm.tm_year;
	rt.tm_wday = tm.tm_wday;
	rt.tm_yday = tm.tm_yday;
	return ioctl(fd, RTC_SET_TIME, &rt) < 0 ? -errno : 0;
}
