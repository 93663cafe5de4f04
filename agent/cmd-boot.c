/* porthole-boot: the boot's timeline (the kernel, init's steps, each
 * service's start, ready and exit) as init keeps it. The agent asks init's
 * control socket ({"op": "boot"}, docs/control.md) on a worker, checks every
 * member of the reply for its type and range and passes it on; what the
 * host draws from it is host/cli-boot.c's. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-boot.h"

#include "agent.h"
#include "cmd-json.h"
#include "command.h"
#include "initctl.h"
#include "worker.h"

/* init's table holds 64 (init/boot-log.h); a reply with more is not init's */
#define BOOT_ENTRIES_MAX 64

static int bad(char *why, size_t size, const char *what, size_t i, const char *member)
{
	snprintf(why, size, "porthole-init's reply: boot[%zu].%s: expected %s", i, member, what);
	return -EPROTO;
}

static bool ns_ok(json_t *v, bool null_ok)
{
	return (null_ok && json_is_null(v)) || (json_is_integer(v) && json_integer_value(v) >= 0);
}

/* One entry of init's "boot" array, checked, into a new object in *RET. */
static int entry_from_init(json_t *src, size_t i, json_t **ret, char *why, size_t why_size)
{
	json_t *name = json_object_get(src, "name"), *kind = json_object_get(src, "kind");
	json_t *start = json_object_get(src, "start_ns"), *ready = json_object_get(src, "ready_ns");
	json_t *end = json_object_get(src, "end_ns"), *runs = json_object_get(src, "runs");

	if (!json_is_object(src)) {
		snprintf(why, why_size, "porthole-init's reply: boot[%zu]: expected an object", i);
		return -EPROTO;
	}
	if (!json_is_string(name))
		return bad(why, why_size, "a string", i, "name");
	if (!json_is_string(kind))
		return bad(why, why_size, "a string", i, "kind");
	if (!ns_ok(start, false))
		return bad(why, why_size, "an integer, 0 or more", i, "start_ns");
	if (!ns_ok(ready, true))
		return bad(why, why_size, "an integer, 0 or more, or null", i, "ready_ns");
	if (!ns_ok(end, true))
		return bad(why, why_size, "an integer, 0 or more, or null", i, "end_ns");
	if (!json_is_integer(runs) || json_integer_value(runs) < 0)
		return bad(why, why_size, "an integer, 0 or more", i, "runs");
	*ret = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}", "name", name, "kind", kind, "start_ns",
			 start, "ready_ns", ready, "end_ns", end, "runs", runs);
	return *ret ? 0 : -ENOMEM;
}

int cmd_boot_from_init(json_t *reply, json_t **ret, char *why, size_t why_size)
{
	json_t *src = json_object_get(reply, "boot"), *now = json_object_get(reply, "now_ns");
	json_t *dropped = json_object_get(reply, "dropped"), *dst, *e;
	size_t i;

	if (!json_is_array(src) || json_array_size(src) > BOOT_ENTRIES_MAX) {
		snprintf(why, why_size,
			 "porthole-init's reply: \"boot\": expected an array of at "
			 "most %d",
			 BOOT_ENTRIES_MAX);
		return -EPROTO;
	}
	if (!ns_ok(now, false) || !json_is_integer(dropped) || json_integer_value(dropped) < 0) {
		snprintf(why, why_size,
			 "porthole-init's reply: \"now_ns\" and \"dropped\": expected integers, 0 "
			 "or more");
		return -EPROTO;
	}
	dst = json_array();
	if (!dst)
		return -ENOMEM;
	json_array_foreach(src, i, e)
	{
		json_t *o = NULL;
		int r = entry_from_init(e, i, &o, why, why_size);

		if (r < 0 || cmd_json_append(dst, o) < 0) {
			json_decref(dst);
			return r < 0 ? r : -ENOMEM;
		}
	}
	*ret = json_pack("{s:o, s:O, s:O}", "boot", dst, "now_ns", now, "dropped", dropped);
	return *ret ? 0 : -ENOMEM;
}

static enum cmd_result boot_work(json_t *args, void *ctx, json_t **result, struct cmd_error *err)
{
	char why[INITCTL_WHY_MAX];
	json_t *req = json_pack("{s:s}", "op", "boot"), *reply = NULL;
	int r;

	(void)args;
	if (!req)
		return cmd_fail(err, "out of memory");
	r = initctl_call(ctx, req, INITCTL_TIMEOUT_MS, &reply, why, sizeof(why));
	json_decref(req);
	if (r >= 0) {
		r = cmd_boot_from_init(reply, result, why, sizeof(why));
		json_decref(reply);
	}
	if (r == -ENOMEM)
		return cmd_fail(err, "out of memory");
	return r < 0 ? cmd_fail(err, "%s", why) : CMD_OK;
}

static enum cmd_result boot(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
{
	char *ctx = strdup(a->cfg.init_socket);

	if (!ctx)
		return cmd_fail(err, "out of memory");
	return worker_cmd(a, "porthole-boot", boot_work, NULL, args, ctx, result, err);
}

const struct command cmd_boot_table[] = {
	{ "porthole-boot", boot, { { 0 } }, CMD_QUIET },
	{ 0 },
};
