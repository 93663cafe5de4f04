/* The services init runs from /etc/porthole/services: started by
 * dependency, in parallel where nothing orders them; ready by socket, file,
 * notify fd or HTTP; restarted with exponential backoff until the crash-loop
 * limit; stopped in reverse order with cgroup.kill after the time-out. This
 * is the state machine; what it does to processes goes through struct
 * service_ops (service-exec.c: cgroups, pipes, signals), readiness is
 * service-ready.c's and OOM watching service-oom.c's. The loop is
 * supervise.c's: the machine gets its ticks, exits and fds from it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backoff.h"
#include "service-conf.h"
#include "supervise.h"

enum service_state {
	SVC_DISABLED,
	SVC_WAITING,
	SVC_STARTING,
	SVC_RUNNING,
	SVC_STOPPING,
	SVC_BACKOFF,
	SVC_STOPPED,
	SVC_FAILED,
};

#define SERVICE_EVENTS_MAX 64

struct svclog;

struct service {
	struct service_spec spec;
	enum service_state state;
	pid_t pid;
	int64_t since; /* CLOCK_REALTIME s: entered the state */
	uint64_t started_ns; /* the ops' clock at the last start */
	uint64_t deadline_ns; /* readiness, stop or restart, by state; 0 none */
	uint64_t next_check_ns; /* the next readiness probe; 0 none */
	unsigned check_ms; /* the probe interval, growing */
	unsigned restarts; /* this boot */
	struct backoff backoff; /* restart delays and the crash window */
	bool has_exit;
	int exit_status; /* waitpid's */
	bool restart_requested;
	bool ready_timed_out;
	bool ever_ready;
	uint64_t ready_ms; /* boot clock, the first time ready */
	int out_fd, err_fd; /* pipes' read ends; -1 none */
	int notify_fd;
	int probe_fd; /* an HTTP probe's socket in flight */
	char probe_buf[64];
	size_t probe_len;
	struct svclog *log;
	char cgroup[192];
	char leaf[192];
	int64_t oom_seen;
	int oom_wd; /* inotify watch on memory.events */
};

struct service_event {
	uint64_t seq;
	int64_t time_us;
	char service[SERVICE_NAME_MAX];
	char type[16];
	char detail[128];
};

struct services;

/* What the state machine does to the world, as a small table (dinit's seam
 * for its tests): service_exec_ops forks and signals for real; a test gives
 * its own, which forks nothing and keeps its own time. */
struct service_ops {
	/* Starts SV's process, with its cgroup, output pipes and notification
	 * fd. Returns its pid, or -errno with what failed in WHY. */
	pid_t (*spawn)(struct services *ss, struct service *sv, char *why, size_t why_size);
	/* kill(2) */
	int (*kill)(pid_t pid, int sig);
	/* Kills what runs in SV's cgroup (WHOLE: a delegated subtree too);
	 * without cgroups, the process group of SV->pid (also when that
	 * process has just exited: the state machine forgets it after). */
	void (*kill_cgroup)(struct services *ss, struct service *sv, bool whole);
	/* CLOCK_MONOTONIC, ns: every deadline is on this clock */
	uint64_t (*now)(void);
};

struct services {
	struct supervisor *sup;
	const struct service_ops *ops;
	struct service svc[SERVICES_MAX];
	size_t n;
	bool cgroups; /* cgroup_setup worked */
	char cgroot[64]; /* /sys/fs/cgroup */
	char logdir[128]; /* /var/log/porthole; "" : ring only */
	int inotify_fd; /* memory.events watches */
	bool stopping_all; /* shutdown: no starts, stops in reverse order */
	struct service_event events[SERVICE_EVENTS_MAX];
	uint64_t next_seq; /* the last event's seq */
};

/* Reads DIR's service files and sets up cgroups under CGROOT. LOGDIR NULL:
 * output in the ring only. Never fails: what goes wrong is logged. */
void services_load(struct services *ss, struct supervisor *sup, const char *dir, const char *cgroot,
		   const char *logdir);
/* The state machine alone over SPECS (N of them; their strings are the
 * services' now), doing its work through OPS, without cgroups; LOGDIR as
 * above. services_load's last step, and what tests start from. */
void services_init(struct services *ss, struct supervisor *sup, const struct service_ops *ops,
		   const struct service_spec *specs, size_t n, const char *logdir);
/* Marks NAME disabled (init.conf's `agent = no`); before services_begin. */
void services_disable(struct services *ss, const char *name);
/* Starts what has no dependency, the rest as their dependencies become
 * ready, from the supervisor's loop (when there is one). */
void services_begin(struct services *ss);

/* Asks NAME to stop and start again; -ENOENT when there is no such service,
 * -EPERM when it is disabled. */
int services_restart(struct services *ss, const char *name);
struct service *services_find(struct services *ss, const char *name);

/* Shutdown: stops every service, dependents first, each with its signal and
 * time-out, then cgroup.kill. Returns when none is left or after DEADLINE. */
void services_stop_all(struct services *ss, uint64_t deadline_ns);
/* One pass of it, without waiting: no more starts; each service that
 * nothing still running depends on is sent its stop signal. Returns whether
 * a service process is left. */
bool services_stop_pass(struct services *ss);

/* What moves the machine, from the loop (and from tests): */
/* PID exited with STATUS (waitpid's); false when it is no service's. */
bool services_exited(struct services *ss, pid_t pid, int status);
/* Deadlines, probes and starts that are due; returns the ms until the next
 * one, or -1 when none is pending. */
int services_tick(struct services *ss);
/* SV, starting, is ready (a probe answered, a notify line came). */
void service_ready(struct services *ss, struct service *sv);

/* An event for porthole-events (docs/control.md), TYPE and a detail. */
void services_event(struct services *ss, const struct service *sv, const char *type,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A line of init's own in SV's log ("started: pid 12"); nothing without one. */
void service_note(struct service *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

const char *service_state_name(enum service_state state);
