/* When the agent gives memory back on its own (docs/memory.md): a pure
 * state machine fed one sample per check (time, the CPU used, the last
 * host request, the page cache), answering nothing, a gentle reclaim of
 * some bytes, or a full one. cmd-memory.c reads the samples and does the
 * reclaiming; this file only decides, so that it can be tested with a fake
 * clock and fake readings. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct mem_policy_config {
	uint64_t idle_after_ms; /* quiet this long: idle */
	/* busy: more than this share of one CPU (per mille) was used
	 * between two samples */
	unsigned cpu_busy_permille;
	/* a gentle reclaim while the page cache is above this share of
	 * memory (per mille), of this share of the cache, at most max bytes */
	unsigned cache_high_permille;
	unsigned gentle_step_permille;
	uint64_t gentle_max_bytes;
	/* idle, after the full reclaim, the page cache grew back by this much
	 * (files read with too little CPU to show): another full one */
	uint64_t regrow_bytes;
};

/* The defaults: busy above 5% of a CPU; gentle above a cache of a third of
 * memory, a tenth of it at a time, at most 128 MiB a step; regrown by
 * 64 MiB. */
void mem_policy_config_defaults(struct mem_policy_config *c, uint64_t idle_after_ms);

struct mem_sample {
	uint64_t now_ms; /* a monotonic clock */
	uint64_t cpu_usec; /* CPU used by what counts as work, a growing counter */
	uint64_t last_request_ms; /* the host's last request that counts (0: none) */
	uint64_t total_bytes;
	uint64_t page_cache_bytes;
};

struct mem_policy {
	bool started;
	uint64_t last_ms, last_cpu_usec;
	uint64_t quiet_since_ms; /* the later of the last request and the last busy sample */
	bool full_done; /* in this idle period */
	uint64_t cache_floor; /* the least page cache seen since the full reclaim */
};

enum mem_action {
	MEM_NONE,
	MEM_GENTLE, /* reclaim BYTES of page cache through memory.reclaim */
	MEM_FULL, /* reclaim everything, drop caches and slab, compact */
};

struct mem_decision {
	enum mem_action action;
	uint64_t bytes; /* MEM_GENTLE */
	bool idle;
	uint64_t idle_for_ms; /* how long it has been quiet */
};

/* Takes one sample; the first only sets the baseline (no CPU figure yet)
 * and counts as activity. Samples must come in time order; one whose clock
 * went back is taken as the first. */
struct mem_decision mem_policy_step(struct mem_policy *p, const struct mem_policy_config *c,
				    const struct mem_sample *s);
/* A full reclaim was decided, or asked for from outside (the host), with
 * PAGE_CACHE_BYTES of page cache: it counts as this idle period's, and the
 * cache must grow back from there for another. */
void mem_policy_note_full(struct mem_policy *p, uint64_t page_cache_bytes);
