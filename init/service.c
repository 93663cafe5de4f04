/* The services' state machine, one per service, driven by supervise.c's
 * loop (exits, ticks) and by readiness (service-ready.c). States and what
 * moves them:
 *
 *   waiting  --what it requires and comes after is ready-->  starting
 *   starting --probe answers / notify line-->                running
 *   starting --ready_timeout-->  stopping (counts as a failure)
 *   running, starting --exit-->  backoff (restart policy) | stopped | failed
 *   backoff  --delay-->          starting; the crash-loop limit: failed
 *   stopping --stop_timeout-->   cgroup.kill, then the exit as above
 *   failed, stopped --restart request-->  waiting
 *
 * Every wait has a deadline the tick enforces; nothing here blocks, forks
 * or reads a clock of its own: that is struct service_ops's. */
#include "service.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "boot-log.h"
#include "cgroup.h"
#include "log.h"
#include "service-exec.h"
#include "service-graph.h"
#include "service-oom.h"
#include "service-ready.h"
#include "svclog.h"
#include "util.h"

#define MS NSEC_PER_MSEC
#define TICK_PASSES 8 /* a start that makes another due is taken in the same tick */

static const char *const state_names[] = {
	[SVC_DISABLED] = "disabled", [SVC_WAITING] = "waiting",	  [SVC_STARTING] = "starting",
	[SVC_RUNNING] = "running",   [SVC_STOPPING] = "stopping", [SVC_BACKOFF] = "backoff",
	[SVC_STOPPED] = "stopped",   [SVC_FAILED] = "failed",
};

const char *service_state_name(enum service_state state)
{
	return state < ARRAY_SIZE(state_names) && state_names[state] ? state_names[state] : "?";
}

/* The wall clock, for what users read (since, event times); the machine's
 * own time is the ops' clock. */
static int64_t now_real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / NSEC_PER_USEC;
}

static void set_state(struct service *sv, enum service_state state)
{
	sv->state = state;
	sv->since = now_real_us() / USEC_PER_SEC;
}

void services_event(struct services *ss, const struct service *sv, const char *type,
		    const char *fmt, ...)
{
	struct service_event *e = &ss->events[ss->next_seq % SERVICE_EVENTS_MAX];
	va_list ap;

	e->seq = ++ss->next_seq;
	e->time_us = now_real_us();
	snprintf(e->service, sizeof(e->service), "%s", sv->spec.name);
	snprintf(e->type, sizeof(e->type), "%s", type);
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
}

void service_note(struct service *sv, const char *fmt, ...)
{
	char text[SVCLOG_LINE_MAX];
	va_list ap;

	/* svclog_new fails only out of memory: the service runs without */
	if (!sv->log)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	svclog_note(sv->log, "%s", text);
}

struct service *services_find(struct services *ss, const char *name)
{
	for (size_t i = 0; i < ss->n; i++)
		if (strcmp(ss->svc[i].spec.name, name) == 0)
			return &ss->svc[i];
	return NULL;
}

static struct service *by_pid(struct services *ss, pid_t pid)
{
	for (size_t i = 0; i < ss->n; i++)
		if (ss->svc[i].pid == pid)
			return &ss->svc[i];
	return NULL;
}

/* ---- the transitions ---- */

void service_ready(struct services *ss, struct service *sv)
{
	uint64_t boot_ms = now_boot_ns() / MS;
	uint64_t took = (ss->ops->now() - sv->started_ns) / MS;

	service_ready_end(ss, sv);
	set_state(sv, SVC_RUNNING);
	boot_log_service_ready(sv->spec.name);
	sv->deadline_ns = 0;
	if (!sv->ever_ready) {
		sv->ever_ready = true;
		sv->ready_ms = boot_ms;
	}
	log_info("%s ready after %llu ms, %llu ms since kernel start", sv->spec.name,
		 (unsigned long long)took, (unsigned long long)boot_ms);
	service_note(sv, "ready after %llu ms", (unsigned long long)took);
	services_event(ss, sv, "ready", "after %llu ms", (unsigned long long)took);
}

static void fail(struct services *ss, struct service *sv, const char *why)
{
	set_state(sv, SVC_FAILED);
	sv->deadline_ns = 0;
	log_error("%s: %s", sv->spec.name, why);
	service_note(sv, "failed: %s", why);
	services_event(ss, sv, "failed", "%s", why);
}

