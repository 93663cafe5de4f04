/* init/service.c, the state machine, driven directly through its seam: a
 * struct service_ops whose spawn hands out pids without forking, whose kill
 * and kill_cgroup are recorded, and whose clock the test moves. Each case is
 * a promise docs/services.md makes: the start, readiness (probe, notify,
 * time-out), a crash and the restart policy, the backoff's delays (doubling,
 * capped, starting over after a stable run), the crash loop (failed until
 * restarted), a stop time-out (the stop signal, then the cgroup killed),
 * dependency order (requires, after, wait = ready | started, one-shots) and
 * the shutdown order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "service-conf.h"
#include "service.h"
#include "service-test.h"
#include "svclog.h"
#include "util.h"

#define MS NSEC_PER_MSEC
#define EXITED(n) ((n) << 8) /* a wait status: exit(n) */
#define KILLED(sig) (sig) /* a wait status: killed by SIG */

static struct services ss;

/* ---- helpers ---- */

/* Services from "NAME:[service] keys..." texts, the [service] header
 * implied: "a:command = /bin/a\nready = notify". */
static int unload(void **state_)
{
	(void)state_;
	for (size_t i = 0; i < ss.n; i++) {
		service_spec_free(&ss.svc[i].spec);
		svclog_free(ss.svc[i].log);
	}
	ss.n = 0;
	return 0;
}

static void load(const char *const *defs, size_t n)
{
	struct service_spec specs[SERVICES_MAX];
	char err[SERVICE_ERROR_MAX];

	unload(NULL);
	assert_true(n <= SERVICES_MAX);
	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(defs[i], ':');
		char name[SERVICE_NAME_MAX], text[1024];

		assert_non_null(colon);
		snprintf(name, sizeof(name), "%.*s", (int)(colon - defs[i]), defs[i]);
		snprintf(text, sizeof(text), "[service]\n%s\n", colon + 1);
		if (service_conf_parse(text, "t.conf", name, &specs[i], err, sizeof(err)) < 0)
			fail_msg("%s", err);
	}
	fake_reset();
	services_init(&ss, NULL, &fake_ops, specs, n, NULL);
}

#define LOAD(...)                                                   \
	do {                                                        \
		static const char *const defs_[] = { __VA_ARGS__ }; \
		load(defs_, ARRAY_SIZE(defs_));                     \
	} while (0)

static struct service *svc(const char *name)
{
	struct service *sv = services_find(&ss, name);

	assert_non_null(sv);
	return sv;
}

static enum service_state state(const char *name)
{
	return svc(name)->state;
}

/* Moves the clock on by MS_ and lets the machine act. */
static int advance(uint64_t ms)
{
	now_ns += ms * MS;
	return services_tick(&ss);
}

static void exits(const char *name, int status)
{
	assert_true(svc(name)->pid > 0);
	assert_true(services_exited(&ss, svc(name)->pid, status));
}

static size_t count(char what, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < n_calls; i++)
		if (calls[i].what == what && (!name || strcmp(calls[i].name, name) == 0))
			n++;
	return n;
}

/* The names spawned, in order, as "a b c". */
static const char *spawn_order(void)
{
	static char buf[256];

	buf[0] = '\0';
	for (size_t i = 0; i < n_calls; i++)
		if (calls[i].what == 's')
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
				 buf[0] ? " " : "", calls[i].name);
	return buf;
}

/* The ms until SV's deadline (a restart's delay, a stop's time-out). */
static uint64_t deadline_in(const char *name)
{
	assert_true(svc(name)->deadline_ns >= now_ns);
	return (svc(name)->deadline_ns - now_ns) / MS;
}

static const struct service_event *last_event(const char *name, const char *type)
{
	for (uint64_t seq = ss.next_seq; seq > 0 && seq + SERVICE_EVENTS_MAX > ss.next_seq; seq--) {
		const struct service_event *e = &ss.events[(seq - 1) % SERVICE_EVENTS_MAX];

		if (strcmp(e->service, name) == 0 && strcmp(e->type, type) == 0)
			return e;
	}
	return NULL;
}

/* ---- start and readiness ---- */

