/* porthole-events: the clock's events (jumps made by others, resumes,
 * porthole's own corrections: cmd-clock.c posts them) kept in a ring, and
 * init's service events (OOM kills, exits, restarts) for a client that asks
 * with service_after: init keeps those, the agent asks it, once for every
 * waiter, and polls it while such a client waits; the asking runs on a
 * worker (worker.h), so a hung init never holds the loop. A client with
 * nothing new to read waits (a long poll), bounded in time and in number. */
#include "cmd-events.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cmd-json.h"
#include "cmd-services.h"
#include "command.h"
#include "initctl.h"
#include "log.h"
#include "loop.h"
#include "util.h"
#include "worker.h"

#define EVENTS_MAX 256
#define WAITERS_MAX 64
#define WAIT_MAX_MS 60000
/* init's service events: asked again at most this often (one exchange
 * serves every waiter), polled this often while a client waits, and after
 * init did not answer, not asked again for this long */
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
	/* waits for init's answer in flight before anything is decided: the
	 * request came when the last answer was stale */
	bool needs_answer;
	bool wait; /* it asked to wait for news (timeout_ms > 0) */
};

/* init's last answer to {"op": "events", "after": 0}: the events it keeps */
struct service_cache {
	bool valid;
	uint64_t at_ns; /* CLOCK_MONOTONIC when asked */
	json_t *events; /* NULL when init did not answer */
	int64_t next;
	char error[INITCTL_WHY_MAX];
	int64_t poll_timer;
	bool asking; /* a worker is asking init now */
};

/* A worker's question to init: the socket's path in, the answer out. */
struct service_ask {
	char socket[108];
	json_t *events;
	int64_t next;
	int r;
	char error[INITCTL_WHY_MAX];
};

static struct {
	struct agent *a; /* NULL once stopped: nothing is asked of init then */
	struct event events[EVENTS_MAX]; /* a ring: the oldest are dropped */
	uint64_t next_seq;
	struct waiter waiters[WAITERS_MAX];
	struct service_cache svc;
} ev;

static json_t *event_json(const struct event *e)
{
	json_t *o = json_pack("{s:I,s:s,s:I,s:I}", "seq", (json_int_t)e->seq, "type", e->type,
			      "at_ns", (json_int_t)e->at_ns, "jump_ns", (json_int_t)e->jump_ns);

	if (o && e->source)
		json_object_set_new(o, "source", json_string(e->source));
	return o;
}

static bool service_fresh(void)
{
	const struct service_cache *c = &ev.svc;

	/* after a failure, not again for a while: each ask of a hung init
	 * holds a worker for INITCTL_TIMEOUT_MS */
	return c->valid &&
	       now_mono_ns() - c->at_ns <
		       (c->events ? SERVICE_CACHE_MS : SERVICE_RETRY_MS) * (uint64_t)NSEC_PER_MSEC;
}

static void service_store(int r, json_t *events, int64_t next, const char *error)
{
	struct service_cache *c = &ev.svc;

	json_decref(c->events);
	c->events = r < 0 ? NULL : events;
	c->next = r < 0 ? 0 : next;
	if (r < 0)
		snprintf(c->error, sizeof(c->error), "%s", r == -ENOMEM ? "out of memory" : error);
	c->valid = true;
	c->at_ns = now_mono_ns();
}

static void service_ask_run(void *data)
{
	struct service_ask *q = data;

	q->r = cmd_services_events(q->socket, 0, &q->events, &q->next, q->error, sizeof(q->error));
}

static void service_deliver(void);
static void service_poll(struct loop *l, void *data);

static void service_ask_done(void *data, int status)
{
	struct service_ask *q = data;

	if (status == 0 && ev.a) {
		ev.svc.asking = false;
		service_store(q->r, q->r < 0 ? NULL : q->events, q->next, q->error);
		q->events = NULL;
		service_deliver();
	}
	json_decref(q->events);
	free(q);
}

/* Asks init for its service events unless the last answer is fresh or a
 * question is in flight: on a worker (the answer then lands later,
 * service_deliver); here, at once, only where there is no loop (the unit
 * tests). With every worker busy it is not asked, and that is the answer. */
static void service_refresh(struct agent *a)
{
	struct worker *w = a->loop ? worker_of(a) : NULL;
	struct service_ask *q;

	if (ev.svc.asking || service_fresh())
		return;
	q = calloc(1, sizeof(*q));
	if (!q) {
		service_store(-ENOMEM, NULL, 0, "");
		return;
	}
	snprintf(q->socket, sizeof(q->socket), "%s", a->cfg.init_socket);
	if (w) {
		if (worker_submit(w, service_ask_run, service_ask_done, q) == 0) {
			ev.svc.asking = true;
			return;
		}
		/* never on the loop: said, and asked again after a while */
		free(q);
		service_store(-EBUSY, NULL, 0,
			      "not asked: the agent's workers are busy with slow commands");
		return;
	}
	service_ask_run(q);
	service_store(q->r, q->r < 0 ? NULL : q->events, q->next, q->error);
	free(q);
}

/* Whether init has events after AFTER (as last asked). */
static bool service_news(int64_t after)
{
	json_t *e;
	size_t i;

	json_array_foreach(ev.svc.events, i, e)
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
	int64_t next = ev.svc.events && ev.svc.next > after ? ev.svc.next : after;
	size_t i;

	if (!list)
		return -ENOMEM;
	json_array_foreach(ev.svc.events, i, e)
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
	if (!ev.svc.events)
		return cmd_json_set(res, "service_error", utf8_json_string(ev.svc.error));
	return 0;
}