/* Whether what SV requires (REQUIRED) or comes after lets it start. */
static bool dep_ready(struct services *ss, const char *name, bool required, bool started)
{
	struct service *d = services_find(ss, name);

	if (!d)
		return !required;
	switch (d->state) {
	case SVC_RUNNING:
		return true;
	case SVC_STARTING:
		return started;
	case SVC_STOPPED: /* a one-shot that did its work */
		return d->has_exit && WIFEXITED(d->exit_status) && WEXITSTATUS(d->exit_status) == 0;
	case SVC_DISABLED:
		return !required;
	case SVC_FAILED:
		/* an `after` that failed orders nothing any more */
		return !required;
	default:
		return false;
	}
}

static bool deps_ready(struct services *ss, const struct service *sv)
{
	for (size_t i = 0; i < sv->spec.n_requires; i++)
		if (!dep_ready(ss, sv->spec.requires[i], true, sv->spec.wait_started))
			return false;
	for (size_t i = 0; i < sv->spec.n_after; i++)
		if (!dep_ready(ss, sv->spec.after[i], false, sv->spec.wait_started))
			return false;
	return true;
}

static void start(struct services *ss, struct service *sv)
{
	const struct service_spec *sp = &sv->spec;
	char why[160];
	pid_t pid = ss->ops->spawn(ss, sv, why, sizeof(why));

	if (pid < 0) {
		fail(ss, sv, why);
		return;
	}
	sv->pid = pid;
	sv->started_ns = ss->ops->now();
	sv->ready_timed_out = false;
	/* has_exit stays: porthole-services shows the last exit while it runs again */
	log_info("%s: started (pid %d)", sp->name, pid);
	service_note(sv, "started: pid %d", pid);
	boot_log_service_start(sp->name);
	set_state(sv, SVC_STARTING);
	sv->deadline_ns = sp->ready_timeout_ms ? sv->started_ns + sp->ready_timeout_ms * MS : 0;
	service_ready_begin(ss, sv, sv->started_ns);
	if (sp->ready == READY_NONE)
		service_ready(ss, sv);
}

static void stop(struct services *ss, struct service *sv)
{
	if (sv->pid <= 0)
		return;
	log_info("%s: stopping (pid %d, %s)", sv->spec.name, sv->pid,
		 strsignal(sv->spec.stop_signal));
	ss->ops->kill(sv->pid, sv->spec.stop_signal);
	/* a stopped process cannot act on the signal */
	ss->ops->kill(sv->pid, SIGCONT);
	set_state(sv, SVC_STOPPING);
	sv->deadline_ns = ss->ops->now() + (uint64_t)sv->spec.stop_timeout_ms * MS;
}

static void describe_exit(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
}

static void schedule_restart(struct services *ss, struct service *sv, uint64_t now)
{
	const struct service_spec *sp = &sv->spec;
	uint64_t delay;
	char why[160];

	if (backoff_crash_loop(&sv->backoff, now, sp->crash_limit, sp->crash_window_ms)) {
		snprintf(why, sizeof(why),
			 "restarted %u times in %u s: a crash loop, not restarted again "
			 "(porthole restart %s)",
			 sv->backoff.in_window, (unsigned)(sp->crash_window_ms / MSEC_PER_SEC),
			 sp->name);
		fail(ss, sv, why);
		return;
	}
	delay = backoff_next_ms(&sv->backoff, (now - sv->started_ns) / MS, sp->restart_delay_ms,
				sp->restart_delay_max_ms);
	set_state(sv, SVC_BACKOFF);
	sv->deadline_ns = now + delay * MS;
	log_info("%s: restarting in %llu ms", sp->name, (unsigned long long)delay);
}

bool services_exited(struct services *ss, pid_t pid, int status)
{
	struct service *sv = by_pid(ss, pid);
	uint64_t now = ss->ops->now();
	bool failure, again;
	char how[96];

	if (!sv)
		return false;
	/* what is in the pipes now belongs before the exit line */
	service_exec_drain(ss, sv);
	describe_exit(status, how, sizeof(how));
	sv->has_exit = true;
	sv->exit_status = status;
	/* what it left behind goes with it (unless kill_mode = process); a
	 * delegated service's subtree (containers) only at shutdown. Before
	 * its pid is forgotten: without cgroups, that is its process group. */
	if (ss->stopping_all || !sv->spec.kill_process_only)
		ss->ops->kill_cgroup(ss, sv, ss->stopping_all);
	sv->pid = 0;
	service_ready_end(ss, sv);
	log_info("%s: %s", sv->spec.name, how);
	service_note(sv, "%s", how);
	boot_log_service_exit(sv->spec.name);
	services_event(ss, sv, "exited", "%s", how);

	if (ss->stopping_all) {
		set_state(sv, SVC_STOPPED);
		sv->deadline_ns = 0;
		return true;
	}
	if (sv->restart_requested) {
		sv->restart_requested = false;
		backoff_reset(&sv->backoff);
		set_state(sv, SVC_WAITING);
		sv->deadline_ns = 0;
		services_event(ss, sv, "restarted", "on request");
		return true;
	}
	failure = !WIFEXITED(status) || WEXITSTATUS(status) != 0 || sv->ready_timed_out;
	again = sv->spec.restart == RESTART_ALWAYS ||
		(sv->spec.restart == RESTART_ON_FAILURE && failure);
	if (!again) {
		set_state(sv, failure ? SVC_FAILED : SVC_STOPPED);
		sv->deadline_ns = 0;
		return true;
	}
	schedule_restart(ss, sv, now);
	return true;
}

