/* host/boot-chart.c, the boot chart as SVG: what someone opening the file
 * relies on. Every bar is drawn (a service's starting and running parts in
 * two colours, what still runs to the axis's end), names from the guest are
 * escaped so the document stays well-formed XML, nothing active is in it,
 * and its size and the axis's ticks stay bounded whatever the times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot-chart.h"
#include "util.h"

#define S NSEC_PER_SEC

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static struct boot_chart *sample(void)
{
	struct boot_chart *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->bars[0] = (struct boot_chart_bar){ "kernel", BOOT_CHART_KERNEL, 0, -1, 2 * S, 1 };
	c->bars[1] = (struct boot_chart_bar){ "early", BOOT_CHART_STEP, 2 * S, -1, 3 * S, 1 };
	c->bars[2] = (struct boot_chart_bar){ "dockerd", BOOT_CHART_SERVICE, 3 * S, 8 * S, -1, 2 };
	c->bars[3] = (struct boot_chart_bar){ "web", BOOT_CHART_SERVICE, 4 * S, -1, 10 * S, 1 };
	c->n = 4;
	c->now_ns = 60 * S;
	return c;
}

static void test_span_and_took(void **state)
{
	struct boot_chart *c = sample();

	(void)state;
	/* the latest mark, not now: a VM up for a month still shows its boot */
	assert_int_equal(boot_chart_span_ns(c), 10 * S);
	assert_int_equal(boot_chart_took_ns(&c->bars[0]), 2 * S);
	assert_int_equal(boot_chart_took_ns(&c->bars[2]), 5 * S);
	assert_int_equal(boot_chart_took_ns(&c->bars[3]), -1);
	c->n = 0;
	assert_int_equal(boot_chart_span_ns(c), NSEC_PER_MSEC);
	free(c);
}

static void test_svg_bars(void **state)
{
	struct boot_chart *c = sample();
	size_t len = 0;
	char *svg = boot_chart_svg(c, &len);

	(void)state;
	assert_non_null(svg);
	assert_int_equal(strlen(svg), len);
	assert_true(strncmp(svg, "<?xml version=\"1.0\"", 19) == 0);
	assert_non_null(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	assert_true(len > 7 && strcmp(svg + len - 7, "</svg>\n") == 0);
	/* one group per bar, each labelled with its name and how long it took */
	assert_int_equal(count(svg, "<g>"), 4);
	assert_non_null(strstr(svg, ">kernel 2.000 s</text>"));
	assert_non_null(strstr(svg, ">early 1.000 s</text>"));
	assert_non_null(strstr(svg, ">dockerd 5.000 s, 2 runs</text>"));
	assert_non_null(strstr(svg, ">web (not ready), exited at 10.000 s</text>"));
	/* dockerd: starting from 3 s to 8 s, then running to the axis's end;
	 * the plot is 900 px from x=10 over 10.5 s (5% past the last mark) */
	assert_non_null(strstr(
		svg,
		"<rect x=\"267.1\" y=\"126\" width=\"428.6\" height=\"14\" fill=\"#ffb74d\"/>"));
	assert_non_null(strstr(
		svg,
		"<rect x=\"695.7\" y=\"126\" width=\"214.3\" height=\"14\" fill=\"#aed581\"/>"));
	/* the legend names each colour; the axis has a tick per second */
	assert_non_null(strstr(svg, ">service running (ready)</text>"));
	assert_non_null(strstr(svg, ">10 s</text>"));
	assert_null(strstr(svg, "<script"));
	assert_null(strstr(svg, "href"));
	free(svg);
	free(c);
}

static void test_svg_escapes_names(void **state)
{
	struct boot_chart *c = sample();
	char *svg;

	(void)state;
	snprintf(c->bars[3].name, sizeof(c->bars[3].name), "<a&b>\"'\x01\x7f+é");
	svg = boot_chart_svg(c, NULL);
	assert_non_null(svg);
	assert_non_null(strstr(svg, "&lt;a&amp;b&gt;&quot;&apos;??+é"));
	assert_null(strstr(svg, "<a&"));
	assert_null(strchr(svg, '\x01'));
	free(svg);
	free(c);
}

/* times the guest may send: the largest, all at 0, a full table */
static void test_svg_bounded(void **state)
{
	struct boot_chart *c = calloc(1, sizeof(*c));
	size_t len = 0;
	char *svg;

	(void)state;
	assert_non_null(c);
	for (size_t i = 0; i < BOOT_CHART_BARS_MAX; i++) {
		memset(c->bars[i].name, 'n', BOOT_CHART_NAME_MAX - 1);
		c->bars[i].kind = (enum boot_chart_kind)(i % 4);
		c->bars[i].start_ns = i ? INT64_MAX - 1 : 0;
		c->bars[i].ready_ns = i % 2 ? INT64_MAX : -1;
		c->bars[i].end_ns = -1;
		c->bars[i].runs = 4000000000u;
	}
	c->n = BOOT_CHART_BARS_MAX;
	svg = boot_chart_svg(c, &len);
	assert_non_null(svg);
	assert_int_equal(count(svg, "<g>"), BOOT_CHART_BARS_MAX);
	/* at most 21 ticks (0 and 20 steps) */
	assert_true(count(svg, "<line ") <= 21);
	assert_true(len < 64 * 1024);
	free(svg);
	memset(c, 0, sizeof(*c));
	svg = boot_chart_svg(c, NULL);
	assert_non_null(svg);
	assert_int_equal(count(svg, "<g>"), 0);
	free(svg);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_span_and_took),
		cmocka_unit_test(test_svg_bars),
		cmocka_unit_test(test_svg_escapes_names),
		cmocka_unit_test(test_svg_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
