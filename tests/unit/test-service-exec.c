/* init/service-exec.c, the real service_ops, with real processes (/bin/sh)
 * and the supervisor's loop, without cgroups (a sandbox or VM test has
 * them): a service's stdout and stderr in its log, before the line saying
 * how it exited; the notification fd; a program that is not there; what a
 * service forked killed with it by process group, unless kill_mode =
 * process; and a stop at shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
#include "service-conf.h"
#include "service-exec.h"
#include "service.h"
#include "service-test.h"
#include "supervise.h"
#include "svclog.h"
#include "util.h"

static struct services ss;
static struct supervisor sup;

static int setup(void **state)
{
	(void)state;
	/* SIGCHLD through a signalfd, as init has it: the loop reaps */
	test_loop_init(&sup, true);
	return 0;
}

static int unload(void **state)
{
	(void)state;
	for (size_t i = 0; i < ss.n; i++) {
		supervise_close(&sup, &ss.svc[i].out_fd);
		supervise_close(&sup, &ss.svc[i].err_fd);
		supervise_close(&sup, &ss.svc[i].notify_fd);
		service_spec_free(&ss.svc[i].spec);
		svclog_free(ss.svc[i].log);
	}
	ss.n = 0;
	return 0;
}

/* One service "x" from the [service] keys TEXT, begun. */
static struct service *begin(const char *text)
{
	struct service_spec spec;
	char buf[1024], err[SERVICE_ERROR_MAX];

	snprintf(buf, sizeof(buf), "[service]\n%s\n", text);
	if (service_conf_parse(buf, "t.conf", "x", &spec, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	services_init(&ss, &sup, &service_exec_ops, &spec, 1, NULL);
	services_begin(&ss);
	return &ss.svc[0];
}

/* Runs the loop (reaping, ticking) until SV is in STATE, at most 5 s. */
static void wait_state(struct service *sv, enum service_state state)
{
	uint64_t deadline = now_mono_ns() + 5 * NSEC_PER_SEC;

	while (sv->state != state && now_mono_ns() < deadline) {
		supervise_poll_once(&sup, 10);
		supervise_reap(&sup);
		services_tick(&ss);
	}
	assert_int_equal(sv->state, state);
}

struct lines {
	char text[16][128];
	enum svclog_stream stream[16];
	size_t n;
};

static void add(const struct svclog_line *line, void *user)
{
	struct lines *l = user;

	if (l->n < 16) {
		snprintf(l->text[l->n], sizeof(l->text[0]), "%.*s", (int)line->len, line->text);
		l->stream[l->n++] = line->stream;
	}
}

static size_t find(const struct lines *l, const char *text)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->text[i], text) == 0)
			return i;
	fail_msg("no line \"%s\"", text);
	return 0;
}

static bool gone(pid_t pid)
{
	char path[64], buf[256];
	FILE *f;
	bool zombie;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	zombie = fgets(buf, sizeof(buf), f) && strstr(buf, ") Z ");
	fclose(f);
	return zombie;
}

static void test_output_then_exit(void **state)
{
	struct service *sv;
	struct lines l = { .n = 0 };
	size_t out, err, exited;

	(void)state;
	sv = begin("command = /bin/sh -c 'echo out; echo err >&2; exit 3'\nrestart = never");
	assert_true(sv->pid > 0);
	wait_state(sv, SVC_FAILED);
	svclog_each(sv->log, 0, 0, add, &l);
	out = find(&l, "out");
	err = find(&l, "err");
	exited = find(&l, "porthole-init: exited with status 3");
	assert_int_equal(l.stream[out], SVCLOG_STDOUT);
	assert_int_equal(l.stream[err], SVCLOG_STDERR);
	/* what it wrote comes before the line saying how it ended */
	assert_true(out < exited && err < exited);
	assert_true(strncmp(l.text[0], "porthole-init: started: pid ", 28) == 0);
}

static void test_notify_and_stop(void **state)
{
	struct service *sv;
	pid_t pid;

	(void)state;
	sv = begin("command = /bin/sh -c 'sleep 0.1; echo >&3; exec sleep 60'\nready = notify");
	assert_int_equal(sv->state, SVC_STARTING);
	pid = sv->pid;
	wait_state(sv, SVC_RUNNING);
	/* shutdown: TERM, and it is gone within its stop time-out */
	services_stop_all(&ss, now_mono_ns() + 5 * NSEC_PER_SEC);
	assert_int_equal(sv->state, SVC_STOPPED);
	assert_int_equal(sv->pid, 0);
	assert_true(WIFSIGNALED(sv->exit_status) && WTERMSIG(sv->exit_status) == SIGTERM);
	assert_true(gone(pid));
}

static void test_not_there(void **state)
{
	struct service *sv;

	(void)state;
	sv = begin("command = /nonexistent/program");
	assert_int_equal(sv->state, SVC_FAILED);
	assert_int_equal(sv->pid, 0);
	assert_string_equal(ss.events[0].type, "failed");
	assert_string_equal(ss.events[0].detail, "/nonexistent/program: No such file or directory");
}

/* The pid the service printed on its first line of output. */
static pid_t printed_pid(struct service *sv)
{
	struct lines l = { .n = 0 };

	for (int i = 0; i < 500; i++) {
		supervise_poll_once(&sup, 10);
		l.n = 0;
		svclog_each(sv->log, 0, 0, add, &l);
		for (size_t j = 0; j < l.n; j++)
			if (strncmp(l.text[j], "porthole-init:", 14) != 0)
				return (pid_t)atoi(l.text[j]);
	}
	fail_msg("no output");
	return 0;
}

static void test_what_it_forked(void **state)
{
	struct service *sv;
	pid_t child;

	(void)state;
	/* kill_mode = cgroup (without cgroups: its process group) */
	sv = begin("command = /bin/sh -c 'sleep 60 & echo $!; exec sleep 61'\nrestart = never");
	child = printed_pid(sv);
	assert_true(child > 0 && !gone(child));
	kill(sv->pid, SIGKILL);
	wait_state(sv, SVC_FAILED);
	for (int i = 0; i < 100 && !gone(child); i++)
		usleep(10000);
	assert_true(gone(child));
	unload(NULL);

	/* kill_mode = process: what it forked runs on */
	sv = begin("command = /bin/sh -c 'sleep 60 & echo $!; exec sleep 61'\nrestart = never\n"
		   "kill_mode = process");
	child = printed_pid(sv);
	kill(sv->pid, SIGKILL);
	wait_state(sv, SVC_FAILED);
	usleep(100000);
	assert_false(gone(child));
	kill(child, SIGKILL);
}

static void test_output_null(void **state)
{
	struct service *sv;

	(void)state;
	sv = begin("command = /bin/sh -c 'echo lost; exit 0'\nrestart = never\noutput = null");
	assert_int_equal(sv->out_fd, -1);
	assert_int_equal(sv->err_fd, -1);
	wait_state(sv, SVC_STOPPED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_output_then_exit, unload),
		cmocka_unit_test_teardown(test_notify_and_stop, unload),
		cmocka_unit_test_teardown(test_not_there, unload),
		cmocka_unit_test_teardown(test_what_it_forked, unload),
		cmocka_unit_test_teardown(test_output_null, unload),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, setup, NULL);
}
