/* libFuzzer target: the agent's request path, bytes in to replies out: the
 * stream splitter (lib/jsonstream), jansson, the envelope and argument
 * checks. Only commands without side effects on the machine are enabled (an
 * allow list), so that the fuzzer never sets the clock or trims a disk. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent-reply.h"
#include "agent.h"
#include "dispatch.h"
#include "jsonstream.h"
#include "log.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct agent agent;

static bool on_item(void *user, const struct jsonstream_item *item)
{
	struct reply r = { 0 };

	(void)user;
	if (item->event == JSONSTREAM_VALUE) {
		/* none of the allowed commands answers later or not at all:
		 * every value gets its reply, an error included */
		if (dispatch_value(&agent, item->data, item->len, &r) != DISPATCH_REPLY)
			abort();
		fuzz_check_reply(&r);
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct jsonstream s;
	static const char *const safe[] = { "guest-sync",     "guest-sync-delimited",
					    "guest-ping",     "guest-info",
					    "guest-get-time", "guest-get-host-name" };

	if (!ready) {
		log_set_level(LOG_LEVEL_EMERG);
		options_defaults(&agent.cfg);
		for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++)
			strcpy(agent.cfg.allow_rpcs[agent.cfg.n_allow_rpcs++], safe[i]);
		dispatch_init(&agent);
		ready = true;
	}
	jsonstream_init(&s, 4096);
	/* in two pieces, as bytes arrive: the split must not change the result */
	jsonstream_feed(&s, (const char *)data, size / 2, on_item, NULL);
	jsonstream_feed(&s, (const char *)data + size / 2, size - size / 2, on_item, NULL);
	if (s.cap > 4096)
		abort();
	jsonstream_free(&s);
	return 0;
}
