/* libFuzzer target: the addresses a user types (host/client-addr.c:
 * unix:PATH, vsock:CID:PORT, hvsock:PATH:PORT, as --agent, forward and
 * shell take them) and the hybrid vsock socket's "CONNECT <port>\n" that
 * porthole-vsockd reads from any local client (host/vsock-hybrid.c). The
 * first byte picks. An address that parses formats back to one that
 * parses the same; the CONNECT line, offered a byte more at a time as
 * vsockd reads it, is 0 while a beginning and decided once, and a port it
 * accepts is the one that "CONNECT <port>\n" carries. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client-addr.h"
#include "vsock-hybrid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void addr(const uint8_t *data, size_t size)
{
	struct client_addr a, b;
	char *s = strndup((const char *)data, size), text[160];
	int r;

	if (!s)
		return;
	r = client_addr_parse(s, &a);
	if (r < 0 && r != -EINVAL && r != -ENAMETOOLONG && r != -ERANGE)
		abort();
	if (r == 0) {
		if (a.kind != CLIENT_ADDR_VSOCK &&
		    (!a.path[0] || !memchr(a.path, 0, sizeof(a.path))))
			abort();
		client_addr_format(&a, text, sizeof(text));
		if (client_addr_parse(text, &b) != 0 || b.kind != a.kind || b.port != a.port ||
		    b.cid != a.cid || strcmp(b.path, a.path) != 0)
			abort();
	}
	free(s);
}

static void hybrid(const uint8_t *data, size_t size)
{
	int decided = 0;
	uint32_t port = 0, first = 0;
	char line[VSOCK_HYBRID_LINE_MAX];

	if (size > 4 * VSOCK_HYBRID_LINE_MAX)
		return;
	for (size_t len = 1; len <= size; len++) {
		int r = vsock_hybrid_parse_connect((const char *)data, len, &port);

		if (r < 0 && r != -EINVAL)
			abort();
		/* a prefix still good is at most "CONNECT 4294967295\r" */
		if (r == 0 && len > VSOCK_HYBRID_LINE_MAX)
			abort();
		if (r > 0 && ((size_t)r > len || data[r - 1] != '\n'))
			abort();
		if (decided) {
			if (r != decided || (r > 0 && port != first))
				abort();
		} else if (r != 0) {
			decided = r;
			first = port;
		}
	}
	if (decided > 0) {
		/* the port as the line would carry it, parsed back the same */
		int n = snprintf(line, sizeof(line), "CONNECT %" PRIu32 "\n", first);

		if (vsock_hybrid_parse_connect(line, (size_t)n, &port) != n || port != first)
			abort();
		if (vsock_hybrid_format_ok(first, line, sizeof(line)) < 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1024)
		return 0;
	if (data[0] & 1)
		hybrid(data + 1, size - 1);
	else
		addr(data + 1, size - 1);
	return 0;
}
