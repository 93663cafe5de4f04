/* The [net] keys, one table like init's own (config.c), and the kernel's
 * ip= syntax (Documentation/admin-guide/nfs/nfsroot.rst):
 * ip=<client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>:<dns0-ip>:<dns1-ip>:<ntp0-ip>
 * or ip=off|none|on|any|dhcp|bootp|rarp|both. */
#include "net-config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "dnsconf.h"
#include "util.h"

/* expected-value messages that name the offending part */
static char why[192];

struct net_key {
	const char *name;
	int (*parse)(struct net_config *n, const char *v, bool append, const char **expected);
	void (*format)(const struct net_config *n, char *buf, size_t size);
	const char *doc;
};

/* Copies S, which the caller has checked fits (match_valid: at most 17). */
static void copy_match(char dst[NETCFG_MATCH_MAX], const char *s)
{
	size_t len = strnlen(s, NETCFG_MATCH_MAX - 1);

	memcpy(dst, s, len);
	dst[len] = '\0';
}

static bool match_valid(const char *s)
{
	uint8_t mac[6];
	size_t len = strlen(s);

	if (strcmp(s, "*") == 0 || net_hwaddr_parse(s, mac) == 0)
		return true;
	/* an interface name: what the kernel's dev_valid_name() accepts */
	if (len == 0 || len >= NET_IFNAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]))
			return false;
	return true;
}

/* Splits V into WORDS (lib/conf.c's list rule); -E2BIG past MAX. */
static int split(const char *v, char words[][NETCFG_MATCH_MAX * 4], size_t max, size_t *ret_n)
{
	return conf_split(v, words[0], sizeof(words[0]), max, ret_n);
}

static int p_dhcp(struct net_config *n, const char *v, bool append, const char **expected)
{
	char words[NETCFG_IFACES_MAX][NETCFG_MATCH_MAX * 4];
	size_t k, base = append ? n->n_dhcp : 0;

	*expected = "interface names, MAC addresses or '*', at most 8";
	if (split(v, words, NETCFG_IFACES_MAX, &k) < 0 || base + k > NETCFG_IFACES_MAX)
		return -EINVAL;
	for (size_t i = 0; i < k; i++)
		if (!match_valid(words[i])) {
			snprintf(why, sizeof(why),
				 "interface names, MAC addresses or '*'; '%.40s' is none",
				 words[i]);
			*expected = why;
			return -EINVAL;
		}
	for (size_t i = 0; i < k; i++)
		copy_match(n->dhcp[base + i], words[i]);
	n->n_dhcp = base + k;
	return 0;
}

