/* porthole-vsockd's vhost-user device state: what each front-end request
 * (already parsed by vhost-user.h) does to the features, the memory table
 * (the regions' fds mapped here), the two vrings QEMU gives a vsock backend
 * (rx 0, tx 1; it keeps the event queue) and the config space, and the
 * reply it gets. Reading and writing the socket, and the packets on the
 * rings, are the caller's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost-user.h"
#include "virtq.h"
#include "vsock-mem.h"

#define VSOCK_DEVICE_VRINGS 2
#define VSOCK_DEVICE_RX 0
#define VSOCK_DEVICE_TX 1

/* What is offered: VIRTIO_F_VERSION_1 and protocol features; REPLY_ACK and
 * CONFIG. No indirect descriptors, no EVENT_IDX, no SEQPACKET. */
#define VSOCK_DEVICE_FEATURES (1ull << VIRTIO_F_VERSION_1 | 1ull << VHOST_USER_F_PROTOCOL_FEATURES)
#define VSOCK_DEVICE_PROTOCOL_FEATURES \
	(1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK | 1ull << VHOST_USER_PROTOCOL_F_CONFIG)

struct vsock_vring {
	uint16_t num;
	bool have_addr;
	uint64_t desc, used, avail; /* front-end user addresses */
	uint16_t base;
	int kick_fd, call_fd, err_fd; /* -1: none */
	bool started; /* a kick fd was given; stopped by GET_VRING_BASE */
	bool enabled;
	struct virtq q; /* set up when started with addresses and memory */
};

struct vsock_device {
	uint64_t guest_cid;
	uint64_t features, protocol_features; /* acknowledged by the front-end */
	bool owned;
	struct vmem_table mem;
	void *maps[VMEM_REGIONS_MAX];
	size_t map_sizes[VMEM_REGIONS_MAX];
	struct vsock_vring vr[VSOCK_DEVICE_VRINGS];
};

void vsock_device_init(struct vsock_device *d, uint64_t guest_cid);
/* Unmaps the memory and closes every fd. */
void vsock_device_free(struct vsock_device *d);

/* Applies M (as vhost_user_msg_parse accepted it), taking FDS (m->n_fds of them: closed here
 * whatever happens).
 * >= 0: the length of the reply written to REPLY (0: none is due);
 * -errno: the request is refused and, without REPLY_ACK to say so, the
 * front-end is to be dropped: -EINVAL for a vring index, a size or a
 * feature not offered, -EFAULT for ring addresses outside guest memory,
 * -EPERM for SET_CONFIG (the CID is the device's), -errno of mmap(2).
 * With REPLY_ACK negotiated and NEED_REPLY set, a refusal is instead the
 * reply (a u64 status, non-zero), and a request that has no reply of its
 * own gets one of 0. */
int vsock_device_handle(struct vsock_device *d, const struct vhost_user_msg *m, const int *fds,
			uint8_t *reply, size_t reply_size);

/* The ring's queue when it may be processed: started, enabled, set up;
 * NULL otherwise. */
struct virtq *vsock_device_ring(struct vsock_device *d, unsigned index);
