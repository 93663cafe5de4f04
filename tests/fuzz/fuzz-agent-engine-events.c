/* libFuzzer target: dockerd's reply to GET /events as the agent's trim
 * after deletes reads it (agent/engine-events.c): the status line and
 * headers, the chunked coding, the events' JSON. The input is the reply's
 * bytes, fed in two pieces cut where its first byte says (a chunk boundary
 * may fall anywhere). Whatever it is: the stream goes on (0), ends (1), or
 * is refused with a reason (-EPROTO, -EREMOTEIO); a delete is reported only
 * with one of the texts engine_event_frees gives, never more of them than
 * events seen. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine-events.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const whats[] = {
	"image delete",	   "image prune",    "container destroy",
	"container prune", "volume destroy", "volume prune",
};

static void on_delete(void *user, const char *what)
{
	unsigned *n = user;
	size_t i;

	for (i = 0; i < sizeof(whats) / sizeof(whats[0]); i++)
		if (strcmp(what, whats[i]) == 0)
			break;
	if (i == sizeof(whats) / sizeof(whats[0]))
		abort();
	(*n)++;
}

static int feed(struct engine_stream *s, const uint8_t *data, size_t size, unsigned *n)
{
	char why[160] = "";
	int r = engine_stream_feed(s, (const char *)data, size, on_delete, n, why, sizeof(why));

	if (r != 0 && r != 1 && r != -EPROTO && r != -EREMOTEIO && r != -ENOMEM)
		abort();
	if ((r == -EPROTO || r == -EREMOTEIO) && !why[0])
		abort();
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine_stream s;
	unsigned n = 0;
	size_t cut;
	int r;

	log_set_level(LOG_LEVEL_EMERG);
	if (size == 0 || engine_stream_init(&s) < 0)
		return 0;
	cut = data[0] % size;
	data++, size--;
	if (cut > size)
		cut = size;
	r = feed(&s, data, cut, &n);
	if (r == 0)
		feed(&s, data + cut, size - cut, &n);
	if (n != s.frees || s.frees > s.events)
		abort();
	engine_stream_free(&s);
	return 0;
}
