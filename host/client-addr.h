/* Where the guest agent is and how to reach it: the address syntax (unix,
 * vsock, and hybrid vsock: the "CONNECT <port>" unix socket of Firecracker,
 * Cloud Hypervisor and vhost-user vsock backends), connecting within a
 * deadline, and closing without upsetting qemu-ga. What is said on the
 * connection is the call engine's (client.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client-error.h"

enum client_addr_kind {
	CLIENT_ADDR_UNIX, /* unix:PATH */
	CLIENT_ADDR_VSOCK, /* vsock:CID:PORT */
	CLIENT_ADDR_HVSOCK, /* hvsock:PATH:PORT, "CONNECT PORT\n" over a unix socket */
};

struct client_addr {
	enum client_addr_kind kind;
	char path[108]; /* sun_path: unix and hvsock */
	uint32_t cid; /* vsock */
	uint32_t port; /* vsock and hvsock */
};

/* "unix:PATH", "vsock:CID:PORT", "hvsock:PATH:PORT" (PATH may contain ':';
 * the port follows the last one). -EINVAL for anything else, -ENAMETOOLONG
 * for a path that does not fit sun_path, -ERANGE for a CID or port over 2^32-1. */
int client_addr_parse(const char *s, struct client_addr *ret);
/* The address back in the syntax above, for messages. */
void client_addr_format(const struct client_addr *a, char *buf, size_t size);

/* Connects to A before DEADLINE (CLOCK_MONOTONIC ns, as lib's fd_wait), and
 * runs the hybrid-vsock handshake; returns a non-blocking, close-on-exec fd.
 * A unix socket whose listener's queue is full is waited for (qemu-ga
 * serves one client at a time): -ETIMEDOUT when it stays full. */
int client_addr_connect(const struct client_addr *a, uint64_t deadline, struct client_error *err);

/* Closes FD, reading what the peer sent first; when replies are still due
 * (WAITING), half-closes and reads until the peer closes, at most 250 ms
 * and 1 MiB: qemu-ga 7.2 exits when a client closes with a reply left
 * unread (tests/fixtures/qga-7.2-replies.md). */
void client_addr_close(int fd, bool waiting);
