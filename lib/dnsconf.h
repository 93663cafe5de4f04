/* DNS client configuration as /etc/resolv.conf holds it (resolv.conf(5)):
 * name servers and search domains, validated, formatted and parsed. Shared
 * by init (DHCP, static configuration) and the agent (porthole-dns-set);
 * writing the file is left to them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* glibc's resolver reads at most 3 name servers (MAXNS) and 6 search
 * domains; more are kept out rather than silently ignored by it. */
#define DNSCONF_SERVERS_MAX 3
#define DNSCONF_SEARCH_MAX 6
#define DNSCONF_ADDR_MAX 46 /* INET6_ADDRSTRLEN */
#define DNSCONF_DOMAIN_MAX 254
#define DNSCONF_TEXT_MAX 4096

#define RESOLV_CONF_PATH "/etc/resolv.conf"
/* Written by the agent for porthole-dns-set: init's DHCP client uses it
 * instead of the lease's DNS, so that a renewal keeps what the host pushed. */
#define DNS_OVERRIDE_PATH "/run/porthole/dns.override"

struct dnsconf {
	char servers[DNSCONF_SERVERS_MAX][DNSCONF_ADDR_MAX];
	size_t n_servers;
	char search[DNSCONF_SEARCH_MAX][DNSCONF_DOMAIN_MAX];
	size_t n_search;
};

/* An IPv4 or IPv6 address in text, not unspecified (0.0.0.0, ::). */
bool dnsconf_server_valid(const char *s);
/* A domain name (RFC 1035 2.3.1 with RFC 1123's leading digits): labels of
 * letters, digits, '-' and '_', 1 to 63 bytes, 253 in all, a trailing dot
 * allowed. */
bool dnsconf_domain_valid(const char *s);
/* A host name (RFC 1123): a domain name of at most DNSCONF_HOSTNAME_MAX
 * characters without '_' or a final dot. Shared by init.conf's hostname,
 * the kernel's ip= and DHCP's host name. */
#define DNSCONF_HOSTNAME_MAX 64
bool dnsconf_hostname_valid(const char *s);

/* Add one server or domain: -EINVAL when invalid, -E2BIG when full; a
 * duplicate is skipped (0). */
int dnsconf_add_server(struct dnsconf *d, const char *s);
int dnsconf_add_search(struct dnsconf *d, const char *s);

/* resolv.conf text: a comment naming WHO, "search ...", "nameserver ..." lines. */
int dnsconf_format(const struct dnsconf *d, const char *who, char *buf, size_t size);
/* Reads "nameserver" and "search"/"domain" lines of TEXT; other lines are
 * skipped. -EINVAL (nothing kept) when a value is invalid. */
int dnsconf_parse(const char *text, struct dnsconf *ret);