int net_config_parse_static(const char *value, struct net_static *ret, const char **expected)
{
	char words[3 + 2 * NETCFG_ADDRS_MAX + 4][NETCFG_MATCH_MAX * 4];
	struct net_static s = { 0 };
	size_t k;

	*expected = "IFACE ADDR/PREFIX... [gw ADDR]... [mtu N]";
	if (split(value, words, ARRAY_SIZE(words), &k) < 0 || k < 2)
		return -EINVAL;
	if (!match_valid(words[0])) {
		snprintf(why, sizeof(why), "IFACE ADDR/PREFIX...; '%.40s' is not an interface",
			 words[0]);
		*expected = why;
		return -EINVAL;
	}
	copy_match(s.match, words[0]);
	for (size_t i = 1; i < k; i++) {
		const char *w = words[i];

		if (strcmp(w, "gw") == 0 || strcmp(w, "via") == 0) {
			struct net_prefix gw;

			if (i + 1 == k || net_addr_parse(words[i + 1], 0, &gw) < 0) {
				snprintf(why, sizeof(why), "gw followed by an address, not '%.40s'",
					 i + 1 < k ? words[i + 1] : "");
				*expected = why;
				return -EINVAL;
			}
			if (gw.family == AF_INET)
				s.gw4 = gw;
			else
				s.gw6 = gw;
			i++;
		} else if (strcmp(w, "mtu") == 0) {
			int64_t mtu;

			/* 68: the IPv4 minimum (RFC 791); 65535 the largest IPv4 datagram */
			if (i + 1 == k || parse_int64(words[i + 1], 68, 65535, &mtu) < 0) {
				*expected = "mtu followed by 68 to 65535";
				return -EINVAL;
			}
			s.mtu = (unsigned)mtu;
			i++;
		} else {
			struct net_prefix p;

			if (net_prefix_parse(w, &p) < 0 || p.len == 0) {
				snprintf(why, sizeof(why),
					 "ADDR/PREFIX (10.0.0.2/24, fd00::2/64); '%.60s' is an "
					 "invalid prefix",
					 w);
				*expected = why;
				return -EINVAL;
			}
			if (s.n_addrs == NETCFG_ADDRS_MAX) {
				*expected = "at most 4 addresses per interface";
				return -EINVAL;
			}
			s.addrs[s.n_addrs++] = p;
		}
	}
	if (s.n_addrs == 0) {
		*expected = "at least one ADDR/PREFIX after the interface";
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

static int add_static(struct net_config *n, const struct net_static *s)
{
	/* a later entry for the same interface replaces the earlier one: the
	 * command line overrides init.conf */
	for (size_t i = 0; i < n->n_statics; i++)
		if (strcmp(n->statics[i].match, s->match) == 0) {
			n->statics[i] = *s;
			return 0;
		}
	if (n->n_statics == NETCFG_IFACES_MAX)
		return -E2BIG;
	n->statics[n->n_statics++] = *s;
	return 0;
}

static int p_static(struct net_config *n, const char *v, bool append, const char **expected)
{
	struct net_static s;

	(void)append;
	if (net_config_parse_static(v, &s, expected) < 0)
		return -EINVAL;
	if (add_static(n, &s) < 0) {
		*expected = "at most 8 interfaces";
		return -EINVAL;
	}
	return 0;
}

/* net.dns and net.search: every word checked before the list is kept */
static int dns_list(struct net_config *n, const char *v, bool append, bool servers,
		    const char **expected)
{
	char words[DNSCONF_SEARCH_MAX + 1][NETCFG_MATCH_MAX * 4];
	struct dnsconf d = n->dns;
	size_t k, max = servers ? DNSCONF_SERVERS_MAX : DNSCONF_SEARCH_MAX;

	*expected = servers ? "IPv4 or IPv6 addresses of name servers, at most 3"
			    : "domain names, at most 6";
	if (!append && servers)
		d.n_servers = 0;
	else if (!append)
		d.n_search = 0;
	if (split(v, words, max + 1, &k) < 0)
		return -EINVAL;
	for (size_t i = 0; i < k; i++) {
		int r = servers ? dnsconf_add_server(&d, words[i])
				: dnsconf_add_search(&d, words[i]);

		if (r < 0) {
			snprintf(why, sizeof(why), "%s, at most %zu; '%.60s' %s",
				 servers ? "name server addresses" : "domain names", max, words[i],
				 r == -E2BIG ? "is one too many"
				 : servers   ? "is not an address"
					     : "is not a domain name");
			*expected = why;
			return -EINVAL;
		}
	}
	n->dns = d;
	return 0;
}

static int p_dns(struct net_config *n, const char *v, bool append, const char **expected)
{
	return dns_list(n, v, append, true, expected);
}

static int p_search(struct net_config *n, const char *v, bool append, const char **expected)
{
	return dns_list(n, v, append, false, expected);
}

static int p_mtu(struct net_config *n, const char *v, bool append, const char **expected)
{
	int64_t mtu;

	(void)append;
	*expected = "0 (the DHCP server's or the kernel's) or 68 to 65535";
	if (parse_int64(v, 0, 65535, &mtu) < 0 || (mtu > 0 && mtu < 68))
		return -EINVAL;
	n->mtu = (unsigned)mtu;
	return 0;
}

static int p_accept_ra(struct net_config *n, const char *v, bool append, const char **expected)
{
	int64_t ra;

	(void)append;
	*expected = "0, 1, 2 (ip-sysctl's accept_ra) or 'kernel'";
	if (strcmp(v, "kernel") == 0) {
		n->accept_ra = -1;
		return 0;
	}
	if (parse_int64(v, 0, 2, &ra) < 0)
		return -EINVAL;
	n->accept_ra = (int)ra;
	return 0;
}

static int p_dhcp_hostname(struct net_config *n, const char *v, bool append, const char **expected)
{
	(void)append;
	*expected = "a boolean (1/0, yes/no, true/false, on/off)";
	return parse_bool(v, &n->dhcp_hostname);
}

static int p_rapid_commit(struct net_config *n, const char *v, bool append, const char **expected)
{
	(void)append;
	*expected = "a boolean (1/0, yes/no, true/false, on/off)";
	return parse_bool(v, &n->rapid_commit);
}

static int p_ip(struct net_config *n, const char *v, bool append, const char **expected)
{
	(void)append;
	return net_config_parse_ip(n, v, expected);
}

static bool in_words(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* ip=: only IPv4, colons separate the fields */
static int ip_field(const char *f, const char *what, uint8_t ret[4], const char **expected)
{
	if (inet_pton(AF_INET, f, ret) != 1) {
		snprintf(why, sizeof(why),
			 "the kernel's ip= syntax; %s '%.40s' is not an IPv4 address", what, f);
		*expected = why;
		return -EINVAL;
	}
	return 0;
}

int net_config_parse_ip(struct net_config *n, const char *value, const char **expected)
{
	static const char *const dhcp_words[] = {
		"on", "any", "dhcp", "bootp", "rarp", "both", NULL
	};
	char f[10][64] = { { 0 } };
	struct net_config t = *n;
	size_t k = 0;
	const char *p = value;
	uint8_t client[4], gw[4], mask[4];
	bool autoconf_off, autoconf_on;

	*expected = "the kernel's ip= syntax (nfsroot.rst): off, dhcp, or "
		    "CLIENT:SERVER:GW:NETMASK:HOSTNAME:DEVICE:AUTOCONF:DNS0:DNS1:NTP0";
	if (strcmp(value, "off") == 0 || strcmp(value, "none") == 0) {
		n->n_dhcp = 0;
		return 0;
	}
	if (in_words(value, dhcp_words)) {
		copy_match(n->dhcp[0], "*");
		n->n_dhcp = 1;
		return 0;
	}
	for (;;) {
		size_t len = strcspn(p, ":");

		if (k == ARRAY_SIZE(f) || len >= sizeof(f[0]))
			return -EINVAL;
		memcpy(f[k], p, len);
		f[k][len] = '\0';
		k++;
		p += len;
		if (!*p)
			break;
		p++;
	}
	autoconf_off = strcmp(f[6], "off") == 0 || strcmp(f[6], "none") == 0;
	autoconf_on = in_words(f[6], dhcp_words);
	if (f[6][0] && !autoconf_off && !autoconf_on) {
		snprintf(
			why, sizeof(why),
			"the kernel's ip= syntax; autoconf '%.20s' is not off, none, on, any, dhcp, bootp, rarp or both",
			f[6]);
		*expected = why;
		return -EINVAL;
	}
	if (f[5][0] && !match_valid(f[5])) {
		snprintf(why, sizeof(why), "the kernel's ip= syntax; '%.20s' is not an interface",
			 f[5]);
		*expected = why;
		return -EINVAL;
	}
	if (f[4][0]) {
		if (!dnsconf_hostname_valid(f[4])) {
			snprintf(why, sizeof(why),
				 "the kernel's ip= syntax; '%.40s' is not a host name", f[4]);
			*expected = why;
			return -EINVAL;
		}
		snprintf(t.ip_hostname, sizeof(t.ip_hostname), "%s", f[4]);
	}
	for (int i = 7; i <= 8; i++)
		if (f[i][0] && dnsconf_add_server(&t.dns, f[i]) < 0) {
			snprintf(why, sizeof(why),
				 "the kernel's ip= syntax; dns '%.40s' is not an address", f[i]);
			*expected = why;
			return -EINVAL;
		}
	/* no client address, or autoconf asked for: DHCP (the kernel would
	 * also try BOOTP and RARP, which porthole does not speak) */
	if (!f[0][0] || autoconf_on) {
		copy_match(t.dhcp[0], f[5][0] ? f[5] : "*");
		t.n_dhcp = 1;
		*n = t;
		return 0;
	}
	{
		struct net_static s = { 0 };
		unsigned len;

		if (ip_field(f[0], "client-ip", client, expected) < 0)
			return -EINVAL;
		if (f[3][0]) {
			if (ip_field(f[3], "netmask", mask, expected) < 0)
				return -EINVAL;
			if (net_netmask_to_len(mask, &len) < 0 || len == 0) {
				snprintf(
					why, sizeof(why),
					"the kernel's ip= syntax; netmask '%.40s' is not contiguous",
					f[3]);
				*expected = why;
				return -EINVAL;
			}
		} else {
			/* the kernel's default: the address's class (ipconfig.c) */
			len = client[0] < 128 ? 8 : client[0] < 192 ? 16 : 24;
		}
		copy_match(s.match, f[5][0] ? f[5] : "*");
		s.addrs[0].family = AF_INET;
		memcpy(s.addrs[0].addr, client, 4);
		s.addrs[0].len = len;
		s.n_addrs = 1;
		if (f[2][0]) {
			if (ip_field(f[2], "gw-ip", gw, expected) < 0)
				return -EINVAL;
			s.gw4.family = AF_INET;
			memcpy(s.gw4.addr, gw, 4);
			s.gw4.len = 32;
		}
		if (add_static(&t, &s) < 0) {
			*expected = "at most 8 interfaces";
			return -EINVAL;
		}
	}
	*n = t;
	return 0;
}

static void fmt_list(const char (*l)[NETCFG_MATCH_MAX], size_t k, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < k && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? " " : "", l[i]);
}

static void fmt_dhcp(const struct net_config *n, char *buf, size_t size)
{
	fmt_list((const char(*)[NETCFG_MATCH_MAX])n->dhcp, n->n_dhcp, buf, size);
}

static size_t fmt_static_one(const struct net_static *s, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "%s", s->match);
	char ps[64], a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < s->n_addrs && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, " %s",
				      net_prefix_str(&s->addrs[i], ps, sizeof(ps)));
	if (s->gw4.family && n < size && inet_ntop(AF_INET, s->gw4.addr, a, sizeof(a)))
		n += (size_t)snprintf(buf + n, size - n, " gw %s", a);
	if (s->gw6.family && n < size && inet_ntop(AF_INET6, s->gw6.addr, a, sizeof(a)))
		n += (size_t)snprintf(buf + n, size - n, " gw %s", a);
	if (s->mtu && n < size)
		n += (size_t)snprintf(buf + n, size - n, " mtu %u", s->mtu);
	return n < size ? n : size;
}

