/* The services init runs from /etc/porthole/services: started by
 * dependency, in parallel where nothing orders them; each in its cgroup,
 * with its output captured; ready by socket, file, notify fd or HTTP;
 * restarted with exponential backoff until the crash-loop limit; stopped in
 * reverse order with cgroup.kill after the time-out. The loop is
 * supervise.c's: this module gets its ticks, exits and fds from it. */
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
	uint64_t started_ns; /* CLOCK_MONOTONIC of the last start */
	uint64_t deadline_ns; /* readiness, stop or restart, by state; 0 none */
	uint64_t next_check_ns; /* the next readiness probe */
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

struct services {
	struct supervisor *sup;
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
/* Marks NAME disabled (init.conf's `agent = no`); before services_begin. */
void services_disable(struct services *ss, const char *name);
/* Starts what has no dependency, the rest as their dependencies become
 * ready, from the supervisor's loop. */
void services_begin(struct services *ss);

/* Asks NAME to stop and start again; -ENOENT when there is no such service. */
int services_restart(struct services *ss, const char *name);
struct service *services_find(struct services *ss, const char *name);

/* Shutdown: stops every service, dependents first, each with its signal and
 * time-out, then cgroup.kill. Returns when none is left or after DEADLINE. */
void services_stop_all(struct services *ss, uint64_t deadline_ns);

const char *service_state_name(enum service_state state);
