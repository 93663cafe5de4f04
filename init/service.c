/* The services: a state machine per service driven by supervise.c's loop
 * (exits, ticks, readable fds). States and what moves them:
 *
 *   waiting  --what it requires and comes after is ready-->  starting
 *   starting --probe answers / notify line-->                running
 *   starting --ready_timeout-->  stopping (counts as a failure)
 *   running, starting --exit-->  backoff (restart policy) | stopped | failed
 *   backoff  --delay-->          starting
 *   stopping --stop_timeout-->   cgroup.kill, then the exit as above
 *
 * Every wait has a deadline the tick enforces; nothing here blocks. */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "cgroup.h"
#include "log.h"
#include "service-graph.h"
#include "launch.h"
#include "svclog.h"
#include "util.h"

#define MS 1000000ull
_Static_assert(SERVICE_ENV_MAX <= LAUNCH_ENV_MAX,
	       "launch.c's environment too small for a service's");
#define PROBE_FIRST_MS 5 /* readiness probes: first interval, */
#define PROBE_MAX_MS 200 /* doubling up to this */
#define PROBE_HTTP_MS 2000 /* one HTTP probe's time-out */
#define READ_CHUNK 16384
#define READS_PER_EVENT 4 /* bounded work per readable pipe per loop turn */

static const char *const state_names[] = {
	[SVC_DISABLED] = "disabled", [SVC_WAITING] = "waiting",	  [SVC_STARTING] = "starting",
	[SVC_RUNNING] = "running",   [SVC_STOPPING] = "stopping", [SVC_BACKOFF] = "backoff",
	[SVC_STOPPED] = "stopped",   [SVC_FAILED] = "failed",
};

const char *service_state_name(enum service_state state)
{
	return state < ARRAY_SIZE(state_names) && state_names[state] ? state_names[state] : "?";
}

static int64_t now_real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void set_state(struct service *sv, enum service_state state)
{
	sv->state = state;
	sv->since = now_real_us() / 1000000;
}

static void event(struct services *ss, const struct service *sv, const char *type, const char *fmt,
		  ...) __attribute__((format(printf, 4, 5)));

static void event(struct services *ss, const struct service *sv, const char *type, const char *fmt,
		  ...)
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

/* ---- output ---- */

static void close_fd(struct services *ss, int *fd)
{
	if (*fd < 0)
		return;
	supervise_unwatch(ss->sup, *fd);
	close(*fd);
	*fd = -1;
}

