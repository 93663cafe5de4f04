/* The network step: the configuration (net-config.c) applied to the links
 * that exist at boot and to those that appear later (RTMGRP_LINK), DHCP
 * clients started and stopped with the link's carrier, resolv.conf and
 * /run/porthole/net.state rewritten atomically when a lease changes. */
#include "net-setup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dhcp.h"
#include "dnsconf.h"
#include "log.h"
#include "net-link.h"
#include "sysctl.h"
#include "util.h"

/* links init configures; others (docker's veths) are not tracked */
#define LINKS_MAX 32
#define STATE_MAX (16 * 1024)

enum method {
	METHOD_NONE,
	METHOD_STATIC,
	METHOD_DHCP,
};

struct link {
	bool used;
	int index;
	char name[NET_IFNAME_MAX];
	uint8_t mac[6];
	enum method method;
	int static_idx;
	unsigned flags;
	unsigned mtu;
	struct dhcp_client *dhcp;
	char error[96]; /* the last configuration failure, for the state file */
};

static struct {
	struct supervisor *sup;
	const struct net_config *cfg;
	char hostname[65]; /* the configured one, restored when a lease goes */
	bool sandbox;
	int monitor_fd;
	struct link links[LINKS_MAX];
	bool static_applied[NETCFG_IFACES_MAX];
	char static_error[NETCFG_IFACES_MAX][96];
	char last_resolv[DNSCONF_TEXT_MAX];
	bool resolv_owned;
} net;

static bool is_nic(const char *name)
{
	char path[64];

	/* a link with a device behind it (virtio-net, e1000), not a veth,
	 * bridge, tun or dummy: /sys/class/net/NAME/device exists */
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", name);
	return access(path, F_OK) == 0;
}

static bool matches(const char *sel, const struct net_link *l)
{
	uint8_t mac[6];

	if (strcmp(sel, "*") == 0)
		return is_nic(l->name);
	if (net_hwaddr_parse(sel, mac) == 0)
		return l->hwaddr_len == 6 && memcmp(l->hwaddr, mac, 6) == 0;
	return strcmp(sel, l->name) == 0;
}