static void test_start_ready_none(void **state_)
{
	(void)state_;
	LOAD("a:command = /bin/a");
	assert_int_equal(state("a"), SVC_WAITING);
	services_begin(&ss);
	/* no ready key: running once started, and said */
	assert_string_equal(spawn_order(), "a");
	assert_int_equal(state("a"), SVC_RUNNING);
	assert_int_equal(svc("a")->pid, 1000);
	assert_true(svc("a")->ever_ready);
	assert_non_null(last_event("a", "ready"));
	/* nothing more to do: no deadline, one start */
	assert_int_equal(advance(60000), -1);
	assert_int_equal(count('s', "a"), 1);
}

static void test_ready_by_file_probe(void **state_)
{
	char path[] = "/tmp/test-service.XXXXXX", def[128];
	const char *defs[1] = { def };
	int fd = mkstemp(path);

	(void)state_;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(def, sizeof(def), "a:command = /bin/a\nready = file:%s", path);
	load(defs, 1);
	services_begin(&ss);
	assert_int_equal(state("a"), SVC_STARTING);
	/* the first probe 5 ms after the start, then doubling intervals (the
	 * tick's time-out is 1 ms more, so that the loop never wakes early) */
	assert_int_equal(services_tick(&ss), 5 + 1);
	assert_int_equal(advance(5), 5 + 1);
	assert_int_equal(advance(5), 10 + 1);
	assert_int_equal(advance(10), 20 + 1);
	assert_int_equal(state("a"), SVC_STARTING);
	/* the file appears: ready at the next probe, and no sooner */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	advance(19);
	assert_int_equal(state("a"), SVC_STARTING);
	advance(1);
	assert_int_equal(state("a"), SVC_RUNNING);
	assert_string_equal(last_event("a", "ready")->detail, "after 40 ms");
	unlink(path);
}

static void test_ready_by_notify(void **state_)
{
	(void)state_;
	LOAD("a:command = /bin/a\nready = notify");
	services_begin(&ss);
	assert_int_equal(state("a"), SVC_STARTING);
	/* no probe to run: the deadline is the ready time-out (90 s) */
	assert_int_equal(advance(1000), 89000 + 1);
	assert_int_equal(state("a"), SVC_STARTING);
	service_ready(&ss, svc("a"));
	assert_int_equal(state("a"), SVC_RUNNING);
	assert_int_equal(svc("a")->deadline_ns, 0);
}

static void test_ready_timeout(void **state_)
{
	(void)state_;
	LOAD("a:command = /bin/a\nready = notify\nready_timeout = 2\nstop_timeout = 3");
	services_begin(&ss);
	advance(1999);
	assert_int_equal(count('k', NULL), 0);
	/* not ready in time: stopped with its stop signal, a failure */
	advance(1);
	assert_int_equal(state("a"), SVC_STOPPING);
	assert_int_equal(count('k', NULL), 2);
	assert_int_equal(calls[n_calls - 2].sig, SIGTERM);
	assert_int_equal(calls[n_calls - 2].pid, 1000);
	assert_int_equal(calls[n_calls - 1].sig, SIGCONT);
	assert_int_equal(deadline_in("a"), 3000);
	/* it exits on TERM, with status 0: on-failure restarts it all the same,
	 * since it was not ready in time */
	exits("a", EXITED(0));
	assert_int_equal(state("a"), SVC_BACKOFF);
	advance(500);
	assert_int_equal(state("a"), SVC_STARTING);
	assert_int_equal(count('s', "a"), 2);
}

/* ---- crashes, the restart policy, the backoff ---- */

static void test_crash_restarts_with_backoff(void **state_)
{
	static const unsigned want[] = { 500, 1000, 2000, 4000, 4000, 4000 };

	(void)state_;
	LOAD("a:command = /bin/a\nrestart_delay_max = 4\ncrash_limit = 0");
	services_begin(&ss);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		pid_t old = svc("a")->pid;

		advance(100);
		exits("a", EXITED(1));
		assert_int_equal(state("a"), SVC_BACKOFF);
		assert_int_equal(svc("a")->pid, 0);
		/* the delay doubles, up to restart_delay_max */
		assert_int_equal(deadline_in("a"), want[i]);
		assert_int_equal(advance(want[i] - 1), 1 + 1);
		assert_int_equal(state("a"), SVC_BACKOFF);
		advance(1);
		assert_int_equal(state("a"), SVC_RUNNING);
		assert_true(svc("a")->pid != old);
		assert_int_equal(svc("a")->restarts, i + 1);
	}
	/* a run of 10 s starts the doubling over */
	advance(10000);
	exits("a", EXITED(1));
	assert_int_equal(deadline_in("a"), 500);
	/* what the user sees of the last exit */
	assert_true(svc("a")->has_exit);
	assert_int_equal(WEXITSTATUS(svc("a")->exit_status), 1);
	assert_string_equal(last_event("a", "exited")->detail, "exited with status 1");
	assert_string_equal(last_event("a", "restarted")->detail, "restart 6");
}

