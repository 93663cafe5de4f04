/* vhost-user messages (QEMU's docs/interop/vhost-user.rst) as a device
 * backend receives them: the 12-byte header, then each request's payload
 * checked for its exact size and its file descriptors counted before a
 * field is read; requests porthole-vsockd does not implement are refused.
 * And the replies' bytes. Reading and writing the socket is the caller's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VHOST_USER_HDR_SIZE 12
/* flags: the version in the two low bits, then REPLY and NEED_REPLY */
#define VHOST_USER_VERSION 1u
#define VHOST_USER_VERSION_MASK 3u
#define VHOST_USER_FLAG_REPLY (1u << 2)
#define VHOST_USER_FLAG_NEED_REPLY (1u << 3)

/* SET_MEM_TABLE's regions (VHOST_MEMORY_BASELINE_NREGIONS), and as many fds */
#define VHOST_USER_REGIONS_MAX 8
#define VHOST_USER_FDS_MAX VHOST_USER_REGIONS_MAX
/* QEMU's VHOST_USER_MAX_CONFIG_SIZE */
#define VHOST_USER_CONFIG_MAX 256
#define VHOST_USER_CONFIG_HDR 12
/* The longest payload accepted: a config space of the maximum size */
#define VHOST_USER_PAYLOAD_MAX (VHOST_USER_CONFIG_HDR + VHOST_USER_CONFIG_MAX)

/* Feature bits: GET_FEATURES/SET_FEATURES */
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VIRTIO_F_VERSION_1 32
/* Protocol feature bits: GET/SET_PROTOCOL_FEATURES */
#define VHOST_USER_PROTOCOL_F_MQ 0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_PROTOCOL_F_CONFIG 9

/* SET_VRING_KICK/CALL/ERR's u64: the ring in bits 0-7, bit 8 "no fd" */
#define VHOST_USER_VRING_INDEX_MASK 0xffu
#define VHOST_USER_VRING_NOFD (1u << 8)

enum vhost_user_request {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
};

struct vhost_user_hdr {
	uint32_t request, flags, size;
};

struct vhost_user_region {
	uint64_t guest_addr, size, user_addr, mmap_offset;
};

struct vhost_user_msg {
	struct vhost_user_hdr hdr;
	unsigned n_fds;
	union {
		uint64_t u64; /* SET_FEATURES, SET_PROTOCOL_FEATURES */
		struct {
			uint32_t index, num;
		} state; /* SET_VRING_NUM/BASE/ENABLE, GET_VRING_BASE */
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log; /* front-end user addresses */
		} addr; /* SET_VRING_ADDR */
		struct {
			uint32_t index;
			bool nofd;
		} vring_fd; /* SET_VRING_KICK/CALL/ERR */
		struct {
			uint32_t n;
			struct vhost_user_region r[VHOST_USER_REGIONS_MAX];
		} mem; /* SET_MEM_TABLE: fd i maps region i */
		struct {
			uint32_t offset, size, flags;
			uint8_t data[VHOST_USER_CONFIG_MAX];
		} config; /* GET_CONFIG, SET_CONFIG */
	};
};

/* The header in BUF (VHOST_USER_HDR_SIZE bytes): -EPROTO for a version
 * other than 1, a reply, or unknown flag bits; -EOPNOTSUPP for a request
 * not listed above; -EMSGSIZE for a size the request's payload cannot have.
 * On success, ret->size bytes of payload (at most VHOST_USER_PAYLOAD_MAX)
 * follow. */
int vhost_user_hdr_parse(const uint8_t *buf, size_t len, struct vhost_user_hdr *ret);

/* The payload (LEN bytes, what followed HDR) and the number of fds that
 * came with it: -EMSGSIZE when LEN is not what the request's payload type
 * has (SET_MEM_TABLE: 8 + 32 a region; the config: 12 + its size); -EBADF
 * when the fds are not what the request carries (one a region; KICK/CALL/ERR
 * one unless "no fd"; none otherwise); -EINVAL for a field no front-end may
 * send (no region or more than 8, a region of size 0, a config larger than
 * 256 or out of range, reserved bits in a vring fd's u64). The fds stay
 * the caller's, to close on failure. */
int vhost_user_msg_parse(const struct vhost_user_hdr *hdr, const uint8_t *payload, size_t len,
			 unsigned n_fds, struct vhost_user_msg *ret);

/* A reply to REQUEST with SIZE bytes of PAYLOAD, into BUF: its length, or
 * -ENOSPC. A u64 (GET_FEATURES, GET_PROTOCOL_FEATURES, REPLY_ACK's status:
 * 0 success) and a vring state (GET_VRING_BASE) have their own. */
int vhost_user_reply(uint32_t request, const void *payload, uint32_t size, uint8_t *buf,
		     size_t buf_size);
int vhost_user_reply_u64(uint32_t request, uint64_t v, uint8_t *buf, size_t buf_size);
int vhost_user_reply_state(uint32_t request, uint32_t index, uint32_t num, uint8_t *buf,
			   size_t buf_size);
