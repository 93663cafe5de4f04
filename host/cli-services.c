/* porthole services, logs, restart and events: init's services as the host
 * sees them, through porthole-services, porthole-logs,
 * porthole-service-restart and porthole-events (docs/protocol.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util.h"
#include "walltime.h"

#define LOG_LINES_DEFAULT 100
#define LOG_LINES_MAX 10000
/* the longest porthole-events long poll (the agent's limit is 60 s) */
#define EVENTS_WAIT_MS_MAX 30000

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

const char *cli_local_time_str(double t, char *buf, size_t size)
{
	/* floor without libm */
	double whole = isfinite(t) && fabs(t) < 1e15 ? (double)(int64_t)t : 0;
	time_t s;
	int ms;
	struct tm tm;
	char day[32];

	if (whole > t)
		whole -= 1;
	s = (time_t)whole;
	ms = (int)((t - whole) * 1000);
	if (!isfinite(t) || fabs(t) >= 1e15 || !localtime_r(&s, &tm)) {
		snprintf(buf, size, "%.3f", t);
		return buf;
	}
	strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03d", day, ms > 999 ? 999 : ms);
	return buf;
}

/* "-" for null or absent, else the integer */
static const char *int_or_dash(json_t *v, char *buf, size_t size)
{
	if (!json_is_integer(v))
		return "-";
	snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return buf;
}

void cli_services_table_fill(struct cli_table *t, json_t *services, double now)
{
	bool oom = false;
	json_t *s;
	size_t i;

	json_array_foreach(services, i, s)
	{
		if (json_integer_value(json_object_get(s, "oom_kills")) > 0)
			oom = true;
	}
	t->ncols = oom ? 9 : 8;
	cli_table_add(t, "NAME", "STATE", "PID", "SINCE", "RESTARTS", "READY", "MEMORY", "CPU",
		      "OOM");
	json_array_foreach(services, i, s)
	{
		json_t *since = json_object_get(s, "since"),
		       *mem = json_object_get(s, "memory_bytes");
		json_t *cpu = json_object_get(s, "cpu_usec"), *ready = json_object_get(s, "ready");
		char pid[24], age[32] = "-", restarts[24], m[32] = "-", c[32] = "-", oomb[24];

		if (json_is_number(since)) {
			double d = now - json_number_value(since);

			cli_duration_str(d > 0 ? (uint64_t)d : 0, age, sizeof(age));
		}
		if (json_is_integer(mem))
			cli_bytes_str((double)json_integer_value(mem), m, sizeof(m));
		if (json_is_integer(cpu))
			snprintf(c, sizeof(c), "%.2f s",
				 (double)json_integer_value(cpu) / USEC_PER_SEC);
		cli_table_add(
			t, json_string_value(json_object_get(s, "name")),
			json_string_value(json_object_get(s, "state")),
			int_or_dash(json_object_get(s, "pid"), pid, sizeof(pid)), age,
			int_or_dash(json_object_get(s, "restarts"), restarts, sizeof(restarts)),
			json_is_true(ready)    ? "yes"
			: json_is_false(ready) ? "no"
					       : "-",
			m, c, int_or_dash(json_object_get(s, "oom_kills"), oomb, sizeof(oomb)));
	}
}

static void print_services(json_t *result)
{
	struct cli_table t = { 0 };

	if (json_array_size(result) == 0) {
		puts("no services");
		return;
	}
	cli_services_table_fill(&t, result, (double)time(NULL));
	cli_table_print_free(&t);
}

int cli_services(struct cli *cli, int argc, char **argv)
{
	return cli_query(cli, argc, argv, "porthole-services", print_services);
}

void cli_log_line_format(json_t *line, char *buf, size_t size)
{
	json_t *time_v = json_object_get(line, "time");
	const char *stream = json_string_value(json_object_get(line, "stream"));
	const char *text = json_string_value(json_object_get(line, "text"));
	char when[48] = "-";

	if (json_is_number(time_v))
		cli_local_time_str(json_number_value(time_v), when, sizeof(when));
	snprintf(buf, size, "%s %s %s", when, stream ? stream : "-", text ? text : "");
}

int cli_parse_since(const char *s, double now, double *ret)
{
	static const struct {
		char unit;
		double seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0 || v > WALLTIME_QUERY_MAX_S)
		return -EINVAL;
	if (*end == '\0') {
		*ret = v;
		return 0;
	}
	/* a duration: that long ago */
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (end[0] == units[i].unit && end[1] == '\0') {
			*ret = now - v * units[i].seconds;
			if (*ret < 0)
				*ret = 0;
			return 0;
		}
	return -EINVAL;
}

static const struct option logs_longs[] = {
	{ "lines", required_argument, NULL, 'n' },
	{ "since", required_argument, NULL, 's' },
	{ 0 },
};
const struct cli_options cli_logs_options = { "n:", logs_longs };

