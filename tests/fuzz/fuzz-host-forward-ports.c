/* libFuzzer target: what `porthole forward ports` makes of porthole-ports'
 * answer, which comes from the guest. The input is the reply's result as
 * JSON text. Whatever it is: refused with a reason, or a set that is
 * sorted, without two forwards of the same protocol and port, each with a
 * port and a target that is an IP address; the diff of it against the
 * previous input's set names each change once, and against itself none. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forward-ports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct forward_port_set prev, cur;
static size_t changes;

static void count(void *data, enum forward_change change, const struct forward_port *before,
		  const struct forward_port *after)
{
	(void)data;
	if ((change == FORWARD_ADDED && (before || !after)) ||
	    (change == FORWARD_REMOVED && (!before || after)) ||
	    (change == FORWARD_RETARGETED && (!before || !after)))
		abort();
	changes++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	char why[160] = "";
	int64_t gen;
	uint8_t addr[16];

	if (!j)
		return 0;
	if (forward_ports_from_json(j, &gen, &cur, why, sizeof(why)) < 0) {
		if (!why[0])
			abort();
		json_decref(j);
		return 0;
	}
	json_decref(j);
	if (cur.n > FORWARD_PORTS_MAX)
		abort();
	for (size_t i = 0; i < cur.n; i++) {
		const struct forward_port *p = &cur.p[i];

		if (!p->port || (inet_pton(AF_INET, p->target, addr) != 1 &&
				 inet_pton(AF_INET6, p->target, addr) != 1))
			abort();
		if (i && (p->proto < cur.p[i - 1].proto ||
			  (p->proto == cur.p[i - 1].proto && p->port <= cur.p[i - 1].port)))
			abort();
	}
	changes = 0;
	forward_ports_diff(&cur, &cur, count, NULL);
	if (changes)
		abort();
	changes = 0;
	forward_ports_diff(&prev, &cur, count, NULL);
	if (changes > prev.n + cur.n)
		abort();
	prev = cur;
	return 0;
}
