/* host/cli.c: the values people read (sizes, durations, times, scalars,
 * tables, trees), errors and their exit codes, finding the agent, and a
 * query printed for people or for scripts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "host-test.h"

static void test_sizes_and_durations(void **state)
{
	static const struct {
		double b;
		const char *s;
	} sizes[] = {
		{ 0, "0 B" },
		{ 1023, "1023 B" },
		{ 1024, "1.0 KiB" },
		{ 1536, "1.5 KiB" },
		{ 73400320, "70.0 MiB" },
		{ 1099511627776.0, "1.0 TiB" },
		/* past the last unit: still PiB */
		{ 1024.0 * 1125899906842624.0, "1024.0 PiB" },
	};
	static const struct {
		uint64_t s;
		const char *text;
	} durations[] = {
		{ 0, "0s" },	      { 59, "59s" },	    { 61, "1m 1s" },
		{ 3600, "1h 0m 0s" }, { 3661, "1h 1m 1s" }, { 90061, "1d 1h 1m" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		assert_string_equal(cli_bytes_str(sizes[i].b, buf, sizeof(buf)), sizes[i].s);
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++)
		assert_string_equal(cli_duration_str(durations[i].s, buf, sizeof(buf)),
				    durations[i].text);
}

static void test_times(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(cli_time_str(1795784978129112000LL, true, buf, sizeof(buf)),
			    "2026-11-27 13:09:38.129112000 UTC");
	assert_string_equal(cli_time_str(1795784978129112000LL, false, buf, sizeof(buf)),
			    "2026-11-27 13:09:38 UTC");
	/* before the epoch: the fraction counts forward from the second before */
	assert_string_equal(cli_time_str(-1, true, buf, sizeof(buf)),
			    "1969-12-31 23:59:59.999999999 UTC");
}

static void test_guest_times(void **state)
{
	json_t *v = json_loads("[1795784978.5, 1795784978, 0, -1, 9223372036, 1e300, \"1\", null]",
			       0, NULL);
	static const char *const want[] = { "2026-11-27 13:09:38 UTC",
					    "2026-11-27 13:09:38 UTC",
					    "1970-01-01 00:00:00 UTC",
					    "-",
					    "-",
					    "-",
					    "-",
					    "-" };
	char buf[64];

	(void)state;
	/* the guest's figures: shown only when they are a time */
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(cli_guest_time_str(json_array_get(v, i), buf, sizeof(buf)),
				    want[i]);
	assert_string_equal(cli_guest_time_str(NULL, buf, sizeof(buf)), "-");
	json_decref(v);
}

static void test_scalars(void **state)
{
	json_t *v = json_loads("{\"s\": \"text\", \"i\": -42, \"r\": 0.125, \"b\": true, "
			       "\"n\": null, \"a\": [1, \"x\"], \"o\": {\"k\": 1}}",
			       0, NULL);
	char buf[64];

	(void)state;
	assert_non_null(v);
	assert_string_equal(cli_scalar(NULL, buf, sizeof(buf)), "-");
	assert_string_equal(cli_scalar(json_object_get(v, "s"), buf, sizeof(buf)), "text");
	assert_string_equal(cli_scalar(json_object_get(v, "i"), buf, sizeof(buf)), "-42");
	assert_string_equal(cli_scalar(json_object_get(v, "r"), buf, sizeof(buf)), "0.12");
	assert_string_equal(cli_scalar(json_object_get(v, "b"), buf, sizeof(buf)), "true");
	assert_string_equal(cli_scalar(json_object_get(v, "n"), buf, sizeof(buf)), "null");
	assert_string_equal(cli_scalar(json_object_get(v, "a"), buf, sizeof(buf)), "[1,\"x\"]");
	/* cut to the buffer */
	assert_string_equal(cli_scalar(json_object_get(v, "o"), buf, 5), "{\"k\"");
	json_decref(v);
}

