/* host/cli-time.c: porthole time, time sync and time watch against a
 * scripted agent whose clock reads one second after the epoch: how many
 * round trips are made, which correction is asked for (porthole-time-adjust,
 * or guest-set-time where only that is offered), and what is printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host-test.h"

#define STEPS_MAX 32

/* A script built step by step; the replies carry the ids the client's
 * requests will have (1, 2, ... in order). */
struct script {
	struct step steps[STEPS_MAX];
	char replies[STEPS_MAX][512];
	size_t n;
	int id;
};

static void script_start(struct script *s)
{
	memset(s, 0, sizeof(*s));
	s->steps[s->n++] = (struct step)STEP_SYNC;
}

static void script_add(struct script *s, const char *name, const char *result)
{
	assert_true(s->n < STEPS_MAX);
	snprintf(s->replies[s->n], sizeof(s->replies[s->n]), "{\"return\": %s, \"id\": %d}\n",
		 result, ++s->id);
	s->steps[s->n] = (struct step){ name, s->replies[s->n], 0 };
	s->n++;
}

/* N guest-get-time round trips: the guest's clock says 1 s after the epoch */
static void script_times(struct script *s, int n)
{
	for (int i = 0; i < n; i++)
		script_add(s, "\"execute\":\"guest-get-time\"", "1000000000");
}

static void script_info(struct script *s, bool adjust)
{
	script_add(s, "\"execute\":\"guest-info\"",
		   adjust ? "{\"version\": \"1\", \"supported_commands\": [{\"name\": "
			    "\"porthole-time-adjust\", \"enabled\": true}]}"
			  : "{\"version\": \"7.2.19\", \"supported_commands\": [{\"name\": "
			    "\"guest-set-time\", \"enabled\": true}]}");
}

static size_t count(const struct peer *p, const char *text)
{
	size_t n = 0;

	for (const char *q = p->got;
	     (q = memmem(q, p->got_len - (size_t)(q - p->got), text, strlen(text)));
	     q += strlen(text))
		n++;
	return n;
}

static void test_time(void **state)
{
	static const char *const argv[] = { "time", NULL };
	struct script s;
	struct cli_run *run = *state;

	script_start(&s);
	script_times(&s, 8);
	cli_run(run, cli_time, false, s.steps, s.n, argv);
	assert_int_equal(run->code, CLI_EXIT_OK);
	/* eight round trips, the best of which is believed */
	assert_int_equal(count(&run->peer, "\"execute\":\"guest-get-time\""), 8);
	assert_non_null(strstr(run->out, "guest:  1970-01-01 00:00:01."));
	assert_non_null(strstr(run->out, "s (guest behind host, +/- "));

	cli_run(run, cli_time, true, s.steps, s.n, argv);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_memory_equal(run->out, "{\"offset_ns\": -", 15);
}

static void test_sync_adjusts(void **state)
{
	static const char *const argv[] = { "time",   "sync", "--samples", "2",
					    "--mode", "slew", "--rtc",	   NULL };
	struct script s;
	struct cli_run *run = *state;

	script_start(&s);
	script_times(&s, 2);
	script_info(&s, true);
	script_add(&s, "\"execute\":\"porthole-time-adjust\"", "{\"applied\": \"slew\"}");
	script_times(&s, 2);
	cli_run(run, cli_time, false, s.steps, s.n, argv);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_int_equal(count(&run->peer, "\"execute\":\"guest-get-time\""), 4);
	/* relative, so that no time is lost between measuring and setting:
	 * the guest is behind, the offset asked for is positive */
	assert_true(peer_got(&run->peer, "\"execute\":\"porthole-time-adjust\",\"id\":4,"
					 "\"arguments\":{\"offset_ns\":1"));
	assert_true(peer_got(&run->peer, "\"mode\":\"slew\",\"rtc\":true}}"));
	assert_false(peer_got(&run->peer, "guest-set-time"));
	assert_non_null(strstr(run->out, "before:  -"));
	assert_non_null(strstr(run->out, "applied: slew of +"));
	assert_non_null(strstr(run->out, "(a slew is worked off"));
}

static void test_sync_sets_where_only_that_is_offered(void **state)
{
	static const char *const plain[] = { "time", "sync", "--samples", "1", NULL };
	static const char *const set[] = { "time", "sync", "--samples", "1", "--set", NULL };
	struct script s;
	struct cli_run *run = *state;

	/* a plain qemu-ga: guest-set-time with the host's time */
	script_start(&s);
	script_times(&s, 1);
	script_info(&s, false);
	script_add(&s, "\"execute\":\"guest-set-time\"", "{}");
	script_times(&s, 1);
	cli_run(run, cli_time, true, s.steps, s.n, plain);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_true(peer_got(&run->peer, "\"execute\":\"guest-set-time\",\"id\":3,"
					 "\"arguments\":{\"time\":1"));
	assert_non_null(strstr(run->out, "\"applied\": \"set (guest-set-time)\""));

	/* --set: the same, without asking what the agent has */
	script_start(&s);
	script_times(&s, 1);
	script_add(&s, "\"execute\":\"guest-set-time\"", "{}");
	script_times(&s, 1);
	cli_run(run, cli_time, false, s.steps, s.n, set);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_false(peer_got(&run->peer, "guest-info"));
	assert_true(peer_got(&run->peer, "\"execute\":\"guest-set-time\",\"id\":2,"));
}

static void test_watch_once(void **state)
{
	static const char *const argv[] = { "time", "watch",	  "--count", "1", "--samples",
					    "1",    "--interval", "0.5",     NULL };
	struct script s;
	struct cli_run *run = *state;

	script_start(&s);
	script_add(&s, "\"execute\":\"porthole-events\"", "{\"next\": 5, \"events\": []}");
	script_times(&s, 1);
	script_info(&s, true);
	script_add(&s, "\"execute\":\"porthole-time-adjust\"", "{\"applied\": \"step\"}");
	script_times(&s, 1);
	cli_run(run, cli_time, false, s.steps, s.n, argv);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_true(peer_got(&run->peer, "\"mode\":\"auto\",\"rtc\":false}}"));
	assert_memory_equal(run->out, "sync: -", 7);
}

static void test_refused_command_lines(void **state)
{
	static const char *const bad[][4] = {
		{ "time", "later", NULL, NULL },       { "time", "sync", "--samples", "0" },
		{ "time", "sync", "--samples", "65" }, { "time", "sync", "--mode", "fast" },
		{ "time", "sync", "--count", "1" },    { "time", "watch", "--interval", "0.05" },
		{ "time", "watch", "--count", "0" },   { "time", "sync", "extra", NULL },
	};
	struct script s;
	struct cli_run *run = *state;

	script_start(&s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[5] = { bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL };

		cli_run(run, cli_time, false, s.steps, s.n, argv);
		if (run->code != CLI_EXIT_USAGE)
			fail_msg("command line %zu: exit %d", i, run->code);
		assert_int_equal(run->peer.got_len, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_sync_adjusts),
		cmocka_unit_test(test_sync_sets_where_only_that_is_offered),
		cmocka_unit_test(test_watch_once),
		cmocka_unit_test(test_refused_command_lines),
	};

	return cmocka_run_group_tests(tests, cli_run_setup, cli_run_teardown);
}
