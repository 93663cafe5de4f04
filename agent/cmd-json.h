/* JSON helpers the command handlers share: members whose loss (out of
 * memory) is reported rather than silently dropped. Strings from the
 * system, which need not be UTF-8, are made with lib/utf8.h. */
#pragma once

#include <jansson.h>

#include "utf8.h"

/* json_object_set_new and json_array_append_new that fail with -ENOMEM when
 * VALUE is NULL (an allocation that failed upstream) or the insertion fails.
 * VALUE's reference is taken either way. */
int cmd_json_set(json_t *obj, const char *key, json_t *value);
int cmd_json_append(json_t *array, json_t *value);
