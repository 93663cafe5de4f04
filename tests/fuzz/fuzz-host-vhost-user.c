/* libFuzzer target: what a vhost-user front-end sends porthole-vsockd, as
 * vhost_user_hdr_parse and vhost_user_msg_parse see it. The first byte is
 * the number of fds that came with the message (0 to 9), then the 12-byte
 * header, then the payload. Whatever the input, an accepted message holds
 * only what its request allows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vhost-user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct vhost_user_msg *m, unsigned n_fds)
{
	uint8_t reply[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];

	if (m->hdr.size > VHOST_USER_PAYLOAD_MAX || m->n_fds != n_fds)
		abort();
	switch (m->hdr.request) {
	case VHOST_USER_SET_MEM_TABLE:
		if (!m->mem.n || m->mem.n > VHOST_USER_REGIONS_MAX || n_fds != m->mem.n ||
		    m->hdr.size != 8 + 32 * m->mem.n)
			abort();
		for (unsigned i = 0; i < m->mem.n; i++)
			if (!m->mem.r[i].size)
				abort();
		break;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		if (m->vring_fd.index > VHOST_USER_VRING_INDEX_MASK ||
		    n_fds != (m->vring_fd.nofd ? 0u : 1u))
			abort();
		break;
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		if (m->config.size > VHOST_USER_CONFIG_MAX ||
		    m->config.offset > VHOST_USER_CONFIG_MAX - m->config.size || n_fds ||
		    m->hdr.size != VHOST_USER_CONFIG_HDR + m->config.size)
			abort();
		/* what a backend does with it: answer with the same size */
		if (vhost_user_reply(m->hdr.request, m->config.data, m->config.size, reply,
				     sizeof(reply)) != (int)(VHOST_USER_HDR_SIZE + m->config.size))
			abort();
		break;
	default:
		if (n_fds)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhost_user_hdr h;
	struct vhost_user_msg m;
	unsigned n_fds;
	size_t len;

	if (size < 1 + VHOST_USER_HDR_SIZE)
		return 0;
	n_fds = data[0] % (VHOST_USER_FDS_MAX + 2);
	if (vhost_user_hdr_parse(data + 1, VHOST_USER_HDR_SIZE, &h) < 0)
		return 0;
	if (h.size > VHOST_USER_PAYLOAD_MAX)
		abort();
	/* the payload as read: what the header said, or less when the input
	 * (the connection) ended first */
	len = size - 1 - VHOST_USER_HDR_SIZE;
	if (len > h.size)
		len = h.size;
	if (vhost_user_msg_parse(&h, data + 1 + VHOST_USER_HDR_SIZE, len, n_fds, &m) == 0)
		check(&m, n_fds);
	return 0;
}
