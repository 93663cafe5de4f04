/* guest-sync-delimited, guest-sync, guest-ping and guest-info: what a client
 * uses to find the stream's start and what the agent can do. */
#include <unistd.h>

#include "agent.h"
#include "command.h"
#include "dispatch.h"

#ifndef PORTHOLE_VERSION
#define PORTHOLE_VERSION "0"
#endif

/* What porthole adds to qemu-ga, for clients that look before they call. */
static const char *const capabilities[] = {
	"porthole-health",
	"unix-peer-credentials",
	"vsock-cid-allowlist",
	"bounded-requests",
};

static enum cmd_result sync_id(struct agent *a, json_t *args, json_t **result,
			       struct cmd_error *err)
{
	(void)a, (void)err;
	/* the id comes back as it was sent: the client matches on it */
	*result = json_incref(json_object_get(args, "id"));
	return 0;
}

static enum cmd_result ping(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
{
	(void)a, (void)args, (void)err;
	*result = NULL;
	return 0;
}

static enum cmd_result info(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
{
	const struct dispatch_entry *e;
	json_t *cmds = json_array(), *caps = json_array(), *r;
	size_t n;

	(void)a, (void)args;
	if (!cmds || !caps)
		goto oom;
	e = dispatch_commands(&n);
	for (size_t i = 0; i < n; i++) {
		json_t *c =
			json_pack("{s:s,s:b,s:b}", "name", e[i].cmd->name, "enabled", e[i].enabled,
				  "success-response", !(e[i].cmd->flags & CMD_NO_REPLY_ON_SUCCESS));

		if (!c || json_array_append_new(cmds, c) < 0)
			goto oom;
	}
	for (size_t i = 0; i < sizeof(capabilities) / sizeof(capabilities[0]); i++)
		json_array_append_new(caps, json_string(capabilities[i]));
	r = json_pack("{s:s,s:o,s:{s:s,s:i,s:o}}", "version", PORTHOLE_VERSION,
		      "supported_commands", cmds, "porthole", "version", PORTHOLE_VERSION,
		      "protocol", AGENT_VERSION_PROTOCOL, "capabilities", caps);
	if (!r)
		return cmd_fail(err, "out of memory");
	*result = r;
	return 0;
oom:
	json_decref(cmds);
	json_decref(caps);
	return cmd_fail(err, "out of memory");
}

const struct command cmd_sync_table[] = {
	{ "guest-sync-delimited",
	  sync_id,
	  { { "id", ARG_INT, true } },
	  CMD_SYNC_DELIMITED | CMD_QUIET },
	{ "guest-sync", sync_id, { { "id", ARG_INT, true } }, CMD_QUIET },
	{ "guest-ping", ping, { { 0 } }, CMD_QUIET },
	{ "guest-info", info, { { 0 } }, CMD_QUIET },
	{ 0 },
};
