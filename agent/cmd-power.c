/* guest-shutdown: the host asks for a power-off, halt or reboot. The handler
 * records it; on the loop's next turn, once the replies to what the host
 * sent with it (the guest-sync that porthole's CLI puts behind it) are
 * queued, init is asked through its control socket (or, failing that, with
 * a signal to PID 1). init then stops the services, the agent among them,
 * syncs, unmounts and calls reboot(2): until init stops it, the agent goes
 * on answering, and flushes its replies when it is stopped. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "agent.h"
#include "command.h"
#include "initctl.h"
#include "log.h"
#include "loop.h"
#include "util.h"

/* porthole-init's signals (init/main.c): SIGTERM powers off, SIGINT reboots
 * (as ctrl-alt-del does), SIGUSR1 halts. */
static const struct {
	const char *mode;
	const char *kind; /* init's control socket's word */
	int signal;
} modes[] = {
	{ "powerdown", "poweroff", SIGTERM },
	{ "halt", "halt", SIGUSR1 },
	{ "reboot", "reboot", SIGINT },
};

/* Only porthole-init is asked: an agent run by hand on a workstation must
 * not send SIGINT to systemd, which would reboot it. Returns 0 when init
 * took the request. */
static int ask_init(const struct agent *a, const char *kind, int sig)
{
	_cleanup_free_ char *comm = NULL;
	char why[INITCTL_WHY_MAX];
	json_t *reply = NULL;

	if (a->cfg.init_socket[0]) {
		json_t *req = json_pack("{s:s, s:s}", "op", "shutdown", "kind", kind);
		int r = req ? initctl_call(a->cfg.init_socket, req, INITCTL_TIMEOUT_MS, &reply, why,
					   sizeof(why))
			    : -ENOMEM;

		json_decref(req);
		json_decref(reply);
		if (r == 0) {
			log_info("guest-shutdown: asked init for %s", kind);
			return 0;
		}
		log_warn("guest-shutdown: %s; signalling init instead", why);
	}
	if (read_file("/proc/1/comm", 64, &comm, NULL) < 0 ||
	    strcmp(comm, "porthole-init\n") != 0) {
		log_warn("guest-shutdown: PID 1 is not porthole-init (%s): not signalled",
			 comm ? strtok(comm, "\n") : "unknown");
		return -ESRCH;
	}
	log_info("guest-shutdown: asking init (signal %d)", sig);
	if (kill(1, sig) < 0)
		return log_error_errno(-errno, "signal init");
	return 0;
}

static void power_act(struct loop *l, void *data)
{
	struct agent *a = data;

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		if (modes[i].signal != a->shutdown_signal)
			continue;
		/* no init to do it (the agent run by hand): the agent stops,
		 * which is all of the request that can be honoured */
		if (ask_init(a, modes[i].kind, modes[i].signal) < 0)
			loop_quit(l);
		return;
	}
}

static enum cmd_result shutdown_cmd(struct agent *a, json_t *args, json_t **result,
				    struct cmd_error *err)
{
	json_t *jmode = json_object_get(args, "mode");
	const char *mode = jmode ? json_string_value(jmode) : "powerdown";

	*result = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		if (strcmp(mode, modes[i].mode) != 0)
			continue;
		log_info("guest-shutdown: %s requested", mode);
		/* a second request while the first is under way changes nothing */
		if (a->shutdown_requested)
			return 0;
		a->shutdown_requested = true;
		a->shutdown_signal = modes[i].signal;
		if (a->loop && loop_timer(a->loop, 0, power_act, a) < 0)
			power_act(a->loop, a);
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
