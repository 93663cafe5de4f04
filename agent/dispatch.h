/* From a request's bytes to its reply's: JSON parsing (jansson), the request
 * envelope, the command table, argument checks, enabled and blocked commands,
 * and the reply's framing. Transports hand it values and send what it returns. */
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

/* An error reply for what the stream itself refused (too long, too deep,
 * a request cut by 0xFF). */
int dispatch_error(const char *class, const char *desc, struct reply *out);
