/* The "hybrid vsock" unix socket's one line of protocol, the convention of
 * Firecracker, Cloud Hypervisor and rust-vmm's vhost-device-vsock: a host
 * client writes "CONNECT <port>\n" and is answered "OK <host port>\n" once
 * the guest accepts. The parser and the answer; the sockets are the
 * caller's. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* What a caller need read of the line at most: "CONNECT 4294967295\r\n" is
 * 20 bytes, and a longer prefix is refused before it gets there. */
#define VSOCK_HYBRID_LINE_MAX 32

/* LINE holds LEN bytes read so far. > 0 with *ret_port set when they
 * begin with a whole "CONNECT <port>\n" (decimal, 0 to 2^32-1, no sign, no
 * leading zero but "0", one space; "\r\n" accepted): the line's length
 * (the bytes after it are the connection's); 0 when they are its beginning
 * (read more); -EINVAL when they cannot become one. */
int vsock_hybrid_parse_connect(const char *line, size_t len, uint32_t *ret_port);

/* "OK <port>\n" into BUF: its length, or -ENOSPC. */
int vsock_hybrid_format_ok(uint32_t port, char *buf, size_t size);
