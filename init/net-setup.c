/* The network step: the configuration (net-config.c) applied to the links
 * that exist at boot and to those that appear later (RTMGRP_LINK), DHCP
 * clients started and stopped with the link's carrier, resolv.conf and
 * /run/porthole/net.state rewritten atomically when a lease changes. What
 * to configure and what the files say are pure functions, first; the rest
 * talks to the kernel. */
#include "net-setup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dnsconf.h"
#include "log.h"
#include "sysctl.h"
#include "util.h"

/* links init configures; others (docker's veths) are not tracked */
#define LINKS_MAX 32
#define STATE_MAX (16 * 1024)

static bool matches(const char *sel, const struct net_link *l, bool nic)
{
	uint8_t mac[6];

	if (strcmp(sel, "*") == 0)
		return nic;
	if (net_hwaddr_parse(sel, mac) == 0)
		return l->hwaddr_len == 6 && memcmp(l->hwaddr, mac, 6) == 0;
	return strcmp(sel, l->name) == 0;
}

enum net_method net_setup_method(const struct net_config *cfg, const struct net_link *l, bool nic,
				 const bool taken[NETCFG_IFACES_MAX], int *ret_static)
{
	for (size_t i = 0; i < cfg->n_statics; i++)
		if (!taken[i] && matches(cfg->statics[i].match, l, nic)) {
			*ret_static = (int)i;
			return NET_METHOD_STATIC;
		}
	for (size_t i = 0; i < cfg->n_dhcp; i++)
		if (matches(cfg->dhcp[i], l, nic))
			return NET_METHOD_DHCP;
	return NET_METHOD_NONE;
}

