/* libFuzzer target: the host client's reply reader (host/client-reader.c),
 * the bytes the guest's agent sends back, framed into replies. The first
 * byte is the size of the pieces the input arrives in (0: at once), the
 * second a mask: pushed or read straight into the reader (reserve and
 * commit), and when to skip to the next 0xFF as the client does after a
 * guest-sync-delimited. Whatever the bytes: every reply is an object, the
 * replies and errors are the same however the bytes were split, and an
 * object over the limit is refused as soon as it is. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client-reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX 2048

/* One reading of IN in pieces of CHUNK; what came out, as text, into OUT. */
static void read_all(const uint8_t *in, size_t len, size_t chunk, uint8_t mask, char *out,
		     size_t size)
{
	struct client_reader r;
	size_t off = 0, o = 0;
	unsigned k = 0;
	bool dead = false;

	out[0] = '\0';
	client_reader_init(&r, MAX);
	while (off < len && !dead) {
		size_t n = chunk && chunk < len - off ? chunk : len - off;
		json_t *v;
		int ret;

		if (mask & 1 << (k++ % 8)) {
			char *buf;
			size_t room;

			if (client_reader_reserve(&r, n, &buf, &room) < 0)
				abort();
			if (room < n)
				abort();
			memcpy(buf, in + off, n);
			client_reader_commit(&r, n);
		} else if (client_reader_push(&r, in + off, n) < 0) {
			abort();
		}
		off += n;
		while (!dead && (ret = client_reader_next(&r, &v, NULL)) != 0) {
			char *s = NULL;

			if (ret == 1) {
				if (!json_is_object(v))
					abort();
				s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
				json_decref(v);
			} else if (ret == -EMSGSIZE) {
				dead = true; /* the reader must be dropped */
			} else if (ret != -EBADMSG) {
				abort();
			}
			if (o < size)
				o += (size_t)snprintf(out + o, size - o, "%s|",
						      s			? s
						      : ret == -EBADMSG ? "EBADMSG"
									: "EMSGSIZE");
			free(s);
		}
	}
	client_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char whole[1 << 16], split[1 << 16];

	if (size < 2 || size > 8 * MAX)
		return 0;
	read_all(data + 2, size - 2, 0, 0, whole, sizeof(whole));
	read_all(data + 2, size - 2, data[0], data[1], split, sizeof(split));
	/* EMSGSIZE comes as soon as the object is over the limit: a reply
	 * after it never arrives in either reading, so they agree */
	if (strcmp(whole, split) != 0)
		abort();
	/* the skip to 0xFF drops up to and including it, and says how much */
	{
		struct client_reader r;
		size_t dropped = 0;
		const uint8_t *ff = memchr(data + 2, 0xFF, size - 2);
		int ret;

		client_reader_init(&r, MAX);
		if (client_reader_push(&r, data + 2, size - 2) < 0)
			abort();
		ret = client_reader_skip_to_sync(&r, &dropped);
		if (ret != (ff != NULL) ||
		    dropped != (ff ? (size_t)(ff - (data + 2)) + 1 : size - 2))
			abort();
		client_reader_free(&r);
	}
	return 0;
}
