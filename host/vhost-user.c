/* vhost-user message parsing (vhost-user.h). A table gives each request
 * its payload type; the sizes are checked against the type before any
 * field is read. Numbers are in the machine's byte order (vhost-user.rst,
 * "Message Specification"): both ends are on this machine. */
#include "vhost-user.h"

#include <errno.h>
#include <string.h>

enum payload {
	P_NONE,
	P_U64,
	P_STATE,
	P_ADDR,
	P_VRING_FD,
	P_MEM,
	P_CONFIG,
};

#define STATE_SIZE 8
#define ADDR_SIZE 40
#define MEM_HDR_SIZE 8
#define REGION_SIZE 32

static const struct {
	uint32_t request;
	enum payload payload;
} requests[] = {
	{ VHOST_USER_GET_FEATURES, P_NONE },
	{ VHOST_USER_SET_FEATURES, P_U64 },
	{ VHOST_USER_SET_OWNER, P_NONE },
	{ VHOST_USER_RESET_OWNER, P_NONE },
	{ VHOST_USER_SET_MEM_TABLE, P_MEM },
	{ VHOST_USER_SET_VRING_NUM, P_STATE },
	{ VHOST_USER_SET_VRING_ADDR, P_ADDR },
	{ VHOST_USER_SET_VRING_BASE, P_STATE },
	{ VHOST_USER_GET_VRING_BASE, P_STATE },
	{ VHOST_USER_SET_VRING_KICK, P_VRING_FD },
	{ VHOST_USER_SET_VRING_CALL, P_VRING_FD },
	{ VHOST_USER_SET_VRING_ERR, P_VRING_FD },
	{ VHOST_USER_GET_PROTOCOL_FEATURES, P_NONE },
	{ VHOST_USER_SET_PROTOCOL_FEATURES, P_U64 },
	{ VHOST_USER_SET_VRING_ENABLE, P_STATE },
	{ VHOST_USER_GET_CONFIG, P_CONFIG },
	{ VHOST_USER_SET_CONFIG, P_CONFIG },
};

