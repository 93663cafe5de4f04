/* porthole boot: the boot's timeline (porthole-boot) as a table, as JSON, or
 * as an SVG chart (--svg FILE, host/boot-chart.c draws it). What the agent
 * sends is checked here before anything is drawn from it: the guest is not
 * trusted to send sane times. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot-chart.h"
#include "cli.h"
#include "utf8.h"
#include "util.h"

static const char *const kind_names[] = {
	[BOOT_CHART_KERNEL] = "kernel",
	[BOOT_CHART_STEP] = "step",
	[BOOT_CHART_SERVICE] = "service",
};

static int bad(char *why, size_t size, size_t i, const char *what)
{
	snprintf(why, size, "porthole-boot's result: boot[%zu]: %s", i, what);
	return -EPROTO;
}

/* V as ns: an integer >= 0 into *RET, or null (-1) when NULL_OK. */
static bool get_ns(json_t *v, bool null_ok, int64_t *ret)
{
	if (null_ok && json_is_null(v)) {
		*ret = -1;
		return true;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*ret = json_integer_value(v);
	return true;
}

static int bar_from_json(json_t *e, size_t i, struct boot_chart_bar *b, char *why, size_t size)
{
	const char *name = json_string_value(json_object_get(e, "name"));
	const char *kind = json_string_value(json_object_get(e, "kind"));
	json_t *runs = json_object_get(e, "runs");

	if (!json_is_object(e))
		return bad(why, size, i, "expected an object");
	if (!name || !kind)
		return bad(why, size, i, "\"name\" and \"kind\" must be strings");
	if (!get_ns(json_object_get(e, "start_ns"), false, &b->start_ns) ||
	    !get_ns(json_object_get(e, "ready_ns"), true, &b->ready_ns) ||
	    !get_ns(json_object_get(e, "end_ns"), true, &b->end_ns))
		return bad(why, size, i,
			   "start_ns, ready_ns and end_ns must be integers, 0 or more (ready_ns "
			   "and end_ns may be null)");
	if ((b->ready_ns >= 0 && b->ready_ns < b->start_ns) ||
	    (b->end_ns >= 0 && b->end_ns < b->start_ns))
		return bad(why, size, i, "ready or ended before it started");
	if (runs && (!json_is_integer(runs) || json_integer_value(runs) < 0 ||
		     json_integer_value(runs) > 1000000000))
		return bad(why, size, i, "\"runs\" must be an integer, 0 or more");
	b->runs = runs ? (unsigned)json_integer_value(runs) : 1;
	snprintf(b->name, sizeof(b->name), "%.*s", utf8_prefix(name, sizeof(b->name) - 1), name);
	b->kind = BOOT_CHART_OTHER;
	for (size_t k = 0; k < ARRAY_SIZE(kind_names); k++)
		if (strcmp(kind, kind_names[k]) == 0)
			b->kind = (enum boot_chart_kind)k;
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct boot_chart_bar *x = a, *y = b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	/* the kernel first, then steps, then services: qsort is not stable */
	return (int)x->kind - (int)y->kind;
}

int cli_boot_parse(json_t *result, struct boot_chart *ret, char *why, size_t size)
{
	json_t *list = json_object_get(result, "boot"), *e;
	json_t *dropped = json_object_get(result, "dropped");
	size_t i;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_array(list) || json_array_size(list) > BOOT_CHART_BARS_MAX) {
		snprintf(why, size,
			 "porthole-boot's result: \"boot\" must be an array of at most %d",
			 BOOT_CHART_BARS_MAX);
		return -EPROTO;
	}
	if (!get_ns(json_object_get(result, "now_ns"), false, &ret->now_ns)) {
		snprintf(why, size,
			 "porthole-boot's result: \"now_ns\" must be an integer, 0 or more");
		return -EPROTO;
	}
	if (dropped && (!json_is_integer(dropped) || json_integer_value(dropped) < 0 ||
			json_integer_value(dropped) > 1000000000)) {
		snprintf(why, size,
			 "porthole-boot's result: \"dropped\" must be an integer, 0 or more");
		return -EPROTO;
	}
	ret->dropped = dropped ? (unsigned)json_integer_value(dropped) : 0;
	json_array_foreach(list, i, e)
	{
		int r = bar_from_json(e, i, &ret->bars[i], why, size);

		if (r < 0)
			return r;
	}
	ret->n = json_array_size(list);
	qsort(ret->bars, ret->n, sizeof(ret->bars[0]), by_start);
	return 0;
}

static const char *secs(int64_t ns, char *buf, size_t size)
{
	if (ns < 0)
		return "-";
	snprintf(buf, size, "%.3f s", (double)ns / NSEC_PER_SEC);
	return buf;
}

