/* libFuzzer target: init's control socket (init/control.c), the lines the
 * agent (or anything root on the guest) sends PID 1. The input is what one
 * connection sends: cut into lines as the socket does (at most
 * CONTROL_LINE_MAX bytes each; a longer one ends the connection), each
 * answered by control_handle over two services whose processes are
 * pretended (spawns and kills only counted) in a real supervisor. Every
 * line gets one reply, a JSON object: {"error": TEXT} or the op's result;
 * a shutdown is only recorded. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "service-conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct supervisor sup;
static struct services ss;
static pid_t next_pid = 1000;
static uint64_t now_ns = 1000000000000ull;

static pid_t fake_spawn(struct services *s, struct service *sv, char *why, size_t why_size)
{
	(void)s, (void)sv, (void)why, (void)why_size;
	return next_pid++;
}

static int fake_kill(pid_t pid, int sig)
{
	(void)pid, (void)sig;
	return 0;
}

static void fake_kill_cgroup(struct services *s, struct service *sv, bool whole)
{
	(void)s, (void)sv, (void)whole;
}

static uint64_t fake_now(void)
{
	return now_ns;
}

static const struct service_ops ops = {
	.spawn = fake_spawn,
	.kill = fake_kill,
	.kill_cgroup = fake_kill_cgroup,
	.now = fake_now,
};

static void setup(void)
{
	static const char *const defs[][2] = {
		{ "web", "[service]\ncommand = /bin/web\n" },
		{ "db", "[service]\ncommand = /bin/db\nafter = web\n" },
	};
	static char dir[] = "/tmp/fuzz-control.XXXXXX";
	struct service_spec specs[2];
	char err[SERVICE_ERROR_MAX], path[64];
	sigset_t none;
	int sigfd;

	log_set_level(LOG_LEVEL_EMERG);
	sigemptyset(&none);
	sigfd = signalfd(-1, &none, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0 || supervise_init(&sup, sigfd, true) < 0)
		abort();
	for (size_t i = 0; i < 2; i++)
		if (service_conf_parse(defs[i][1], "fuzz.conf", defs[i][0], &specs[i], err,
				       sizeof(err)) < 0)
			abort();
	services_init(&ss, &sup, &ops, specs, 2, NULL);
	services_begin(&ss);
	/* the socket is made and left alone: control_handle is what it calls */
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/init.sock", dir);
	if (control_start(&sup, &ss, path) < 0)
		abort();
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static char line[CONTROL_LINE_MAX + 1];

	if (!ready) {
		setup();
		ready = true;
	}
	if (size > 8 * CONTROL_LINE_MAX)
		return 0;
	while (size) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t n = nl ? (size_t)(nl - data) : size;
		json_t *r;

		/* the socket answers a line too long with an error and closes */
		if (n >= CONTROL_LINE_MAX || !nl)
			break;
		memcpy(line, data, n);
		line[n] = '\0';
		r = control_handle(line);
		if (!json_is_object(r))
			abort();
		if (json_object_get(r, "error") &&
		    (json_object_size(r) != 1 || !json_is_string(json_object_get(r, "error"))))
			abort();
		json_decref(r);
		data += n + 1;
		size -= n + 1;
	}
	sup.requested = SHUTDOWN_NONE;
	now_ns += 1000000;
	return 0;
}
