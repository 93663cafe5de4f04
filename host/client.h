/* The host side of the QEMU guest agent protocol: addresses, connecting (unix,
 * vsock, and the "CONNECT <port>" handshake of hybrid-vsock backends), the
 * 0xFF resynchronisation, reply framing and calls. What to ask and how to print
 * the answer is left to the CLI (porthole.c) and the load generator. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonstream.h"

/* The largest reply accepted, and what a resync may throw away before the
 * sync reply: a virtio-serial port can hold a previous client's replies. */
#define CLIENT_REPLY_MAX (16u * 1024 * 1024)
#define CLIENT_SYNC_DISCARD_MAX (1u * 1024 * 1024)
#define CLIENT_TIMEOUT_MS_DEFAULT 10000

enum client_addr_kind {
	CLIENT_ADDR_UNIX, /* unix:PATH */
	CLIENT_ADDR_VSOCK, /* vsock:CID:PORT */
	CLIENT_ADDR_HVSOCK, /* hvsock:PATH:PORT, "CONNECT PORT\n" over a unix socket */
};

struct client_addr {
	enum client_addr_kind kind;
	char path[108]; /* sun_path: unix and hvsock */
	uint32_t cid; /* vsock */
	uint32_t port; /* vsock and hvsock */
};

/* What went wrong, for a message: CLASS and DESC as the guest sent them for
 * a guest error (-EREMOTEIO); otherwise CLASS is "" and DESC says what failed
 * and on what. */
struct client_error {
	char class[64];
	char desc[512];
};

/* Every function below returns >= 0 on success, -errno on failure. The errors
 * fall into these groups (client_status()):
 *   -EREMOTEIO                      the guest answered with an error
 *   -ETIMEDOUT                      a connect, write or reply wait timed out
 *   -EBADMSG, -EPROTO, -EMSGSIZE    the peer's bytes are not this protocol
 *   anything else                   the connection (or memory) failed */
enum client_status {
	CLIENT_OK,
	CLIENT_GUEST_ERROR,
	CLIENT_TIMEOUT,
	CLIENT_PROTOCOL_ERROR,
	CLIENT_IO_ERROR,
};
enum client_status client_status(int r);

/* "unix:PATH", "vsock:CID:PORT", "hvsock:PATH:PORT" (PATH may contain ':';
 * the port follows the last one). -EINVAL for anything else, -ENAMETOOLONG
 * for a path that does not fit sun_path, -ERANGE for a CID or port over 2^32-1. */
int client_addr_parse(const char *s, struct client_addr *ret);
/* The address back in the syntax above, for messages. */
void client_addr_format(const struct client_addr *a, char *buf, size_t size);

/* Connects to A within TIMEOUT_MS (and runs the hybrid-vsock handshake);
 * returns a non-blocking, close-on-exec fd. */
int client_addr_connect(const struct client_addr *a, int timeout_ms, struct client_error *err);

/* Incremental reply framing, exposed for the tests: replies are JSON objects
 * framed by lib/jsonstream (brace balance, strings and escapes understood),
 * separated by whitespace; 0xFF (the guest-sync-delimited marker) is skipped
 * between them. Bytes are read into BUF and handed to the framer a reply at
 * a time. */
struct client_reader {
	struct jsonstream js;
	char *buf; /* received, not framed yet: [head, tail) */
	size_t head, tail, cap;
	size_t max; /* the largest object accepted */
};

void client_reader_init(struct client_reader *r, size_t max);
void client_reader_free(struct client_reader *r);
/* Appends LEN bytes (what a read(2) got). -ENOMEM. */
int client_reader_push(struct client_reader *r, const void *data, size_t len);
/* Room for at least WANT more bytes, at *RET_BUF (*RET_ROOM bytes), for a
 * read(2) straight into the reader; client_reader_commit(N) then takes the
 * N bytes it got. -ENOMEM. */
int client_reader_reserve(struct client_reader *r, size_t want, char **ret_buf, size_t *ret_room);
void client_reader_commit(struct client_reader *r, size_t n);
/* 1 and a new reference in *RET when a complete object was framed and parsed;
 * 0 when more bytes are needed; -EBADMSG for a value that is not an object,
 * an object jansson refuses or one nested too deep (consumed, so the caller
 * may go on), -EMSGSIZE for an object over the maximum, as soon as it is
 * (the reader must be dropped), -ENOMEM. */
int client_reader_next(struct client_reader *r, json_t **ret, struct client_error *err);
/* Drops everything up to and including the next 0xFF; 1 when one was found,
 * 0 when all buffered bytes (a part of a reply included) were dropped
 * without finding one; -ENOMEM. The number of bytes dropped in
 * *RET_DROPPED. */
int client_reader_skip_to_sync(struct client_reader *r, size_t *ret_dropped);

/* A reply, checked: exactly one of "return" (any value) and "error" (an
 * object with string "class" and "desc"), and an optional "id". 0 and a
 * borrowed *RET_RESULT for a return; -EREMOTEIO with ERR filled for an error;
 * -EBADMSG when it is neither. */
int client_reply_result(json_t *reply, json_t **ret_result, struct client_error *err);

struct client_options {
	int connect_timeout_ms; /* also the bound of the resync */
	bool no_sync; /* skip the 0xFF resync on connect */
	size_t max_reply; /* 0: CLIENT_REPLY_MAX */
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