static void read_output(struct services *ss, struct service *sv, int *fd, enum svclog_stream stream)
{
	char buf[READ_CHUNK];

	for (int i = 0; i < READS_PER_EVENT; i++) {
		ssize_t n = read(*fd, buf, sizeof(buf));

		if (n > 0) {
			svclog_feed(sv->log, stream, buf, (size_t)n);
			if (sv->spec.output == OUTPUT_CONSOLE &&
			    write(STDERR_FILENO, buf, (size_t)n) < 0) {
				/* the console is best effort */
			}
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* the end: every writer is gone */
		svclog_flush(sv->log, stream);
		close_fd(ss, fd);
		return;
	}
}

static void on_output(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct service *sv = data;
	struct services *ss = s->hook_data;

	(void)events;
	if (fd == sv->out_fd)
		read_output(ss, sv, &sv->out_fd, SVCLOG_STDOUT);
	else if (fd == sv->err_fd)
		read_output(ss, sv, &sv->err_fd, SVCLOG_STDERR);
}

/* ---- readiness ---- */

static void became_ready(struct services *ss, struct service *sv)
{
	uint64_t boot_ms = now_boot_ns() / MS;
	uint64_t took = (now_mono_ns() - sv->started_ns) / MS;

	close_fd(ss, &sv->probe_fd);
	close_fd(ss, &sv->notify_fd);
	set_state(sv, SVC_RUNNING);
	sv->deadline_ns = 0;
	if (!sv->ever_ready) {
		sv->ever_ready = true;
		sv->ready_ms = boot_ms;
	}
	log_info("%s ready after %llu ms, %llu ms since kernel start", sv->spec.name,
		 (unsigned long long)took, (unsigned long long)boot_ms);
	svclog_note(sv->log, "ready after %llu ms", (unsigned long long)took);
	event(ss, sv, "ready", "after %llu ms", (unsigned long long)took);
}

static void on_notify(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct service *sv = data;
	struct services *ss = s->hook_data;
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	if (n > 0 && memchr(buf, '\n', (size_t)n)) {
		if (sv->state == SVC_STARTING)
			became_ready(ss, sv);
		else
			close_fd(ss, &sv->notify_fd);
	} else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		log_warn("%s: closed its notification fd %d without a ready line", sv->spec.name,
			 sv->spec.ready_fd);
		close_fd(ss, &sv->notify_fd);
	}
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void on_probe(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct service *sv = data;
	struct services *ss = s->hook_data;
	size_t room = sizeof(sv->probe_buf) - 1 - sv->probe_len;
	ssize_t n = read(fd, sv->probe_buf + sv->probe_len, room);

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		sv->probe_len += (size_t)n;
	sv->probe_buf[sv->probe_len] = '\0';
	/* "HTTP/1.1 200 OK": the status line is all that is read */
	if (strchr(sv->probe_buf, '\r') || sv->probe_len == sizeof(sv->probe_buf) - 1 || n <= 0) {
		bool ok = strncmp(sv->probe_buf, "HTTP/1.", 7) == 0 &&
			  strncmp(sv->probe_buf + 8, " 200", 4) == 0;

		close_fd(ss, &sv->probe_fd);
		if (ok && sv->state == SVC_STARTING)
			became_ready(ss, sv);
	}
}

/* One probe; true when it says ready now (HTTP answers later, on_probe). */
static bool probe(struct services *ss, struct service *sv)
{
	const struct service_spec *sp = &sv->spec;
	char req[128];
	int fd;

	switch (sp->ready) {
	case READY_FILE:
		return access(sp->ready_path, F_OK) == 0;
	case READY_SOCKET:
		fd = unix_connect(sp->ready_path);
		if (fd < 0)
			return false;
		close(fd);
		return true;
	case READY_HTTP:
		if (sv->probe_fd >= 0) /* in flight past its time: give up on it */
			close_fd(ss, &sv->probe_fd);
		fd = unix_connect(sp->ready_path);
		if (fd < 0)
			return false;
		snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n",
			 sp->ready_http_path);
		/* a fresh socket's buffer takes a line this short at once */
		if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
		    supervise_watch(ss->sup, fd, on_probe, sv) < 0) {
			close(fd);
			return false;
		}
		sv->probe_fd = fd;
		sv->probe_len = 0;
		return false;
	default:
		return false;
	}
}

/* ---- starting ---- */

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

static int make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	return 0;
}

static void fail(struct services *ss, struct service *sv, const char *why)
{
	set_state(sv, SVC_FAILED);
	sv->deadline_ns = 0;
	log_error("%s: %s", sv->spec.name, why);
	svclog_note(sv->log, "failed: %s", why);
	event(ss, sv, "failed", "%s", why);
}

