/* The agent's command interface: what a command handler receives and how it
 * answers (now, later, or by handing its connection over). The dispatcher
 * (dispatch.c) owns the table, argument checking and the reply; handlers
 * live in one file per command group (cmd-*.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct agent;

/* Errors as qemu-ga sends them: {"error": {"class": CLASS, "desc": DESC}}. */
struct cmd_error {
	const char *class; /* "GenericError", "CommandNotFound" */
	char desc[512];
};

/* What a handler did with its request (docs/errors.md). */
enum cmd_result {
	CMD_FAILED = -1, /* ERR is filled: the dispatcher sends it */
	CMD_OK = 0, /* *RESULT is set (NULL means {}) */
	CMD_LATER = 1, /* it took the reply over with cmd_async_take */
};

/* Fills ERR with class GenericError and a printf-style description and
 * returns CMD_FAILED, so a handler can "return cmd_fail(err, ...)". */
enum cmd_result cmd_fail(struct cmd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same with "FMT: strerror(-errnum)" appended. */
enum cmd_result cmd_fail_errno(struct cmd_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A handler: ARGS is the request's "arguments" object (never NULL: an empty
 * object when the request had none, one for all such requests: a handler
 * reads its arguments, never changes them), already checked against the command's
 * argument table (every required member present, every member of its type,
 * never null, no unknown member). No string holds a NUL: the parser refuses
 * "\u0000" (jansson without JSON_ALLOW_NUL). It returns CMD_OK with *RESULT
 * a new reference (NULL means {}), CMD_FAILED with ERR filled, or CMD_LATER
 * when it took the reply over with cmd_async_take. */
typedef enum cmd_result (*cmd_handler)(struct agent *a, json_t *args, json_t **result,
				       struct cmd_error *err);

enum arg_type {
	ARG_INT, /* JSON integer (64-bit) */
	ARG_NUMBER, /* integer or real */
	ARG_STRING,
	ARG_BOOL,
	ARG_ARRAY,
	ARG_OBJECT,
	ARG_STRING_ARRAY, /* an array whose every element is a string */
	ARG_ANY, /* any value but null */
};

struct arg_spec {
	const char *name;
	enum arg_type type;
	bool required;
};

#define CMD_ARGS_MAX 8

enum cmd_flags {
	CMD_NO_REPLY_ON_SUCCESS = 1 << 0, /* guest-shutdown: qemu-ga sends nothing */
	CMD_DISABLED_BY_DEFAULT = 1 << 1, /* guest-exec: enabled by configuration */
	CMD_SYNC_DELIMITED = 1 << 2, /* the reply is preceded by 0xFF */
	CMD_NEEDS_SHELL = 1 << 3, /* porthole-shell: enabled by agent.shell */
	/* a question the host's tooling asks all the time (ping, health, time,
	 * memory): not activity, so that polling never keeps the VM from being
	 * idle (docs/memory.md) */
	CMD_QUIET = 1 << 4,
};

/* A reply owed: what a command that answers later (a long poll) holds. */
struct cmd_async;

/* For a handler that answers later: takes the reply over (the handler then
 * returns 1) and sends it with cmd_async_finish. The connection reads no
 * further request until then, so replies stay in order. NULL when out of
 * memory, or when the request came from no connection (tests). */
struct cmd_async *cmd_async_take(void);

/* Sends the owed reply: RESULT (stolen; NULL means {}) when ERR is NULL, the
 * error otherwise. Frees PENDING. When the client has gone meanwhile, the
 * reply is dropped. */
void cmd_async_finish(struct cmd_async *pending, json_t *result, const struct cmd_error *err);

/* A connection handed over once its reply is sent (porthole-shell: the
 * session process takes it). What the handler gives the transport, through
 * the dispatcher, which does not know connections. */
struct cmd_upgrade {
	/* Called in the agent once the reply is built: starts what takes the
	 * connection over. FD is the connection (the caller closes its own copy
	 * either way); OWED the bytes the client is still owed, earlier
	 * replies and this one last; SENT what it sent after the request.
	 * Returns the pid of the new owner, or -errno with WHY filled: the
	 * client is then sent "COMMAND: WHY" instead of the reply. */
	int (*start)(struct agent *a, void *data, int fd, const void *owed, size_t owed_len,
		     const void *sent, size_t sent_len, char *why, size_t why_size);
	void (*free)(void *data); /* DATA, once started or given up */
	void *data;
};

/* For a handler whose connection is handed over once answered: takes UP
 * (a copy; UP->data is freed with UP->free whatever happens from here on),
 * and the handler returns CMD_OK with its result. -ENOMEM, or -ENOTCONN
 * when the request came from no connection (tests): UP->data is then the
 * handler's to free. */
int cmd_upgrade_take(const struct cmd_upgrade *up);

struct command {
	const char *name;
	cmd_handler handler;
	struct arg_spec args[CMD_ARGS_MAX];
	unsigned flags;
};

/* Each group exports its part of the table; dispatch.c lists them. */
extern const struct command cmd_sync_table[]; /* guest-sync*, ping, info */
extern const struct command cmd_guest_time_table[];
extern const struct command cmd_system_table[]; /* osinfo, host name, timezone, load, users */
extern const struct command cmd_guest_network_table[];
extern const struct command cmd_fs_table[];
extern const struct command cmd_power_table[];
extern const struct command cmd_exec_table[];
extern const struct command cmd_health_table[];
extern const struct command cmd_porthole_network_table[]; /* porthole-network, porthole-dns-set */
extern const struct command cmd_shares_table[]; /* porthole-mount, -unmount, -mounts */
extern const struct command cmd_clock_table[]; /* porthole-time, -time-adjust */
extern const struct command cmd_events_table[]; /* porthole-events */
extern const struct command cmd_services_table[]; /* porthole-services, -service-restart, -logs */
extern const struct command cmd_boot_table[]; /* porthole-boot */
extern const struct command cmd_shell_table[]; /* porthole-shell */
extern const struct command cmd_ports_table[]; /* porthole-ports */
extern const struct command cmd_memory_table[]; /* porthole-memory, -memory-reclaim, -target */
/* Every table ends with an entry whose name is NULL. */
