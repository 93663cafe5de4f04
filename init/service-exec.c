/* The real struct service_ops: starting a service's process with its cgroup,
 * pipes and launch options, reading its output into svclog (bounded work per
 * loop turn), and killing what is left of it, by cgroup or by process group.
 * When to do any of it is the state machine's (service.c). */
#include "service-exec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "launch.h"
#include "log.h"
#include "service-oom.h"
#include "service-ready.h"
#include "service-seccomp.h"
#include "svclog.h"
#include "util.h"

#define READ_CHUNK 16384
#define READS_PER_EVENT 4 /* bounded work per readable pipe per loop turn */

_Static_assert(SERVICE_ENV_MAX <= LAUNCH_ENV_MAX,
	       "launch.c's environment too small for a service's");

static void read_output(struct services *ss, struct service *sv, int *fd, enum svclog_stream stream)
{
	char buf[READ_CHUNK];

	for (int i = 0; i < READS_PER_EVENT; i++) {
		ssize_t n = read(*fd, buf, sizeof(buf));

		if (n > 0) {
			if (sv->log)
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
		if (sv->log)
			svclog_flush(sv->log, stream);
		supervise_close(ss->sup, fd);
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

void service_exec_drain(struct services *ss, struct service *sv)
{
	if (sv->out_fd >= 0)
		read_output(ss, sv, &sv->out_fd, SVCLOG_STDOUT);
	if (sv->err_fd >= 0)
		read_output(ss, sv, &sv->err_fd, SVCLOG_STDERR);
}

static int make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	return 0;
}

static void watch_output(struct services *ss, struct service *sv, int *fd, int read_end)
{
	supervise_close(ss->sup, fd);
	*fd = read_end;
	if (*fd >= 0 && supervise_watch(ss->sup, *fd, on_output, sv) < 0)
		supervise_close(ss->sup, fd);
}

static pid_t exec_spawn(struct services *ss, struct service *sv, char *why, size_t why_size)
{
	const struct service_spec *sp = &sv->spec;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, note[2] = { -1, -1 };
	struct sock_fprog filter = { 0 };
	struct launch_opts opts;
	pid_t pid;

	if (access(sp->argv[0], X_OK) < 0) {
		int r = -errno;

		snprintf(why, why_size, "%s: %s", sp->argv[0], strerror(-r));
		return r;
	}
	/* built here, before the fork, so that a failure is the start's, said
	 * once, and the child allocates nothing */
	if (sp->seccomp.mode != SECCOMP_OFF) {
		int r = service_seccomp_build(&sp->seccomp, &filter, why, why_size);

		if (r < 0)
			return r;
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
	opts.no_new_privs = sp->no_new_privs;
	opts.seccomp = filter.filter ? &filter : NULL;
	pid = launch_start(&opts);
	service_seccomp_release(&filter);
	if (pid < 0)
		snprintf(why, why_size, "fork: %s", strerror(-pid));
	/* the child's ends; and ours too when there is no child */
	for (int i = pid < 0 ? 0 : 1; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
		if (note[i] >= 0)
			close(note[i]);
	}
	if (pid < 0)
		return pid;
	watch_output(ss, sv, &sv->out_fd, out[0]);
	watch_output(ss, sv, &sv->err_fd, err[0]);
	supervise_close(ss->sup, &sv->notify_fd);
	service_ready_watch_notify(ss, sv, note[0]);
	service_oom_watch(ss, sv);
	return pid;
}

static void exec_kill_cgroup(struct services *ss, struct service *sv, bool whole)
{
	if (ss->cgroups && sv->leaf[0]) {
		const char *dir = whole ? sv->cgroup : sv->leaf;

		if (cgroup_populated(dir) && cgroup_kill(dir) < 0 && sv->pid > 0)
			kill(-sv->pid, SIGKILL);
	} else if (sv->pid > 0) {
		/* it leads a session of its own (launch.c), which it cannot leave:
		 * its process group is itself and what it forked, and outlives
		 * it while they run */
		kill(-sv->pid, SIGKILL);
	}
}

const struct service_ops service_exec_ops = {
	.spawn = exec_spawn,
	.kill = kill,
	.kill_cgroup = exec_kill_cgroup,
	.now = now_mono_ns,
};
