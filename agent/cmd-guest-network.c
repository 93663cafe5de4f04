/* guest-network-get-interfaces: the links and their addresses from
 * net-dump.c, shaped as qemu-ga's getifaddrs(3) + SIOCGIFHWADDR +
 * /proc/net/dev answer. */
#include <jansson.h>
#include <stdio.h>

#include "agent.h"
#include "cmd-json.h"
#include "command.h"
#include "log.h"
#include "net-dump.h"
#include "utf8.h"

static json_t *iface_json(const struct net_iface *f)
{
	const unsigned char *h = f->hwaddr;
	char mac[18];
	json_t *o = json_object();

	if (!o)
		return NULL;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", h[0], h[1], h[2], h[3], h[4],
		 h[5]);
	if (cmd_json_set(o, "name", utf8_json_string(f->name)) < 0 ||
	    cmd_json_set(o, "hardware-address", json_string(mac)) < 0)
		goto oom;
	/* qemu-ga lists addresses and reads statistics only for interfaces
	 * that have an address: an interface without one has neither member
	 * (not empty ones) */
	if (!f->addrs)
		return o;
	if (cmd_json_set(o, "ip-addresses", json_incref(f->addrs)) < 0)
		goto oom;
	if (f->has_stats) {
		const struct rtnl_link_stats64 *s = &f->stats;
		/* /proc/net/dev's columns, qemu-ga's source: "drop" on receive
		 * counts rx_dropped + rx_missed_errors */
		json_t *st = json_pack(
			"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "rx-bytes", (json_int_t)s->rx_bytes,
			"rx-packets", (json_int_t)s->rx_packets, "rx-errs",
			(json_int_t)s->rx_errors, "rx-dropped",
			(json_int_t)(s->rx_dropped + s->rx_missed_errors), "tx-bytes",
			(json_int_t)s->tx_bytes, "tx-packets", (json_int_t)s->tx_packets, "tx-errs",
			(json_int_t)s->tx_errors, "tx-dropped", (json_int_t)s->tx_dropped);

		if (cmd_json_set(o, "statistics", st) < 0)
			goto oom;
	}
	return o;
oom:
	json_decref(o);
	return NULL;
}

static enum cmd_result get_interfaces(struct agent *a, json_t *args, json_t **result,
				      struct cmd_error *err)
{
	struct net_dump d = { 0 };
	json_t *list = NULL;
	int r;

	(void)a, (void)args;
	r = net_dump_run(&d, false, err);
	if (r < 0)
		goto out;
	if (d.truncated)
		log_warn("guest-network-get-interfaces: more than %d interfaces or %d addresses, "
			 "the rest left out",
			 NET_IFACES_MAX, NET_ADDRS_MAX);
	list = json_array();
	if (!list) {
		r = cmd_fail(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d.n; i++) {
		if (cmd_json_append(list, iface_json(&d.ifaces[i])) < 0) {
			json_decref(list);
			r = cmd_fail(err, "out of memory");
			goto out;
		}
	}
	*result = list;
out:
	net_dump_free(&d);
	return r;
}

const struct command cmd_guest_network_table[] = {
	{ "guest-network-get-interfaces", get_interfaces, { { 0 } }, 0 },
	{ 0 },
};
