/* A split virtqueue (virtio 1.2, 2.7) as the device sees it: the descriptor
 * table and the available and used rings in guest memory, descriptor chains
 * walked with every index, address and length checked, and the used ring
 * filled. Indirect descriptors are not offered (VIRTIO_RING_F_INDIRECT_DESC
 * is never negotiated), nor VIRTIO_RING_F_EVENT_IDX. Kicks and calls (the
 * eventfds) are the caller's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vsock-mem.h"

/* 2.7: the queue size is a power of 2 of at most 32768. */
#define VIRTQ_SIZE_MAX 32768
/* The most descriptors one chain may have here: the guest's vsock driver
 * uses 1 or 2 (header, payload); a chain longer than this is refused. */
#define VIRTQ_CHAIN_MAX 64

/* 2.7.5 */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
/* 2.7.6: the driver asks not to be interrupted */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq {
	uint16_t num; /* queue size; 0: not set up */
	uint8_t *desc; /* num descriptors of 16 bytes */
	uint8_t *avail; /* flags, idx, ring[num], used_event */
	uint8_t *used; /* flags, idx, ring[num] of {id, len}, avail_event */
	uint16_t last_avail; /* the next available ring entry to take */
	uint16_t used_idx; /* the next used ring entry to fill */
};

/* One descriptor of a chain, translated: the device reads (!write) or
 * writes (write) len bytes at p. */
struct virtq_seg {
	uint8_t *p;
	uint32_t len;
	bool write;
};

struct virtq_chain {
	uint16_t head; /* what virtq_push gives back */
	unsigned n;
	struct virtq_seg seg[VIRTQ_CHAIN_MAX];
	uint32_t readable, writable; /* byte totals of each kind */
};

/* Sets the queue up from the ring addresses (in SPACE, see vsock-mem.h),
 * each area translated whole: -EINVAL for a size that is 0, above
 * VIRTQ_SIZE_MAX or not a power of 2, or a misaligned area (2.7: 16, 2, 4);
 * -EFAULT for an area outside guest memory. last_avail and used_idx start
 * at BASE (SET_VRING_BASE). */
int virtq_setup(struct virtq *q, const struct vmem_table *mem, enum vmem_space space, uint16_t num,
		uint64_t desc, uint64_t avail, uint64_t used, uint16_t base);

/* Takes the next available chain: 1 with *ret filled, 0 when none is
 * available. A malformed chain has still been taken (and
 * ret->head set) so that the caller can give it back with length 0:
 * -EINVAL for a descriptor index out of range, an indirect descriptor, or a
 * readable descriptor after a writable one (2.7.4.2); -ELOOP for a chain
 * longer than the queue (a loop); -E2BIG for one longer than
 * VIRTQ_CHAIN_MAX; -EOVERFLOW when the lengths of a kind do not fit 32 bits;
 * -EFAULT for a buffer outside guest memory. -EPROTO when the driver claims
 * more than NUM entries are available: the queue is broken, nothing taken. */
int virtq_pop(struct virtq *q, const struct vmem_table *mem, struct virtq_chain *ret);

/* Gives a chain back in the used ring with LEN bytes written: -EINVAL for a
 * head out of range. */
int virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/* Whether the driver wants a call (its avail flags). */
bool virtq_need_call(const struct virtq *q);

/* Copies LEN bytes from the chain's readable bytes at OFFSET into BUF, or
 * from BUF into its writable bytes at OFFSET, across descriptor boundaries:
 * -EMSGSIZE when the chain holds fewer. */
int virtq_chain_read(const struct virtq_chain *c, size_t offset, void *buf, size_t len);
int virtq_chain_write(const struct virtq_chain *c, size_t offset, const void *buf, size_t len);
