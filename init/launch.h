/* Starting a program from PID 1, the one way init does it: fork, the child
 * set up as asked (signals, session, stdio or a controlling terminal, an fd
 * passed on, cgroup, limits, oom_score_adj, directory, capabilities, user,
 * no_new_privs and a seccomp filter),
 * then execve with init's base environment. What to run, when, and what
 * its exit means is the caller's (service-exec.c, supervise.c, tool.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Every program init starts gets this PATH and HOME, unless its own
 * environment overrides them (docs/services.md). */
#define LAUNCH_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define LAUNCH_HOME "/root"
/* The variables ENV may add to the base (a service's environment lines). */
#define LAUNCH_ENV_MAX 40

struct service_rlimit;
struct sock_fprog;

struct launch_opts {
	char *const *argv; /* argv[0] an absolute path; no PATH search */
	char *const *env; /* "NAME=VALUE" added to the base, overriding it; NULL: none */
	bool new_session; /* setsid(2): a session and process group of its own */
	/* a terminal opened as stdin, stdout and stderr and made the controlling
	 * terminal (TIOCSCTTY; needs new_session); NULL: the fds below */
	const char *tty;
	int stdout_fd, stderr_fd; /* -1: /dev/null; stdin is /dev/null */
	int pass_fd, pass_fd_as; /* PASS_FD is PASS_FD_AS in the child; -1: none */
	const char *cgroup; /* a cgroup directory to join; NULL: init's */
	const struct service_rlimit *rlimits;
	size_t n_rlimits;
	bool has_oom_score_adj;
	int oom_score_adj;
	const char *directory; /* chdir(2) there; NULL: init's (/) */
	bool directory_optional; /* when chdir fails: / instead, not an error */
	bool has_caps;
	uint64_t caps; /* the bounding set kept (bit N: capability N), when has_caps */
	bool has_user, has_group;
	uid_t uid;
	gid_t gid;
	bool no_new_privs; /* PR_SET_NO_NEW_PRIVS */
	/* a seccomp filter loaded last, after the user change; without
	 * no_new_privs the child must still hold CAP_SYS_ADMIN (root) */
	const struct sock_fprog *seccomp;
};

/* OPTS for ARGV, everything else unset (fds -1). */
void launch_opts_init(struct launch_opts *opts, char *const *argv);

/* The environment OPTS->env makes with the base, into ENV (at most MAX
 * entries with the final NULL). Returns how many variables. */
size_t launch_env(char *const *extra, char **env, size_t max);

/* Forks and execs. Returns the child's pid, or -errno when fork fails. What
 * fails in the child after the fork is written to its stderr as
 * "porthole-init: WHAT: error", and it exits 127 (s6: exec failed). */
pid_t launch_start(const struct launch_opts *opts);
