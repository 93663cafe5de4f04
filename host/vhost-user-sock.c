/* Reading and writing vhost-user messages (vhost-user-sock.h). QEMU sends
 * a message's fds with its first bytes (vhost_user_write: one sendmsg), so
 * they are collected from the recvmsg(2) calls that read the header. */
#include "vhost-user-sock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void close_all(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		(void)close(fds[i]); /* received, never used */
}

/* Takes the SCM_RIGHTS fds of MH into FDS (*n so far): -EBADMSG when they
 * do not fit or were cut (all that came are closed by the caller then). */
static int take_fds(struct msghdr *mh, int *fds, unsigned *n)
{
	int r = (mh->msg_flags & MSG_CTRUNC) ? -EBADMSG : 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*n < VHOST_USER_FDS_MAX)
				fds[(*n)++] = fd;
			else {
				(void)close(fd); /* one too many: the message is refused */
				r = -EBADMSG;
			}
		}
	}
	return r;
}

int vhost_user_sock_recv(int fd, struct vhost_user_msg *ret, int *ret_fds)
{
	uint8_t hdr[VHOST_USER_HDR_SIZE], payload[VHOST_USER_PAYLOAD_MAX];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_FDS_MAX)];
	} control;
	struct vhost_user_hdr h;
	unsigned n_fds = 0;
	size_t got = 0;
	int r = 0;

	while (got < sizeof(hdr)) {
		struct iovec iov = { .iov_base = hdr + got, .iov_len = sizeof(hdr) - got };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = control.buf,
				     .msg_controllen = sizeof(control.buf) };
		ssize_t k = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			goto fail;
		}
		if (take_fds(&mh, ret_fds, &n_fds) < 0) {
			r = -EBADMSG;
			goto fail;
		}
		if (k == 0) {
			r = got || n_fds ? -ECONNRESET : 0;
			goto fail;
		}
		got += (size_t)k;
	}
	r = vhost_user_hdr_parse(hdr, sizeof(hdr), &h);
	if (r < 0)
		goto fail;
	/* h.size is at most VHOST_USER_PAYLOAD_MAX now */
	for (got = 0; got < h.size;) {
		ssize_t k = read(fd, payload + got, h.size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = k < 0 ? -errno : -ECONNRESET;
			goto fail;
		}
		got += (size_t)k;
	}
	r = vhost_user_msg_parse(&h, payload, h.size, n_fds, ret);
	if (r < 0)
		goto fail;
	return 1;
fail:
	close_all(ret_fds, n_fds);
	return r;
}

int vhost_user_sock_send(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t k = send(fd, buf, len, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}
