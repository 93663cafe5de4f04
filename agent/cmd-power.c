/* guest-shutdown: the host asks for a power-off, halt or reboot. The handler
 * records it; on the loop's next turn, once the replies to what the host
 * sent with it (the guest-sync that porthole's CLI puts behind it) are
 * queued, init is asked through its control socket (or, failing that, with
 * a signal to PID 1). init then stops the services, the agent among them,
 * syncs, unmounts and calls reboot(2): until init stops it, the agent goes
 * on answering, and flushes its replies when it is stopped. The call to
 * init runs on a worker (worker.c): a hung init holds up no other client. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "command.h"
#include "initctl.h"
#include "log.h"
#include "loop.h"
#include "util.h"
#include "worker.h"

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

/* The signal, when init's socket failed. Only porthole-init is signalled:
 * an agent run by hand on a workstation must not send SIGINT to systemd,
 * which would reboot it. Returns 0 when init took the signal. */
static int signal_init(int sig)
{
	_cleanup_free_ char *comm = NULL;

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

/* The call to init's socket, on a worker: what it needs is copied in. */
struct ask {
	struct agent *a; /* for ask_done only, on the loop */
	char socket[sizeof(((struct agent_config *)0)->init_socket)];
	const char *kind;
	int signal;
	int r;
	char why[INITCTL_WHY_MAX];
};

static void ask_run(void *data)
{
	struct ask *q = data;
	json_t *req = json_pack("{s:s, s:s}", "op", "shutdown", "kind", q->kind), *reply = NULL;

	q->r = req ? initctl_call(q->socket, req, INITCTL_TIMEOUT_MS, &reply, q->why,
				  sizeof(q->why))
		   : -ENOMEM;
	if (q->r == -ENOMEM && !req)
		snprintf(q->why, sizeof(q->why), "out of memory");
	json_decref(req);
	json_decref(reply);
}

/* On the loop: init took it, or the signal instead; with no init to do it
 * (the agent run by hand) the agent stops, which is all of the request
 * that can be honoured. */
static void ask_done(void *data, int status)
{
	struct ask *q = data;

	if (status == 0) {
		if (q->r == 0) {
			log_info("guest-shutdown: asked init for %s", q->kind);
		} else {
			log_warn("guest-shutdown: %s; signalling init instead", q->why);
			if (signal_init(q->signal) < 0)
				loop_quit(q->a->loop);
		}
	}
	free(q);
}

static void power_act(struct loop *l, void *data)
{
	struct agent *a = data;
	struct worker *w;
	struct ask *q;

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		if (modes[i].signal != a->shutdown_signal)
			continue;
		if (!a->cfg.init_socket[0]) {
			if (signal_init(modes[i].signal) < 0)
				loop_quit(l);
			return;
		}
		q = calloc(1, sizeof(*q));
		if (!q) {
			log_warn("guest-shutdown: out of memory; signalling init instead");
			if (signal_init(modes[i].signal) < 0)
				loop_quit(l);
			return;
		}
		*q = (struct ask){ .a = a, .kind = modes[i].kind, .signal = modes[i].signal };
		snprintf(q->socket, sizeof(q->socket), "%s", a->cfg.init_socket);
		w = worker_of(a);
		if (!w || worker_submit(w, ask_run, ask_done, q) < 0) {
			/* no worker free: the call is made here, bounded as it
			 * always was; a shutdown is not refused for being busy */
			ask_run(q);
			ask_done(q, 0);
		}
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
