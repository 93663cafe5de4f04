/* Replies out of the bytes a connection delivers: JSON objects framed by
 * lib/jsonstream (brace balance, strings and escapes understood), separated
 * by whitespace, with 0xFF (the guest-sync-delimited marker) skipped between
 * them, parsed by jansson a reply at a time. Reading the socket, and what a
 * reply says, are the call engine's (client.h). */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "client-error.h"
#include "jsonstream.h"

/* The largest reply accepted by default: guest-exec-status with two full
 * captures, base64, is the largest there is. */
#define CLIENT_REPLY_MAX (16u * 1024 * 1024)

struct client_reader {
	struct jsonstream js;
	char *buf; /* received, not framed yet: [head, tail) */
	size_t head, tail, cap;
	size_t max; /* the largest object accepted */
};

/* MAX 0 is CLIENT_REPLY_MAX. */
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
 * an object jansson refuses, one cut short by 0xFF or one nested too deep
 * (consumed, so the caller may go on), -EMSGSIZE for an object over the
 * maximum, as soon as it is (the reader must be dropped), -ENOMEM. */
int client_reader_next(struct client_reader *r, json_t **ret, struct client_error *err);
/* Drops everything up to and including the next 0xFF; 1 when one was found,
 * 0 when all buffered bytes (a part of a reply included) were dropped
 * without finding one; -ENOMEM. The number of bytes dropped in
 * *RET_DROPPED. */
int client_reader_skip_to_sync(struct client_reader *r, size_t *ret_dropped);
