/* init's one fork and execve: the child's setup, in the order that keeps each
 * step possible (the cgroup and limits while still root, capabilities
 * before the user change drops the right to drop them, the seccomp filter
 * last so that it need not allow the set-up's calls), and the base
 * environment. The callers decide what to run and watch it. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cgroup.h"
#include "service-conf.h"
#include "util.h"

static char *const base_env[] = {
	"PATH=" LAUNCH_PATH,
	"HOME=" LAUNCH_HOME,
};

void launch_opts_init(struct launch_opts *opts, char *const *argv)
{
	memset(opts, 0, sizeof(*opts));
	opts->argv = argv;
	opts->stdout_fd = opts->stderr_fd = -1;
	opts->pass_fd = opts->pass_fd_as = -1;
}

size_t launch_env(char *const *extra, char **env, size_t max)
{
	size_t n = 0;

	if (max == 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(base_env); i++) {
		size_t klen = (size_t)(strchr(base_env[i], '=') - base_env[i]) + 1;
		bool overridden = false;

		for (size_t j = 0; extra && extra[j]; j++)
			if (strncmp(extra[j], base_env[i], klen) == 0)
				overridden = true;
		if (!overridden && n < max - 1)
			env[n++] = base_env[i];
	}
	for (size_t j = 0; extra && extra[j] && n < max - 1; j++)
		env[n++] = extra[j];
	env[n] = NULL;
	return n;
}

/* PID 1 blocks every signal for its signalfd: the child starts with none
 * blocked and every disposition the default. */
static void reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

__attribute__((noreturn)) static void child_fail(const char *what, const char *arg)
{
	int err = errno;

	dprintf(STDERR_FILENO, "porthole-init: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "",
		strerror(err));
	_exit(127);
}

static void setup_stdio(const struct launch_opts *o)
{
	int null;

	if (o->tty) {
		int fd = open(o->tty, O_RDWR | O_NOCTTY);

		/* without its terminal the program still runs, on init's stdio */
		if (fd >= 0) {
			ioctl(fd, TIOCSCTTY, 1);
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		return;
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0)
		dup2(null, STDIN_FILENO);
	dup2(o->stdout_fd >= 0 ? o->stdout_fd : null, STDOUT_FILENO);
	dup2(o->stderr_fd >= 0 ? o->stderr_fd : null, STDERR_FILENO);
}

/* Between fork and exec: no malloc, no stdio buffers. */
__attribute__((noreturn)) static void child(const struct launch_opts *o, char **env)
{
	reset_signals();
	if (o->new_session)
		setsid();
	setup_stdio(o);
	if (o->pass_fd >= 0 && o->pass_fd_as >= 0) {
		/* dup2 onto itself keeps close-on-exec: clear it instead */
		if (o->pass_fd == o->pass_fd_as)
			fcntl(o->pass_fd, F_SETFD, 0);
		else
			dup2(o->pass_fd, o->pass_fd_as);
	}
	if (o->cgroup && cgroup_join_self(o->cgroup) < 0)
		dprintf(STDERR_FILENO, "porthole-init: join cgroup %s: %s\n", o->cgroup,
			strerror(errno));
	for (size_t i = 0; i < o->n_rlimits; i++)
		if (setrlimit(o->rlimits[i].resource, &o->rlimits[i].lim) < 0)
			child_fail("setrlimit", NULL);
	if (o->has_oom_score_adj) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			dprintf(fd, "%d", o->oom_score_adj);
			close(fd);
		}
	}
	if (o->directory && chdir(o->directory) < 0) {
		if (!o->directory_optional)
			child_fail("chdir", o->directory);
		if (chdir("/") < 0) {
			/* stays where init is */
		}
	}
	if (o->has_caps)
		for (int cap = 0; cap < 64; cap++)
			if (!(o->caps & (1ull << cap)) &&
			    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
				child_fail("drop capability from the bounding set", NULL);
	if (o->has_group || o->has_user) {
		gid_t gid = o->gid;

		if (setgroups(1, &gid) < 0 || setgid(gid) < 0)
			child_fail("setgid", NULL);
		if (o->has_user && setuid(o->uid) < 0)
			child_fail("setuid", NULL);
	}
	if (o->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail("set no_new_privs", NULL);
	/* last: every step above may make calls the filter refuses; the
	 * program, built before the fork, is only handed over (seccomp(2)) */
	if (o->seccomp && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, o->seccomp, 0, 0) < 0)
		child_fail("load the seccomp filter", NULL);
	execve(o->argv[0], o->argv, env);
	child_fail("exec", o->argv[0]);
}

pid_t launch_start(const struct launch_opts *opts)
{
	char *env[LAUNCH_ENV_MAX + ARRAY_SIZE(base_env) + 1];
	pid_t pid;

	/* built before the fork: the child allocates nothing */
	launch_env(opts->env, env, ARRAY_SIZE(env));
	pid = fork();
	if (pid == 0)
		child(opts, env);
	return pid < 0 ? -errno : pid;
}