static void test_restart_policy(void **state_)
{
	(void)state_;
	LOAD("a:command = /bin/a", "b:command = /bin/b\nrestart = always",
	     "c:command = /bin/c\nrestart = never", "d:command = /bin/d");
	services_begin(&ss);
	/* on-failure: status 0 is done, not restarted */
	exits("a", EXITED(0));
	assert_int_equal(state("a"), SVC_STOPPED);
	/* always: restarted after status 0 too */
	exits("b", EXITED(0));
	assert_int_equal(state("b"), SVC_BACKOFF);
	/* never: a failure stays failed */
	exits("c", EXITED(2));
	assert_int_equal(state("c"), SVC_FAILED);
	/* a signal is a failure */
	exits("d", KILLED(SIGSEGV));
	assert_int_equal(state("d"), SVC_BACKOFF);
	assert_string_equal(last_event("d", "exited")->detail,
			    "killed by signal 11 (Segmentation fault)");
	advance(60000);
	assert_int_equal(count('s', "a"), 1);
	assert_int_equal(count('s', "b"), 2);
	assert_int_equal(count('s', "c"), 1);
	assert_int_equal(count('s', "d"), 2);
	/* a pid that is no service's is not the machine's */
	assert_false(services_exited(&ss, 4242, EXITED(0)));
}

static void test_crash_loop(void **state_)
{
	(void)state_;
	LOAD("a:command = /bin/a\nrestart_delay = 0.1\ncrash_limit = 3\ncrash_window = 60");
	services_begin(&ss);
	for (int i = 0; i < 3; i++) {
		exits("a", EXITED(1));
		assert_int_equal(state("a"), SVC_BACKOFF);
		advance(deadline_in("a"));
		assert_int_equal(state("a"), SVC_RUNNING);
	}
	/* the fourth exit within the window: failed, and not restarted */
	exits("a", EXITED(1));
	assert_int_equal(state("a"), SVC_FAILED);
	assert_string_equal(last_event("a", "failed")->detail,
			    "restarted 3 times in 60 s: a crash loop, not restarted again "
			    "(porthole restart a)");
	assert_int_equal(advance(3600 * 1000), -1);
	assert_int_equal(state("a"), SVC_FAILED);
	assert_int_equal(count('s', "a"), 4);
	/* until a restart is asked for: it starts at once, the count anew */
	assert_int_equal(services_restart(&ss, "a"), 0);
	assert_int_equal(state("a"), SVC_RUNNING);
	assert_int_equal(count('s', "a"), 5);
	exits("a", EXITED(1));
	assert_int_equal(state("a"), SVC_BACKOFF);
	assert_int_equal(deadline_in("a"), 100);
}

static void test_crash_window_passes(void **state_)
{
	(void)state_;
	/* three restarts a minute apart are never three in 60 s */
	LOAD("a:command = /bin/a\ncrash_limit = 2\ncrash_window = 60");
	services_begin(&ss);
	for (int i = 0; i < 5; i++) {
		advance(61000);
		exits("a", EXITED(1));
		assert_int_equal(state("a"), SVC_BACKOFF);
		advance(deadline_in("a"));
	}
	assert_int_equal(state("a"), SVC_RUNNING);
}

static void test_spawn_fails(void **state_)
{
	(void)state_;
	LOAD("a:command = /bin/a", "b:command = /bin/b\nrequires = a");
	spawn_error = -ENOENT;
	services_begin(&ss);
	/* failed, saying why; what requires it waits */
	assert_int_equal(state("a"), SVC_FAILED);
	assert_string_equal(last_event("a", "failed")->detail, "/bin/a: No such file or directory");
	assert_int_equal(state("b"), SVC_WAITING);
	spawn_error = 0;
	assert_int_equal(services_restart(&ss, "a"), 0);
	assert_int_equal(state("a"), SVC_RUNNING);
	assert_int_equal(state("b"), SVC_RUNNING);
}

