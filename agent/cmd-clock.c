/* porthole-time, porthole-time-adjust and porthole-events: the guest clock as
 * the host needs to see and correct it. A correction is relative and applied
 * with clock_adjtime(ADJ_SETOFFSET) (step) or adjtime-style ADJ_OFFSET_
 * SINGLESHOT (slew), so no time passes between measuring and setting: an
 * absolute set loses the round trip. Jumps made by others and suspends are
 * noticed and queued as events that the host long-polls. porthole-events
 * also carries init's service events (OOM kills, exits, restarts) for a
 * client that asks with service_after: init keeps them, the agent polls it
 * while such a client waits. */
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

#include "cmd-json.h"
#include "cmd-services.h"
#include "cmd-time.h"
#include "initctl.h"
#include "command.h"
#include "log.h"
#include "util.h"
#include "walltime.h"

#ifndef PORTHOLE_BUILD_EPOCH
#define PORTHOLE_BUILD_EPOCH 1700000000LL
#endif

#define EVENTS_MAX 256
#define WAITERS_MAX 64
#define WAIT_MAX_MS 60000
#define SUSPEND_CHECK_MS 5000
#define SUSPEND_MIN_NS 500000000LL /* boottime ahead by more: a suspend */
#define PTP_SAMPLES 5
/* init's service events: asked again at most this often (one exchange
 * serves every waiter), and polled this often while a client waits */
#define SERVICE_CACHE_MS 200
#define SERVICE_POLL_MS 1000
#define SERVICE_RETRY_MS 10000

struct event {
	uint64_t seq;
	const char *type;
	int64_t at_ns; /* CLOCK_REALTIME when seen */
	int64_t jump_ns;
	const char *source;
};

struct waiter {
	struct cmd_async *pending; /* NULL: free */
	uint64_t since;
	int64_t timer;
	bool services; /* asked with service_after */
	int64_t service_after;
};

/* init's last answer to {"op": "events", "after": 0}: the events it keeps */
struct service_cache {
	struct agent *a;
	bool valid;
	uint64_t at_ns; /* CLOCK_MONOTONIC when asked */
	json_t *events; /* NULL when init did not answer */
	int64_t next;
	char error[INITCTL_WHY_MAX];
	int64_t poll_timer;
};

static struct {
	struct agent *a;
	struct event events[EVENTS_MAX]; /* a ring: the oldest are dropped */
	uint64_t next_seq;
	struct waiter waiters[WAITERS_MAX];
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
	struct service_cache svc;
} clk = { .jumpfd = -1, .ptpfd = -1 };

static int64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

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
			(long long)(offset / 1000000));
		return -EINVAL;
	}
	*ret_applied = mode;
	return 0;
}

/* ---- events and their long polls ---- */

static json_t *event_json(const struct event *e)
{
	json_t *o = json_pack("{s:I,s:s,s:I,s:I}", "seq", (json_int_t)e->seq, "type", e->type,
			      "at_ns", (json_int_t)e->at_ns, "jump_ns", (json_int_t)e->jump_ns);

	if (o && e->source)
		json_object_set_new(o, "source", json_string(e->source));
	return o;
}

/* Asks init for its service events unless the last answer is fresh. */
static void service_refresh(struct agent *a)
{
	struct service_cache *c = &clk.svc;
	json_t *events = NULL;
	int64_t next = 0;
	int r;

	/* after a failure, not again for a while: a hung init would hold the
	 * loop for INITCTL_TIMEOUT_MS at every poll */
	if (c->valid && now_mono_ns() - c->at_ns <
				(c->events ? SERVICE_CACHE_MS : SERVICE_RETRY_MS) * 1000000ull)
		return;
	r = services_events(a, 0, &events, &next, c->error, sizeof(c->error));
	json_decref(c->events);
	c->events = r < 0 ? NULL : events;
	c->next = r < 0 ? 0 : next;
	if (r == -ENOMEM)
		snprintf(c->error, sizeof(c->error), "out of memory");
	c->valid = true;
	c->at_ns = now_mono_ns();
}

/* Whether init has events after AFTER (as last asked). */
static bool service_news(int64_t after)
{
	json_t *e;
	size_t i;

	json_array_foreach(clk.svc.events, i, e)
	{
		if (json_integer_value(json_object_get(e, "seq")) > after)
			return true;
	}
	return false;
}

/* service_events (init's events after AFTER), service_next, and
 * service_error when init did not answer, into RES. */
static int add_service_events(json_t *res, int64_t after)
{
	json_t *list = json_array(), *e;
	int64_t next = clk.svc.events && clk.svc.next > after ? clk.svc.next : after;
	size_t i;

	if (!list)
		return -ENOMEM;
	json_array_foreach(clk.svc.events, i, e)
	{
		if (json_integer_value(json_object_get(e, "seq")) > after &&
		    json_array_append(list, e) < 0) {
			json_decref(list);
			return -ENOMEM;
		}
	}
	if (cmd_json_set(res, "service_events", list) < 0 ||
	    cmd_json_set(res, "service_next", json_integer(next)) < 0)
		return -ENOMEM;
	if (!clk.svc.events)
		return cmd_json_set(res, "service_error", utf8_json_string(clk.svc.error));
	return 0;
}

