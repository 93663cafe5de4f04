/* The boot chart as SVG (boot-chart.h): layout, axis, colours and the XML
 * escaping of names that came from the guest. Parsing the agent's reply is
 * host/cli-boot.c's. */
#include "boot-chart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define PLOT_X 10 /* the time axis's 0 */
#define PLOT_W 900 /* its length in px */
#define LABEL_W 260 /* room right of the plot for the last bars' labels */
#define TOP 86 /* the first bar's row */
#define ROW_H 20
#define BAR_H 14
#define TICKS_MAX 20

static const struct {
	const char *colour, *label;
} styles[] = {
	[BOOT_CHART_KERNEL] = { "#9fa8da", "kernel" },
	[BOOT_CHART_STEP] = { "#80cbc4", "init step" },
	[BOOT_CHART_SERVICE] = { "#ffb74d", "service starting" },
	[BOOT_CHART_OTHER] = { "#cfd8dc", "other" },
};
#define RUNNING_COLOUR "#aed581"
#define RUNNING_LABEL "service running (ready)"

int64_t boot_chart_span_ns(const struct boot_chart *c)
{
	int64_t span = NSEC_PER_MSEC;

	for (size_t i = 0; i < c->n; i++) {
		const struct boot_chart_bar *b = &c->bars[i];

		if (b->start_ns > span)
			span = b->start_ns;
		if (b->ready_ns > span)
			span = b->ready_ns;
		if (b->end_ns > span)
			span = b->end_ns;
	}
	return span;
}

int64_t boot_chart_took_ns(const struct boot_chart_bar *b)
{
	if (b->kind == BOOT_CHART_SERVICE)
		return b->ready_ns >= b->start_ns ? b->ready_ns - b->start_ns : -1;
	return b->end_ns >= b->start_ns ? b->end_ns - b->start_ns : -1;
}

/* S as XML character data or an attribute's value: the five special
 * characters as entities, the control characters XML 1.0 forbids as '?'.
 * Names are bounded (BOOT_CHART_NAME_MAX), jansson's strings valid UTF-8. */
static void put_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, f);
		}
	}
}

static double px(int64_t ns, int64_t span)
{
	return PLOT_X + (double)ns * PLOT_W / (double)span;
}

/* The tick step in ns: 1, 2 or 5 times a power of ten, from 1 ms, with at
 * most TICKS_MAX ticks over SPAN. */
static int64_t tick_step(int64_t span)
{
	static const int64_t mult[] = { 1, 2, 5 };
	int64_t base = NSEC_PER_MSEC;

	/* from 1 ms to 5e18 ns, which INT64_MAX ns (9.2e18) needs at most */
	for (;;) {
		for (size_t i = 0; i < ARRAY_SIZE(mult); i++)
			if (span / (base * mult[i]) <= TICKS_MAX)
				return base * mult[i];
		if (base > INT64_MAX / 50)
			return span;
		base *= 10;
	}
}

static void put_legend(FILE *f)
{
	int x = PLOT_X;

	for (size_t i = 0; i <= ARRAY_SIZE(styles); i++) {
		const char *colour = i < ARRAY_SIZE(styles) ? styles[i].colour : RUNNING_COLOUR;
		const char *label = i < ARRAY_SIZE(styles) ? styles[i].label : RUNNING_LABEL;

		/* a kind only a newer init has: not worth a place in the legend */
		if (i == BOOT_CHART_OTHER)
			continue;
		fprintf(f,
			"<rect x=\"%d\" y=\"36\" width=\"14\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"46\">%s</text>\n",
			x, colour, x + 18, label);
		x += 28 + 7 * (int)strlen(label);
	}
}

static void put_axis(FILE *f, int64_t span, int height)
{
	int64_t step = tick_step(span);

	/* k * step <= span: no overflow, at most TICKS_MAX + 1 ticks */
	for (int64_t k = 0; k <= span / step && k <= TICKS_MAX; k++) {
		int64_t t = k * step;
		double x = px(t, span);

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e0e0e0\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g s</text>\n",
			x, TOP - 8, x, height - 12, x, TOP - 12, (double)t / NSEC_PER_SEC);
	}
}

static void put_rect(FILE *f, double x1, double x2, int y, const char *colour)
{
	/* a bar of no time is still seen */
	fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", x1, y,
		x2 - x1 < 1 ? 1 : x2 - x1, BAR_H, colour);
}

static void put_bar(FILE *f, const struct boot_chart_bar *b, int64_t span, int y)
{
	int64_t end = b->end_ns >= b->start_ns ? b->end_ns : span;
	int64_t took = boot_chart_took_ns(b);
	double x1 = px(b->start_ns, span), x2 = px(end, span);
	const char *colour =
		styles[b->kind < ARRAY_SIZE(styles) ? b->kind : BOOT_CHART_OTHER].colour;

	fprintf(f, "<g><title>");
	put_text(f, b->name);
	fprintf(f, "</title>\n");
	if (b->kind == BOOT_CHART_SERVICE && b->ready_ns >= b->start_ns) {
		int64_t ready = b->ready_ns < end ? b->ready_ns : end;

		put_rect(f, x1, px(ready, span), y, colour);
		if (end > ready)
			put_rect(f, px(ready, span), x2, y, RUNNING_COLOUR);
	} else {
		put_rect(f, x1, x2, y, colour);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%d\">", (x2 - x1 < 1 ? x1 + 1 : x2) + 4, y + BAR_H - 3);
	put_text(f, b->name);
	if (took >= 0)
		fprintf(f, " %.3f s", (double)took / NSEC_PER_SEC);
	else if (b->kind == BOOT_CHART_SERVICE)
		fprintf(f, " (not ready)");
	if (b->kind == BOOT_CHART_SERVICE && b->end_ns >= 0)
		fprintf(f, ", exited at %.3f s", (double)b->end_ns / NSEC_PER_SEC);
	if (b->runs > 1)
		fprintf(f, ", %u runs", b->runs);
	fprintf(f, "</text></g>\n");
}

char *boot_chart_svg(const struct boot_chart *c, size_t *ret_len)
{
	size_t n = c->n < BOOT_CHART_BARS_MAX ? c->n : BOOT_CHART_BARS_MAX;
	int64_t last = boot_chart_span_ns(c);
	/* the axis goes 5% past the last mark, so that what still runs shows */
	int64_t span = last <= INT64_MAX - last / 20 ? last + last / 20 : INT64_MAX;
	int width = PLOT_X + PLOT_W + LABEL_W, height = TOP + (int)n * ROW_H + 24;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
		"<text x=\"%d\" y=\"20\" font-size=\"14\">porthole boot: %.3f s from the kernel's "
		"start to the last mark, %zu entries%s</text>\n",
		width, height, width, height, PLOT_X, (double)last / NSEC_PER_SEC, n,
		c->dropped ? " (init dropped some)" : "");
	put_legend(f);
	put_axis(f, span, height);
	for (size_t i = 0; i < n; i++)
		put_bar(f, &c->bars[i], span, TOP + (int)i * ROW_H);
	fprintf(f, "</svg>\n");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	if (ret_len)
		*ret_len = len;
	return text;
}
