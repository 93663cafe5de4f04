/* libFuzzer target: porthole-boot's result as `porthole boot` reads and
 * draws it (host/cli-boot.c's check, host/boot-chart.c's SVG, the table).
 * The input is the result's JSON text. Whatever it holds: what the check
 * accepts has every time at 0 or more and no ready or end before its start;
 * the chart is one document with one group per entry, no control character
 * but newlines, and a bounded size. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot-chart.h"
#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a bar's text is a few hundred bytes; the axis and legend 3 KiB */
#define SVG_MAX (BOOT_CHART_BARS_MAX * 1024 + 8192)

static struct boot_chart chart;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *result = json_loadb((const char *)data, size, 0, NULL);
	struct cli_table t = { 0 };
	char why[256], line[512];
	size_t len = 0, groups = 0;
	char *svg;

	if (!result)
		return 0;
	if (cli_boot_parse(result, &chart, why, sizeof(why)) < 0) {
		json_decref(result);
		return 0;
	}
	json_decref(result);
	for (size_t i = 0; i < chart.n; i++) {
		const struct boot_chart_bar *b = &chart.bars[i];

		if (b->start_ns < 0 || (b->ready_ns >= 0 && b->ready_ns < b->start_ns) ||
		    (b->end_ns >= 0 && b->end_ns < b->start_ns) || b->ready_ns < -1 ||
		    b->end_ns < -1 || memchr(b->name, '\0', sizeof(b->name)) == NULL)
			abort();
		if (i && chart.bars[i - 1].start_ns > b->start_ns)
			abort(); /* not sorted */
	}
	svg = boot_chart_svg(&chart, &len);
	if (!svg)
		return 0;
	if (len > SVG_MAX || strncmp(svg, "<?xml", 5) != 0 || len < 7 ||
	    strcmp(svg + len - 7, "</svg>\n") != 0)
		abort();
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)svg[i] < 0x20 && svg[i] != '\n') || svg[i] == '\0')
			abort();
	for (const char *p = strstr(svg, "<g>"); p; p = strstr(p + 1, "<g>"))
		groups++;
	if (groups != chart.n)
		abort();
	free(svg);
	cli_boot_table_fill(&t, &chart);
	for (size_t i = 0; i < t.n; i++)
		free(t.cells[i]);
	free(t.cells);
	cli_boot_summary(&chart, line, sizeof(line));
	return 0;
}