static void ip4_str(const uint8_t *a, char *buf, size_t size)
{
	if (!inet_ntop(AF_INET, a, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

const char *net_setup_dns(const struct net_config *cfg, const struct dnsconf *override,
			  const struct dhcp_info *const *info, size_t n, struct dnsconf *ret)
{
	const char *source = "dhcp";

	if (override) {
		*ret = *override;
		return "override";
	}
	memset(ret, 0, sizeof(*ret));
	if (cfg->dns.n_servers || cfg->dns.n_search) {
		*ret = cfg->dns;
		source = "config";
		if (ret->n_servers)
			return source;
	}
	for (size_t i = 0; i < n; i++) {
		const struct dhcp_lease *l = &info[i]->lease;
		char a[INET_ADDRSTRLEN];

		if (!info[i]->has_lease)
			continue;
		for (size_t k = 0; k < l->n_dns; k++) {
			ip4_str(l->dns[k], a, sizeof(a));
			dnsconf_add_server(ret, a);
		}
		if (l->domain[0] && !cfg->dns.n_search)
			dnsconf_add_search(ret, l->domain);
	}
	return source;
}

int net_setup_resolv_text(const struct dnsconf *d, const char *source, char *buf, size_t size)
{
	return dnsconf_format(d,
			      strcmp(source, "override") == 0 ? "porthole-agent (porthole-dns-set)"
							      : "porthole-init",
			      buf, size);
}

/* Text appended to a buffer, counted whole as snprintf counts it. */
struct text {
	char *buf;
	size_t size, len;
};

static void __attribute__((format(printf, 2, 3))) out(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(t->len < t->size ? t->buf + t->len : NULL,
		      t->len < t->size ? t->size - t->len : 0, fmt, ap);
	va_end(ap);
	if (r > 0)
		t->len += (size_t)r;
}

static int64_t to_realtime(const struct net_state *st, uint64_t boot_ns)
{
	if (boot_ns == UINT64_MAX)
		return -1;
	return st->real_s + ((int64_t)boot_ns - (int64_t)st->boot_ns) / NSEC_PER_SEC;
}

static void state_dhcp(struct text *t, const struct net_state *st, const struct dhcp_info *in)
{
	const struct dhcp_lease *l = &in->lease;
	unsigned rejected = 0;
	char a[INET_ADDRSTRLEN], ps[64];

	for (int i = 1; i < DHCP_R_MAX; i++)
		rejected += in->rejected[i];
	out(t, "state = %s\nleases = %u\nrejected = %u\n", dhcp_state_name(in->state), in->leases,
	    rejected + in->names_ignored);
	if (in->has_lease) {
		struct net_prefix p;

		/* what dhcp.c put on the interface */
		dhcp_lease_prefix(l, &p);
		out(t, "address = %s\n", net_prefix_str(&p, ps, sizeof(ps)));
		ip4_str(l->server_id, a, sizeof(a));
		out(t, "server = %s\n", a);
		if (l->n_routers) {
			ip4_str(l->routers[0], a, sizeof(a));
			out(t, "router = %s\n", a);
		}
		out(t, "dns =");
		for (size_t i = 0; i < l->n_dns; i++) {
			ip4_str(l->dns[i], a, sizeof(a));
			out(t, " %s", a);
		}
		out(t, "\n");
		if (l->domain[0])
			out(t, "domain = %s\n", l->domain);
		if (l->hostname[0])
			out(t, "hostname = %s\n", l->hostname);
		if (l->mtu)
			out(t, "mtu = %u\n", l->mtu);
		out(t,
		    "lease_time = %u\nobtained = %lld\nrenew = %lld\nrebind = %lld\n"
		    "expires = %lld\n",
		    in->times.lease_s, (long long)to_realtime(st, in->obtained_ns),
		    (long long)to_realtime(st, in->t1_ns), (long long)to_realtime(st, in->t2_ns),
		    (long long)to_realtime(st, in->expires_ns));
	}
}

static void state_iface(struct text *t, const struct net_state *st, const struct net_iface *k)
{
	const uint8_t *m = k->mac;
	char ps[64];

	out(t,
	    "\n[%s]\nindex = %d\nmac = %02x:%02x:%02x:%02x:%02x:%02x\nmethod = %s\nup = %d\n"
	    "carrier = %d\n",
	    k->name, k->index, m[0], m[1], m[2], m[3], m[4], m[5],
	    k->method == NET_METHOD_DHCP ? "dhcp" : "static", !!(k->flags & IFF_UP),
	    !!(k->flags & IFF_RUNNING));
	if (k->error[0])
		out(t, "error = %s\n", k->error);
	if (k->method == NET_METHOD_STATIC) {
		const struct net_static *s = &st->cfg->statics[k->static_idx];

		out(t, "address =");
		for (size_t i = 0; i < s->n_addrs; i++)
			out(t, " %s", net_prefix_str(&s->addrs[i], ps, sizeof(ps)));
		out(t, "\n");
		if (s->gw4.family)
			out(t, "router = %s\n", inet_ntop(AF_INET, s->gw4.addr, ps, sizeof(ps)));
		if (s->gw6.family)
			out(t, "router6 = %s\n", inet_ntop(AF_INET6, s->gw6.addr, ps, sizeof(ps)));
	}
	if (k->dhcp)
		state_dhcp(t, st, k->dhcp);
}

size_t net_setup_state_text(const struct net_state *st, char *buf, size_t size)
{
	struct text t = { buf, size, 0 };

	if (size)
		buf[0] = '\0';
	out(&t,
	    "# porthole-init's network state (docs/protocol.md, porthole-network)\n[dns]\n"
	    "source = %s\nservers =",
	    st->dns_source);
	for (size_t i = 0; i < st->dns->n_servers; i++)
		out(&t, " %s", st->dns->servers[i]);
	out(&t, "\nsearch =");
	for (size_t i = 0; i < st->dns->n_search; i++)
		out(&t, " %s", st->dns->search[i]);
	out(&t, "\n");
	for (size_t i = 0; i < st->n_ifaces; i++)
		state_iface(&t, st, st->ifaces[i]);
	for (size_t i = 0; i < st->cfg->n_statics; i++)
		if (st->static_errors[i][0])
			out(&t, "\n[%s]\nmethod = static\nerror = %s\n", st->cfg->statics[i].match,
			    st->static_errors[i]);
	return t.len;
}

/* What follows applies it, on init's loop. */

struct link {
	bool used;
	struct net_iface i;
	unsigned mtu;
	struct dhcp_client *dhcp;
};

static struct {
	struct supervisor *sup;
	const struct net_config *cfg;
	char hostname[65]; /* the configured one, restored when a lease goes */
	bool sandbox;
	int monitor_fd;
	struct link links[LINKS_MAX];
	bool static_applied[NETCFG_IFACES_MAX];
	char static_error[NETCFG_IFACES_MAX][NET_ERROR_MAX];
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

/* The DNS to write, from the host's override, the configuration and the
 * leases held now. */
static const char *collect_dns(struct dnsconf *d)
{
	_cleanup_free_ char *text = NULL;
	const struct dhcp_info *info[LINKS_MAX];
	struct dnsconf override;
	bool has_override = false;
	size_t n = 0;

	if (read_file(DNS_OVERRIDE_PATH, DNSCONF_TEXT_MAX, &text, NULL) == 0) {
		has_override = dnsconf_parse(text, &override) == 0;
		if (!has_override)
			log_warn("%s: not valid, ignoring", DNS_OVERRIDE_PATH);
	}
	for (int i = 0; i < LINKS_MAX; i++)
		if (net.links[i].used && net.links[i].i.dhcp)
			info[n++] = net.links[i].i.dhcp;
	return net_setup_dns(net.cfg, has_override ? &override : NULL, info, n, d);
}

static void write_resolv(void)
{
	struct dnsconf d;
	const char *source = collect_dns(&d);
	char text[DNSCONF_TEXT_MAX];
	int len, r;

	/* nothing known, and the file never written by init: leave it be */
	if (!d.n_servers && !d.n_search && !net.resolv_owned)
		return;
	len = net_setup_resolv_text(&d, source, text, sizeof(text));
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

/* /run/porthole/net.state: the agent reads it for porthole-network. */
static void write_state(void)
{
	char buf[STATE_MAX];
	struct dnsconf d;
	const struct net_iface *ifaces[LINKS_MAX];
	struct net_state st = {
		.cfg = net.cfg,
		.dns = &d,
		.ifaces = ifaces,
		.static_errors = net.static_error,
		.boot_ns = now_boot_ns(),
		.real_s = time(NULL),
	};
	size_t n;
	int r;

	st.dns_source = collect_dns(&d);
	for (int i = 0; i < LINKS_MAX; i++)
		if (net.links[i].used)
			ifaces[st.n_ifaces++] = &net.links[i].i;
	n = net_setup_state_text(&st, buf, sizeof(buf));
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
		const struct dhcp_info *in = net.links[i].i.dhcp;

		if (!net.links[i].used || !in)
			continue;
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

	set_accept_ra(k->i.name);
	r = net_link_set(k->i.index, k->i.name, true, mtu);
	if (r < 0) {
		snprintf(k->i.error, sizeof(k->i.error), "set up: %s", strerror(-r));
		return;
	}
	for (size_t i = 0; i < s->n_addrs; i++)
		if (net_addr_add(k->i.index, k->i.name, &s->addrs[i], UINT32_MAX, UINT32_MAX) < 0)
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
		if (net_route_add(k->i.index, k->i.name, &rt) < 0)
			failed++;
	}
	if (failed)
		snprintf(k->i.error, sizeof(k->i.error), "%d of its addresses and routes failed",
			 failed);
	else
		log_info("%s: configured statically", k->i.name);
}

static struct link *find_link(int index)
{
	for (int i = 0; i < LINKS_MAX; i++)
		if (net.links[i].used && net.links[i].i.index == index)
			return &net.links[i];
	return NULL;
}

/* A link init has not seen: what the configuration says of it. */
static struct link *adopt(const struct net_link *l)
{
	int idx = -1;
	enum net_method m = net_setup_method(net.cfg, l, is_nic(l->name), net.static_applied, &idx);
	struct link *k = NULL;

	if (m == NET_METHOD_NONE)
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
	k->i.index = l->index;
	snprintf(k->i.name, sizeof(k->i.name), "%s", l->name);
	if (l->hwaddr_len >= 6)
		memcpy(k->i.mac, l->hwaddr, 6);
	k->i.method = m;
	k->i.static_idx = idx;
	if (m == NET_METHOD_STATIC) {
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
			snprintf(k->i.error, sizeof(k->i.error), "not an Ethernet link");
			return k;
		}
		set_accept_ra(k->i.name);
		if (dhcp_client_new(net.sup, k->i.index, k->i.name, k->i.mac, &set, on_lease, NULL,
				    &k->dhcp) < 0)
			snprintf(k->i.error, sizeof(k->i.error), "DHCP client not started");
		else
			k->i.dhcp = dhcp_client_info(k->dhcp);
		/* up at first sight; later an administrator's down stays down */
		if (!(l->flags & IFF_UP))
			net_link_set(k->i.index, k->i.name, true, net.cfg->mtu);
		else if (net.cfg->mtu)
			net_link_set(k->i.index, k->i.name, true, net.cfg->mtu);
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
		log_info("%s: gone", k->i.name);
		dhcp_client_free(k->dhcp);
		k->dhcp = NULL;
		k->i.dhcp = NULL;
		k->used = false;
		if (k->i.method == NET_METHOD_STATIC)
			net.static_applied[k->i.static_idx] = false;
		write_state();
		return;
	}
	if (!k) {
		k = adopt(l);
		if (!k)
			return;
		changed = true;
	}
	if (k->i.flags != l->flags)
		changed = true;
	k->i.flags = l->flags;
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