static void mac_str(const uint8_t *m, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void ip4_str(const uint8_t *a, char *buf, size_t size)
{
	if (!inet_ntop(AF_INET, a, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

static int64_t to_realtime(uint64_t boot_ns)
{
	struct timespec ts;

	if (boot_ns == UINT64_MAX)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec + ((int64_t)boot_ns - (int64_t)now_boot_ns()) / 1000000000;
}

/* The DNS to write: the host's override (porthole-dns-set), else the
 * configuration's, else what the leases carry. */
static void collect_dns(struct dnsconf *d, const char **source)
{
	_cleanup_free_ char *text = NULL;

	memset(d, 0, sizeof(*d));
	if (read_file(DNS_OVERRIDE_PATH, DNSCONF_TEXT_MAX, &text, NULL) == 0) {
		if (dnsconf_parse(text, d) == 0) {
			*source = "override";
			return;
		}
		log_warn("%s: not valid, ignoring", DNS_OVERRIDE_PATH);
		memset(d, 0, sizeof(*d));
	}
	if (net.cfg->dns.n_servers || net.cfg->dns.n_search) {
		*d = net.cfg->dns;
		*source = "config";
		if (d->n_servers)
			return;
	} else {
		*source = "dhcp";
	}
	for (int i = 0; i < LINKS_MAX; i++) {
		const struct dhcp_info *in;
		char a[INET_ADDRSTRLEN];

		if (!net.links[i].used || !net.links[i].dhcp)
			continue;
		in = dhcp_client_info(net.links[i].dhcp);
		if (!in->has_lease)
			continue;
		for (size_t k = 0; k < in->lease.n_dns; k++) {
			ip4_str(in->lease.dns[k], a, sizeof(a));
			dnsconf_add_server(d, a);
		}
		if (in->lease.domain[0] && !net.cfg->dns.n_search)
			dnsconf_add_search(d, in->lease.domain);
	}
}

static void write_resolv(void)
{
	struct dnsconf d;
	const char *source = "dhcp";
	char text[DNSCONF_TEXT_MAX];
	int len, r;

	collect_dns(&d, &source);
	/* nothing known, and the file never written by init: leave it be */
	if (!d.n_servers && !d.n_search && !net.resolv_owned)
		return;
	if (strcmp(source, "override") == 0)
		len = dnsconf_format(&d, "porthole-agent (porthole-dns-set)", text, sizeof(text));
	else
		len = dnsconf_format(&d, "porthole-init", text, sizeof(text));
	if (len < 0 || strcmp(text, net.last_resolv) == 0)
		return;
	r = write_file_atomic(RESOLV_CONF_PATH, text, (size_t)len, 0644);
	if (r < 0) {
		log_error_errno(r, "write %s", RESOLV_CONF_PATH);
		return;
	}
	snprintf(net.last_resolv, sizeof(net.last_resolv), "%s", text);
	net.resolv_owned = true;
	log_info("%s: %zu name servers, %zu search domains (%s)", RESOLV_CONF_PATH, d.n_servers,
		 d.n_search, source);
}

static size_t state_link(char *buf, size_t size, const struct link *k)
{
	char mac[18], a[INET_ADDRSTRLEN], ps[64];
	size_t n = 0;

#define OUT(...)                                                               \
	do {                                                                   \
		if (n < size)                                                  \
			n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__); \
	} while (0)
	mac_str(k->mac, mac, sizeof(mac));
	OUT("\n[%s]\nindex = %d\nmac = %s\nmethod = %s\nup = %d\ncarrier = %d\n", k->name, k->index,
	    mac, k->method == METHOD_DHCP ? "dhcp" : "static", !!(k->flags & IFF_UP),
	    !!(k->flags & IFF_RUNNING));
	if (k->error[0])
		OUT("error = %s\n", k->error);
	if (k->method == METHOD_STATIC) {
		const struct net_static *s = &net.cfg->statics[k->static_idx];

		OUT("address =");
		for (size_t i = 0; i < s->n_addrs; i++)
			OUT(" %s", net_prefix_str(&s->addrs[i], ps, sizeof(ps)));
		OUT("\n");
		if (s->gw4.family)
			OUT("router = %s\n", inet_ntop(AF_INET, s->gw4.addr, ps, sizeof(ps)));
		if (s->gw6.family)
			OUT("router6 = %s\n", inet_ntop(AF_INET6, s->gw6.addr, ps, sizeof(ps)));
	}
	if (k->dhcp) {
		const struct dhcp_info *in = dhcp_client_info(k->dhcp);
		const struct dhcp_lease *l = &in->lease;
		unsigned rejected = 0;

		for (int i = 1; i < DHCP_R_MAX; i++)
			rejected += in->rejected[i];
		OUT("state = %s\nleases = %u\nrejected = %u\n", dhcp_state_name(in->state),
		    in->leases, rejected + in->names_ignored);
		if (in->has_lease) {
			struct net_prefix p = { .family = AF_INET, .len = l->prefix_len };

			memcpy(p.addr, l->yiaddr, 4);
			if (!l->has_subnet)
				p.len = 32;
			OUT("address = %s\n", net_prefix_str(&p, ps, sizeof(ps)));
			ip4_str(l->server_id, a, sizeof(a));
			OUT("server = %s\n", a);
			if (l->n_routers) {
				ip4_str(l->routers[0], a, sizeof(a));
				OUT("router = %s\n", a);
			}
			OUT("dns =");
			for (size_t i = 0; i < l->n_dns; i++) {
				ip4_str(l->dns[i], a, sizeof(a));
				OUT(" %s", a);
			}
			OUT("\n");
			if (l->domain[0])
				OUT("domain = %s\n", l->domain);
			if (l->hostname[0])
				OUT("hostname = %s\n", l->hostname);
			if (l->mtu)
				OUT("mtu = %u\n", l->mtu);
			OUT("lease_time = %u\nobtained = %lld\nrenew = %lld\nrebind = %lld\n"
			    "expires = %lld\n",
			    in->times.lease_s, (long long)to_realtime(in->obtained_ns),
			    (long long)to_realtime(in->t1_ns), (long long)to_realtime(in->t2_ns),
			    (long long)to_realtime(in->expires_ns));
		}
	}
#undef OUT
	return n < size ? n : size;
}

/* /run/porthole/net.state, an INI file: [dns] then a section per configured
 * interface. The agent reads it for porthole-network. */
static void write_state(void)
{
	char buf[STATE_MAX];
	struct dnsconf d;
	const char *source = "dhcp";
	size_t n;
	int r;

	collect_dns(&d, &source);
	n = (size_t)snprintf(buf, sizeof(buf),
			     "# porthole-init's network state (docs/protocol.md, "
			     "porthole-network)\n[dns]\nsource = %s\nservers =",
			     source);
	for (size_t i = 0; i < d.n_servers && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s", d.servers[i]);
	if (n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\nsearch =");
	for (size_t i = 0; i < d.n_search && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s", d.search[i]);
	if (n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n");
	for (int i = 0; i < LINKS_MAX && n < sizeof(buf); i++)
		if (net.links[i].used)
			n += state_link(buf + n, sizeof(buf) - n, &net.links[i]);
	for (size_t i = 0; i < net.cfg->n_statics && n < sizeof(buf); i++)
		if (net.static_error[i][0])
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      "\n[%s]\nmethod = static\nerror = %s\n",
					      net.cfg->statics[i].match, net.static_error[i]);
	if (n >= sizeof(buf)) {
		log_warn("%s: more than %d bytes, cut short", NET_STATE_PATH, STATE_MAX);
		n = sizeof(buf) - 1;
	}
	r = mkdir_p("/run/porthole", 0755);
	if (r == 0)
		r = write_file_atomic(NET_STATE_PATH, buf, n, 0644);
	if (r < 0)
		log_error_errno(r, "write %s", NET_STATE_PATH);
}

/* The host name a server offers, only when asked for (net.dhcp_hostname):
 * the first lease that has one, else the configured name. */
static void set_dhcp_hostname(void)
{
	const char *h = net.hostname;
	char current[65] = "";

	for (int i = LINKS_MAX - 1; i >= 0; i--) {
		const struct dhcp_info *in;

		if (!net.links[i].used || !net.links[i].dhcp)
			continue;
		in = dhcp_client_info(net.links[i].dhcp);
		if (in->has_lease && in->lease.hostname[0])
			h = in->lease.hostname;
	}
	gethostname(current, sizeof(current) - 1);
	if (strcmp(current, h) == 0 || !dnsconf_hostname_valid(h))
		return;
	if (sethostname(h, strlen(h)) < 0)
		log_warn_errno(-errno, "set host name %s from DHCP, ignoring", h);
	else
		log_info("host name %s%s", h, h == net.hostname ? " (configured)" : " (DHCP)");
}

static void on_lease(struct dhcp_client *c, void *data)
{
	(void)c, (void)data;
	if (net.cfg->dhcp_hostname)
		set_dhcp_hostname();
	write_resolv();
	write_state();
}

static void set_accept_ra(const char *name)
{
	char key[96], v[4];
	int r;

	if (net.cfg->accept_ra < 0)
		return;
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra", name);
	snprintf(v, sizeof(v), "%d", net.cfg->accept_ra);
	r = sysctl_write(key, v);
	if (r < 0)
		log_warn_errno(r, "%s: accept_ra = %s, ignoring", name, v);
}

static void apply_static(struct link *k, int idx)
{
	const struct net_static *s = &net.cfg->statics[idx];
	unsigned mtu = s->mtu ? s->mtu : net.cfg->mtu;
	int r, failed = 0;

	set_accept_ra(k->name);
	r = net_link_set(k->index, k->name, true, mtu);
	if (r < 0) {
		snprintf(k->error, sizeof(k->error), "set up: %s", strerror(-r));
		return;
	}
	for (size_t i = 0; i < s->n_addrs; i++)
		if (net_addr_add(k->index, k->name, &s->addrs[i], UINT32_MAX, UINT32_MAX) < 0)
			failed++;
	for (int fam = 0; fam < 2; fam++) {
		const struct net_prefix *gw = fam == 0 ? &s->gw4 : &s->gw6;
		struct net_route rt = { .proto = RTPROT_STATIC };
		bool onlink = true;

		if (!gw->family)
			continue;
		rt.dst.family = gw->family;
		rt.gw = gw->addr;
		for (size_t i = 0; i < s->n_addrs; i++)
			if (s->addrs[i].family == gw->family &&
			    net_prefix_contains(&s->addrs[i], gw->addr))
				onlink = false;
		rt.onlink = onlink;
		if (net_route_add(k->index, k->name, &rt) < 0)
			failed++;
	}
	if (failed)
		snprintf(k->error, sizeof(k->error), "%d of its addresses and routes failed",
			 failed);
	else
		log_info("%s: configured statically", k->name);
}

static struct link *find_link(int index)
{
	for (int i = 0; i < LINKS_MAX; i++)
		if (net.links[i].used && net.links[i].index == index)
			return &net.links[i];
	return NULL;
}

/* A link init has not seen: what the configuration says of it. */
static struct link *adopt(const struct net_link *l)
{
	enum method m = METHOD_NONE;
	int idx = -1;
	struct link *k = NULL;

	for (size_t i = 0; i < net.cfg->n_statics && m == METHOD_NONE; i++)
		if (!net.static_applied[i] && matches(net.cfg->statics[i].match, l)) {
			m = METHOD_STATIC;
			idx = (int)i;
		}
	for (size_t i = 0; i < net.cfg->n_dhcp && m == METHOD_NONE; i++)
		if (matches(net.cfg->dhcp[i], l))
			m = METHOD_DHCP;
	if (m == METHOD_NONE)
		return NULL;
	for (int i = 0; i < LINKS_MAX && !k; i++)
		if (!net.links[i].used)
			k = &net.links[i];
	if (!k) {
		log_error("%s: more than %d configured interfaces, ignoring", l->name, LINKS_MAX);
		return NULL;
	}
	memset(k, 0, sizeof(*k));
	k->used = true;
	k->index = l->index;
	snprintf(k->name, sizeof(k->name), "%s", l->name);
	if (l->hwaddr_len >= 6)
		memcpy(k->mac, l->hwaddr, 6);
	k->method = m;
	k->static_idx = idx;
	if (m == METHOD_STATIC) {
		net.static_applied[idx] = true;
		net.static_error[idx][0] = '\0';
		apply_static(k, idx);
	} else {
		struct dhcp_settings set = {
			.rapid_commit = net.cfg->rapid_commit,
			.mtu = net.cfg->mtu,
		};

		if (l->hwaddr_len != 6) {
			log_error("%s: dhcp: not an Ethernet link (hardware address of %zu bytes)",
				  l->name, l->hwaddr_len);
			snprintf(k->error, sizeof(k->error), "not an Ethernet link");
			return k;
		}
		set_accept_ra(k->name);
		if (dhcp_client_new(net.sup, k->index, k->name, k->mac, &set, on_lease, NULL,
				    &k->dhcp) < 0)
			snprintf(k->error, sizeof(k->error), "DHCP client not started");
		/* up at first sight; later an administrator's down stays down */
		if (!(l->flags & IFF_UP))
			net_link_set(k->index, k->name, true, net.cfg->mtu);
		else if (net.cfg->mtu)
			net_link_set(k->index, k->name, true, net.cfg->mtu);
	}
	return k;
}

static void on_link(const struct net_link *l, void *data)
{
	struct link *k = find_link(l->index);
	bool changed = false;

	(void)data;
	if (l->flags & IFF_LOOPBACK)
		return;
	if (l->deleted) {
		if (!k)
			return;
		log_info("%s: gone", k->name);
		dhcp_client_free(k->dhcp);
		k->used = false;
		if (k->method == METHOD_STATIC)
			net.static_applied[k->static_idx] = false;
		write_state();
		return;
	}
	if (!k) {
		k = adopt(l);
		if (!k)
			return;
		changed = true;
	}
	if (k->flags != l->flags)
		changed = true;
	k->flags = l->flags;
	k->mtu = l->mtu;
	if (k->dhcp) {
		/* RUNNING: up with a carrier (operstate up); without it, the
		 * lease is dropped and DISCOVER starts again when it returns */
		bool running = (l->flags & IFF_UP) && (l->flags & IFF_RUNNING);

		if (running)
			dhcp_client_start(k->dhcp);
		else
			dhcp_client_stop(k->dhcp);
	}
	if (changed)
		write_state();
}

static void on_monitor(struct supervisor *s, int fd, uint32_t events, void *data)
{
	int r = net_monitor_read(fd, on_link, data);

	(void)s, (void)events;
	if (r == -ENOBUFS) {
		/* events were dropped: the dump says where every link is now */
		log_warn("link events lost; reading every link again");
		net_links_dump(on_link, data);
	} else if (r < 0) {
		log_warn_errno(r, "link events");
	}
}

void net_setup(struct supervisor *s, const struct init_config *cfg, bool sandbox)
{
	unsigned failed;

	memset(&net, 0, sizeof(net));
	net.sup = s;
	net.cfg = &cfg->net;
	net.sandbox = sandbox;
	snprintf(net.hostname, sizeof(net.hostname), "%s", cfg->hostname);
	net_link_up("lo");
	failed = sysctl_apply_file(SYSCTL_CONF_PATH, sandbox);
	if (failed)
		log_warn("%s: %u settings failed", SYSCTL_CONF_PATH, failed);
	if (!net.cfg->n_dhcp && !net.cfg->n_statics && !net.cfg->dns.n_servers &&
	    !net.cfg->dns.n_search)
		return;
	/* the monitor first, so that no link appears between dump and watch */
	net.monitor_fd = net_monitor_open();
	if (net.monitor_fd >= 0 && supervise_watch(s, net.monitor_fd, on_monitor, NULL) < 0) {
		log_error("link events: cannot watch; interfaces that appear later are not "
			  "configured");
		close(net.monitor_fd);
		net.monitor_fd = -1;
	}
	net_links_dump(on_link, NULL);
	for (size_t i = 0; i < net.cfg->n_statics; i++) {
		if (net.static_applied[i])
			continue;
		snprintf(net.static_error[i], sizeof(net.static_error[i]), "no such interface");
		log_error("net.static: %s: no such interface; the others are configured, this "
			  "one when it appears",
			  net.cfg->statics[i].match);
	}
	write_resolv();
	write_state();
}