static void start(struct services *ss, struct service *sv)
{
	const struct service_spec *sp = &sv->spec;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, note[2] = { -1, -1 };
	struct launch_opts opts;
	char why[160];
	pid_t pid;

	if (access(sp->argv[0], X_OK) < 0) {
		snprintf(why, sizeof(why), "%s: %s", sp->argv[0], strerror(errno));
		fail(ss, sv, why);
		return;
	}
	sv->leaf[0] = '\0';
	if (ss->cgroups && cgroup_service_prepare(ss->cgroot, sp, sv->leaf, sizeof(sv->leaf)) < 0)
		sv->leaf[0] = '\0'; /* said; it runs in init's cgroup */
	if (sp->output != OUTPUT_NULL && (make_pipe(out) < 0 || make_pipe(err) < 0))
		log_warn_errno(-errno, "%s: output pipes; its output is lost", sp->name);
	if (sp->ready == READY_NOTIFY && make_pipe(note) < 0)
		log_warn_errno(-errno, "%s: notification pipe", sp->name);

	launch_opts_init(&opts, sp->argv);
	opts.env = sp->env;
	opts.new_session = true;
	opts.stdout_fd = out[1];
	opts.stderr_fd = err[1];
	opts.pass_fd = note[1];
	opts.pass_fd_as = note[1] >= 0 ? sp->ready_fd : -1;
	opts.cgroup = sv->leaf[0] ? sv->leaf : NULL;
	opts.rlimits = sp->rlimits;
	opts.n_rlimits = sp->n_rlimits;
	opts.has_oom_score_adj = sp->has_oom_score_adj;
	opts.oom_score_adj = sp->oom_score_adj;
	opts.directory = sp->directory[0] ? sp->directory : "/";
	opts.has_caps = sp->has_caps;
	opts.caps = sp->caps;
	opts.has_user = sp->has_user;
	opts.has_group = sp->has_group;
	opts.uid = sp->uid;
	opts.gid = sp->gid;
	pid = launch_start(&opts);
	if (pid < 0)
		snprintf(why, sizeof(why), "fork: %s", strerror(-pid));
	/* the child's ends; and ours too when there is no child */
	for (int i = pid < 0 ? 0 : 1; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
		if (note[i] >= 0)
			close(note[i]);
	}
	if (pid < 0) {
		fail(ss, sv, why);
		return;
	}
	sv->pid = pid;
	sv->started_ns = now_mono_ns();
	sv->ready_timed_out = false;
	/* has_exit stays: porthole-services shows the last exit while it runs again */
	close_fd(ss, &sv->out_fd);
	close_fd(ss, &sv->err_fd);
	close_fd(ss, &sv->notify_fd);
	sv->out_fd = out[0];
	sv->err_fd = err[0];
	sv->notify_fd = note[0];
	if (sv->out_fd >= 0 && supervise_watch(ss->sup, sv->out_fd, on_output, sv) < 0)
		close_fd(ss, &sv->out_fd);
	if (sv->err_fd >= 0 && supervise_watch(ss->sup, sv->err_fd, on_output, sv) < 0)
		close_fd(ss, &sv->err_fd);
	if (sv->notify_fd >= 0 && supervise_watch(ss->sup, sv->notify_fd, on_notify, sv) < 0)
		close_fd(ss, &sv->notify_fd);
	log_info("%s: started (pid %d)", sp->name, pid);
	svclog_note(sv->log, "started: pid %d", pid);
	set_state(sv, SVC_STARTING);
	sv->deadline_ns = sp->ready_timeout_ms ? sv->started_ns + sp->ready_timeout_ms * MS : 0;
	sv->check_ms = PROBE_FIRST_MS;
	sv->next_check_ns = sv->started_ns + PROBE_FIRST_MS * MS;
	if (sp->ready == READY_NONE)
		became_ready(ss, sv);
}

/* ---- stopping ---- */

static void stop(struct service *sv)
{
	if (sv->pid <= 0)
		return;
	log_info("%s: stopping (pid %d, %s)", sv->spec.name, sv->pid,
		 strsignal(sv->spec.stop_signal));
	kill(sv->pid, sv->spec.stop_signal);
	kill(sv->pid, SIGCONT);
	set_state(sv, SVC_STOPPING);
	sv->deadline_ns = now_mono_ns() + (uint64_t)sv->spec.stop_timeout_ms * MS;
}

static void kill_all(struct services *ss, struct service *sv, bool whole)
{
	if (ss->cgroups && sv->leaf[0]) {
		const char *dir = whole ? sv->cgroup : sv->leaf;

		if (cgroup_populated(dir) && cgroup_kill(dir) < 0 && sv->pid > 0)
			kill(sv->pid, SIGKILL);
	} else if (sv->pid > 0) {
		kill(-sv->pid, SIGKILL);
		kill(sv->pid, SIGKILL);
	}
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
			 sv->backoff.in_window, sp->crash_window_ms / 1000, sp->name);
		fail(ss, sv, why);
		return;
	}
	delay = backoff_next_ms(&sv->backoff, (now - sv->started_ns) / MS, sp->restart_delay_ms,
				sp->restart_delay_max_ms);
	set_state(sv, SVC_BACKOFF);
	sv->deadline_ns = now + delay * MS;
	log_info("%s: restarting in %llu ms", sp->name, (unsigned long long)delay);
}

