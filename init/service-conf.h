/* Service files: /etc/porthole/services/NAME.conf, INI read through inih
 * (lib/conf.c), one service per file. docs/services.md is the reference;
 * this is what a file becomes. The check across files is service-graph.h's;
 * nothing here starts anything: see service.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define SERVICES_DIR "/etc/porthole/services"
#define SERVICES_MAX 32
#define SERVICE_NAME_MAX 32 /* with the NUL: [a-z0-9][a-z0-9._-]{0,30} */
#define SERVICE_ARGS_MAX 64
#define SERVICE_ENV_MAX 32
#define SERVICE_DEPS_MAX 8
#define SERVICE_PATH_MAX 256
#define SERVICE_ERROR_MAX 320
/* names in one seccomp list: an allow-list derived from strace is a few hundred */
#define SERVICE_SECCOMP_MAX 400
#define SERVICE_SECCOMP_EXCEPT_MAX 16 /* -names after a profile */

enum service_restart {
	RESTART_ALWAYS,
	RESTART_ON_FAILURE, /* not after exit status 0 */
	RESTART_NEVER,
};

enum service_ready {
	READY_NONE, /* ready once started */
	READY_SOCKET, /* ready_path: a unix stream socket that accepts a connection */
	READY_FILE, /* ready_path: a file that exists */
	READY_NOTIFY, /* the service writes a line to fd ready_fd (s6's notification-fd) */
	READY_HTTP, /* ready_path: a unix socket answering GET ready_http_path with 200 */
};

enum service_output {
	OUTPUT_LOG, /* ring buffer and /var/log/porthole/NAME.log */
	OUTPUT_CONSOLE, /* the log, and each line also to /dev/kmsg */
	OUTPUT_NULL, /* /dev/null */
};

/* seccomp: which list the calls are */
enum service_seccomp_mode {
	SECCOMP_OFF, /* no filter (unset, or "none") */
	SECCOMP_DENY, /* these calls are refused, the rest allowed */
	SECCOMP_ALLOW, /* these calls are allowed, the rest refused */
};

/* what a refused call does */
enum service_seccomp_action {
	SECCOMP_ACTION_DEFAULT, /* eperm for deny lists, kill for allow-lists */
	SECCOMP_ACTION_EPERM, /* fails with EPERM */
	SECCOMP_ACTION_KILL, /* the process is killed by SIGSYS */
	SECCOMP_ACTION_LOG, /* allowed, and logged by the kernel */
};

/* A service's filter, as its file says it; service-seccomp.c builds it.
 * Calls are native system call numbers, or libseccomp's pseudo-numbers for
 * a profile's calls that this architecture does not have. */
struct service_seccomp {
	enum service_seccomp_mode mode;
	int profile; /* a profile the deny list starts from (service-seccomp.h); -1: none */
	bool said_none; /* "seccomp = none": shown by --check */
	enum service_seccomp_action action;
	int calls[SERVICE_SECCOMP_MAX];
	size_t n_calls;
	int except[SERVICE_SECCOMP_EXCEPT_MAX]; /* the profile's calls left out */
	size_t n_except;
};

/* "unset" for the int64 cgroup values: the key was not given */
#define CG_UNSET (-2)
#define CG_MAX (-1) /* "max" */

struct service_rlimit {
	int resource; /* RLIMIT_* */
	struct rlimit lim;
};

struct service_spec {
	char name[SERVICE_NAME_MAX];
	char file[SERVICE_PATH_MAX]; /* where it was read, for messages */
	char description[128];
	bool enabled;

	/* [service] */
	char *argv[SERVICE_ARGS_MAX + 1]; /* command: argv[0] absolute; NULL-terminated */
	char *env[SERVICE_ENV_MAX + 1]; /* environment: "NAME=VALUE", NULL-terminated */
	char directory[SERVICE_PATH_MAX]; /* "" : / */
	uid_t uid;
	gid_t gid;
	bool has_user, has_group;
	char after[SERVICE_DEPS_MAX][SERVICE_NAME_MAX]; /* order only */
	size_t n_after;
	char requires[SERVICE_DEPS_MAX][SERVICE_NAME_MAX]; /* order, and must exist */
	size_t n_requires;
	/* wait = started: start once what it requires and comes after has
	 * started, not once it is ready (the service waits for them itself, as
	 * dockerd does for containerd's socket); shutdown order is the same */
	bool wait_started;
	enum service_ready ready;
	char ready_path[SERVICE_PATH_MAX];
	char ready_http_path[64];
	int ready_fd; /* READY_NOTIFY: 3 unless given */
	unsigned ready_timeout_ms; /* 0: wait for ever */
	enum service_restart restart;
	unsigned restart_delay_ms; /* first backoff, doubling */
	unsigned restart_delay_max_ms; /* backoff ceiling */
	unsigned crash_limit; /* restarts within crash_window_ms... */
	unsigned crash_window_ms; /* ...that make it "failed"; 0 limit: none */
	int stop_signal;
	unsigned stop_timeout_ms;
	bool has_oom_score_adj;
	int oom_score_adj;
	enum service_output output;
	/* kill_mode = process: when the main process exits by itself, what it
	 * leaves in its cgroup is left running (containerd's shims, which hold
	 * the containers); at shutdown the cgroup is killed all the same */
	bool kill_process_only;
	/* capabilities: the bounding set kept; all when !has_caps */
	bool has_caps;
	uint64_t caps; /* bit N: capability N */
	struct service_seccomp seccomp;
	/* PR_SET_NO_NEW_PRIVS before exec: yes when seccomp is on, unless the
	 * file says no (a root service whose children use setuid programs) */
	bool no_new_privs;

	/* [limits] */
	struct service_rlimit rlimits[16];
	size_t n_rlimits;

	/* [cgroup] */
	int64_t memory_max, memory_high; /* bytes, CG_MAX or CG_UNSET */
	int64_t pids_max; /* CG_MAX or CG_UNSET */
	int cpu_weight; /* 1..10000; 0 unset */
	bool delegate; /* the service manages a subtree of its own */

	char *strings; /* one allocation argv and env point into */
};

/* Parses TEXT (the file FILE's contents) into SPEC, named NAME. On error
 * returns -EINVAL and writes "FILE:LINE: what is wrong" into ERR; every
 * field is then cleared (service_spec_free is still safe). Unknown keys and
 * sections are errors: a typo must not pass silently. */
int service_conf_parse(const char *text, const char *file, const char *name,
		       struct service_spec *spec, char *err, size_t err_size);

/* Reads DIR's *.conf files (sorted by name; at most SERVICES_MAX) into
 * SPECS. A file that is bad is logged with its error and left out; the
 * others are kept. Returns how many were read, *RET_BAD how many refused. */
size_t service_conf_load_dir(const char *dir, struct service_spec *specs, size_t max,
			     unsigned *ret_bad);

void service_spec_free(struct service_spec *spec);
