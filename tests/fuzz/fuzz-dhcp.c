/* libFuzzer target: what a DHCP server (or anyone on the link) sends init:
 * an IPv4/UDP packet through dhcp_udp_unwrap, then the DHCP message through
 * dhcp_parse. The first byte picks whether the input is the whole packet or
 * the DHCP message alone (with the xid and MAC the message carries, so that
 * the option parser is reached). Whatever the input, an accepted lease is
 * one init could apply. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp-packet.h"
#include "dnsconf.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lease(const struct dhcp_lease *l)
{
	struct dhcp_times t;

	if (l->type != DHCP_OFFER && l->type != DHCP_ACK && l->type != DHCP_NAK)
		abort();
	if (l->prefix_len > 32 || l->n_routers > DHCP_ROUTERS_MAX || l->n_dns > DHCP_DNS_MAX)
		abort();
	if (l->mtu && l->mtu < 68)
		abort();
	if (strlen(l->hostname) > DHCP_NAME_MAX ||
	    (l->hostname[0] && !dnsconf_domain_valid(l->hostname)))
		abort();
	if (l->domain[0] && !dnsconf_domain_valid(l->domain))
		abort();
	if (l->type != DHCP_NAK && (!l->lease_s || !l->has_server_id))
		abort();
	dhcp_lease_times(l, &t);
	if (t.t1_s > t.t2_s || t.t2_s > t.lease_s)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *msg;
	size_t len;
	struct dhcp_lease l;
	uint32_t xid;

	if (size < 1 || size > 4096)
		return 0;
	log_set_level(LOG_LEVEL_EMERG);
	if (data[0] & 1) {
		if (dhcp_udp_unwrap(data + 1, size - 1, data[0] & 2, &msg, &len) != DHCP_OK)
			return 0;
		if (msg < data + 1 || msg + len > data + size)
			abort();
	} else {
		msg = data + 1;
		len = size - 1;
	}
	if (len < 34)
		return 0;
	xid = (uint32_t)msg[4] << 24 | (uint32_t)msg[5] << 16 | (uint32_t)msg[6] << 8 | msg[7];
	if (dhcp_parse(msg, len, xid, msg + 28, &l) == DHCP_OK)
		check_lease(&l);
	return 0;
}
