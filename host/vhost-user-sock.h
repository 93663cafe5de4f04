/* vhost-user messages on the front-end's unix socket: one message read
 * (the header with its SCM_RIGHTS fds, then the payload, each bounded and
 * parsed by vhost-user.h before the next read), and a reply written. The
 * socket is blocking: the caller bounds a stalled front-end with
 * SO_RCVTIMEO/SO_SNDTIMEO. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vhost-user.h"

/* One message from FD: 1 with *ret parsed and its fds (ret->n_fds) in
 * RET_FDS (VHOST_USER_FDS_MAX of room), now the caller's; 0 when the
 * front-end closed the socket between messages. Otherwise -errno, and
 * every fd that came is closed: the errors of vhost_user_hdr_parse and
 * vhost_user_msg_parse, -EBADMSG when more fds came than a message may
 * carry, -ECONNRESET when the socket closed inside a message, -errno of
 * recvmsg(2) (-EAGAIN: SO_RCVTIMEO expired). After a refusal the rest of
 * the message may be unread: the front-end is to be dropped. */
int vhost_user_sock_recv(int fd, struct vhost_user_msg *ret, int *ret_fds);

/* Writes the LEN bytes of BUF (a reply built by vhost_user_reply*):
 * 0, or -errno of send(2). */
int vhost_user_sock_send(int fd, const uint8_t *buf, size_t len);
