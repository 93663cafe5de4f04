/* libFuzzer target: what a vhost-user front-end sends porthole-vsockd, as
 * vhost_user_hdr_parse and vhost_user_msg_parse see it, then what the
 * accepted messages do to the device (vsock_device_handle). The input is a
 * stream of messages, each a byte giving the number of fds that came with
 * it (0 to 9), the 12-byte header and the payload; the stream ends at the
 * first message refused, as the connection would. Each fd is a copy of one
 * 64 KiB memfd standing for guest RAM. Whatever the input: an accepted
 * message holds only what its request allows, a reply fits its buffer,
 * a ring set up reads only guest memory, and no fd is left open. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost-user.h"
#include "vsock-device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE 0x10000
#define MSGS_MAX 64

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
		if (vhost_user_reply(m->hdr.request, m->config.data, m->config.size, reply,
				     sizeof(reply)) != (int)(VHOST_USER_HDR_SIZE + m->config.size))
			abort();
		break;
	default:
		if (n_fds)
			abort();
	}
}

static int ram_fd(void)
{
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("guest-ram", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, RAM_SIZE) < 0)
			abort();
	}
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t reply[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];
	int sent[MSGS_MAX * VHOST_USER_FDS_MAX];
	unsigned n_sent = 0;
	struct vsock_device d;
	size_t at = 0;

	vsock_device_init(&d, 3);
	for (int k = 0; k < MSGS_MAX && size - at >= 1 + VHOST_USER_HDR_SIZE; k++) {
		struct vhost_user_hdr h;
		struct vhost_user_msg m;
		int fds[VHOST_USER_FDS_MAX + 1];
		unsigned n_fds = data[at] % (VHOST_USER_FDS_MAX + 2);
		size_t len;
		int r;

		if (vhost_user_hdr_parse(data + at + 1, VHOST_USER_HDR_SIZE, &h) < 0)
			break;
		if (h.size > VHOST_USER_PAYLOAD_MAX)
			abort();
		at += 1 + VHOST_USER_HDR_SIZE;
		/* the payload as read: what the header said, or less when the
		 * input (the connection) ended first */
		len = size - at < h.size ? size - at : h.size;
		r = vhost_user_msg_parse(&h, data + at, len, n_fds, &m);
		at += len;
		if (r < 0)
			break;
		check(&m, n_fds);
		for (unsigned i = 0; i < n_fds; i++) {
			fds[i] = dup(ram_fd());
			if (fds[i] < 0)
				abort();
			sent[n_sent++] = fds[i];
		}
		r = vsock_device_handle(&d, &m, fds, reply, sizeof(reply));
		if (r > (int)sizeof(reply))
			abort();
		for (unsigned i = 0; i < VSOCK_DEVICE_VRINGS; i++) {
			struct virtq *q = vsock_device_ring(&d, i);
			struct virtq_chain c;

			if (q && virtq_pop(q, &d.mem, &c) != 0)
				(void)virtq_push(q, c.head, 0);
		}
	}
	vsock_device_free(&d);
	/* every fd sent was closed or kept, and kept ones closed by now */
	for (unsigned i = 0; i < n_sent; i++)
		if (fcntl(sent[i], F_GETFD) >= 0)
			abort();
	return 0;
}
