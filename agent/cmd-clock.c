/* porthole-time and porthole-time-adjust: the guest clock as the host needs
 * to see and correct it. A correction is relative and applied with
 * clock_adjtime(ADJ_SETOFFSET) (step) or adjtime-style ADJ_OFFSET_SINGLESHOT
 * (slew), so no time passes between measuring and setting: an absolute set
 * loses the round trip. Jumps made by others and suspends are noticed and
 * posted as events (cmd-events.c), which the host long-polls. */
#include "cmd-clock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ptp_clock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "cmd-events.h"
#include "cmd-guest-time.h"
#include "cmd-json.h"
#include "command.h"
#include "log.h"
#include "util.h"
#include "walltime.h"

#define SUSPEND_CHECK_MS 5000
#define SUSPEND_MIN_NS (500 * NSEC_PER_MSEC) /* boottime ahead by more: a suspend */
#define PTP_SAMPLES 5
static struct {
	struct agent *a;
	int jumpfd;
	int64_t rt_minus_mono; /* realtime - monotonic when last looked */
	int64_t boot_minus_mono;
	int64_t expected_jump_ns; /* our own step, so its jump is not "external" */
	int64_t suspend_timer, ptp_timer;
	int ptpfd;
	char ptp_name[160];
	/* the last correction made */
	bool adjusted;
	int64_t last_at_ns, last_offset_ns;
	const char *last_mode, *last_source;
} clk = { .jumpfd = -1, .ptpfd = -1 };

int clock_adjust_check(int64_t now, int64_t offset, enum clock_mode mode, int64_t threshold,
		       int64_t build_ns, enum clock_mode *ret_applied, char *why, size_t size)
{
	int64_t mag, result;

	if (offset < -CLOCK_OFFSET_MAX_NS || offset > CLOCK_OFFSET_MAX_NS) {
		snprintf(why, size, "an offset of %lld ns is more than a century: refused",
			 (long long)offset);
		return -EINVAL;
	}
	mag = offset < 0 ? -offset : offset;
	/* a sum past 2262 is past 2069 too */
	if (__builtin_add_overflow(now, offset, &result))
		result = INT64_MAX;
	if (walltime_check(result, build_ns, why, size) < 0)
		return -EINVAL;
	if (mode == CLOCK_AUTO)
		mode = mag > threshold ? CLOCK_STEP : CLOCK_SLEW;
	if (mode == CLOCK_SLEW && mag > CLOCK_SLEW_MAX_NS) {
		snprintf(
			why, size,
			"%lld ms is too much to slew (at most 500 ms, worked off at 0.5 ms a second): "
			"step it",
			(long long)(offset / NSEC_PER_MSEC));
		return -EINVAL;
	}
	*ret_applied = mode;
	return 0;
}

/* ---- reading the clock ---- */

static void read_clocksource(char *buf, size_t size)
{
	_cleanup_free_ char *s = NULL;

	snprintf(buf, size, "unknown");
	if (read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", 128, &s,
		      NULL) == 0) {
		s[strcspn(s, "\n")] = '\0';
		snprintf(buf, size, "%s", s);
	}
}

static enum cmd_result time_info(struct agent *a, json_t *args, json_t **result,
				 struct cmd_error *err)
{
	struct timex tx = { .modes = 0 }, ss = { .modes = ADJ_OFFSET_SS_READ };
	char source[64];
	json_t *r, *ntp, *last = json_null();
	int state;