static void fmt_static(const struct net_config *n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n->n_statics && len + 3 < size; i++) {
		if (i)
			len += (size_t)snprintf(buf + len, size - len, "; ");
		len += fmt_static_one(&n->statics[i], buf + len, size - len);
	}
}

static void fmt_dns(const struct net_config *n, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0, len = 0; i < n->dns.n_servers && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "",
					n->dns.servers[i]);
}

static void fmt_search(const struct net_config *n, char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0, len = 0; i < n->dns.n_search && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "",
					n->dns.search[i]);
}

static void fmt_mtu(const struct net_config *n, char *buf, size_t size)
{
	snprintf(buf, size, "%u", n->mtu);
}

static void fmt_accept_ra(const struct net_config *n, char *buf, size_t size)
{
	if (n->accept_ra < 0)
		snprintf(buf, size, "kernel");
	else
		snprintf(buf, size, "%d", n->accept_ra);
}

static void fmt_dhcp_hostname(const struct net_config *n, char *buf, size_t size)
{
	snprintf(buf, size, "%d", n->dhcp_hostname);
}

static void fmt_rapid_commit(const struct net_config *n, char *buf, size_t size)
{
	snprintf(buf, size, "%d", n->rapid_commit);
}

static void fmt_ip(const struct net_config *n, char *buf, size_t size)
{
	(void)n;
	snprintf(buf, size, "-");
}

