/* host/cli-boot.c, porthole boot: the agent's timeline checked before it is
 * shown (a bad time is refused, saying where, never drawn), sorted by start,
 * one table row per entry with its start, how long it took, its ready time
 * and state, a summary line; --json the result as it came; --svg FILE the
 * chart written to FILE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot-chart.h"
#include "cli.h"
#include "host-test.h"
#include "util.h"

/* in init's order: the kernel's mark comes after step 1's */
#define RESULT                                                                                     \
	"{\"boot\": ["                                                                             \
	"{\"name\": \"early\", \"kind\": \"step\", \"start_ns\": 1800000000, \"ready_ns\": null, " \
	"\"end_ns\": 1900000000, \"runs\": 1},"                                                    \
	"{\"name\": \"kernel\", \"kind\": \"kernel\", \"start_ns\": 0, \"ready_ns\": null, "       \
	"\"end_ns\": 1800000000, \"runs\": 1},"                                                    \
	"{\"name\": \"services\", \"kind\": \"step\", \"start_ns\": 1900000000, \"ready_ns\": "    \
	"null, \"end_ns\": 2000000000, \"runs\": 1},"                                              \
	"{\"name\": \"dockerd\", \"kind\": \"service\", \"start_ns\": 2000000000, \"ready_ns\": "  \
	"9500000000, \"end_ns\": null, \"runs\": 3},"                                              \
	"{\"name\": \"web\", \"kind\": \"service\", \"start_ns\": 2100000000, \"ready_ns\": "      \
	"null, \"end_ns\": 2600000000, \"runs\": 1},"                                              \
	"{\"name\": \"later\", \"kind\": \"phase\", \"start_ns\": 2200000000, \"ready_ns\": "      \
	"null, \"end_ns\": null, \"runs\": 1}"                                                     \
	"], \"now_ns\": 60000000000, \"dropped\": 0}"

static const char *cell(const struct cli_table *t, size_t row, size_t col)
{
	assert_true(row * t->ncols + col < t->n);
	return t->cells[row * t->ncols + col];
}

static void test_parse_and_table(void **state)
{
	json_t *result = json_loads(RESULT, 0, NULL);
	struct boot_chart *c = calloc(1, sizeof(*c));
	struct cli_table t = { 0 };
	char why[256], line[512];
	static const char *const rows[][6] = {
		{ "NAME", "KIND", "START", "TOOK", "READY", "STATE" },
		{ "kernel", "kernel", "0.000 s", "1.800 s", "-", "done" },
		{ "early", "step", "1.800 s", "0.100 s", "-", "done" },
		{ "services", "step", "1.900 s", "0.100 s", "-", "done" },
		{ "dockerd", "service", "2.000 s", "7.500 s", "9.500 s", "running, 3 runs" },
		{ "web", "service", "2.100 s", "-", "-", "exited at 2.600 s" },
		{ "later", "other", "2.200 s", "-", "-", "running" },
	};

	(void)state;
	assert_non_null(result);
	assert_non_null(c);
	assert_int_equal(cli_boot_parse(result, c, why, sizeof(why)), 0);
	assert_int_equal(c->n, 6);
	assert_int_equal(c->now_ns, 60 * NSEC_PER_SEC);
	assert_int_equal(c->bars[0].kind, BOOT_CHART_KERNEL);
	assert_int_equal(c->bars[5].kind, BOOT_CHART_OTHER);
	cli_boot_table_fill(&t, c);
	assert_int_equal(t.ncols, 6);
	assert_int_equal(t.n, 7 * 6);
	for (size_t r = 0; r < 7; r++)
		for (size_t col = 0; col < 6; col++)
			assert_string_equal(cell(&t, r, col), rows[r][col]);
	for (size_t i = 0; i < t.n; i++)
		free(t.cells[i]);
	free(t.cells);
	cli_boot_summary(c, line, sizeof(line));
	assert_string_equal(line, "kernel 1.800 s, init's steps done at 2.000 s, last service "
				  "ready at 9.500 s (dockerd)");
	json_decref(result);
	free(c);
}

static void expect_refused(const char *text, const char *needle)
{
	json_t *result = json_loads(text, 0, NULL);
	struct boot_chart *c = calloc(1, sizeof(*c));
	char why[256] = "";

	assert_non_null(result);
	assert_non_null(c);
	assert_int_equal(cli_boot_parse(result, c, why, sizeof(why)), -EPROTO);
	if (!strstr(why, needle))
		fail_msg("%s: expected '%s' in '%s'", text, needle, why);
	json_decref(result);
	free(c);
}

#define ENTRY(start, ready, end)                                                         \
	"{\"boot\": [{\"name\": \"a\", \"kind\": \"service\", \"start_ns\": " start      \
	", \"ready_ns\": " ready ", \"end_ns\": " end ", \"runs\": 1}], \"now_ns\": 5, " \
	"\"dropped\": 0}"