static void test_table(void **state)
{
	struct cli_table t = { .ncols = 3 };
	char out[512], err[64];
	struct output o;

	(void)state;
	cli_table_add(&t, "NAME", "STATE", "PID");
	cli_table_add(&t, "dockerd", "running", "812");
	cli_table_add(&t, "web", NULL, "");
	output_start(&o);
	cli_table_print_free(&t);
	output_stop(&o, out, sizeof(out), err, sizeof(err));
	/* columns as wide as their widest cell, two spaces apart; no cell
	 * is "-"; the last column is not padded */
	assert_string_equal(out, "NAME     STATE    PID\n"
				 "dockerd  running  812\n"
				 "web      -        \n");
	assert_null(t.cells);
	assert_int_equal(t.n, 0);
}

static void test_tree_and_rest(void **state)
{
	static const char *const known[] = { "status", NULL };
	json_t *v = json_loads("{\"status\": \"ok\", \"load\": [0.5, 1], \"new\": 7, "
			       "\"pressure\": {\"cpu\": {\"some\": 1.5}, \"io\": 2}}",
			       0, NULL);
	char out[512], err[64];
	struct output o;

	(void)state;
	assert_non_null(v);
	output_start(&o);
	cli_print_rest(v, known, 6);
	output_stop(&o, out, sizeof(out), err, sizeof(err));
	/* what the CLI does not know is shown, whatever its shape */
	assert_string_equal(out, "load:  0.50, 1\n"
				 "new:   7\n"
				 "pressure: io=2\n"
				 "pressure cpu: some=1.50\n");
	json_decref(v);
}

static void test_errors_and_exit_codes(void **state)
{
	struct client_error e = { "CommandNotFound", "The command x has not been found" };
	char out[64], err[512];
	struct output o;
	char *argv[] = { "ping", "extra", NULL };
	int r;

	(void)state;
	output_start(&o);
	r = cli_report(-EREMOTEIO, &e);
	output_stop(&o, out, sizeof(out), err, sizeof(err));
	assert_int_equal(r, CLI_EXIT_GUEST);
	assert_string_equal(
		err, "porthole: guest error (CommandNotFound): The command x has not been found\n");

	snprintf(e.desc, sizeof(e.desc), "unix:/a: no reply in time");
	output_start(&o);
	r = cli_report(-ETIMEDOUT, &e);
	output_stop(&o, out, sizeof(out), err, sizeof(err));
	assert_int_equal(r, CLI_EXIT_CONNECT);
	assert_string_equal(err, "porthole: unix:/a: no reply in time\n");

	output_start(&o);
	assert_int_equal(cli_no_args("ping", 1, argv), CLI_EXIT_OK);
	r = cli_no_args("ping", 2, argv);
	output_stop(&o, out, sizeof(out), err, sizeof(err));
	assert_int_equal(r, CLI_EXIT_USAGE);
	assert_string_equal(err, "porthole: ping takes no arguments\n(porthole help ping)\n");
}

static void print_name(json_t *result)
{
	printf("name is %s\n", json_string_value(json_object_get(result, "host-name")));
}

static int query_hostname(struct cli *cli, int argc, char **argv)
{
	return cli_query(cli, argc, argv, "guest-get-host-name", print_name);
}

