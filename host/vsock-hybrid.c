/* The hybrid vsock handshake line (vsock-hybrid.h). Bytes are checked as
 * they arrive, so that a client sending garbage is refused at its first bad
 * byte rather than at the line's end: a prefix that is still good is at
 * most 19 bytes ("CONNECT 4294967295\r"). */
#include "vsock-hybrid.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char prefix[] = "CONNECT ";

int vsock_hybrid_parse_connect(const char *line, size_t len, uint32_t *ret_port)
{
	size_t plen = sizeof(prefix) - 1, i, digits = 0;
	uint64_t port = 0;

	if (memcmp(line, prefix, len < plen ? len : plen) != 0)
		return -EINVAL;
	for (i = plen; i < len; i++) {
		char ch = line[i];

		if (ch >= '0' && ch <= '9') {
			if (digits == 1 && port == 0)
				return -EINVAL; /* a leading zero */
			port = port * 10 + (uint64_t)(ch - '0');
			if (port > UINT32_MAX)
				return -EINVAL;
			digits++;
			continue;
		}
		if (!digits)
			return -EINVAL;
		if (ch == '\r' && i + 1 < len && line[i + 1] != '\n')
			return -EINVAL;
		if (ch == '\r')
			continue;
		if (ch != '\n')
			return -EINVAL;
		*ret_port = (uint32_t)port;
		return (int)(i + 1);
	}
	return 0;
}

int vsock_hybrid_format_ok(uint32_t port, char *buf, size_t size)
{
	int n = snprintf(buf, size, "OK %" PRIu32 "\n", port);

	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}
