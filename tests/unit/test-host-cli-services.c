/* host/cli-services.c: the services table, the log lines and --since, as
 * porthole services and porthole logs print and parse them, and the
 * requests logs and restart make of their command lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host-test.h"

static const char services[] =
	"[{\"name\": \"dockerd\", \"state\": \"running\", \"pid\": 812, \"since\": 1000, "
	"\"restarts\": 1, \"ready\": true, \"memory_bytes\": 73400320, \"cpu_usec\": 2100000, "
	"\"oom_kills\": 0},"
	" {\"name\": \"web\", \"state\": \"backoff\", \"pid\": null, \"since\": 3990.5, "
	"\"restarts\": 4, \"ready\": false, \"memory_bytes\": null, \"cpu_usec\": null, "
	"\"oom_kills\": null}]";

static const char *cell(const struct cli_table *t, size_t row, size_t col)
{
	assert_true(row * t->ncols + col < t->n);
	return t->cells[row * t->ncols + col];
}

static void free_table(struct cli_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
}

static void test_services_table(void **state)
{
	json_t *list = json_loads(services, 0, NULL);
	struct cli_table t = { 0 };
	static const char *const header[] = { "NAME",	  "STATE", "PID",    "SINCE",
					      "RESTARTS", "READY", "MEMORY", "CPU" };
	static const char *const row1[] = { "dockerd", "running", "812",      "50m 0s",
					    "1",       "yes",	  "70.0 MiB", "2.10 s" };
	static const char *const row2[] = { "web", "backoff", "-", "9s", "4", "no", "-", "-" };

	(void)state;
	assert_non_null(list);
	cli_services_table_fill(&t, list, 4000);
	/* no OOM kill anywhere: no OOM column */
	assert_int_equal(t.ncols, 8);
	assert_int_equal(t.n, 3 * 8);
	for (size_t c = 0; c < 8; c++) {
		assert_string_equal(cell(&t, 0, c), header[c]);
		assert_string_equal(cell(&t, 1, c), row1[c]);
		assert_string_equal(cell(&t, 2, c), row2[c]);
	}
	free_table(&t);

	/* an OOM kill: the column, with "-" where the controller is missing */
	json_object_set_new(json_array_get(list, 0), "oom_kills", json_integer(2));
	t = (struct cli_table){ 0 };
	cli_services_table_fill(&t, list, 4000);
	assert_int_equal(t.ncols, 9);
	assert_string_equal(cell(&t, 0, 8), "OOM");
	assert_string_equal(cell(&t, 1, 8), "2");
	assert_string_equal(cell(&t, 2, 8), "-");
	free_table(&t);
	json_decref(list);
}

static void test_log_line(void **state)
{
	json_t *line = json_pack("{s:f,s:s,s:s}", "time", 1795766401.25, "stream", "stderr", "text",
				 "listening on /run/docker.sock");
	char buf[256];

	(void)state;
	cli_log_line_format(line, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26 22:00:01.250 stderr listening on /run/docker.sock");
	json_decref(line);
	/* whatever is missing shows as "-", nothing is skipped */
	line = json_pack("{s:s}", "text", "x");
	cli_log_line_format(line, buf, sizeof(buf));
	assert_string_equal(buf, "- - x");
	json_decref(line);
	assert_string_equal(cli_local_time_str(0.9999, buf, sizeof(buf)),
			    "1969-12-31 14:00:00.999");
	assert_string_equal(cli_local_time_str(-0.5, buf, sizeof(buf)), "1969-12-31 13:59:59.500");
}

static void test_parse_since(void **state)
{
	double t = -1;

	(void)state;
	assert_int_equal(cli_parse_since("1795766400.5", 2e9, &t), 0);
	assert_true(t == 1795766400.5);
	assert_int_equal(cli_parse_since("90s", 10000, &t), 0);
	assert_true(t == 9910);
	assert_int_equal(cli_parse_since("10m", 10000, &t), 0);
	assert_true(t == 9400);
	assert_int_equal(cli_parse_since("2h", 10000, &t), 0);
	assert_true(t == 2800);
	assert_int_equal(cli_parse_since("1d", 10000, &t), 0);
	assert_true(t == 0);
	for (const char *const *bad = (const char *const[]){ "", "x", "-5", "10x", "10mm", "1e999",
							     "nan", "5 m", NULL };
	     *bad; bad++)
		if (cli_parse_since(*bad, 10000, &t) != -EINVAL)
			fail_msg("'%s' accepted", *bad);
}

static void test_logs_and_restart(void **state)
{
	static const char *const logs[] = { "logs", "web", "-n", "2", NULL };
	static const char *const restart[] = { "restart", "web", NULL };
	static const char *const bad[][4] = {
		{ "logs", NULL },
		{ "logs", "web", "-n", "0" },
		{ "logs", "web", "--since", "soon" },
		{ "restart", NULL },
	};
	const struct step logs_steps[] = {
		STEP_SYNC,
		{ "\"execute\":\"porthole-logs\"",
		  "{\"return\": {\"lines\": [{\"time\": 1795766401.25, \"stream\": \"stdout\", "
		  "\"text\": \"up\"}, {\"time\": 1795766402, \"stream\": \"stderr\", \"text\": "
		  "\"oops\"}], \"dropped\": 3}, \"id\": 1}\n",
		  0 },
	};
	const struct step restart_steps[] = {
		STEP_SYNC,
		{ "porthole-service-restart", "{\"return\": {}, \"id\": 1}\n", 0 },
	};
	struct cli_run *r = calloc(1, sizeof(*r));

	(void)state;
	cli_run(r, cli_logs, false, logs_steps, 2, logs);
	assert_int_equal(r->code, CLI_EXIT_OK);
	assert_true(peer_got(&r->peer, "\"arguments\":{\"service\":\"web\",\"lines\":2}"));
	assert_string_equal(r->out, "2026-11-26 22:00:01.250 stdout up\n"
				    "2026-11-26 22:00:02.000 stderr oops\n");
	/* lines lost to the guest's bounded buffer are said, not hidden */
	assert_non_null(strstr(r->err, "3 older lines of web were lost"));

	cli_run(r, cli_restart, false, restart_steps, 2, restart);
	assert_int_equal(r->code, CLI_EXIT_OK);
	assert_true(peer_got(&r->peer, "{\"execute\":\"porthole-service-restart\",\"id\":1,"
				       "\"arguments\":{\"name\":\"web\"}}"));
	assert_string_equal(r->out, "restarting web (porthole services shows its new pid)\n");

	/* a wrong command line asks nothing */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[5] = { bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL };

		cli_run(r, strcmp(argv[0], "logs") == 0 ? cli_logs : cli_restart, false, logs_steps,
			2, argv);
		assert_int_equal(r->code, CLI_EXIT_USAGE);
		assert_false(peer_got(&r->peer, "porthole-"));
	}
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_services_table),
		cmocka_unit_test(test_log_line),
		cmocka_unit_test(test_parse_since),
		cmocka_unit_test(test_logs_and_restart),
	};

	/* local time is what porthole prints: this test's is fixed */
	setenv("TZ", "HST10", 1); /* POSIX form: no tzdata needed */
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