/* ---- the tick: one handler per state that has something due ---- */

/* Each returns whether it moved SV on in a way that may let another start. */
typedef bool (*tick_fn)(struct services *ss, struct service *sv, uint64_t now);

static bool tick_waiting(struct services *ss, struct service *sv, uint64_t now)
{
	(void)now;
	if (ss->stopping_all || !deps_ready(ss, sv))
		return false;
	start(ss, sv);
	return true;
}

static bool tick_backoff(struct services *ss, struct service *sv, uint64_t now)
{
	if (now < sv->deadline_ns)
		return false;
	sv->restarts++;
	services_event(ss, sv, "restarted", "restart %u", sv->restarts);
	start(ss, sv);
	return true;
}

static bool tick_starting(struct services *ss, struct service *sv, uint64_t now)
{
	if (sv->deadline_ns && now >= sv->deadline_ns) {
		log_error("%s: not ready after %u ms; stopping it", sv->spec.name,
			  sv->spec.ready_timeout_ms);
		service_note(sv, "not ready after %u ms", sv->spec.ready_timeout_ms);
		stop(ss, sv);
		sv->ready_timed_out = true;
		return false;
	}
	if (!service_ready_poll(ss, sv, now))
		return false;
	service_ready(ss, sv);
	return true;
}

static bool tick_stopping(struct services *ss, struct service *sv, uint64_t now)
{
	if (!sv->deadline_ns || now < sv->deadline_ns)
		return false;
	log_warn("%s: still running %u ms after %s: killing its cgroup", sv->spec.name,
		 sv->spec.stop_timeout_ms, strsignal(sv->spec.stop_signal));
	service_note(sv, "stop timed out: killed");
	ss->ops->kill_cgroup(ss, sv, true);
	sv->deadline_ns = 0;
	return false;
}

static const tick_fn tick_fns[] = {
	[SVC_WAITING] = tick_waiting,
	[SVC_BACKOFF] = tick_backoff,
	[SVC_STARTING] = tick_starting,
	[SVC_STOPPING] = tick_stopping,
};

int services_tick(struct services *ss)
{
	uint64_t now, next = UINT64_MAX;
	bool changed = true;

	for (int pass = 0; changed && pass < TICK_PASSES; pass++) {
		changed = false;
		now = ss->ops->now();
		for (size_t i = 0; i < ss->n; i++) {
			struct service *sv = &ss->svc[i];
			tick_fn fn = sv->state < ARRAY_SIZE(tick_fns) ? tick_fns[sv->state] : NULL;

			if (fn && fn(ss, sv, now))
				changed = true;
		}
	}
	now = ss->ops->now();
	for (size_t i = 0; i < ss->n; i++) {
		const struct service *sv = &ss->svc[i];

		if (sv->deadline_ns && sv->deadline_ns < next)
			next = sv->deadline_ns;
		if (sv->state == SVC_STARTING && sv->next_check_ns && sv->next_check_ns < next)
			next = sv->next_check_ns;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now) / MS + 1);
}

/* ---- the interface ---- */

void services_init(struct services *ss, struct supervisor *sup, const struct service_ops *ops,
		   const struct service_spec *specs, size_t n, const char *logdir)
{
	memset(ss, 0, sizeof(*ss));
	ss->sup = sup;
	ss->ops = ops;
	ss->inotify_fd = -1;
	snprintf(ss->logdir, sizeof(ss->logdir), "%s", logdir ? logdir : "");
	for (size_t i = 0; i < n && i < SERVICES_MAX; i++) {
		struct service *sv = &ss->svc[i];

		sv->spec = specs[i];
		sv->pid = 0;
		sv->out_fd = sv->err_fd = sv->notify_fd = sv->probe_fd = -1;
		sv->oom_wd = -1;
		sv->log =
			svclog_new(sv->spec.name, ss->logdir[0] ? ss->logdir : NULL,
				   SVCLOG_RING_DEFAULT, SVCLOG_ROTATE_DEFAULT, SVCLOG_KEEP_DEFAULT);
		set_state(sv, sv->spec.enabled ? SVC_WAITING : SVC_DISABLED);
		ss->n++;
	}
}

