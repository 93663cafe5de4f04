/* The host side of the QEMU guest agent protocol, and the client library's
 * public header: the 0xFF resynchronisation, requests with ids, replies
 * matched and checked, whole calls. Addresses and connecting are
 * client-addr.h's, framing client-reader.h's, the error contract
 * client-error.h's. What to ask and how to print the answer is left to the
 * CLI (porthole.c, cli*.c) and the load generator. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client-addr.h"
#include "client-error.h"

/* What a resync may throw away before the sync reply: a virtio-serial port
 * can hold a previous client's replies. */
#define CLIENT_SYNC_DISCARD_MAX (1u * 1024 * 1024)
#define CLIENT_TIMEOUT_MS_DEFAULT 10000

/* A reply, checked: exactly one of "return" (any value) and "error" (an
 * object with string "class" and "desc"), and an optional "id". 0 and a
 * borrowed *RET_RESULT for a return; -EREMOTEIO with ERR filled for an error;
 * -EBADMSG when it is neither. */
int client_reply_result(json_t *reply, json_t **ret_result, struct client_error *err);

struct client_options {
	int connect_timeout_ms; /* also the bound of the resync */
	bool no_sync; /* skip the 0xFF resync on connect */
	size_t max_reply; /* 0: CLIENT_REPLY_MAX (client-reader.h) */
};

struct client;

/* Connects to ADDRESS and, unless OPTS says otherwise, resynchronises: sends
 * 0xFF and guest-sync-delimited with a random id, drops everything before the
 * reply's 0xFF and reads until the reply carrying that id. OPTS may be NULL. */
int client_open(const char *address, const struct client_options *opts, struct client **ret,
		struct client_error *err);
int client_open_addr(const struct client_addr *a, const struct client_options *opts,
		     struct client **ret, struct client_error *err);
/* Closes; if replies may still be on their way, half-closes and reads them
 * first (bounded), because qemu-ga 7.2 exits when a client closes with a
 * reply left unread (tests/fixtures/qga-7.2-replies.md). NULL is fine. */
void client_close(struct client *c);
int client_fd(const struct client *c);
/* Hands the connection over, for what follows a reply on it instead of
 * more replies (porthole-shell's frames): its fd in *RET_FD, and the bytes
 * read after the last reply in *RET_BUF (malloc'd, *RET_LEN bytes; NULL and
 * 0 when none). C is freed; the fd is the caller's to close. -ENOMEM, with
 * C left as it was. */
int client_detach(struct client *c, int *ret_fd, char **ret_buf, size_t *ret_len);
/* Requests sent whose replies have not been read yet. */
unsigned client_pending(const struct client *c);

/* Resynchronises as client_open does; usable at any time. */
int client_sync(struct client *c, int timeout_ms, struct client_error *err);

/* Calls NAME with ARGS_JSON (a JSON object as text, or NULL for none) and
 * waits at most TIMEOUT_MS for its reply. On success *RET_RESULT is a new
 * reference to the "return" value. Late replies to calls that timed out
 * earlier on this connection are skipped; any other id is a protocol error. */
int client_call(struct client *c, const char *name, const char *args_json, int timeout_ms,
		json_t **ret_result, struct client_error *err);
/* The same with ARGS as a JSON object (borrowed; NULL for none). */
int client_call_json(struct client *c, const char *name, json_t *args, int timeout_ms,
		     json_t **ret_result, struct client_error *err);

/* Whether NAME answers nothing when it succeeds (qemu-ga's success-response
 * false: guest-shutdown, guest-suspend-*). */
bool client_command_silent(const char *name);
/* Calls such a command: sends it with a guest-sync right behind. The sync's
 * reply, or the agent closing the connection (*RET_CLOSED set), means it was
 * accepted: 0. Its error reply means it was refused: that error. Waits at
 * most TIMEOUT_MS for either. */
int client_call_silent(struct client *c, const char *name, json_t *args, int timeout_ms,
		       bool *ret_closed, struct client_error *err);

/* The parts of a call, for pipelining and for commands that answer nothing
 * on success (guest-shutdown). client_queue() adds a request to the output
 * buffer with the next id; client_flush() writes the buffer out within
 * TIMEOUT_MS; client_send() does both. */
int client_queue(struct client *c, const char *name, json_t *args, uint64_t *ret_id,
		 struct client_error *err);
int client_flush(struct client *c, int timeout_ms, struct client_error *err);
int client_send(struct client *c, const char *name, json_t *args, int timeout_ms, uint64_t *ret_id,
		struct client_error *err);
/* Waits at most TIMEOUT_MS for the next reply and returns it whole (a new
 * reference), with its id in *RET_ID (0 when it had none). Replies are
 * checked with client_reply_result's rules but a guest error is not an error
 * here. -EPIPE (with a message) on end of file. */
int client_recv(struct client *c, int timeout_ms, json_t **ret_reply, uint64_t *ret_id,
		struct client_error *err);
