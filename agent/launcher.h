/* The launcher of guest-exec's commands and porthole-shell's sessions: a
 * small process forked from the agent at start, before the agent drops its
 * capabilities and loads its seccomp filter (privilege.c, seccomp.c), so
 * that the host's commands still run as a full root while the long-lived
 * agent does not (OpenBSD's privilege separation). It does two things on a
 * request over a socket pair (SOCK_SEQPACKET), with the descriptors the
 * agent passes (SCM_RIGHTS): spawn a program, or fork a shell session
 * (shell_session_run) on a connection; it answers with the pid, reaps its
 * children and reports each exit status. What to run, the pipes, the pty
 * and the output are cmd-exec.c's, cmd-shell.c's and shell-session.c's. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "shell-session.h"

/* One request's strings (file, argv, envp), at most: larger ones are
 * refused before they are sent. */
#define LAUNCHER_MSG_MAX (256 << 10)
/* How long the agent waits for the launcher's answer to a spawn. */
#define LAUNCHER_TIMEOUT_MS 5000

struct launcher;

/* Called for each child of the launcher that exited: its pid and wait
 * status. True when the pid was the watcher's. */
typedef bool (*launcher_exit_fn)(pid_t pid, int status, void *data);

/* Watchers at once: guest-exec's and porthole-shell's. */
#define LAUNCHER_WATCHERS_MAX 2

/* Forks the launcher. Call it before the drop, while the agent is one
 * thread. 0, or -errno. */
int launcher_start(struct launcher **ret);

/* The agent's end, for the loop (readable: exits to read with
 * launcher_dispatch). */
int launcher_fd(const struct launcher *l);

/* Who hears of exits: each watcher in turn until one claims the pid.
 * -ENOSPC past LAUNCHER_WATCHERS_MAX. */
int launcher_watch(struct launcher *l, launcher_exit_fn fn, void *data);
void launcher_unwatch(struct launcher *l, launcher_exit_fn fn, void *data);

/* Spawns FILE with ARGV and ENVP in a session of its own, with FDS[0..2] as
 * its stdin, stdout and stderr (-1: /dev/null), every signal at its default
 * and unblocked, umask 022, no other descriptor. *RET_PID: its pid. 0, or
 * -errno (the exec's own, as posix_spawn(3) returns it). */
int launcher_spawn(struct launcher *l, const char *file, const char *const *argv,
		   const char *const *envp, const int fds[3], pid_t *ret_pid);

/* Forks a session process from the launcher that runs
 * shell_session_run(SPEC, IO, CONN, OWED, SENT) (shell-session.h): the
 * descriptors of IO that are open, and CONN, are passed; OWED and SENT are
 * copied (together at most LAUNCHER_MSG_MAX with SPEC's strings, else
 * -E2BIG). *RET_PID: the session's pid. 0, or -errno. */
int launcher_session(struct launcher *l, const struct shell_spec *spec, const struct shell_io *io,
		     int conn, const void *owed, size_t owed_len, const void *sent, size_t sent_len,
		     pid_t *ret_pid);

/* Reads what the launcher sent without blocking, calling the exit handler
 * for each exit. 0; -EPIPE once the launcher is gone. */
int launcher_dispatch(struct launcher *l);

/* Closes the agent's end (the launcher then exits; its running children
 * are left to run) and waits for it, at most a second. */
void launcher_free(struct launcher *l);
