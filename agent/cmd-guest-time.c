/* guest-get-time and guest-set-time: the system clock, and the hardware clock
 * that qemu-ga writes with `hwclock -w` and reads with `hwclock -s`; here the
 * RTC ioctls of rtc(4) do it, the RTC kept in UTC as QEMU's is. */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "agent.h"
#include "cmd-guest-time.h"
#include "command.h"
#include "hwclock.h"
#include "log.h"
#include "util.h"
#include "walltime.h"

#define RTC_DEV HWCLOCK_DEV

static enum cmd_result get_time(struct agent *a, json_t *args, json_t **result,
				struct cmd_error *err)
{
	struct timespec ts;

	(void)a, (void)args;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return cmd_fail_errno(err, errno, "read the system clock");
	*result = json_integer((json_int_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec);
	return *result ? 0 : cmd_fail(err, "out of memory");
}

/* The system clock's current second to the RTC (hwclock -w). A VM without
 * an RTC (Firecracker, some microvm machines) is not an error: the system
 * clock, which is what the host asked for, is set. */
enum cmd_result guest_time_rtc_write(struct cmd_error *err)
{
	char why[160];
	int r;

	/* the system clock may have been set by someone else: the RTC gets
	 * only what walltime_check accepts */
	if (walltime_check(now_clock_ns(CLOCK_REALTIME), WALLTIME_BUILD_NS, why, sizeof(why)) < 0)
		return cmd_fail(err, "the hardware clock was not written: the system clock's %s",
				why);
	r = hwclock_write(RTC_DEV);

	if (r == -ENOENT) {
		log_warn("guest-set-time: no %s, the hardware clock was not set", RTC_DEV);
		return 0;
	}
	if (r < 0)
		return cmd_fail_errno(err, -r, "system clock set, but writing %s failed", RTC_DEV);
	return 0;
}

/* Reads the RTC into nanoseconds since the epoch (hwclock -s). */
static int rtc_read(int64_t *ret_ns, struct cmd_error *err)
{
	char why[64] = "", why2[160];
	int64_t s;
	int r = hwclock_read(RTC_DEV, &s, why, sizeof(why));

	if (r == -ERANGE)
		return cmd_fail(err, "the RTC %s holds an invalid time (%s)", RTC_DEV, why);
	if (r < 0)
		return cmd_fail_errno(err, -r, "no time given and cannot read the RTC %s", RTC_DEV);
	if (walltime_check(s * NSEC_PER_SEC, WALLTIME_BUILD_NS, why2, sizeof(why2)) < 0)
		return cmd_fail(err, "the RTC %s holds a time not set: %s", RTC_DEV, why2);
	*ret_ns = s * NSEC_PER_SEC;
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
static enum cmd_result set_time(struct agent *a, json_t *args, json_t **result,
				struct cmd_error *err)
{
	json_t *jt = json_object_get(args, "time");
	int64_t ns = 0;

	(void)a;
	*result = NULL;
	if (jt) {
		char why[160];

		ns = json_integer_value(jt);
		if (walltime_check(ns, WALLTIME_BUILD_NS, why, sizeof(why)) < 0)
			return cmd_fail(err, "Invalid time %lld (nanoseconds since the epoch): %s",
					(long long)ns, why);
		if (set_clock(ns, err) < 0)
			return -1;
		log_info("guest-set-time: clock set to %lld.%09lld", (long long)(ns / NSEC_PER_SEC),
			 (long long)(ns % NSEC_PER_SEC));
		return guest_time_rtc_write(err);
	}
	if (rtc_read(&ns, err) < 0 || set_clock(ns, err) < 0)
		return -1;
	log_info("guest-set-time: clock set from %s to %lld", RTC_DEV,
		 (long long)(ns / NSEC_PER_SEC));
	return 0;
}

const struct command cmd_guest_time_table[] = {
	{ "guest-get-time", get_time, { { 0 } }, CMD_QUIET },
	{ "guest-set-time", set_time, { { "time", ARG_INT, false } }, 0 },
	{ 0 },
};