	(void)a, (void)args;
	state = adjtimex(&tx);
	if (state < 0)
		return cmd_fail_errno(err, errno, "adjtimex");
	/* what an adjtime()-style slew still has to work off (in µs) */
	if (adjtimex(&ss) < 0)
		ss.offset = 0;
	read_clocksource(source, sizeof(source));
	ntp = json_pack("{s:b,s:i,s:i,s:I,s:f,s:I,s:I}", "synchronized", !(tx.status & STA_UNSYNC),
			"state", state, "status", tx.status, "offset_ns",
			(json_int_t)(tx.status & STA_NANO ? tx.offset : tx.offset * 1000LL),
			"frequency_ppm", (double)tx.freq / 65536.0, "maxerror_us",
			(json_int_t)tx.maxerror, "esterror_us", (json_int_t)tx.esterror);
	if (clk.adjusted)
		last = json_pack("{s:I,s:I,s:s,s:s}", "at_ns", (json_int_t)clk.last_at_ns,
				 "offset_ns", (json_int_t)clk.last_offset_ns, "mode", clk.last_mode,
				 "source", clk.last_source);
	r = json_pack("{s:I,s:I,s:I,s:s,s:o,s:I,s:o,s:I}", "realtime_ns",
		      (json_int_t)now_clock_ns(CLOCK_REALTIME), "monotonic_ns",
		      (json_int_t)now_clock_ns(CLOCK_MONOTONIC), "boottime_ns",
		      (json_int_t)now_clock_ns(CLOCK_BOOTTIME), "clocksource", source, "ntp", ntp,
		      "slew_remaining_ns", (json_int_t)ss.offset * 1000, "last_adjustment", last,
		      "build_time_ns", (json_int_t)WALLTIME_BUILD_NS);
	if (r && clk.ptpfd >= 0)
		json_object_set_new(r, "ptp", json_pack("{s:s}", "clock", clk.ptp_name));
	if (!r)
		return cmd_fail(err, "out of memory");
	*result = r;
	return 0;
}

/* ---- correcting it ---- */

static int apply(int64_t offset, enum clock_mode mode, const char *source, struct cmd_error *err)
{
	struct timex tx;

	if (mode == CLOCK_STEP) {
		/* ADJ_SETOFFSET adds the offset to the clock inside the kernel;
		 * with ADJ_NANO, time.tv_usec holds nanoseconds, kept in [0, 1e9) */
		int64_t sec = offset / NSEC_PER_SEC, nsec = offset % NSEC_PER_SEC;

		if (nsec < 0) {
			nsec += NSEC_PER_SEC;
			sec--;
		}
		/* a slew still running would add to the step: cancel it first */
		tx = (struct timex){ .modes = ADJ_OFFSET_SINGLESHOT, .offset = 0 };
		adjtimex(&tx);
		tx = (struct timex){ .modes = ADJ_SETOFFSET | ADJ_NANO };
		tx.time.tv_sec = sec;
		tx.time.tv_usec = nsec;
		clk.expected_jump_ns = offset;
		if (clock_adjtime(CLOCK_REALTIME, &tx) < 0) {
			clk.expected_jump_ns = 0;
			return cmd_fail_errno(err, errno, "clock_adjtime(ADJ_SETOFFSET, %lld ns)",
					      (long long)offset);
		}
	} else {
		/* adjtime(3)'s way: the kernel works the offset off at 500 ppm */
		tx = (struct timex){ .modes = ADJ_OFFSET_SINGLESHOT, .offset = offset / 1000 };
		if (adjtimex(&tx) < 0)
			return cmd_fail_errno(err, errno,
					      "adjtimex(ADJ_OFFSET_SINGLESHOT, %lld us)",
					      (long long)(offset / 1000));
	}
	clk.adjusted = true;
	clk.last_at_ns = now_clock_ns(CLOCK_REALTIME);
	clk.last_offset_ns = offset;
	clk.last_mode = mode == CLOCK_STEP ? "step" : "slew";
	clk.last_source = source;
	events_post("adjusted", offset, source);
	return 0;
}

static int parse_mode(const char *s, enum clock_mode *ret)
{
	static const char *const names[] = {
		[CLOCK_AUTO] = "auto", [CLOCK_STEP] = "step", [CLOCK_SLEW] = "slew"
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum clock_mode)i;
			return 0;
		}
	return -EINVAL;
}

static enum cmd_result time_adjust(struct agent *a, json_t *args, json_t **result,
				   struct cmd_error *err)
{
	json_t *jmode = json_object_get(args, "mode"), *jth = json_object_get(args, "threshold_ns");
	int64_t offset = json_integer_value(json_object_get(args, "offset_ns"));
	int64_t threshold = jth ? json_integer_value(jth) : CLOCK_THRESHOLD_DEFAULT_NS;
	enum clock_mode mode = CLOCK_AUTO, applied;
	char why[256];

