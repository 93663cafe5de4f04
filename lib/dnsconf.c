/* resolv.conf's name servers and search domains (dnsconf.h). */
#include "dnsconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

bool dnsconf_server_valid(const char *s)
{
	unsigned char a[16];
	static const unsigned char zero[16];

	if (inet_pton(AF_INET, s, a) == 1)
		return memcmp(a, zero, 4) != 0;
	if (inet_pton(AF_INET6, s, a) == 1)
		return memcmp(a, zero, 16) != 0;
	return false;
}

bool dnsconf_domain_valid(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 253 || (len > 1 && s[len - 1] == '.' && s[len - 2] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)ch) && ch != '-' && ch != '_')
			return false;
		if (ch == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label == 0 || s[len - 1] != '-';
}

bool dnsconf_hostname_valid(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= DNSCONF_HOSTNAME_MAX && !strchr(s, '_') && s[len - 1] != '.' &&
	       dnsconf_domain_valid(s);
}

int dnsconf_add_server(struct dnsconf *d, const char *s)
{
	if (!dnsconf_server_valid(s))
		return -EINVAL;
	for (size_t i = 0; i < d->n_servers; i++)
		if (strcmp(d->servers[i], s) == 0)
			return 0;
	if (d->n_servers == DNSCONF_SERVERS_MAX)
		return -E2BIG;
	snprintf(d->servers[d->n_servers++], DNSCONF_ADDR_MAX, "%s", s);
	return 0;
}

int dnsconf_add_search(struct dnsconf *d, const char *s)
{
	if (!dnsconf_domain_valid(s))
		return -EINVAL;
	for (size_t i = 0; i < d->n_search; i++)
		if (strcmp(d->search[i], s) == 0)
			return 0;
	if (d->n_search == DNSCONF_SEARCH_MAX)
		return -E2BIG;
	snprintf(d->search[d->n_search++], DNSCONF_DOMAIN_MAX, "%s", s);
	return 0;
}

int dnsconf_format(const struct dnsconf *d, const char *who, char *buf, size_t size)
{
	size_t n = 0;
	int w;

	w = snprintf(buf, size, "# written by %s\n", who);
	if (w < 0 || (size_t)w >= size)
		return -ENOBUFS;
	n = (size_t)w;
	if (d->n_search) {
		for (size_t i = 0; i < d->n_search; i++) {
			w = snprintf(buf + n, size - n, "%s%s", i ? " " : "search ", d->search[i]);
			if (w < 0 || (size_t)w >= size - n)
				return -ENOBUFS;
			n += (size_t)w;
		}
		w = snprintf(buf + n, size - n, "\n");
		if (w < 0 || (size_t)w >= size - n)
			return -ENOBUFS;
		n += (size_t)w;
	}
	for (size_t i = 0; i < d->n_servers; i++) {
		w = snprintf(buf + n, size - n, "nameserver %s\n", d->servers[i]);
		if (w < 0 || (size_t)w >= size - n)
			return -ENOBUFS;
		n += (size_t)w;
	}
	return (int)n;
}

int dnsconf_parse(const char *text, struct dnsconf *ret)
{
	struct dnsconf d = { 0 };
	const char *p = text;

	while (*p) {
		size_t len = strcspn(p, "\n");
		char line[512], *save = NULL, *word;

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			word = strtok_r(line, " \t\r", &save);
			/* resolv.conf(5): "domain" and "search" are the same list;
			 * the last of them wins in glibc, here they add up */
			if (word && strcmp(word, "nameserver") == 0) {
				word = strtok_r(NULL, " \t\r", &save);
				if (!word || dnsconf_add_server(&d, word) == -EINVAL)
					return -EINVAL;
			} else if (word &&
				   (strcmp(word, "search") == 0 || strcmp(word, "domain") == 0)) {
				while ((word = strtok_r(NULL, " \t\r", &save)))
					if (dnsconf_add_search(&d, word) == -EINVAL)
						return -EINVAL;
			}
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	*ret = d;
	return 0;
}
