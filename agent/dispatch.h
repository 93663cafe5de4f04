/* From a request's bytes to its reply's: JSON parsing (jansson), the request
 * envelope, the command table, argument checks, enabled and blocked commands,
 * and the reply's framing. Transports hand it values and send what it
 * returns, and hand a connection over when a command asks (porthole-shell). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "command.h"

struct dispatch_entry {
	const struct command *cmd;
	bool enabled;
};

/* Builds the command index and applies exec enabling and the allow and block
 * lists; names in those lists that are not commands are logged and counted.
 * Returns the number of such unknown names. */
int dispatch_init(struct agent *a);

/* Every command, in table order; N set to how many. */
const struct dispatch_entry *dispatch_commands(size_t *n);
const struct dispatch_entry *dispatch_find(const char *name);

struct reply {
	char *data; /* malloc'd: the bytes to send (0xFF first for guest-sync-delimited) */
	size_t len;
};

/* What became of a request. */
enum dispatch_result {
	DISPATCH_NONE = 0, /* nothing to send: guest-shutdown's success */
	DISPATCH_REPLY = 1, /* *OUT holds the reply (an error reply included) */
	DISPATCH_LATER = 2, /* an asynchronous command answers later (transport_deliver) */
	/* *OUT holds the reply, after which the connection is handed over
	 * (dispatch_upgrade_take): porthole-shell */
	DISPATCH_UPGRADE = 3,
};

/* Handles one complete value from the stream. Returns a dispatch_result;
 * every failure, out of memory included, is an error reply to send, and
 * -ENOMEM only when not even the static one could be copied. */
int dispatch_value(struct agent *a, const char *data, size_t len, struct reply *out);
/* The same, for a request from connection ORIGIN (transport.c's id), which
 * an asynchronous command's late reply goes to. */
int dispatch_value_from(struct agent *a, uint64_t origin, const char *data, size_t len,
			struct reply *out);

/* Who takes a late reply (cmd_async_finish) for connection ORIGIN, and lets
 * that connection go on: the transport, which registers it at its start.
 * REPLY is NULL when there is nothing to send. */
typedef void (*dispatch_deliver_fn)(uint64_t origin, const struct reply *reply);
void dispatch_set_deliver(dispatch_deliver_fn fn);

/* The hand-over that the last DISPATCH_UPGRADE announced; the caller owns
 * it (NULL when there is none). */
struct dispatch_upgrade *dispatch_upgrade_take(void);
/* Starts it on connection FD: struct cmd_upgrade's start. */
int dispatch_upgrade_start(struct dispatch_upgrade *u, struct agent *a, int fd, const void *owed,
			   size_t owed_len, const void *sent, size_t sent_len, char *why,
			   size_t why_size);
/* The error reply, with the request's id, that the client gets instead of
 * the reply when the hand-over cannot be done: "COMMAND: DESC". */
int dispatch_upgrade_error(struct dispatch_upgrade *u, const char *desc, struct reply *out);
/* Frees U and its command's data. NULL is fine. */
void dispatch_upgrade_free(struct dispatch_upgrade *u);

/* An error reply for what the stream itself refused (too long, too deep,
 * a request cut by 0xFF). */
int dispatch_error(const char *class, const char *desc, struct reply *out);