static bool service_exited(void *data, pid_t pid, int status)
{
	struct services *ss = data;
	struct service *sv = by_pid(ss, pid);
	uint64_t now = now_mono_ns();
	bool failure, again;
	char how[96];

	if (!sv)
		return false;
	/* what is in the pipes now belongs before the exit line */
	if (sv->out_fd >= 0)
		read_output(ss, sv, &sv->out_fd, SVCLOG_STDOUT);
	if (sv->err_fd >= 0)
		read_output(ss, sv, &sv->err_fd, SVCLOG_STDERR);
	describe_exit(status, how, sizeof(how));
	sv->has_exit = true;
	sv->exit_status = status;
	sv->pid = 0;
	close_fd(ss, &sv->notify_fd);
	close_fd(ss, &sv->probe_fd);
	/* what it left behind goes with it (unless kill_mode = process); a
	 * delegated service's subtree (containers) only at shutdown */
	if (ss->stopping_all || !sv->spec.kill_process_only)
		kill_all(ss, sv, ss->stopping_all);
	log_info("%s: %s", sv->spec.name, how);
	svclog_note(sv->log, "%s", how);
	event(ss, sv, "exited", "%s", how);

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
		event(ss, sv, "restarted", "on request");
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

/* ---- the tick ---- */

static void oom_check(struct services *ss, struct service *sv)
{
	int64_t n;

	if (!ss->cgroups || !sv->cgroup[0])
		return;
	n = cgroup_oom_kills(sv->cgroup);
	if (n > sv->oom_seen) {
		log_warn("%s: %lld process(es) killed for running out of memory (%s/memory.events "
			 "oom_kill %lld)",
			 sv->spec.name, (long long)(n - sv->oom_seen), sv->cgroup, (long long)n);
		svclog_note(sv->log, "%lld process(es) OOM-killed", (long long)(n - sv->oom_seen));
		event(ss, sv, "oom_kill", "%lld killed, %lld in all", (long long)(n - sv->oom_seen),
		      (long long)n);
	}
	if (n >= 0)
		sv->oom_seen = n;
}

static void on_inotify(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct services *ss = data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)s;
	(void)events;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			for (size_t i = 0; i < ss->n; i++)
				if (ss->svc[i].oom_wd == ev->wd)
					oom_check(ss, &ss->svc[i]);
			p += sizeof(*ev) + ev->len;
		}
}

static void watch_oom(struct services *ss, struct service *sv)
{
	char path[CGROUP_PATH_MAX + 32];

	if (ss->inotify_fd < 0 || sv->oom_wd >= 0 || !sv->leaf[0])
		return;
	snprintf(path, sizeof(path), "%s/memory.events", sv->cgroup);
	/* cgroup-v2.rst: a value change in memory.events is a modify event */
	sv->oom_wd = inotify_add_watch(ss->inotify_fd, path, IN_MODIFY);
	sv->oom_seen = cgroup_oom_kills(sv->cgroup);
	if (sv->oom_seen < 0)
		sv->oom_seen = 0;
}

/* Moves every service along; returns the ms until the next deadline, or -1. */
static int services_tick(void *data)
{
	struct services *ss = data;
	uint64_t now, next = UINT64_MAX;
	bool changed = true;

	for (int pass = 0; changed && pass < 8; pass++) {
		changed = false;
		now = now_mono_ns();
		for (size_t i = 0; i < ss->n; i++) {
			struct service *sv = &ss->svc[i];

			switch (sv->state) {
			case SVC_WAITING:
				if (!ss->stopping_all && deps_ready(ss, sv)) {
					start(ss, sv);
					watch_oom(ss, sv);
					changed = true;
				}
				break;
			case SVC_BACKOFF:
				if (now >= sv->deadline_ns) {
					sv->restarts++;
					event(ss, sv, "restarted", "restart %u", sv->restarts);
					start(ss, sv);
					changed = true;
				}
				break;
			case SVC_STARTING:
				if (sv->deadline_ns && now >= sv->deadline_ns) {
					log_error("%s: not ready after %u ms; stopping it",
						  sv->spec.name, sv->spec.ready_timeout_ms);
					svclog_note(sv->log, "not ready after %u ms",
						    sv->spec.ready_timeout_ms);
					stop(sv);
					sv->ready_timed_out = true;
					break;
				}
				if (now >= sv->next_check_ns && sv->spec.ready != READY_NOTIFY) {
					if (probe(ss, sv)) {
						became_ready(ss, sv);
						changed = true;
						break;
					}
					sv->next_check_ns =
						now +
						(sv->probe_fd >= 0 ? PROBE_HTTP_MS : sv->check_ms) *
							MS;
					if (sv->check_ms < PROBE_MAX_MS)
						sv->check_ms *= 2;
				}
				break;
			case SVC_STOPPING:
				if (sv->deadline_ns && now >= sv->deadline_ns) {
					log_warn("%s: still running %u ms after %s: killing its "
						 "cgroup",
						 sv->spec.name, sv->spec.stop_timeout_ms,
						 strsignal(sv->spec.stop_signal));
					svclog_note(sv->log, "stop timed out: killed");
					kill_all(ss, sv, true);
					sv->deadline_ns = 0;
				}
				break;
			default:
				break;
			}
		}
	}
	now = now_mono_ns();
	for (size_t i = 0; i < ss->n; i++) {
		const struct service *sv = &ss->svc[i];

		if (sv->deadline_ns && sv->deadline_ns < next)
			next = sv->deadline_ns;
		if (sv->state == SVC_STARTING && sv->spec.ready != READY_NOTIFY &&
		    sv->next_check_ns < next)
			next = sv->next_check_ns;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now) / MS + 1);
}

