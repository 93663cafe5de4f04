/* guest-shutdown: the host asks for a power-off, halt or reboot. The agent
 * only records it; after the replies are flushed the main loop asks init
 * through its control socket (or, failing that, with a signal to PID 1),
 * and init stops the services, syncs, unmounts and calls reboot(2). */
#include <signal.h>
#include <string.h>

#include "agent.h"
#include "command.h"
#include "log.h"

/* porthole-init's signals (init/main.c): SIGTERM powers off, SIGINT reboots
 * (as ctrl-alt-del does), SIGUSR1 halts. */
static const struct {
	const char *mode;
	int signal;
} modes[] = {
	{ "powerdown", SIGTERM },
	{ "halt", SIGUSR1 },
	{ "reboot", SIGINT },
};

static int shutdown_cmd(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
{
	json_t *jmode = json_object_get(args, "mode");
	const char *mode = jmode ? json_string_value(jmode) : "powerdown";

	*result = NULL;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(mode, modes[i].mode) != 0)
			continue;
		log_info("guest-shutdown: %s requested", mode);
		a->shutdown_requested = true;
		a->shutdown_signal = modes[i].signal;
		return 0;
	}
	/* qemu-ga 7.2's words, which name the allowed values (qemu-ga leaves the
	 * parenthesis open) */
	return cmd_fail(err, "mode is invalid (valid values are: halt|powerdown|reboot)");
}

const struct command cmd_power_table[] = {
	{ "guest-shutdown",
	  shutdown_cmd,
	  { { "mode", ARG_STRING, false } },
	  CMD_NO_REPLY_ON_SUCCESS },
	{ 0 },
};