/* The events after SINCE still in the ring, and the seq to ask from next;
 * with SERVICES, init's after SERVICE_AFTER too. */
static json_t *events_after(uint64_t since, bool services, int64_t service_after)
{
	json_t *list = json_array(), *r;
	uint64_t first = clk.next_seq > EVENTS_MAX ? clk.next_seq - EVENTS_MAX : 0;

	if (!list)
		return NULL;
	for (uint64_t s = since > first ? since : first; s < clk.next_seq; s++)
		json_array_append_new(list, event_json(&clk.events[s % EVENTS_MAX]));
	r = json_pack("{s:o,s:I,s:b}", "events", list, "next", (json_int_t)clk.next_seq, "lost",
		      since < first);
	if (r && services && add_service_events(r, service_after) < 0) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static void waiter_done(struct waiter *w)
{
	struct cmd_async *p = w->pending;

	w->pending = NULL;
	if (w->timer > 0 && clk.a)
		loop_cancel(clk.a->loop, w->timer);
	w->timer = 0;
	/* stopping: what is known is the answer (init, stopping everything,
	 * need not answer in time) */
	if (w->services && clk.a)
		service_refresh(clk.svc.a);
	cmd_async_finish(p, events_after(w->since, w->services, w->service_after), NULL);
}

/* While a client waits for service events: ask init every second, and
 * answer the clients it has news for. */
static void service_poll(struct loop *l, void *data)
{
	bool waiting = false;

	(void)data;
	clk.svc.poll_timer = 0;
	service_refresh(clk.svc.a);
	for (size_t i = 0; i < WAITERS_MAX; i++) {
		struct waiter *w = &clk.waiters[i];

		if (!w->pending || !w->services)
			continue;
		if (service_news(w->service_after))
			waiter_done(w);
		else
			waiting = true;
	}
	if (waiting)
		clk.svc.poll_timer = loop_timer(l, SERVICE_POLL_MS, service_poll, NULL);
}

static void waiter_timeout(struct loop *l, void *data)
{
	struct waiter *w = data;

	(void)l;
	w->timer = 0;
	if (w->pending)
		waiter_done(w);
}

void clock_event(const char *type, int64_t jump_ns, const char *source)
{
	struct event *e = &clk.events[clk.next_seq % EVENTS_MAX];

	*e = (struct event){ clk.next_seq, type, now_ns(CLOCK_REALTIME), jump_ns, source };
	clk.next_seq++;
	log_info("clock: %s, %+.6f s (%s)", type, (double)jump_ns / 1e9, source ? source : "");
	for (size_t i = 0; i < WAITERS_MAX; i++)
		if (clk.waiters[i].pending)
			waiter_done(&clk.waiters[i]);
}

static int events(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
{
	json_t *jsince = json_object_get(args, "since"),
	       *jwait = json_object_get(args, "timeout_ms"),
	       *jafter = json_object_get(args, "service_after");
	int64_t since = jsince ? json_integer_value(jsince) : 0;
	int64_t wait_ms = jwait ? json_integer_value(jwait) : 0;
	int64_t after = jafter ? json_integer_value(jafter) : 0;
	bool services = jafter != NULL;
	struct waiter *w = NULL;

	if (since < 0)
		return cmd_fail(err, "Parameter 'since' must not be negative");
	if (wait_ms < 0 || wait_ms > WAIT_MAX_MS)
		return cmd_fail(err, "Parameter 'timeout_ms' must be 0 to %d", WAIT_MAX_MS);
	if (after < 0)
		return cmd_fail(err, "Parameter 'service_after' must not be negative");
	if (services) {
		clk.svc.a = a;
		service_refresh(a);
	}
	if ((uint64_t)since < clk.next_seq || wait_ms == 0 || (services && service_news(after))) {
		*result = events_after((uint64_t)since, services, after);
		return *result ? 0 : cmd_fail(err, "out of memory");
	}
	/* nothing new: wait for it, bounded in time and in waiters */
	for (size_t i = 0; i < WAITERS_MAX && !w; i++)
		if (!clk.waiters[i].pending)
			w = &clk.waiters[i];
	if (!w)
		return cmd_fail(err, "%d clients are already waiting for events", WAITERS_MAX);
	w->pending = cmd_async_take();
	if (!w->pending) {
		/* no connection to answer later (a test): answer now */
		*result = events_after((uint64_t)since, services, after);
		return *result ? 0 : cmd_fail(err, "out of memory");
	}
	w->since = (uint64_t)since;
	w->services = services;
	w->service_after = after;
	w->timer = loop_timer(a->loop, (uint64_t)wait_ms, waiter_timeout, w);
	if (services && !clk.svc.poll_timer)
		clk.svc.poll_timer = loop_timer(a->loop, SERVICE_POLL_MS, service_poll, NULL);
	return 1;
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

static int time_info(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
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
		      (json_int_t)now_ns(CLOCK_REALTIME), "monotonic_ns",
		      (json_int_t)now_ns(CLOCK_MONOTONIC), "boottime_ns",
		      (json_int_t)now_ns(CLOCK_BOOTTIME), "clocksource", source, "ntp", ntp,
		      "slew_remaining_ns", (json_int_t)ss.offset * 1000, "last_adjustment", last,
		      "build_time_ns", (json_int_t)PORTHOLE_BUILD_EPOCH * NSEC_PER_SEC);
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
	clk.last_at_ns = now_ns(CLOCK_REALTIME);
	clk.last_offset_ns = offset;
	clk.last_mode = mode == CLOCK_STEP ? "step" : "slew";
	clk.last_source = source;
	clock_event("adjusted", offset, source);
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

static int time_adjust(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
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
	if (clock_adjust_check(now_ns(CLOCK_REALTIME), offset, mode, threshold,
			       PORTHOLE_BUILD_EPOCH * NSEC_PER_SEC, &applied, why, sizeof(why)) < 0)
		return cmd_fail(err, "%s", why);
	if (apply(offset, applied, "porthole-time-adjust", err) < 0)
		return -1;
	if (json_is_true(json_object_get(args, "rtc")) && cmd_time_rtc_write(err) < 0)
		return -1;
	*result = json_pack("{s:s,s:I,s:I}", "applied", applied == CLOCK_STEP ? "step" : "slew",
			    "offset_ns", (json_int_t)offset, "realtime_ns",
			    (json_int_t)now_ns(CLOCK_REALTIME));
	return *result ? 0 : cmd_fail(err, "out of memory");
}

/* ---- watching it ---- */

/* A timer ten years out that any set of the clock cancels
 * (timerfd_create(2): TFD_TIMER_CANCEL_ON_SET needs an absolute time). */
static int arm_jump_timer(void)
{
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(now_ns(CLOCK_REALTIME) /
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
	rt_mono = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
	jump = rt_mono - clk.rt_minus_mono;
	clk.rt_minus_mono = rt_mono;
	arm_jump_timer();
	/* our own step is reported as "adjusted" already */
	if (clk.expected_jump_ns && llabs(jump - clk.expected_jump_ns) < 50000000LL) {
		clk.expected_jump_ns = 0;
		return;
	}
	clk.expected_jump_ns = 0;
	clock_event("clock-set", jump, "external");
}

static void check_suspend(struct loop *l, void *data)
{
	int64_t bm = now_ns(CLOCK_BOOTTIME) - now_ns(CLOCK_MONOTONIC);

	(void)data;
	/* CLOCK_BOOTTIME counts suspended time, CLOCK_MONOTONIC does not */
	if (bm - clk.boot_minus_mono > SUSPEND_MIN_NS)
		clock_event("resume", bm - clk.boot_minus_mono, "suspend");
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
	if (llabs(off) < 1000000)
		return;
	if (clock_adjust_check(now_ns(CLOCK_REALTIME), off, CLOCK_AUTO, CLOCK_THRESHOLD_DEFAULT_NS,
			       PORTHOLE_BUILD_EPOCH * NSEC_PER_SEC, &mode, why, sizeof(why)) < 0) {
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
	clk.rt_minus_mono = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
	clk.boot_minus_mono = now_ns(CLOCK_BOOTTIME) - now_ns(CLOCK_MONOTONIC);
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
	/* a long poll is answered with what there is, not dropped: the
	 * transport flushes it before closing */
	clk.a = NULL;
	for (size_t i = 0; i < WAITERS_MAX; i++)
		if (clk.waiters[i].pending) {
			if (clk.waiters[i].timer > 0)
				loop_cancel(a->loop, clk.waiters[i].timer);
			clk.waiters[i].timer = 0;
			waiter_done(&clk.waiters[i]);
		}
	loop_cancel(a->loop, clk.suspend_timer);
	loop_cancel(a->loop, clk.ptp_timer);
	if (clk.svc.poll_timer)
		loop_cancel(a->loop, clk.svc.poll_timer);
	clk.svc.poll_timer = 0;
	json_decref(clk.svc.events);
	clk.svc.events = NULL;
	clk.svc.valid = false;
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
	{ "porthole-time", time_info, { { 0 } }, 0 },
	{ "porthole-time-adjust",
	  time_adjust,
	  { { "offset_ns", ARG_INT, true },
	    { "mode", ARG_STRING, false },
	    { "threshold_ns", ARG_INT, false },
	    { "rtc", ARG_BOOL, false } },
	  0 },
	{ "porthole-events",
	  events,
	  { { "since", ARG_INT, false },
	    { "timeout_ms", ARG_INT, false },
	    { "service_after", ARG_INT, false } },
	  0 },
	{ 0 },
};
