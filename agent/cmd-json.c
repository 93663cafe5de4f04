/* cmd_json_*: insertions that report failure. Used by the cmd-*.c handlers;
 * the dispatcher serialises. (Strings from the system: lib/utf8.h.) */
#include "cmd-json.h"

#include <errno.h>

int cmd_json_set(json_t *obj, const char *key, json_t *value)
{
	if (!value)
		return -ENOMEM;
	return json_object_set_new(obj, key, value) < 0 ? -ENOMEM : 0;
}

int cmd_json_append(json_t *array, json_t *value)
{
	if (!value)
		return -ENOMEM;
	return json_array_append_new(array, value) < 0 ? -ENOMEM : 0;
}
