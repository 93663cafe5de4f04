/* The reply reader (client-reader.h): a buffer of bytes read and not yet
 * framed in front of lib/jsonstream, which stops after each reply so that
 * the rest waits for the next call. */
#include "client-reader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
void client_reader_init(struct client_reader *r, size_t max)
{
	*r = (struct client_reader){ .max = max ? max : CLIENT_REPLY_MAX };
	jsonstream_init(&r->js, r->max);
}

void client_reader_free(struct client_reader *r)
{
	jsonstream_free(&r->js);
	free(r->buf);
	client_reader_init(r, r->max);
}

int client_reader_reserve(struct client_reader *r, size_t want, char **ret_buf, size_t *ret_room)
{
	/* a buffer to point into even for nothing: NULL + 0 is undefined */
	if (want == 0)
		want = 1;
	if (r->head == r->tail)
		r->head = r->tail = 0;
	if (r->cap - r->tail < want && r->head > 0) {
		/* Move the bytes not framed yet to the front before growing. */
		size_t n = r->tail - r->head;

		memmove(r->buf, r->buf + r->head, n);
		r->tail = n;
		r->head = 0;
	}
	if (r->cap - r->tail < want &&
	    buf_reserve(&r->buf, &r->cap, r->tail + want, 4096, SIZE_MAX) < 0)
		return -ENOMEM;
	if (ret_buf)
		*ret_buf = r->buf + r->tail;
	if (ret_room)
		*ret_room = r->cap - r->tail;
	return 0;
}

void client_reader_commit(struct client_reader *r, size_t n)
{
	r->tail += n;
}

int client_reader_push(struct client_reader *r, const void *data, size_t len)
{
	char *at;
	int ret = client_reader_reserve(r, len, &at, NULL);

	if (ret < 0)
		return ret;
	memcpy(at, data, len);
	client_reader_commit(r, len);
	return 0;
}

/* What the framer handed over, for client_reader_next. */
struct take {
	struct client_error *err;
	size_t max;
	int ret; /* 1: V is a reply; < 0: an error; 0: nothing yet */
	json_t *v;
};

/* Takes one event and stops the framer there, but for a 0xFF between
 * replies: it precedes guest-sync-delimited's reply, and is nothing else. */
static bool take_reply(void *user, const struct jsonstream_item *item)
{
	struct take *t = user;
	json_error_t jerr;

	switch (item->event) {
	case JSONSTREAM_VALUE:
		/* a reply is an object; a bare scalar, array or stray closer
		 * is one error, and the reply after it still comes */
		if (item->data[0] != '{') {
			t->ret = client_fail(t->err, -EBADMSG,
					     "unexpected byte 0x%02x between replies",
					     (unsigned char)item->data[0]);
			break;
		}
		t->v = json_loadb(item->data, item->len, 0, &jerr);
		t->ret = t->v ? 1
			      : client_fail(t->err, -EBADMSG, "reply is not valid JSON: %s",
					    jerr.text);
		break;
	case JSONSTREAM_RESYNC:
		if (!item->partial)
			return true;
		t->ret = client_fail(t->err, -EBADMSG, "a reply cut short by a 0xFF byte");
		break;
	case JSONSTREAM_TOO_LONG:
		t->ret = client_fail(t->err, -EMSGSIZE, "a reply is longer than %zu bytes", t->max);
		break;
	case JSONSTREAM_TOO_DEEP:
		t->ret = client_fail(t->err, -EBADMSG, "a reply nested deeper than %d levels",
				     JSONSTREAM_DEPTH_MAX);
		break;
	}
	return false;
}

int client_reader_next(struct client_reader *r, json_t **ret, struct client_error *err)
{
	struct take t = { .err = err, .max = r->max };

	/* A reply over the limit is refused as soon as it is, not once it
	 * ends: a peer that sends no end would have us wait. So the framer is
	 * fed no further than the byte that could take the reply over it (one
	 * byte adds at most one): what follows (a 0xFF that would make it a
	 * reply cut short, EBADMSG) must not decide otherwise than when the
	 * bytes arrive one read at a time (fuzz-host-client-reader). */
	while (r->head < r->tail && !jsonstream_over_limit(&r->js)) {
		size_t room = r->js.len < r->max ? r->max - r->js.len + 1 : 1,
		       len = r->tail - r->head < room ? r->tail - r->head : room;
		long n = jsonstream_feed(&r->js, r->buf + r->head, len, take_reply, &t);

		if (n < 0)
			return client_fail(err, (int)n, "out of memory framing a reply");
		r->head += (size_t)n;
		if (t.ret == 1)
			*ret = t.v;
		if (t.ret != 0)
			return t.ret;
	}
	if (jsonstream_over_limit(&r->js))
		return client_fail(err, -EMSGSIZE, "a reply is longer than %zu bytes", r->max);
	return 0;
}

static bool until_resync(void *user, const struct jsonstream_item *item)
{
	bool *found = user;

	if (item->event != JSONSTREAM_RESYNC)
		return true; /* before the marker: not ours */
	*found = true;
	return false;
}

int client_reader_skip_to_sync(struct client_reader *r, size_t *ret_dropped)
{
	bool found = false;
	/* a reply begun in an earlier client_reader_next goes too: its bytes
	 * are the framer's, no longer in [head, tail) */
	size_t dropped = r->js.len;
	long n;

	if (r->head < r->tail) {
		n = jsonstream_feed(&r->js, r->buf + r->head, r->tail - r->head, until_resync,
				    &found);
		if (n < 0)
			return (int)n;
		r->head += (size_t)n;
		dropped += (size_t)n;
	}
	/* without a marker, half a reply is as useless as the rest (its bytes
	 * are counted above: the framer holds nothing it was not fed) */
	if (!found)
		jsonstream_reset(&r->js);
	if (ret_dropped)
		*ret_dropped = dropped;
	return found ? 1 : 0;
}