void services_load(struct services *ss, struct supervisor *sup, const char *dir, const char *cgroot,
		   const char *logdir)
{
	struct service_spec *specs = calloc(SERVICES_MAX, sizeof(*specs));
	unsigned bad = 0;
	bool cgroups;
	size_t n = 0;

	if (specs) {
		n = service_conf_load_dir(dir, specs, SERVICES_MAX, &bad);
		service_graph_check(specs, n);
	} else {
		log_error("services: out of memory");
	}
	if (n == 0 && bad == 0) {
		services_init(ss, sup, &service_exec_ops, NULL, 0, NULL);
		free(specs);
		return;
	}
	cgroups = cgroup_setup(cgroot) == 0;
	if (logdir && mkdir_p(logdir, 0755) < 0) {
		log_warn_errno(-errno, "services: %s; output kept in memory only", logdir);
		logdir = NULL;
	}
	services_init(ss, sup, &service_exec_ops, specs, n, logdir);
	free(specs); /* the strings stay: each spec owns its allocation now */
	ss->cgroups = cgroups;
	snprintf(ss->cgroot, sizeof(ss->cgroot), "%s", cgroot);
	for (size_t i = 0; i < ss->n; i++)
		cgroup_service_dir(cgroot, ss->svc[i].spec.name, ss->svc[i].cgroup,
				   sizeof(ss->svc[i].cgroup));
	service_oom_start(ss);
	log_info("services: %zu in %s%s%s", n, dir, bad ? ", refused: " : "",
		 bad ? "see above" : "");
}

void services_disable(struct services *ss, const char *name)
{
	struct service *sv = services_find(ss, name);

	if (sv && sv->state != SVC_DISABLED) {
		log_info("%s: disabled by init's configuration", name);
		set_state(sv, SVC_DISABLED);
	}
}

static bool on_exit_hook(void *data, pid_t pid, int status)
{
	return services_exited(data, pid, status);
}

static int on_tick_hook(void *data)
{
	return services_tick(data);
}

void services_begin(struct services *ss)
{
	if (ss->sup) {
		ss->sup->on_exit = on_exit_hook;
		ss->sup->on_tick = on_tick_hook;
		ss->sup->hook_data = ss;
	}
	services_tick(ss);
}

int services_restart(struct services *ss, const char *name)
{
	struct service *sv = services_find(ss, name);

	if (!sv)
		return -ENOENT;
	switch (sv->state) {
	case SVC_DISABLED:
		return -EPERM;
	case SVC_STARTING:
	case SVC_RUNNING:
		sv->restart_requested = true;
		stop(ss, sv);
		break;
	case SVC_STOPPING:
		sv->restart_requested = true;
		break;
	case SVC_BACKOFF:
	case SVC_STOPPED:
	case SVC_FAILED:
		backoff_reset(&sv->backoff);
		sv->deadline_ns = 0;
		set_state(sv, SVC_WAITING);
		break;
	case SVC_WAITING:
		break;
	}
	log_info("%s: restart requested", name);
	services_tick(ss);
	return 0;
}

bool services_stop_pass(struct services *ss)
{
	bool alive = false;

	ss->stopping_all = true;
	/* dependents first: a service stops once nothing that depends on it is
	 * still running */
	for (size_t i = 0; i < ss->n; i++) {
		struct service *sv = &ss->svc[i];
		bool blocked = false;

		if (sv->pid <= 0) {
			if (sv->state == SVC_BACKOFF || sv->state == SVC_WAITING)
				set_state(sv, SVC_STOPPED);
			continue;
		}
		if (sv->state == SVC_STOPPING)
			continue;
		for (size_t j = 0; j < ss->n && !blocked; j++)
			blocked = ss->svc[j].pid > 0 &&
				  service_graph_depends(&ss->svc[j].spec, sv->spec.name);
		if (!blocked)
			stop(ss, sv);
	}
	for (size_t i = 0; i < ss->n; i++)
		if (ss->svc[i].pid > 0)
			alive = true;
	return alive;
}

void services_stop_all(struct services *ss, uint64_t deadline_ns)
{
	while (services_stop_pass(ss) && ss->ops->now() < deadline_ns) {
		int t = services_tick(ss);

		supervise_poll_once(ss->sup, t < 0 || t > 100 ? 100 : t);
	}
	/* whatever is left, in every service's cgroup, delegated ones too */
	for (size_t i = 0; i < ss->n; i++) {
		struct service *sv = &ss->svc[i];

		if (sv->pid > 0)
			log_warn("%s: still running at the shutdown deadline: killed",
				 sv->spec.name);
		ss->ops->kill_cgroup(ss, sv, true);
	}
}
