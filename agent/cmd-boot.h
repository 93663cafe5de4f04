/* porthole-boot's check of init's reply (docs/control.md's boot request),
 * exported for the unit tests and the fuzzer. */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* {"boot": [...], "now_ns", "dropped"} from init's reply to {"op": "boot"},
 * each member checked for its type and range (times are integers >= 0, a
 * ready or end time may be null), unknown ones left out: a new object in
 * *RET. -EPROTO with WHY ("porthole-init's reply: boot[2].start_ns: expected
 * an integer, 0 or more") when the reply is not what init sends. */
int cmd_boot_from_init(json_t *reply, json_t **ret, char *why, size_t why_size);
