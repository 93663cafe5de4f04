/* What every reply of the agent's dispatcher must be, whatever the input:
 * one line ending in a newline (after guest-sync-delimited's 0xFF), and JSON
 * a client can parse, text cut or quoted from the input included. Shared by
 * the fuzz-agent-* targets that dispatch requests. */
#pragma once

#include <jansson.h>
#include <stdlib.h>

#include "dispatch.h"

/* Aborts (a finding for libFuzzer) unless R is such a reply; frees it. */
static inline void fuzz_check_reply(struct reply *r)
{
	size_t skip = r->len > 0 && (unsigned char)r->data[0] == 0xFF;
	json_t *j;

	if (r->len == 0 || r->data[r->len - 1] != '\n')
		abort();
	j = json_loadb(r->data + skip, r->len - skip - 1, 0, NULL);
	if (!j)
		abort();
	json_decref(j);
	free(r->data);
	r->data = NULL;
}