/* ---- stopping ---- */

static void test_stop_timeout(void **state_)
{
	(void)state_;
	LOAD("a:command = /bin/a\nstop_signal = INT\nstop_timeout = 0.5");
	services_begin(&ss);
	n_calls = 0;
	assert_int_equal(services_restart(&ss, "a"), 0);
	/* its stop signal, and CONT for a stopped process */
	assert_int_equal(state("a"), SVC_STOPPING);
	assert_int_equal(n_calls, 2);
	assert_true(calls[0].what == 'k' && calls[0].pid == 1000 && calls[0].sig == SIGINT);
	assert_true(calls[1].what == 'k' && calls[1].sig == SIGCONT);
	/* still there after stop_timeout: its whole cgroup is killed */
	assert_int_equal(advance(499), 1 + 1);
	assert_int_equal(count('c', "a"), 0);
	advance(1);
	assert_int_equal(count('c', "a"), 1);
	assert_true(calls[n_calls - 1].whole);
	assert_int_equal(state("a"), SVC_STOPPING);
	/* the exit that follows: waiting, and at the loop's next tick started
	 * again, as asked */
	exits("a", KILLED(SIGKILL));
	assert_int_equal(state("a"), SVC_WAITING);
	services_tick(&ss);
	assert_int_equal(state("a"), SVC_RUNNING);
	assert_int_equal(count('s', "a"), 1); /* since the request */
	assert_int_equal(svc("a")->pid, 1001);
	assert_string_equal(last_event("a", "restarted")->detail, "on request");
	/* a restart does not count as a crash */
	assert_int_equal(svc("a")->restarts, 0);
}

static void test_exit_kills_what_is_left(void **state_)
{
	(void)state_;
	LOAD("a:command = /bin/a", "k:command = /bin/k\nkill_mode = process");
	services_begin(&ss);
	/* what a service leaves in its cgroup goes with it, its leaf only (and
	 * without cgroups its process group, named by the pid that exited)... */
	exits("a", EXITED(1));
	assert_int_equal(count('c', "a"), 1);
	assert_false(calls[n_calls - 1].whole);
	assert_int_equal(calls[n_calls - 1].pid, 1000);
	/* ...unless kill_mode = process (containerd's shims) */
	exits("k", EXITED(1));
	assert_int_equal(count('c', "k"), 0);
}

static void test_restart_requests(void **state_)
{
	(void)state_;
	LOAD("a:command = /bin/a", "off:command = /bin/off\nenabled = no");
	services_begin(&ss);
	assert_int_equal(services_restart(&ss, "nope"), -ENOENT);
	assert_int_equal(services_restart(&ss, "off"), -EPERM);
	assert_int_equal(state("off"), SVC_DISABLED);
	assert_int_equal(count('s', "off"), 0);
	/* while in backoff: at once, not after the delay */
	exits("a", EXITED(1));
	assert_int_equal(state("a"), SVC_BACKOFF);
	assert_int_equal(services_restart(&ss, "a"), 0);
	assert_int_equal(state("a"), SVC_RUNNING);
	/* disabled by init.conf (agent = no): never started */
	LOAD("a:command = /bin/a");
	services_disable(&ss, "a");
	services_begin(&ss);
	assert_int_equal(state("a"), SVC_DISABLED);
	assert_int_equal(count('s', NULL), 0);
}

/* ---- dependency order ---- */

static void test_requires_waits_for_ready(void **state_)
{
	(void)state_;
	LOAD("b:command = /bin/b\nrequires = a", "a:command = /bin/a\nready = notify",
	     "c:command = /bin/c\nafter = a", "d:command = /bin/d\nafter = nope",
	     "e:command = /bin/e\nrequires = a\nwait = started");
	services_begin(&ss);
	/* a starts; d (after one that does not exist) and e (wait = started)
	 * with it; b and c wait for a to be ready */
	assert_string_equal(spawn_order(), "a d e");
	assert_int_equal(state("b"), SVC_WAITING);
	assert_int_equal(state("c"), SVC_WAITING);
	advance(1000);
	assert_int_equal(state("b"), SVC_WAITING);
	service_ready(&ss, svc("a"));
	services_tick(&ss);
	assert_string_equal(spawn_order(), "a d e b c");
	/* a restarts later: what runs after it is left running */
	exits("a", EXITED(1));
	advance(1000);
	assert_int_equal(state("b"), SVC_RUNNING);
	assert_int_equal(count('s', "b"), 1);
}