static int payload_of(uint32_t request, enum payload *ret)
{
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (requests[i].request == request) {
			*ret = requests[i].payload;
			return 0;
		}
	return -EOPNOTSUPP;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Whether SIZE can be the size of a payload of type P (exact for the fixed
 * ones; the variable ones are checked again against their own fields). */
static bool size_fits(enum payload p, uint32_t size)
{
	switch (p) {
	case P_NONE:
		return size == 0;
	case P_U64:
	case P_VRING_FD:
		return size == 8;
	case P_STATE:
		return size == STATE_SIZE;
	case P_ADDR:
		return size == ADDR_SIZE;
	case P_MEM:
		return size >= MEM_HDR_SIZE + REGION_SIZE &&
		       size <= MEM_HDR_SIZE + REGION_SIZE * VHOST_USER_REGIONS_MAX &&
		       (size - MEM_HDR_SIZE) % REGION_SIZE == 0;
	case P_CONFIG:
		return size >= VHOST_USER_CONFIG_HDR && size <= VHOST_USER_PAYLOAD_MAX;
	}
	return false;
}

int vhost_user_hdr_parse(const uint8_t *buf, size_t len, struct vhost_user_hdr *ret)
{
	struct vhost_user_hdr h;
	enum payload p;
	int r;

	if (len != VHOST_USER_HDR_SIZE)
		return -EMSGSIZE;
	h.request = get32(buf);
	h.flags = get32(buf + 4);
	h.size = get32(buf + 8);
	if ((h.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    (h.flags & ~(VHOST_USER_VERSION_MASK | VHOST_USER_FLAG_NEED_REPLY)))
		return -EPROTO;
	r = payload_of(h.request, &p);
	if (r < 0)
		return r;
	if (!size_fits(p, h.size))
		return -EMSGSIZE;
	*ret = h;
	return 0;
}

static int parse_mem(const uint8_t *payload, size_t len, unsigned n_fds, struct vhost_user_msg *m)
{
	uint32_t n = get32(payload);

	/* the count decides the size: both must agree before a region is read */
	if (n == 0 || n > VHOST_USER_REGIONS_MAX)
		return -EINVAL;
	if (len != MEM_HDR_SIZE + (size_t)REGION_SIZE * n)
		return -EMSGSIZE;
	if (n_fds != n)
		return -EBADF;
	m->mem.n = n;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *r = payload + MEM_HDR_SIZE + (size_t)REGION_SIZE * i;

		m->mem.r[i] = (struct vhost_user_region){ .guest_addr = get64(r),
							  .size = get64(r + 8),
							  .user_addr = get64(r + 16),
							  .mmap_offset = get64(r + 24) };
		if (!m->mem.r[i].size)
			return -EINVAL;
	}
	return 0;
}

static int parse_config(const uint8_t *payload, size_t len, struct vhost_user_msg *m)
{
	uint32_t offset = get32(payload), size = get32(payload + 4);

	if (size > VHOST_USER_CONFIG_MAX || offset > VHOST_USER_CONFIG_MAX - size)
		return -EINVAL;
	if (len != VHOST_USER_CONFIG_HDR + (size_t)size)
		return -EMSGSIZE;
	m->config.offset = offset;
	m->config.size = size;
	m->config.flags = get32(payload + 8);
	memcpy(m->config.data, payload + VHOST_USER_CONFIG_HDR, size);
	return 0;
}

int vhost_user_msg_parse(const struct vhost_user_hdr *hdr, const uint8_t *payload, size_t len,
			 unsigned n_fds, struct vhost_user_msg *ret)
{
	struct vhost_user_msg m;
	enum payload p;
	uint64_t v;
	int r;

	r = payload_of(hdr->request, &p);
	if (r < 0)
		return r;
	if (len != hdr->size || !size_fits(p, hdr->size))
		return -EMSGSIZE;
	memset(&m, 0, sizeof(m));
	m.hdr = *hdr;
	m.n_fds = n_fds;
	if (p != P_MEM && p != P_VRING_FD && n_fds)
		return -EBADF;
	switch (p) {
	case P_NONE:
		break;
	case P_U64:
		m.u64 = get64(payload);
		break;
	case P_STATE:
		m.state.index = get32(payload);
		m.state.num = get32(payload + 4);
		break;
	case P_ADDR:
		m.addr.index = get32(payload);
		m.addr.flags = get32(payload + 4);
		m.addr.desc = get64(payload + 8);
		m.addr.used = get64(payload + 16);
		m.addr.avail = get64(payload + 24);
		m.addr.log = get64(payload + 32);
		break;
	case P_VRING_FD:
		v = get64(payload);
		if (v & ~(uint64_t)(VHOST_USER_VRING_INDEX_MASK | VHOST_USER_VRING_NOFD))
			return -EINVAL;
		m.vring_fd.index = (uint32_t)(v & VHOST_USER_VRING_INDEX_MASK);
		m.vring_fd.nofd = !!(v & VHOST_USER_VRING_NOFD);
		if (n_fds != (m.vring_fd.nofd ? 0u : 1u))
			return -EBADF;
		break;
	case P_MEM:
		r = parse_mem(payload, len, n_fds, &m);
		if (r < 0)
			return r;
		break;
	case P_CONFIG:
		r = parse_config(payload, len, &m);
		if (r < 0)
			return r;
		break;
	}
	*ret = m;
	return 0;
}

int vhost_user_reply(uint32_t request, const void *payload, uint32_t size, uint8_t *buf,
		     size_t buf_size)
{
	uint32_t h[3] = { request, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, size };

	if (size > VHOST_USER_PAYLOAD_MAX || buf_size < VHOST_USER_HDR_SIZE + (size_t)size)
		return -ENOSPC;
	memcpy(buf, h, VHOST_USER_HDR_SIZE);
	if (size)
		memcpy(buf + VHOST_USER_HDR_SIZE, payload, size);
	return (int)(VHOST_USER_HDR_SIZE + size);
}

int vhost_user_reply_u64(uint32_t request, uint64_t v, uint8_t *buf, size_t buf_size)
{
	return vhost_user_reply(request, &v, sizeof(v), buf, buf_size);
}

int vhost_user_reply_state(uint32_t request, uint32_t index, uint32_t num, uint8_t *buf,
			   size_t buf_size)
{
	uint32_t s[2] = { index, num };

	return vhost_user_reply(request, s, sizeof(s), buf, buf_size);
}