int cli_logs(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[0];
	json_t *args, *result = NULL, *line;
	double since = -1;
	int64_t lines = LOG_LINES_DEFAULT;
	size_t i;
	int c, r;

	optind = 0; /* glibc: 0 re-initialises, so the main parser's "+" does not stick */
	while ((c = getopt_long(argc, argv, cli_logs_options.shorts, cli_logs_options.longs,
				NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_int64(optarg, 1, LOG_LINES_MAX, &lines) < 0)
				return cli_usage_error(cmd,
						       "-n: a number of lines, 1 to %d, not '%s'",
						       LOG_LINES_MAX, optarg);
			break;
		case 's':
			if (cli_parse_since(optarg, (double)time(NULL), &since) < 0)
				return cli_usage_error(
					cmd,
					"--since: seconds since the epoch, or a time ago "
					"such as 90s, 10m, 2h, 1d; not '%s'",
					optarg);
			break;
		default:
			return cli_usage_error(cmd, "bad option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cmd, "logs needs one NAME (a service, or kernel)");
	args = json_pack("{s:s,s:I}", "service", argv[optind], "lines", (json_int_t)lines);
	if (args && since >= 0)
		json_object_set_new(args, "since", json_real(since));
	r = cli_call(cli, "porthole-logs", args, &result);
	json_decref(args);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		cli_print_json(result, JSON_COMPACT);
		json_decref(result);
		return CLI_EXIT_OK;
	}
	json_array_foreach(json_object_get(result, "lines"), i, line)
	{
		char buf[8192];

		cli_log_line_format(line, buf, sizeof(buf));
		puts(buf);
	}
	if (json_integer_value(json_object_get(result, "dropped")) > 0)
		cli_error("%" JSON_INTEGER_FORMAT " older lines of %s were lost before they could "
			  "be shown (the buffer is bounded)",
			  json_integer_value(json_object_get(result, "dropped")), argv[optind]);
	json_decref(result);
	return CLI_EXIT_OK;
}

int cli_restart(struct cli *cli, int argc, char **argv)
{
	json_t *args, *result = NULL;
	int r;

	if (argc != 2)
		return cli_usage_error(argv[0], "restart needs one service NAME");
	args = json_pack("{s:s}", "name", argv[1]);
	r = cli_call(cli, "porthole-service-restart", args, &result);
	json_decref(args);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json)
		cli_print_json(result, JSON_COMPACT);
	else
		printf("restarting %s (porthole services shows its new pid)\n", argv[1]);
	json_decref(result);
	return CLI_EXIT_OK;
}

/* One line per event, clock's and services', in the order received. */
static void print_events(json_t *result)
{
	char when[48];
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(result, "events"), i, e)
	{
		const char *source = json_string_value(json_object_get(e, "source"));

		printf("%s clock %s %+.6f s%s%s%s\n",
		       cli_local_time_str((double)json_integer_value(json_object_get(e, "at_ns")) /
						  NSEC_PER_SEC,
					  when, sizeof(when)),
		       cli_str(e, "type"),
		       (double)json_integer_value(json_object_get(e, "jump_ns")) / NSEC_PER_SEC,
		       source ? " (" : "", source ? source : "", source ? ")" : "");
	}
	json_array_foreach(json_object_get(result, "service_events"), i, e)
	{
		const char *detail = json_string_value(json_object_get(e, "detail"));

		printf("%s %s %s%s%s\n",
		       cli_local_time_str(json_number_value(json_object_get(e, "time")), when,
					  sizeof(when)),
		       cli_str(e, "service"), cli_str(e, "type"), detail && *detail ? ": " : "",
		       detail ? detail : "");
	}
}

static const struct option events_longs[] = { { "follow", no_argument, NULL, 'f' }, { 0 } };
const struct cli_options cli_events_options = { "", events_longs };

int cli_events(struct cli *cli, int argc, char **argv)
{
	int64_t since = 0, after = 0;
	bool follow = false, said_error = false;
	int c, r = CLI_EXIT_OK, wait_ms = 0;

	optind = 0; /* glibc: 0 re-initialises, so the main parser's "+" does not stick */
	while ((c = getopt_long(argc, argv, cli_events_options.shorts, cli_events_options.longs,
				NULL)) != -1) {
		if (c != 'f')
			return cli_usage_error(argv[0], "bad option");
		follow = true;
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "events takes no arguments but --follow");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	do {
		json_t *args, *result = NULL, *error;

		args = json_pack("{s:I,s:I,s:i}", "since", (json_int_t)since, "service_after",
				 (json_int_t)after, "timeout_ms", wait_ms);
		r = cli_call(cli, "porthole-events", args, &result);
		json_decref(args);
		if (r != CLI_EXIT_OK)
			break;
		error = json_object_get(result, "service_error");
		if (json_is_string(error) && !said_error)
			cli_error("no service events: %s", json_string_value(error));
		said_error = json_is_string(error);
		if (cli->json && (!follow || json_array_size(json_object_get(result, "events")) ||
				  json_array_size(json_object_get(result, "service_events"))))
			cli_print_json(result, JSON_COMPACT);
		else if (!cli->json)
			print_events(result);
		fflush(stdout);
		since = json_integer_value(json_object_get(result, "next"));
		if (json_is_integer(json_object_get(result, "service_next")))
			after = json_integer_value(json_object_get(result, "service_next"));
		json_decref(result);
		/* the long poll stays within the reply's time-out */
		wait_ms = cli->timeout_ms > 2000 ? cli->timeout_ms - 1000 : cli->timeout_ms / 2;
		if (wait_ms > EVENTS_WAIT_MS_MAX)
			wait_ms = EVENTS_WAIT_MS_MAX;
	} while (follow && !stop);
	return r;
}