static void test_failed_dependencies(void **state_)
{
	(void)state_;
	LOAD("a:command = /bin/a\nrestart = never\nready = notify",
	     "b:command = /bin/b\nrequires = a", "c:command = /bin/c\nafter = a");
	services_begin(&ss);
	exits("a", EXITED(1));
	assert_int_equal(state("a"), SVC_FAILED);
	services_tick(&ss);
	/* after one that failed: it starts; requires one that failed: it waits */
	assert_int_equal(state("c"), SVC_RUNNING);
	assert_int_equal(state("b"), SVC_WAITING);
	advance(3600 * 1000);
	assert_int_equal(state("b"), SVC_WAITING);
}

static void test_one_shot(void **state_)
{
	(void)state_;
	LOAD("setup:command = /bin/setup\nrestart = never\nready = notify",
	     "app:command = /bin/app\nrequires = setup");
	services_begin(&ss);
	assert_int_equal(state("app"), SVC_WAITING);
	/* a one-shot that exits 0 has done its work: what requires it starts */
	exits("setup", EXITED(0));
	assert_int_equal(state("setup"), SVC_STOPPED);
	services_tick(&ss);
	assert_int_equal(state("app"), SVC_RUNNING);
}

static void test_shutdown_order(void **state_)
{
	(void)state_;
	LOAD("a:command = /bin/a", "b:command = /bin/b\nrequires = a",
	     "c:command = /bin/c\nafter = b", "x:command = /bin/x");
	services_begin(&ss);
	exits("x", EXITED(1)); /* in backoff at shutdown: not started again */
	n_calls = 0;
	/* dependents first: c, then b, then a */
	assert_true(services_stop_pass(&ss));
	assert_int_equal(state("x"), SVC_STOPPED);
	assert_int_equal(state("c"), SVC_STOPPING);
	assert_int_equal(state("b"), SVC_RUNNING);
	assert_int_equal(state("a"), SVC_RUNNING);
	assert_int_equal(calls[0].pid, svc("c")->pid);
	assert_int_equal(calls[0].sig, SIGTERM);
	exits("c", KILLED(SIGTERM));
	/* stopped, not restarted; its whole cgroup killed */
	assert_int_equal(state("c"), SVC_STOPPED);
	assert_true(calls[n_calls - 1].what == 'c' && calls[n_calls - 1].whole);
	assert_true(services_stop_pass(&ss));
	assert_int_equal(state("b"), SVC_STOPPING);
	assert_int_equal(state("a"), SVC_RUNNING);
	exits("b", EXITED(0));
	assert_true(services_stop_pass(&ss));
	assert_int_equal(state("a"), SVC_STOPPING);
	exits("a", EXITED(0));
	assert_false(services_stop_pass(&ss));
	/* nothing starts again while shutting down */
	advance(60000);
	assert_int_equal(count('s', NULL), 0);
	assert_int_equal(state("x"), SVC_STOPPED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_start_ready_none, unload),
		cmocka_unit_test_teardown(test_ready_by_file_probe, unload),
		cmocka_unit_test_teardown(test_ready_by_notify, unload),
		cmocka_unit_test_teardown(test_ready_timeout, unload),
		cmocka_unit_test_teardown(test_crash_restarts_with_backoff, unload),
		cmocka_unit_test_teardown(test_restart_policy, unload),
		cmocka_unit_test_teardown(test_crash_loop, unload),
		cmocka_unit_test_teardown(test_crash_window_passes, unload),
		cmocka_unit_test_teardown(test_spawn_fails, unload),
		cmocka_unit_test_teardown(test_stop_timeout, unload),
		cmocka_unit_test_teardown(test_exit_kills_what_is_left, unload),
		cmocka_unit_test_teardown(test_restart_requests, unload),
		cmocka_unit_test_teardown(test_requires_waits_for_ready, unload),
		cmocka_unit_test_teardown(test_failed_dependencies, unload),
		cmocka_unit_test_teardown(test_one_shot, unload),
		cmocka_unit_test_teardown(test_shutdown_order, unload),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