/* The events after SINCE still in the ring, and the seq to ask from next;
 * with SERVICES, init's after SERVICE_AFTER too. */
static json_t *events_after(uint64_t since, bool services, int64_t service_after)
{
	json_t *list = json_array(), *r;
	uint64_t first = ev.next_seq > EVENTS_MAX ? ev.next_seq - EVENTS_MAX : 0;

	if (!list)
		return NULL;
	for (uint64_t s = since > first ? since : first; s < ev.next_seq; s++)
		json_array_append_new(list, event_json(&ev.events[s % EVENTS_MAX]));
	r = json_pack("{s:o,s:I,s:b}", "events", list, "next", (json_int_t)ev.next_seq, "lost",
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
	if (w->timer > 0 && ev.a)
		loop_cancel(ev.a->loop, w->timer);
	w->timer = 0;
	w->needs_answer = false;
	/* what is known is the answer: init's last, at most SERVICE_POLL_MS
	 * old while a client waits (and init, stopping everything, need not
	 * answer in time) */
	cmd_async_finish(p, events_after(w->since, w->services, w->service_after), NULL);
}

/* init's answer landed: the clients it has news for are answered, and
 * those that came while it was stale and asked not to wait; while any
 * still waits, init is asked again in a second. */
static void service_deliver(void)
{
	bool waiting = false;

	for (size_t i = 0; i < WAITERS_MAX; i++) {
		struct waiter *w = &ev.waiters[i];

		if (!w->pending || !w->services)
			continue;
		if (service_news(w->service_after) || (w->needs_answer && !w->wait) ||
		    (w->needs_answer && w->since < ev.next_seq))
			waiter_done(w);
		else {
			w->needs_answer = false;
			waiting = true;
		}
	}
	if (waiting && !ev.svc.poll_timer && ev.a)
		ev.svc.poll_timer = loop_timer(ev.a->loop, SERVICE_POLL_MS, service_poll, NULL);
}

/* While a client waits for service events: ask init every second. */
static void service_poll(struct loop *l, void *data)
{
	(void)l, (void)data;
	ev.svc.poll_timer = 0;
	service_refresh(ev.a);
	/* answered at once (no workers): deliver now; else when it lands */
	if (!ev.svc.asking)
		service_deliver();
}

static void waiter_timeout(struct loop *l, void *data)
{
	struct waiter *w = data;

	(void)l;
	w->timer = 0;
	if (w->pending)
		waiter_done(w);
}

void events_post(const char *type, int64_t jump_ns, const char *source)
{
	struct event *e = &ev.events[ev.next_seq % EVENTS_MAX];

	*e = (struct event){ ev.next_seq, type, now_clock_ns(CLOCK_REALTIME), jump_ns, source };
	ev.next_seq++;
	log_info("clock: %s, %+.6f s (%s)", type, (double)jump_ns / NSEC_PER_SEC,
		 source ? source : "");
	for (size_t i = 0; i < WAITERS_MAX; i++)
		if (ev.waiters[i].pending)
			waiter_done(&ev.waiters[i]);
}

static enum cmd_result events(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
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
		ev.a = a;
		service_refresh(a);
	}
	/* init's answer in flight (asked now, the last being stale): the
	 * request waits for it, whatever its timeout_ms */
	if (services && ev.svc.asking)
		goto wait;
	if ((uint64_t)since < ev.next_seq || wait_ms == 0 || (services && service_news(after))) {
		*result = events_after((uint64_t)since, services, after);
		return *result ? 0 : cmd_fail(err, "out of memory");
	}
wait:
	/* nothing new: wait for it, bounded in time and in waiters */
	for (size_t i = 0; i < WAITERS_MAX && !w; i++)
		if (!ev.waiters[i].pending)
			w = &ev.waiters[i];
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
	w->wait = wait_ms > 0;
	w->needs_answer = services && ev.svc.asking;
	/* init's answer comes within initctl's bound; the timer is the
	 * client's wait, or that bound for one that does not wait */
	w->timer = loop_timer(a->loop, wait_ms > 0 ? (uint64_t)wait_ms : INITCTL_TIMEOUT_MS + 1000,
			      waiter_timeout, w);
	if (services && !ev.svc.poll_timer && !ev.svc.asking)
		ev.svc.poll_timer = loop_timer(a->loop, SERVICE_POLL_MS, service_poll, NULL);
	return CMD_LATER;
}

void events_start(struct agent *a)
{
	ev.a = a;
}

void events_stop(struct agent *a)
{
	/* a long poll is answered with what there is, not dropped: the
	 * transport flushes it before closing */
	ev.a = NULL;
	for (size_t i = 0; i < WAITERS_MAX; i++)
		if (ev.waiters[i].pending) {
			if (ev.waiters[i].timer > 0)
				loop_cancel(a->loop, ev.waiters[i].timer);
			ev.waiters[i].timer = 0;
			waiter_done(&ev.waiters[i]);
		}
	if (ev.svc.poll_timer)
		loop_cancel(a->loop, ev.svc.poll_timer);
	ev.svc.poll_timer = 0;
	json_decref(ev.svc.events);
	ev.svc.events = NULL;
	ev.svc.valid = false;
	/* a question in flight is the workers' to cancel (its done frees it) */
	ev.svc.asking = false;
}

const struct command cmd_events_table[] = {
	{ "porthole-events",
	  events,
	  { { "since", ARG_INT, false },
	    { "timeout_ms", ARG_INT, false },
	    { "service_after", ARG_INT, false } },
	  CMD_QUIET },
	{ 0 },
};
