/* The boot's timeline as the host holds it (porthole-boot's result, checked
 * by host/cli-boot.c), and its chart: a pure function from timeline to SVG
 * text, like systemd-analyze plot. Neither reads nor writes anything. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* init keeps at most 64 (init/boot-log.h) */
#define BOOT_CHART_BARS_MAX 64
#define BOOT_CHART_NAME_MAX 64

enum boot_chart_kind {
	BOOT_CHART_KERNEL,
	BOOT_CHART_STEP,
	BOOT_CHART_SERVICE,
	BOOT_CHART_OTHER, /* a kind a newer init may add: drawn, not named */
};

struct boot_chart_bar {
	char name[BOOT_CHART_NAME_MAX]; /* UTF-8, cut on a character boundary */
	enum boot_chart_kind kind;
	int64_t start_ns; /* since the kernel's start */
	int64_t ready_ns; /* -1: not ready (yet), or not a service */
	int64_t end_ns; /* -1: still running */
	unsigned runs;
};

struct boot_chart {
	struct boot_chart_bar bars[BOOT_CHART_BARS_MAX];
	size_t n; /* sorted by start, the kernel first */
	int64_t now_ns;
	unsigned dropped; /* entries init could not keep */
};

/* The last mark: the latest start, ready or end, at least 1 ms. The chart's
 * axis goes 5% further, and what still runs is drawn to its end. */
int64_t boot_chart_span_ns(const struct boot_chart *c);
/* A bar's length as people read it: a step's (or the kernel's) start to
 * end, a service's start to ready; -1 when not known (not ready yet). */
int64_t boot_chart_took_ns(const struct boot_chart_bar *b);
/* The chart of C as a self-contained SVG document (no scripts, no external
 * references): one bar per entry on a time axis in seconds, a service's
 * start->ready part and running part in two colours, each labelled with
 * its name and how long it took, and a legend. A new string (its length in
 * *RET_LEN when not NULL), NULL when out of memory. At most a few hundred
 * bytes per bar: bounded by BOOT_CHART_BARS_MAX. */
char *boot_chart_svg(const struct boot_chart *c, size_t *ret_len);