/* ---- the interface ---- */

void services_load(struct services *ss, struct supervisor *sup, const char *dir, const char *cgroot,
		   const char *logdir)
{
	struct service_spec *specs = calloc(SERVICES_MAX, sizeof(*specs));
	unsigned bad = 0;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	ss->sup = sup;
	ss->inotify_fd = -1;
	snprintf(ss->cgroot, sizeof(ss->cgroot), "%s", cgroot);
	snprintf(ss->logdir, sizeof(ss->logdir), "%s", logdir ? logdir : "");
	if (!specs) {
		log_error("services: out of memory");
		return;
	}
	n = service_conf_load_dir(dir, specs, SERVICES_MAX, &bad);
	service_graph_check(specs, n);
	if (n == 0 && bad == 0) {
		free(specs);
		return;
	}
	ss->cgroups = cgroup_setup(cgroot) == 0;
	if (ss->logdir[0] && mkdir_p(ss->logdir, 0755) < 0) {
		log_warn_errno(-errno, "services: %s; output kept in memory only", ss->logdir);
		ss->logdir[0] = '\0';
	}
	ss->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ss->inotify_fd >= 0 && supervise_watch(sup, ss->inotify_fd, on_inotify, ss) < 0) {
		close(ss->inotify_fd);
		ss->inotify_fd = -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct service *sv = &ss->svc[i];

		sv->spec = specs[i];
		sv->pid = 0;
		sv->out_fd = sv->err_fd = sv->notify_fd = sv->probe_fd = -1;
		sv->oom_wd = -1;
		cgroup_service_dir(cgroot, sv->spec.name, sv->cgroup, sizeof(sv->cgroup));
		sv->log =
			svclog_new(sv->spec.name, ss->logdir[0] ? ss->logdir : NULL,
				   SVCLOG_RING_DEFAULT, SVCLOG_ROTATE_DEFAULT, SVCLOG_KEEP_DEFAULT);
		set_state(sv, sv->spec.enabled ? SVC_WAITING : SVC_DISABLED);
	}
	ss->n = n;
	free(specs); /* the strings stay: each spec owns its allocation now */
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

void services_begin(struct services *ss)
{
	struct supervisor *sup = ss->sup;

	if (!sup)
		return;
	sup->on_exit = service_exited;
	sup->on_tick = services_tick;
	sup->hook_data = ss;
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
		stop(sv);
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

static bool any_alive(const struct services *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		if (ss->svc[i].pid > 0)
			return true;
	return false;
}

void services_stop_all(struct services *ss, uint64_t deadline_ns)
{
	ss->stopping_all = true;
	for (;;) {
		int t;

		/* dependents first: a service stops once nothing that depends on
		 * it is still running */
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
				stop(sv);
		}
		if (!any_alive(ss) || now_mono_ns() >= deadline_ns)
			break;
		t = services_tick(ss);
		supervise_poll_once(ss->sup, t < 0 || t > 100 ? 100 : t);
	}
	/* whatever is left, in every service's cgroup, delegated ones too */
	for (size_t i = 0; i < ss->n; i++) {
		struct service *sv = &ss->svc[i];

		if (sv->pid > 0)
			log_warn("%s: still running at the shutdown deadline: killed",
				 sv->spec.name);
		kill_all(ss, sv, true);
	}
}