	(void)a;
	if (jmode && parse_mode(json_string_value(jmode), &mode) < 0)
		return cmd_fail(err, "Parameter 'mode': '%s' is not one of auto, step, slew",
				json_string_value(jmode));
	if (threshold < 0 || threshold > CLOCK_SLEW_MAX_NS)
		return cmd_fail(err, "Parameter 'threshold_ns' must be 0 to %lld",
				(long long)CLOCK_SLEW_MAX_NS);
	if (clock_adjust_check(now_clock_ns(CLOCK_REALTIME), offset, mode, threshold,
			       WALLTIME_BUILD_NS, &applied, why, sizeof(why)) < 0)
		return cmd_fail(err, "%s", why);
	if (apply(offset, applied, "porthole-time-adjust", err) < 0)
		return -1;
	if (json_is_true(json_object_get(args, "rtc")) && guest_time_rtc_write(err) < 0)
		return -1;
	*result = json_pack("{s:s,s:I,s:I}", "applied", applied == CLOCK_STEP ? "step" : "slew",
			    "offset_ns", (json_int_t)offset, "realtime_ns",
			    (json_int_t)now_clock_ns(CLOCK_REALTIME));
	return *result ? 0 : cmd_fail(err, "out of memory");
}

/* ---- watching it ---- */

/* A timer ten years out that any set of the clock cancels
 * (timerfd_create(2): TFD_TIMER_CANCEL_ON_SET needs an absolute time). */
static int arm_jump_timer(void)
{
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(now_clock_ns(CLOCK_REALTIME) /
								   NSEC_PER_SEC) +
							  10 * 366 * 86400 } };

	return timerfd_settime(clk.jumpfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its,
			       NULL) < 0
		       ? -errno
		       : 0;
}

static void on_jump(struct loop *l, int fd, uint32_t events, void *data)
{
	uint64_t n;
	int64_t rt_mono, jump;

	(void)l, (void)events, (void)data;
	if (read(fd, &n, sizeof(n)) >= 0 || errno != ECANCELED) {
		/* the timer itself expired (ten years on), or nothing: re-arm */
		arm_jump_timer();
		return;
	}
	rt_mono = now_clock_ns(CLOCK_REALTIME) - now_clock_ns(CLOCK_MONOTONIC);
	jump = rt_mono - clk.rt_minus_mono;
	clk.rt_minus_mono = rt_mono;
	arm_jump_timer();
	/* our own step is reported as "adjusted" already */
	if (clk.expected_jump_ns && llabs(jump - clk.expected_jump_ns) < 50000000LL) {
		clk.expected_jump_ns = 0;
		return;
	}
	clk.expected_jump_ns = 0;
	events_post("clock-set", jump, "external");
}

static void check_suspend(struct loop *l, void *data)
{
	int64_t bm = now_clock_ns(CLOCK_BOOTTIME) - now_clock_ns(CLOCK_MONOTONIC);

	(void)data;
	/* CLOCK_BOOTTIME counts suspended time, CLOCK_MONOTONIC does not */
	if (bm - clk.boot_minus_mono > SUSPEND_MIN_NS)
		events_post("resume", bm - clk.boot_minus_mono, "suspend");
	clk.boot_minus_mono = bm;
	clk.suspend_timer = loop_timer(l, SUSPEND_CHECK_MS, check_suspend, NULL);
}

/* The KVM PTP clock reads the host's realtime through a hypercall. The
 * offset is taken from the read with the shortest window around it. */
static int ptp_offset(int64_t *ret)
{
	clockid_t id = (clockid_t)((~(unsigned)clk.ptpfd << 3) | 3); /* FD_TO_CLOCKID */
	int64_t best_win = INT64_MAX, best = 0;

	for (int i = 0; i < PTP_SAMPLES; i++) {
		struct timespec a, p, b;
		int64_t win;

		if (clock_gettime(CLOCK_REALTIME, &a) < 0 || clock_gettime(id, &p) < 0 ||
		    clock_gettime(CLOCK_REALTIME, &b) < 0)
			return -errno;
		win = (b.tv_sec - a.tv_sec) * NSEC_PER_SEC + (b.tv_nsec - a.tv_nsec);
		if (win < best_win) {
			int64_t mid = (a.tv_sec * NSEC_PER_SEC + a.tv_nsec) + win / 2;

			best_win = win;
			best = (p.tv_sec * NSEC_PER_SEC + p.tv_nsec) - mid;
		}
	}
	*ret = best;
	return 0;
}

