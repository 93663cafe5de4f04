/* libFuzzer target: porthole-relay's "CONNECT <target>\n" line, the first
 * thing a forwarder's connection says to it, read as bytes arrive. The
 * input is offered the way the relay reads it, one more byte at a time:
 * while it is only a beginning the answer is 0; once it is decided (a
 * line, or a refusal with its reason) longer reads decide the same; an
 * accepted target is an address of its family, its port not 0. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct relay_target *t)
{
	switch (t->family) {
	case AF_UNIX: {
		const struct sockaddr_un *a = (const struct sockaddr_un *)&t->addr;

		if (t->type != SOCK_STREAM || a->sun_path[0] != '/' ||
		    !memchr(a->sun_path, 0, sizeof(a->sun_path)))
			abort();
		break;
	}
	case AF_INET:
		if (t->addr_len != sizeof(struct sockaddr_in) ||
		    !((const struct sockaddr_in *)&t->addr)->sin_port)
			abort();
		break;
	case AF_INET6:
		if (t->addr_len != sizeof(struct sockaddr_in6) ||
		    !((const struct sockaddr_in6 *)&t->addr)->sin6_port)
			abort();
		break;
	default:
		abort();
	}
	if (t->family != AF_UNIX && t->type != SOCK_STREAM && t->type != SOCK_DGRAM)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_target first, t;
	int decided = 0;

	/* the relay reads at most a line's worth before it decides */
	if (size > 2 * RELAY_LINE_MAX)
		return 0;
	for (size_t len = 1; len <= size; len++) {
		const char *why = NULL;
		int r = relay_parse_connect((const char *)data, len, &t, &why);

		if (r < 0 && (!why || !*why))
			abort();
		if (r > 0) {
			if ((size_t)r > len || data[r - 1] != '\n')
				abort();
			check(&t);
		}
		if (decided) {
			if (r != decided ||
			    (r > 0 && (t.family != first.family || t.type != first.type ||
				       t.addr_len != first.addr_len ||
				       memcmp(&t.addr, &first.addr, t.addr_len) != 0)))
				abort();
		} else if (r != 0) {
			decided = r;
			first = t;
		}
	}
	return 0;
}
