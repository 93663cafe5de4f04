/* guest-get-time and guest-set-time: the system clock, and the hardware clock
 * that qemu-ga writes with `hwclock -w` and reads with `hwclock -s`; here the
 * RTC ioctls of rtc(4) do it, the RTC kept in UTC as QEMU's is. */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtc.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <time.h>

#include "agent.h"
#include "cmd-time.h"
#include "command.h"
#include "log.h"
#include "util.h"

#define RTC_DEV "/dev/rtc0"
#define NSEC_PER_SEC 1000000000LL
/* qemu-ga refuses a time outside the years 1970 to 2069; so do we:
 * 2070-01-01T00:00:00Z is (100 * 365 + 25 leap days) * 86400 s. */
#define TIME_MAX_NS (3155760000LL * NSEC_PER_SEC)

static int get_time(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
{
	struct timespec ts;

	(void)a, (void)args;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return cmd_fail_errno(err, errno, "read the system clock");
	*result = json_integer((json_int_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec);
	return *result ? 0 : cmd_fail(err, "out of memory");
}

/* Writes the system clock's current second to the RTC (rtc(4): RTC_SET_TIME
 * takes broken-down UTC). The RTC counts whole seconds: the result is within
 * a second, as good as the RTC can hold without waiting for its tick. */
int cmd_time_rtc_write(struct cmd_error *err)
{
	_cleanup_close_ int fd = open(RTC_DEV, O_RDONLY | O_CLOEXEC);
	struct rtc_time rt = { 0 };
	struct timespec now;
	struct tm tm;

	if (fd < 0) {
		/* Some VMs (Firecracker, some microvm machines) have no RTC: the
		 * system clock is set, which is what the host asked for. */
		if (errno == ENOENT) {
			log_warn("guest-set-time: no %s, the hardware clock was not set", RTC_DEV);
			return 0;
		}
		return cmd_fail_errno(err, errno, "system clock set, but open %s", RTC_DEV);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (!gmtime_r(&now.tv_sec, &tm))
		return cmd_fail(err, "system clock set, but its time cannot be broken down");
	rt.tm_sec = tm.tm_sec;
	rt.tm_min = tm.tm_min;
	rt.tm_hour = tm.tm_hour;
	rt.tm_mday = tm.tm_mday;
	rt.tm_mon = tm.tm_mon;
	rt.tm_year = tm.tm_year;
	rt.tm_wday = tm.tm_wday;
	rt.tm_yday = tm.tm_yday;
	if (ioctl(fd, RTC_SET_TIME, &rt) < 0)
		return cmd_fail_errno(err, errno, "system clock set, but writing %s failed",
				      RTC_DEV);
	return 0;
}

/* Reads the RTC (RTC_RD_TIME, UTC) into nanoseconds since the epoch, checking
 * the fields: a dead CMOS battery or an unset RTC gives garbage. */
static int rtc_read(int64_t *ret_ns, struct cmd_error *err)
{
	_cleanup_close_ int fd = open(RTC_DEV, O_RDONLY | O_CLOEXEC);
	struct rtc_time rt;
	struct tm tm = { 0 };
	time_t t;

	if (fd < 0)
		return cmd_fail_errno(err, errno, "no time given and cannot open the RTC %s",
				      RTC_DEV);
	if (ioctl(fd, RTC_RD_TIME, &rt) < 0)
		return cmd_fail_errno(err, errno, "read the RTC %s", RTC_DEV);
	if (rt.tm_sec < 0 || rt.tm_sec > 60 || rt.tm_min < 0 || rt.tm_min > 59 || rt.tm_hour < 0 ||
	    rt.tm_hour > 23 || rt.tm_mday < 1 || rt.tm_mday > 31 || rt.tm_mon < 0 ||
	    rt.tm_mon > 11 || rt.tm_year < 70 || rt.tm_year >= 170)
		return cmd_fail(err,
				"the RTC %s holds an invalid time (%04d-%02d-%02d %02d:%02d:%02d)",
				RTC_DEV, rt.tm_year + 1900, rt.tm_mon + 1, rt.tm_mday, rt.tm_hour,
				rt.tm_min, rt.tm_sec);
	tm.tm_sec = rt.tm_sec;
	tm.tm_min = rt.tm_min;
	tm.tm_hour = rt.tm_hour;
	tm.tm_mday = rt.tm_mday;
	tm.tm_mon = rt.tm_mon;
	tm.tm_year = rt.tm_year;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return cmd_fail(err, "the RTC %s holds an invalid time", RTC_DEV);
	*ret_ns = (int64_t)t * NSEC_PER_SEC;
	return 0;
}

static int set_clock(int64_t ns, struct cmd_error *err)
{
	struct timespec ts = { .tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC };

	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		return cmd_fail_errno(err, errno, "set the system clock");
	return 0;
}

/* With "time": the system clock, then the RTC from it (hwclock -w). Without:
 * the system clock from the RTC (hwclock -s), what `virsh domtime --sync`
 * asks for after the host has resumed the VM and set its RTC. */
static int set_time(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
{
	json_t *jt = json_object_get(args, "time");
	int64_t ns = 0;

	(void)a;
	*result = NULL;
	if (jt && !json_is_null(jt)) {
		ns = json_integer_value(jt);
		if (ns < 0 || ns >= TIME_MAX_NS)
			return cmd_fail(
				err,
				"Invalid time %lld: nanoseconds since 1970-01-01 UTC, for a "
				"date from 1970 to 2069",
				(long long)ns);
		if (set_clock(ns, err) < 0)
			return -1;
		log_info("guest-set-time: clock set to %lld.%09lld", (long long)(ns / NSEC_PER_SEC),
			 (long long)(ns % NSEC_PER_SEC));
		return cmd_time_rtc_write(err);
	}
	if (rtc_read(&ns, err) < 0 || set_clock(ns, err) < 0)
		return -1;
	log_info("guest-set-time: clock set from %s to %lld", RTC_DEV,
		 (long long)(ns / NSEC_PER_SEC));
	return 0;
}

const struct command cmd_time_table[] = {
	{ "guest-get-time", get_time, { { 0 } }, 0 },
	{ "guest-set-time", set_time, { { "time", ARG_INT, false } }, 0 },
	{ 0 },
};
