/* The network's configuration: init.conf's [net] keys, porthole.net.* on the
 * kernel command line, and the kernel's own ip= (nfsroot.rst's syntax).
 * Parsing and validation only; net-setup.c applies it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "dnsconf.h"
#include "net-link.h"

#define NETCFG_IFACES_MAX 8 /* interfaces named in net.dhcp, entries of net.static */
#define NETCFG_ADDRS_MAX 4 /* addresses of one static interface */
#define NETCFG_MATCH_MAX 24 /* "eth0", "52:54:00:12:34:56" or "*" */
#define NETCFG_KEYS 9

/* One interface's static configuration. MATCH is a name, a MAC or "*" (the
 * first interface backed by a device). */
struct net_static {
	char match[NETCFG_MATCH_MAX];
	struct net_prefix addrs[NETCFG_ADDRS_MAX];
	size_t n_addrs;
	struct net_prefix gw4, gw6; /* family 0: none */
	unsigned mtu; /* 0: net.mtu, else the kernel's */
};

struct net_config {
	/* interfaces that get their address by DHCP: names, MACs or "*" (every
	 * interface backed by a device: not lo, veth, bridges...) */
	char dhcp[NETCFG_IFACES_MAX][NETCFG_MATCH_MAX];
	size_t n_dhcp;
	struct net_static statics[NETCFG_IFACES_MAX];
	size_t n_statics;
	struct dnsconf dns; /* net.dns and net.search: instead of DHCP's */
	unsigned mtu; /* 0: the server's (option 26), else the kernel's */
	int accept_ra; /* -1: the kernel's default; 0, 1, 2 (ip-sysctl.rst) */
	bool dhcp_hostname; /* take the host name a DHCP server offers */
	bool rapid_commit; /* ask for RFC 4039 rapid commit */
	char ip_hostname[65]; /* ip='s <hostname>, for config.c */
	char origin[NETCFG_KEYS][48];
};

void net_config_defaults(struct net_config *n);
/* Sets KEY (without "net.") to VALUE; APPEND for an indented continuation
 * line. 0, -ENOENT for an unknown key, -EINVAL with *EXPECTED saying what is
 * valid (it may name the part that is not). The value is kept only whole. */
int net_config_set(struct net_config *n, const char *key, const char *value, bool append,
		  const char *where, const char **expected);
/* Prints the keys as config_dump does. */
void net_config_dump(const struct net_config *n, int fd);
/* Describes what net-setup.c will do, for --check. */
void net_config_describe(const struct net_config *n, int fd);

/* One "IFACE ADDR/PREFIX... [gw ADDR]... [mtu N]" (net.static's syntax). */
int net_config_parse_static(const char *value, struct net_static *ret, const char **expected);
/* The kernel's ip= value, applied to N. */
int net_config_parse_ip(struct net_config *n, const char *value, const char **expected);