void cli_boot_table_fill(struct cli_table *t, const struct boot_chart *c)
{
	t->ncols = 6;
	cli_table_add(t, "NAME", "KIND", "START", "TOOK", "READY", "STATE");
	for (size_t i = 0; i < c->n; i++) {
		const struct boot_chart_bar *b = &c->bars[i];
		char start[32], took[32], ready[32], state[64];
		bool service = b->kind == BOOT_CHART_SERVICE;

		if (!service)
			snprintf(state, sizeof(state), "%s", b->end_ns < 0 ? "running" : "done");
		else if (b->end_ns < 0)
			snprintf(state, sizeof(state), "%s",
				 b->ready_ns < 0 ? "starting" : "running");
		else
			snprintf(state, sizeof(state), "exited at %.3f s",
				 (double)b->end_ns / NSEC_PER_SEC);
		if (service && b->runs > 1) {
			size_t len = strlen(state);

			snprintf(state + len, sizeof(state) - len, ", %u runs", b->runs);
		}
		cli_table_add(t, b->name,
			      b->kind < ARRAY_SIZE(kind_names) ? kind_names[b->kind] : "other",
			      secs(b->start_ns, start, sizeof(start)),
			      secs(boot_chart_took_ns(b), took, sizeof(took)),
			      secs(service ? b->ready_ns : -1, ready, sizeof(ready)), state);
	}
}

/* The line under the table: where the time went, in three figures. */
void cli_boot_summary(const struct boot_chart *c, char *buf, size_t size)
{
	int64_t kernel = -1, steps = 0, last_ready = -1;
	const char *last = NULL;

	for (size_t i = 0; i < c->n; i++) {
		const struct boot_chart_bar *b = &c->bars[i];

		if (b->kind == BOOT_CHART_KERNEL)
			kernel = b->end_ns;
		else if (b->kind == BOOT_CHART_STEP && b->end_ns > steps)
			steps = b->end_ns;
		else if (b->kind == BOOT_CHART_SERVICE && b->ready_ns > last_ready) {
			last_ready = b->ready_ns;
			last = b->name;
		}
	}
	utf8_format(buf, size,
		    "kernel %.3f s, init's steps done at %.3f s, last service ready at "
		    "%.3f s (%s)%s",
		    kernel < 0 ? 0.0 : (double)kernel / NSEC_PER_SEC, (double)steps / NSEC_PER_SEC,
		    last_ready < 0 ? 0.0 : (double)last_ready / NSEC_PER_SEC, last ? last : "none",
		    c->dropped ? "; init's table was full, some marks were dropped" : "");
}

static int write_svg(const struct boot_chart *c, const char *path)
{
	size_t len = 0;
	char *svg = boot_chart_svg(c, &len);
	FILE *f;
	int r = 0;

	if (!svg) {
		cli_error("drawing the chart: out of memory");
		return CLI_EXIT_CONNECT;
	}
	f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (!f || fwrite(svg, 1, len, f) != len || (f != stdout && fclose(f) != 0)) {
		r = -errno;
		cli_error("write %s: %s", path, strerror(-r ? -r : EIO));
		if (f && f != stdout)
			(void)fclose(f);
	}
	free(svg);
	/* FILE could not be written: a bad argument, as docs/cli.md counts them */
	return r < 0 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}

static const struct option boot_longs[] = { { "svg", required_argument, NULL, 's' }, { 0 } };
const struct cli_options cli_boot_options = { "", boot_longs };

int cli_boot(struct cli *cli, int argc, char **argv)
{
	const char *svg = NULL;
	struct boot_chart *chart;
	json_t *result = NULL;
	char why[256];
	int c, r;

	optind = 0; /* glibc: 0 re-initialises, so the main parser's "+" does not stick */
	while ((c = getopt_long(argc, argv, cli_boot_options.shorts, cli_boot_options.longs,
				NULL)) != -1) {
		if (c != 's')
			return cli_usage_error(argv[0], "bad option");
		svg = optarg;
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "boot takes no arguments but --svg FILE");
	r = cli_call(cli, "porthole-boot", NULL, &result);
	if (r != CLI_EXIT_OK)
		return r;
	chart = malloc(sizeof(*chart));
	if (!chart || cli_boot_parse(result, chart, why, sizeof(why)) < 0) {
		cli_error("%s", chart ? why : "out of memory");
		free(chart);
		json_decref(result);
		/* an answer that is not what the protocol says: as a peer that
		 * does not speak it (docs/cli.md's exit codes) */
		return CLI_EXIT_CONNECT;
	}
	if (svg)
		r = write_svg(chart, svg);
	else if (cli->json)
		cli_print_json(result, JSON_COMPACT);
	else {
		struct cli_table t = { 0 };

		cli_boot_table_fill(&t, chart);
		cli_table_print_free(&t);
		cli_boot_summary(chart, why, sizeof(why));
		printf("%s\n", why);
	}
	free(chart);
	json_decref(result);
	return r;
}