static const struct net_key keys[] = {
	{ "dhcp", p_dhcp, fmt_dhcp, "interfaces configured by DHCP" },
	{ "static", p_static, fmt_static, "static addresses, gateways, MTU" },
	{ "dns", p_dns, fmt_dns, "name servers (instead of DHCP's)" },
	{ "search", p_search, fmt_search, "search domains (instead of DHCP's)" },
	{ "mtu", p_mtu, fmt_mtu, "MTU of configured interfaces" },
	{ "accept_ra", p_accept_ra, fmt_accept_ra, "IPv6 router advertisements" },
	{ "dhcp_hostname", p_dhcp_hostname, fmt_dhcp_hostname, "take DHCP's host name" },
	{ "rapid_commit", p_rapid_commit, fmt_rapid_commit, "ask for DHCP rapid commit" },
	{ "ip", p_ip, fmt_ip, "the kernel's ip= (into dhcp, static, dns)" },
};

_Static_assert(ARRAY_SIZE(keys) == NETCFG_KEYS, "origin[] and the key table differ");

void net_config_defaults(struct net_config *n)
{
	memset(n, 0, sizeof(*n));
	n->accept_ra = -1;
	n->rapid_commit = true;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		snprintf(n->origin[i], sizeof(n->origin[i]), "default");
}

int net_config_set(struct net_config *n, const char *key, const char *value, bool append,
		   const char *where, const char **expected)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strcmp(key, keys[i].name) != 0)
			continue;
		if (keys[i].parse(n, value, append, expected) < 0)
			return -EINVAL;
		snprintf(n->origin[i], sizeof(n->origin[i]), "%s", where);
		return 0;
	}
	return -ENOENT;
}

void net_config_dump(const struct net_config *n, int fd)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char value[1024], name[32];

		keys[i].format(n, value, sizeof(value));
		snprintf(name, sizeof(name), "net.%s", keys[i].name);
		dprintf(fd, "%-14s = %-30s # %s (%s)\n", name, value, keys[i].doc, n->origin[i]);
	}
}

void net_config_describe(const struct net_config *n, int fd)
{
	char buf[512];

	for (size_t i = 0; i < n->n_statics; i++) {
		fmt_static_one(&n->statics[i], buf, sizeof(buf));
		dprintf(fd, "static %s\n", buf);
	}
	for (size_t i = 0; i < n->n_dhcp; i++)
		dprintf(fd, "dhcp %s\n", n->dhcp[i]);
}