static void test_parse_refuses(void **state)
{
	char big[16384] = "{\"boot\": [";

	(void)state;
	expect_refused("{\"now_ns\": 5}", "\"boot\" must be an array");
	expect_refused("{\"boot\": []}", "\"now_ns\"");
	expect_refused("{\"boot\": [], \"now_ns\": 5, \"dropped\": -1}", "\"dropped\"");
	expect_refused("{\"boot\": [7], \"now_ns\": 5}", "boot[0]: expected an object");
	expect_refused(ENTRY("-1", "null", "null"), "boot[0]: start_ns");
	expect_refused(ENTRY("1.5", "null", "null"), "boot[0]: start_ns");
	expect_refused(ENTRY("10", "9", "null"), "boot[0]: ready or ended before it started");
	expect_refused(ENTRY("10", "null", "3"), "boot[0]: ready or ended before it started");
	expect_refused("{\"boot\": [{\"name\": 1, \"kind\": \"step\", \"start_ns\": 0}], "
		       "\"now_ns\": 5}",
		       "\"name\" and \"kind\" must be strings");
	for (int i = 0; i < BOOT_CHART_BARS_MAX + 1; i++)
		strcat(big, i ? ", {\"name\": \"a\", \"kind\": \"step\", \"start_ns\": 0}"
			      : "{\"name\": \"a\", \"kind\": \"step\", \"start_ns\": 0}");
	strcat(big, "], \"now_ns\": 5}");
	expect_refused(big, "at most 64");
}

/* a name longer than the chart keeps is cut between two characters */
static void test_parse_cuts_names(void **state)
{
	char text[1024], name[200] = "";
	struct boot_chart *c = calloc(1, sizeof(*c));
	json_t *result;
	char why[256];

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(name, "é");
	snprintf(text, sizeof(text),
		 "{\"boot\": [{\"name\": \"%s\", \"kind\": \"step\", \"start_ns\": 0, "
		 "\"ready_ns\": null, \"end_ns\": null}], \"now_ns\": 5}",
		 name);
	result = json_loads(text, 0, NULL);
	assert_non_null(result);
	assert_int_equal(cli_boot_parse(result, c, why, sizeof(why)), 0);
	/* 31 two-byte characters fit in 63 bytes */
	assert_int_equal(strlen(c->bars[0].name), 62);
	assert_int_equal(c->bars[0].runs, 1);
	json_decref(result);
	free(c);
}

static void test_command(void **state)
{
	struct cli_run *run = *state;
	static const char *const svg_args[] = { "boot", "--svg", "/tmp/test-host-cli-boot.svg",
						NULL };
	static const char *const bad_args[] = { "boot", "extra", NULL };
	char *svg = NULL;

	cli_ask(run, cli_boot, false, "porthole-boot", "{\"return\": " RESULT ", \"id\": 1}\n",
		NULL);
	if (run->code != CLI_EXIT_OK)
		fail_msg("porthole boot: %d (%s)", run->code, run->err);
	assert_non_null(strstr(run->out, "NAME "));
	assert_non_null(strstr(run->out, "dockerd   service  2.000 s  7.500 s  9.500 s  "
					 "running, 3 runs\n"));
	assert_non_null(strstr(run->out, "last service ready at 9.500 s (dockerd)\n"));

	cli_ask(run, cli_boot, true, "porthole-boot", "{\"return\": " RESULT ", \"id\": 1}\n",
		NULL);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_true(strncmp(run->out, "{\"boot\":", 8) == 0);

	unlink(svg_args[2]);
	cli_ask(run, cli_boot, false, "porthole-boot", "{\"return\": " RESULT ", \"id\": 1}\n",
		svg_args);
	assert_int_equal(run->code, CLI_EXIT_OK);
	assert_int_equal(read_file(svg_args[2], 1 << 20, &svg, NULL), 0);
	assert_true(strncmp(svg, "<?xml", 5) == 0);
	assert_non_null(strstr(svg, ">dockerd 7.500 s, 3 runs</text>"));
	free(svg);
	unlink(svg_args[2]);

	/* a result that breaks the protocol: as a peer that does not speak it */
	cli_ask(run, cli_boot, false, "porthole-boot",
		"{\"return\": " ENTRY("10", "9", "null") ", \"id\": 1}\n", NULL);
	assert_int_equal(run->code, CLI_EXIT_CONNECT);
	assert_non_null(strstr(run->err, "boot[0]: ready or ended before it started"));
	assert_string_equal(run->out, "");

	cli_run(run, cli_boot, false, NULL, 0, bad_args);
	assert_int_equal(run->code, CLI_EXIT_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_table),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_parse_cuts_names),
		cmocka_unit_test_setup_teardown(test_command, cli_run_setup, cli_run_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
