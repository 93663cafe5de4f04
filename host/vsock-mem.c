/* Guest memory (vsock-mem.h): the region table and range translation. Every
 * sum is checked before it is made: the front-end and the guest choose the
 * addresses and lengths, and any of them may be hostile. */
#include "vsock-mem.h"

#include <errno.h>
#include <stddef.h>

static uint64_t region_base(const struct vmem_region *r, enum vmem_space space)
{
	return space == VMEM_USER ? r->user_addr : r->guest_addr;
}

/* [a, a + an) and [b, b + bn) intersect; neither wraps (checked before). */
static int ranges_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a < b + bn && b < a + an;
}

int vmem_table_add(struct vmem_table *t, const struct vmem_region *r)
{
	if (!r->size || !r->host)
		return -EINVAL;
	if (r->guest_addr > UINT64_MAX - r->size || r->user_addr > UINT64_MAX - r->size)
		return -EINVAL;
	if ((uintptr_t)r->host > UINTPTR_MAX - r->size)
		return -EINVAL;
	for (unsigned i = 0; i < t->n; i++) {
		const struct vmem_region *o = &t->r[i];

		if (ranges_overlap(r->guest_addr, r->size, o->guest_addr, o->size) ||
		    ranges_overlap(r->user_addr, r->size, o->user_addr, o->size))
			return -EINVAL;
	}
	if (t->n >= VMEM_REGIONS_MAX)
		return -E2BIG;
	t->r[t->n++] = *r;
	return 0;
}

int vmem_translate(const struct vmem_table *t, enum vmem_space space, uint64_t addr, uint64_t len,
		   void **ret)
{
	for (unsigned i = 0; i < t->n && i < VMEM_REGIONS_MAX; i++) {
		const struct vmem_region *r = &t->r[i];
		uint64_t base = region_base(r, space), off;

		if (addr < base)
			continue;
		off = addr - base;
		/* off < size, then len <= size - off: no sum that can wrap */
		if (off >= r->size)
			continue;
		if (len > r->size - off)
			return -EFAULT; /* regions do not overlap: no other one holds addr */
		*ret = r->host + off;
		return 0;
	}
	return -EFAULT;
}
