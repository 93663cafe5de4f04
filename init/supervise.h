/* init's steady state: one event loop of fd watches (the signalfd first),
 * reaping every child, restarting what init started itself (the console
 * shell), and turning signals and the power button into a shutdown request.
 * Services proper come with the service module, through its hooks. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backoff.h"
#include "power.h"

#define CHILDREN_MAX 32
/* fds watched in the loop: init's own (the signalfd, the uevent socket, the
 * power buttons), the network's sockets and timers, 4 per service and the
 * control socket's */
#define WATCHES_MAX (160 + 2 + POWER_BUTTONS_MAX)

enum shutdown_kind {
	SHUTDOWN_NONE,
	SHUTDOWN_POWEROFF,
	SHUTDOWN_REBOOT,
	SHUTDOWN_HALT,
};

struct child {
	pid_t pid; /* 0: not running */
	char name[32];
	char *const *argv;
	bool respawn;
	bool console; /* gets the console as its controlling terminal */
	uint64_t started_ns;
	uint64_t next_start_ns; /* when a respawn is due; 0: none */
	struct backoff backoff;
};

struct supervisor;
/* Called from the loop when FD is readable (EVENTS are epoll's). */
typedef void (*supervise_fd_fn)(struct supervisor *s, int fd, uint32_t events, void *data);

struct watch {
	int fd; /* -1: free */
	supervise_fd_fn fn;
	void *data;
};

struct supervisor {
	int epfd;
	int sigfd;
	int ueventfd;
	int power_fds[POWER_BUTTONS_MAX];
	bool sandbox;
	struct child children[CHILDREN_MAX];
	unsigned reaped_orphans;
	struct watch watches[WATCHES_MAX];
	/* the services (service.c): the exits of their pids, their deadlines */
	bool (*on_exit)(void *data, pid_t pid, int status);
	int (*on_tick)(void *data); /* ms until it wants a tick again; -1 none */
	void *hook_data;
	/* a shutdown asked for through the control socket */
	enum shutdown_kind requested;
	/* asked for in this turn of the loop: a signal, the power button */
	enum shutdown_kind asked;
};

/* Blocks every signal init handles and opens the signalfd. Call first, so
 * no SIGCHLD is lost and no default action kills PID 1. */
int supervise_block_signals(int *ret_sigfd);

int supervise_init(struct supervisor *s, int sigfd, bool sandbox);
/* Once /dev and the modules are there: uevents and the power button. */
void supervise_init_late(struct supervisor *s);

/* Starts ARGV as a child that init keeps alive when RESPAWN is set; returns
 * its slot in S->children. */
int supervise_start(struct supervisor *s, const char *name, char *const *argv, bool respawn,
		    bool console);

/* Watches FD in the loop: FN runs when it is readable. -ENOSPC when
 * WATCHES_MAX are in use. supervise_unwatch is safe from FN itself; the
 * caller closes FD afterwards. */
int supervise_watch(struct supervisor *s, int fd, supervise_fd_fn fn, void *data);
void supervise_unwatch(struct supervisor *s, int fd);
/* Unwatches and closes *FD, and sets it to -1; nothing when it is -1 (or S
 * is NULL: a loop that was never there). */
void supervise_close(struct supervisor *s, int *fd);
/* The epoll events FD is watched for (EPOLLIN, EPOLLOUT). */
int supervise_watch_set(struct supervisor *s, int fd, uint32_t events);

/* Reaps every child that has exited (one SIGCHLD may stand for many). */
void supervise_reap(struct supervisor *s);

/* One turn of the loop: waits at most TIMEOUT_MS, reaps, runs the watches'
 * callbacks. Returns the shutdown a signal or the power button asked for,
 * SHUTDOWN_NONE otherwise. */
enum shutdown_kind supervise_poll_once(struct supervisor *s, int timeout_ms);

/* Runs the loop until a shutdown is requested, and returns its kind. */
enum shutdown_kind supervise_run(struct supervisor *s);

/* The signal that asks for KIND, as init's table maps them; for messages. */
enum shutdown_kind supervise_signal_action(int sig);
