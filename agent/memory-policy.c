/* When to give memory back: idle is quiet (no CPU above a share of a CPU,
 * no request from the host that counts) for idle_after; the first sample
 * of an idle period asks for a full reclaim; another comes only when the
 * page cache has grown back since (files read with too little CPU to
 * show); a busy sample with the page cache above its share of memory asks
 * for a gentle one: gradual while busy, thorough once idle. */
#include "memory-policy.h"

void mem_policy_config_defaults(struct mem_policy_config *c, uint64_t idle_after_ms)
{
	c->idle_after_ms = idle_after_ms;
	c->cpu_busy_permille = 50;
	c->cache_high_permille = 333;
	c->gentle_step_permille = 100;
	c->gentle_max_bytes = 128ull << 20;
	c->regrow_bytes = 64ull << 20;
}

struct mem_decision mem_policy_step(struct mem_policy *p, const struct mem_policy_config *c,
				    const struct mem_sample *s)
{
	struct mem_decision d = { .action = MEM_NONE };

	if (!p->started || s->now_ms < p->last_ms) {
		p->started = true;
		p->quiet_since_ms = s->now_ms;
		p->full_done = false;
	} else {
		uint64_t elapsed_ms = s->now_ms - p->last_ms;
		uint64_t used_usec =
			s->cpu_usec >= p->last_cpu_usec ? s->cpu_usec - p->last_cpu_usec : 0;

		/* used/elapsed above permille/1000 of a CPU: used_usec above
		 * permille * elapsed_ms. A cgroup that went away and came back
		 * (its counter reset) is no work seen */
		if (used_usec > (uint64_t)c->cpu_busy_permille * elapsed_ms)
			p->quiet_since_ms = s->now_ms;
	}
	if (s->last_request_ms > p->quiet_since_ms && s->last_request_ms <= s->now_ms)
		p->quiet_since_ms = s->last_request_ms;
	p->last_ms = s->now_ms;
	p->last_cpu_usec = s->cpu_usec;

	d.idle_for_ms = s->now_ms - p->quiet_since_ms;
	d.idle = d.idle_for_ms >= c->idle_after_ms;
	if (p->full_done && s->page_cache_bytes < p->cache_floor)
		p->cache_floor = s->page_cache_bytes;
	if (!d.idle) {
		p->full_done = false;
	} else if (!p->full_done || s->page_cache_bytes > p->cache_floor + c->regrow_bytes) {
		mem_policy_note_full(p, s->page_cache_bytes);
		d.action = MEM_FULL;
		return d;
	} else {
		return d;
	}
	if (s->total_bytes &&
	    s->page_cache_bytes * 1000 > s->total_bytes * c->cache_high_permille) {
		uint64_t step = s->page_cache_bytes / 1000 * c->gentle_step_permille;

		d.action = MEM_GENTLE;
		d.bytes = step < c->gentle_max_bytes ? step : c->gentle_max_bytes;
	}
	return d;
}

void mem_policy_note_full(struct mem_policy *p, uint64_t page_cache_bytes)
{
	p->full_done = true;
	p->cache_floor = page_cache_bytes;
}
