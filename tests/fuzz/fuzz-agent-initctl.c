/* libFuzzer target: what the agent takes from init's control socket
 * replies (agent/cmd-services.c): the services list, a service's log lines
 * and the events, each member checked for its type and copied, and the
 * services list judged for porthole-health (agent/cmd-health.c). The
 * input is the reply line as init would send it. Whatever it is: refused
 * with a reason that names init's reply, or results of the declared shape
 * (arrays of objects, "next" not negative) that health can judge. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-health.h"
#include "cmd-services.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void refused(int r, const char *why)
{
	if (r == -ENOMEM)
		return;
	if (r != -EPROTO || strncmp(why, "porthole-init's reply: ", 23) != 0)
		abort();
}

static void array_of_objects(const json_t *a)
{
	size_t i;
	json_t *e;

	if (!json_is_array(a))
		abort();
	json_array_foreach(a, i, e) if (!json_is_object(e)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *reply, *out = NULL, *reasons, *engine = NULL;
	char why[512] = "";
	int64_t next = -1;
	int r;

	log_set_level(LOG_LEVEL_EMERG);
	reply = json_loadb((const char *)data, size, 0, NULL);
	if (!reply)
		return 0;
	r = cmd_services_from_init(reply, &out, why, sizeof(why));
	if (r < 0) {
		refused(r, why);
	} else {
		array_of_objects(out);
		reasons = json_array();
		if (reasons && health_judge_services(out, reasons, &engine) >= 0) {
			if (!json_is_array(reasons))
				abort();
			json_decref(engine);
		}
		json_decref(reasons);
		json_decref(out);
	}
	why[0] = '\0';
	out = NULL;
	r = logs_from_init(reply, &out, why, sizeof(why));
	if (r < 0) {
		refused(r, why);
	} else {
		array_of_objects(json_object_get(out, "lines"));
		json_decref(out);
	}
	why[0] = '\0';
	out = NULL;
	r = events_from_init(reply, &out, &next, why, sizeof(why));
	if (r < 0) {
		refused(r, why);
	} else {
		if (next < 0)
			abort();
		array_of_objects(out);
		json_decref(out);
	}
	json_decref(reply);
	return 0;
}
