/* JSON helpers the command handlers share: strings from the system, which
 * need not be UTF-8, and members whose loss (out of memory) is reported
 * rather than silently dropped. */
#pragma once

#include <jansson.h>

/* A JSON string from S, which should be UTF-8 but may not be (mount points,
 * host names, /etc/os-release, user names): jansson refuses invalid UTF-8,
 * so each invalid byte becomes U+FFFD. NULL only when out of memory. */
json_t *cmd_json_string(const char *s);
/* The same for the first LEN bytes of S (which need not be NUL-terminated). */
json_t *cmd_json_stringn(const char *s, size_t len);

/* json_object_set_new and json_array_append_new that fail with -ENOMEM when
 * VALUE is NULL (an allocation that failed upstream) or the insertion fails.
 * VALUE's reference is taken either way. */
int cmd_json_set(json_t *obj, const char *key, json_t *value);
int cmd_json_append(json_t *array, json_t *value);