static void ptp_sync(struct loop *l, void *data)
{
	struct agent *a = data;
	struct cmd_error err = { 0 };
	enum clock_mode mode;
	char why[256];
	int64_t off = 0;

	clk.ptp_timer = loop_timer(l, (uint64_t)a->cfg.ptp_interval_s * 1000, ptp_sync, a);
	if (ptp_offset(&off) < 0) {
		log_warn_errno(-errno, "read %s", clk.ptp_name);
		return;
	}
	/* below a millisecond it is noise for a dev VM; above, slew or step */
	if (llabs(off) < NSEC_PER_MSEC)
		return;
	if (clock_adjust_check(now_clock_ns(CLOCK_REALTIME), off, CLOCK_AUTO,
			       CLOCK_THRESHOLD_DEFAULT_NS, WALLTIME_BUILD_NS, &mode, why,
			       sizeof(why)) < 0) {
		log_warn("ptp_kvm: %s", why);
		return;
	}
	if (apply(off, mode, "ptp_kvm", &err) < 0)
		log_warn("ptp_kvm: %s", err.desc);
}

static void ptp_open(struct agent *a)
{
	for (int i = 0; i < 4 && clk.ptpfd < 0; i++) {
		char path[64], name_path[96];
		_cleanup_free_ char *name = NULL;

		snprintf(name_path, sizeof(name_path), "/sys/class/ptp/ptp%d/clock_name", i);
		if (read_file(name_path, 64, &name, NULL) < 0)
			continue;
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, "KVM virtual PTP") != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/ptp%d", i);
		clk.ptpfd = open(path, O_RDONLY | O_CLOEXEC);
		if (clk.ptpfd >= 0)
			snprintf(clk.ptp_name, sizeof(clk.ptp_name), "%s (%s)", path, name);
	}
	if (clk.ptpfd < 0) {
		log_debug("no KVM PTP clock: the host keeps the clock (porthole time watch)");
		return;
	}
	log_info("keeping the clock on %s every %u s", clk.ptp_name, a->cfg.ptp_interval_s);
	clk.ptp_timer = loop_timer(a->loop, 0, ptp_sync, a);
}

int clock_watch_start(struct agent *a)
{
	int r;

	clk.a = a;
	clk.rt_minus_mono = now_clock_ns(CLOCK_REALTIME) - now_clock_ns(CLOCK_MONOTONIC);
	clk.boot_minus_mono = now_clock_ns(CLOCK_BOOTTIME) - now_clock_ns(CLOCK_MONOTONIC);
	clk.jumpfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (clk.jumpfd < 0 || arm_jump_timer() < 0 ||
	    (r = loop_add_fd(a->loop, clk.jumpfd, EPOLLIN, on_jump, NULL)) < 0)
		log_warn_errno(-errno, "clock jump watch, ignoring");
	clk.suspend_timer = loop_timer(a->loop, SUSPEND_CHECK_MS, check_suspend, NULL);
	if (a->cfg.ptp_sync)
		ptp_open(a);
	return 0;
}

void clock_watch_stop(struct agent *a)
{
	loop_cancel(a->loop, clk.suspend_timer);
	loop_cancel(a->loop, clk.ptp_timer);
	if (clk.jumpfd >= 0) {
		loop_del_fd(a->loop, clk.jumpfd);
		close(clk.jumpfd);
		clk.jumpfd = -1;
	}
	if (clk.ptpfd >= 0) {
		close(clk.ptpfd);
		clk.ptpfd = -1;
	}
	clk.a = NULL;
}

const struct command cmd_clock_table[] = {
	{ "porthole-time", time_info, { { 0 } }, CMD_QUIET },
	{ "porthole-time-adjust",
	  time_adjust,
	  { { "offset_ns", ARG_INT, true },
	    { "mode", ARG_STRING, false },
	    { "threshold_ns", ARG_INT, false },
	    { "rtc", ARG_BOOL, false } },
	  0 },
	{ 0 },
};
