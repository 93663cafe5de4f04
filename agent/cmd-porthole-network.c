/* porthole-network: the interfaces (state, MAC, MTU, addresses), routes, DNS
 * and each interface's DHCP lease, from rtnetlink (net-dump.c's dumps),
 * /etc/resolv.conf and init's /run/porthole/net.state. porthole-dns-set:
 * the host's name servers, written to resolv.conf and to the override file
 * that init's DHCP client honours on renewal. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cmd-json.h"
#include "net-dump.h"
#include "command.h"
#include "conf.h"
#include "dnsconf.h"
#include "log.h"
#include "util.h"

#define NET_STATE_PATH "/run/porthole/net.state"
#define NET_STATE_MAX (64 * 1024)

/* net.state's keys that are numbers (seconds, counts); the rest are strings
 * and "dns" a list */
static const char *const number_keys[] = { "index",    "leases", "rejected", "lease_time",
					   "obtained", "renew",	 "rebind",   "expires",
					   "mtu",      "up",	 "carrier",  NULL };

static json_t *split_words(const char *v)
{
	json_t *a = json_array();
	char buf[1024], *save = NULL;

	if (!a)
		return NULL;
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (cmd_json_append(a, utf8_json_string(w)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* net.state is INI: "[eth0]" then "address = ...": conf_parse_ini hands
 * over "eth0.address"; the section is everything before the last dot
 * (a VLAN's name, eth0.100, has one too). */
static void state_entry(void *user, const char *key, const char *value, const char *where,
			bool continuation)
{
	json_t *state = user, *sec, *v;
	const char *dot = strrchr(key, '.');
	char section[64];
	int64_t n;

	(void)where, (void)continuation;
	if (!dot || (size_t)(dot - key) >= sizeof(section))
		return;
	memcpy(section, key, (size_t)(dot - key));
	section[dot - key] = '\0';
	sec = json_object_get(state, section);
	if (!sec) {
		sec = json_object();
		if (cmd_json_set(state, section, sec) < 0)
			return;
	}
	key = dot + 1;
	if (str_in_list(key, number_keys) && parse_int64(value, INT64_MIN, INT64_MAX, &n) == 0)
		v = json_integer(n);
	else if (strcmp(key, "dns") == 0 || strcmp(key, "servers") == 0 ||
		 strcmp(key, "search") == 0 || strcmp(key, "address") == 0)
		v = split_words(value);
	else
		v = utf8_json_string(value);
	cmd_json_set(sec, key, v);
}

/* init's view, {} when init wrote none (no [net] configuration, a sandbox
 * without init): porthole-network then reports what the kernel says. */
static json_t *read_state(void)
{
	_cleanup_free_ char *text = NULL;
	json_t *state = json_object();

	if (state && read_file(NET_STATE_PATH, NET_STATE_MAX, &text, NULL) == 0) {
		/* init writes it; a line the parser refuses is left out, and
		 * not logged at every request */
		conf_parse_ini(text, "net.state", state_entry, NULL, state);
	}
	return state;
}

static json_t *lease_json(json_t *sec)
{
	static const char *const keys[] = { "state",	  "server",   "address",  "router",
					    "dns",	  "domain",   "hostname", "mtu",
					    "lease_time", "obtained", "renew",	  "rebind",
					    "expires",	  "leases",   "rejected", NULL };
	json_t *o = json_object();

	if (!o)
		return NULL;
	for (const char *const *k = keys; *k; k++) {
		json_t *v = json_object_get(sec, *k);
		char name[32];

		if (!v)
			continue;
		snprintf(name, sizeof(name), "%s", *k);
		for (char *p = name; *p; p++)
			if (*p == '_')
				*p = '-';
		if (cmd_json_set(o, name, json_incref(v)) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *iface_json(const struct net_iface *f, json_t *state)
{
	const unsigned char *h = f->hwaddr;
	char mac[18];
	json_t *o = json_object(), *sec = json_object_get(state, f->name);

	if (!o)
		return NULL;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", h[0], h[1], h[2], h[3], h[4],
		 h[5]);
	if (cmd_json_set(o, "name", utf8_json_string(f->name)) < 0 ||
	    cmd_json_set(o, "index", json_integer(f->index)) < 0 ||
	    cmd_json_set(o, "mac", json_string(mac)) < 0 ||
	    cmd_json_set(o, "state", json_string(f->flags & IFF_UP ? "up" : "down")) < 0 ||
	    cmd_json_set(o, "carrier", json_boolean(f->flags & IFF_RUNNING)) < 0 ||
	    cmd_json_set(o, "mtu", json_integer(f->mtu)) < 0 ||
	    cmd_json_set(o, "addresses", f->addrs ? json_incref(f->addrs) : json_array()) < 0)
		goto oom;
	if (json_is_object(sec)) {
		json_t *m = json_object_get(sec, "method"), *e = json_object_get(sec, "error");

		if (m && cmd_json_set(o, "method", json_incref(m)) < 0)
			goto oom;
		if (e && cmd_json_set(o, "error", json_incref(e)) < 0)
			goto oom;
		if (json_object_get(sec, "state") && cmd_json_set(o, "dhcp", lease_json(sec)) < 0)
			goto oom;
	}
	return o;
oom:
	json_decref(o);
	return NULL;
}

static json_t *dns_json(json_t *state)
{
	_cleanup_free_ char *text = NULL;
	struct dnsconf d = { 0 };
	json_t *o = json_object(), *servers = json_array(), *search = json_array();
	json_t *src = json_object_get(json_object_get(state, "dns"), "source");

	/* resolv.conf is what the resolver uses, whoever wrote it */
	if (read_file(RESOLV_CONF_PATH, DNSCONF_TEXT_MAX, &text, NULL) == 0)
		dnsconf_parse(text, &d);
	for (size_t i = 0; i < d.n_servers; i++)
		cmd_json_append(servers, utf8_json_string(d.servers[i]));
	for (size_t i = 0; i < d.n_search; i++)
		cmd_json_append(search, utf8_json_string(d.search[i]));
	if (cmd_json_set(o, "servers", servers) < 0 || cmd_json_set(o, "search", search) < 0 ||
	    (src && cmd_json_set(o, "source", json_incref(src)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static enum cmd_result network(struct agent *a, json_t *args, json_t **result,
			       struct cmd_error *err)
{
	struct net_dump d = { 0 };
	json_t *state = NULL, *ifaces = NULL, *res = NULL;
	int r;

	(void)a, (void)args;
	r = net_dump_run(&d, true, err);
	if (r < 0)
		goto out;
	if (d.truncated)
		log_warn("porthole-network: more interfaces, addresses or routes than reported");
	state = read_state();
	ifaces = json_array();
	res = json_object();
	if (!state || !ifaces || !res)
		goto oom;
	for (size_t i = 0; i < d.n; i++)
		if (cmd_json_append(ifaces, iface_json(&d.ifaces[i], state)) < 0)
			goto oom;
	if (cmd_json_set(res, "interfaces", ifaces) < 0 ||
	    cmd_json_set(res, "routes", json_incref(d.routes ? d.routes : json_array())) < 0 ||
	    cmd_json_set(res, "dns", dns_json(state)) < 0) {
		ifaces = NULL;
		goto oom;
	}
	*result = res;
	res = NULL;
	goto out;
oom:
	json_decref(ifaces);
	r = cmd_fail(err, "out of memory");
out:
	json_decref(res);
	json_decref(state);
	net_dump_free(&d);
	return r;
}

/* Fills D from the JSON array V of strings; every entry is checked before
 * anything is written. */
static int take_list(json_t *v, const char *what, struct dnsconf *d, bool servers,
		     struct cmd_error *err)
{
	size_t i, max = servers ? DNSCONF_SERVERS_MAX : DNSCONF_SEARCH_MAX;
	json_t *e;

	if (!v)
		return 0;
	if (json_array_size(v) > max)
		return cmd_fail(err, "Too many entries in '%s': %zu, at most %zu", what,
				json_array_size(v), max);
	json_array_foreach(v, i, e)
	{
		const char *s = json_string_value(e); /* a string: the dispatcher checked */
		int r;

		r = servers ? dnsconf_add_server(d, s) : dnsconf_add_search(d, s);
		if (r < 0 && servers)
			return cmd_fail(err,
					"Invalid name server '%.*s' in 'servers': not an "
					"IPv4 or IPv6 address",
					utf8_prefix(s, 100), s);
		if (r < 0)
			return cmd_fail(err,
					"Invalid search domain '%.*s' in 'search': not a "
					"domain name",
					utf8_prefix(s, 100), s);
	}
	return 0;
}

static enum cmd_result dns_set(struct agent *a, json_t *args, json_t **result,
			       struct cmd_error *err)
{
	struct dnsconf d = { 0 };
	char text[DNSCONF_TEXT_MAX];
	int len, r;

	(void)a;
	if (take_list(json_object_get(args, "servers"), "servers", &d, true, err) < 0 ||
	    take_list(json_object_get(args, "search"), "search", &d, false, err) < 0)
		return -1;
	if (d.n_servers == 0)
		return cmd_fail(err, "'servers' must name at least one name server");
	len = dnsconf_format(&d, "porthole-agent (porthole-dns-set)", text, sizeof(text));
	if (len < 0)
		return cmd_fail(err, "resolv.conf: too long");
	/* the override first: init's next renewal keeps what the host pushed */
	r = mkdir_p("/run/porthole", 0755);
	if (r == 0)
		r = write_file_atomic(DNS_OVERRIDE_PATH, text, (size_t)len, 0644);
	if (r < 0)
		return cmd_fail_errno(err, -r, "write %s", DNS_OVERRIDE_PATH);
	r = write_file_atomic(RESOLV_CONF_PATH, text, (size_t)len, 0644);
	if (r < 0)
		return cmd_fail_errno(err, -r, "write %s", RESOLV_CONF_PATH);
	log_info("porthole-dns-set: %zu name servers, %zu search domains", d.n_servers, d.n_search);
	*result = NULL;
	return 0;
}

const struct command cmd_porthole_network_table[] = {
	{ "porthole-network", network, { { 0 } }, 0 },
	{ "porthole-dns-set",
	  dns_set,
	  { { "servers", ARG_STRING_ARRAY, true }, { "search", ARG_STRING_ARRAY, false } },
	  0 },
	{ 0 },
};
