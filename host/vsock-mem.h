/* porthole-vsockd's view of guest memory: the regions of vhost-user's
 * SET_MEM_TABLE and the translation of a guest (or front-end user) address
 * range to a pointer, only when the whole range lies inside one region.
 * Mapping the regions' fds is the caller's (the tests use plain buffers). */
#pragma once

#include <stdint.h>

/* vhost-user's SET_MEM_TABLE carries at most 8 regions (VHOST_MEMORY_BASELINE_NREGIONS). */
#define VMEM_REGIONS_MAX 8

struct vmem_region {
	uint64_t guest_addr; /* guest physical address of the first byte */
	uint64_t size;
	uint64_t user_addr; /* the front-end's (QEMU's) virtual address of it */
	uint8_t *host; /* where the first byte is mapped here (mmap + mmap offset) */
};

struct vmem_table {
	struct vmem_region r[VMEM_REGIONS_MAX];
	unsigned n;
};

/* Which address a caller holds: descriptors carry guest physical addresses,
 * SET_VRING_ADDR the front-end's user addresses (vhost-user.rst, "Memory
 * access", without VIRTIO_F_IOMMU_PLATFORM). */
enum vmem_space {
	VMEM_GUEST,
	VMEM_USER,
};

/* Adds a region: -EINVAL for a zero size, a NULL host pointer, a range that
 * wraps around 2^64 in either space, or one overlapping a region already
 * there (in guest or user space); -E2BIG when the table is full. */
int vmem_table_add(struct vmem_table *t, const struct vmem_region *r);

/* *ret = the host pointer to [addr, addr + len) when the whole range lies in
 * one region (len 0: when addr does); -EFAULT otherwise, *ret untouched. */
int vmem_translate(const struct vmem_table *t, enum vmem_space space, uint64_t addr, uint64_t len,
		   void **ret);