static void test_query(void **state)
{
	static const char *const argv[] = { "hostname", NULL };
	static const char *const extra[] = { "hostname", "x", NULL };
	const struct step steps[] = {
		STEP_SYNC,
		{ "\"execute\":\"guest-get-host-name\"",
		  "{\"return\": {\"host-name\": \"vm\"}, \"id\": 1}\n", 0 },
	};
	const struct step refused[] = {
		STEP_SYNC,
		{ "guest-get-host-name",
		  "{\"id\": 1, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command "
		  "guest-get-host-name has been disabled\"}}\n",
		  0 },
	};
	struct cli_run *r = calloc(1, sizeof(*r));

	(void)state;
	/* for people, and for scripts */
	cli_run(r, query_hostname, false, steps, 2, argv);
	assert_int_equal(r->code, CLI_EXIT_OK);
	assert_string_equal(r->out, "name is vm\n");
	cli_run(r, query_hostname, true, steps, 2, argv);
	assert_int_equal(r->code, CLI_EXIT_OK);
	assert_string_equal(r->out, "{\"host-name\":\"vm\"}\n");
	/* the guest's error: exit 1, its words */
	cli_run(r, query_hostname, false, refused, 2, argv);
	assert_int_equal(r->code, CLI_EXIT_GUEST);
	assert_string_equal(r->out, "");
	assert_non_null(strstr(r->err, "guest error (CommandNotFound): Command "
				       "guest-get-host-name has been disabled"));
	/* arguments it does not take: usage, nothing asked */
	cli_run(r, query_hostname, false, steps, 2, extra);
	assert_int_equal(r->code, CLI_EXIT_USAGE);
	assert_false(peer_got(&r->peer, "guest-get-host-name"));
	free(r);
}

static void test_finding_the_agent(void **state)
{
	static const char *const argv[] = { "hostname", NULL };
	const struct step steps[] = {
		STEP_SYNC,
		{ "guest-get-host-name", "{\"return\": {\"host-name\": \"vm\"}, \"id\": 1}\n", 0 },
	};
	struct cli cli = { .timeout_ms = 5000 };
	char cwd[4096], dir[] = "/tmp/test-host-cli.XXXXXX", out[512], err[512];
	struct output o;
	struct peer p;
	int r;

	(void)state;
	/* away from any build/vm/agent.sock */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	unsetenv("PORTHOLE_CONNECT");
	output_start(&o);
	r = cli_connect(&cli);
	output_stop(&o, out, sizeof(out), err, sizeof(err));
	assert_int_equal(r, CLI_EXIT_CONNECT);
	assert_non_null(strstr(err, "PORTHOLE_CONNECT is not set"));

	/* $PORTHOLE_CONNECT when there is no --connect */
	peer_start(&p, steps, 2);
	setenv("PORTHOLE_CONNECT", p.address, 1);
	output_start(&o);
	r = query_hostname(&cli, 1, (char **)argv);
	output_stop(&o, out, sizeof(out), err, sizeof(err));
	client_close(cli.c);
	peer_stop(&p);
	unsetenv("PORTHOLE_CONNECT");
	assert_int_equal(r, CLI_EXIT_OK);
	assert_string_equal(out, "name is vm\n");
	assert_int_equal(chdir(cwd), 0);
	rmdir(dir);
}

/* The guest's vsock as run-vm's VM here offers it: build/vm/vsock.address
 * with the port, what porthole shell uses without --connect. */
static void test_vsock_address(void **state)
{
	char cwd[4096], dir[] = "/tmp/test-host-cli.XXXXXX", buf[300];
	FILE *f;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(cli_vsock_address(1024, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(mkdir("build", 0700), 0);
	assert_int_equal(mkdir("build/vm", 0700), 0);
	f = fopen(CLI_VSOCK_ADDRESS_FILE, "w");
	assert_non_null(f);
	fputs("hvsock:/home/me/build/vm/vsock.sock\n", f);
	fclose(f);
	assert_int_equal(cli_vsock_address(1024, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "hvsock:/home/me/build/vm/vsock.sock:1024");
	/* too long for BUF: none, rather than a cut address */
	assert_int_equal(cli_vsock_address(1024, buf, 20), -EINVAL);
	unlink(CLI_VSOCK_ADDRESS_FILE);
	rmdir("build/vm");
	rmdir("build");
	assert_int_equal(chdir(cwd), 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_and_durations),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_guest_times),
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_tree_and_rest),
		cmocka_unit_test(test_errors_and_exit_codes),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_finding_the_agent),
		cmocka_unit_test(test_vsock_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
