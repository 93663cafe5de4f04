/* The published ports' sets (forward-ports.h): the agent's answer checked
 * member by member before anything is used, each protocol and port's
 * addresses folded into one target as they come, sets kept sorted so that
 * two compare in one walk. */
#include "forward-ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/* How good a guest address is as a target: the lower the better. */
enum rank {
	RANK_V4_LOCAL, /* 0.0.0.0 or 127.0.0.1: 127.0.0.1 reaches it */
	RANK_V6_LOCAL, /* :: or ::1: ::1 reaches it (dual-stack or not) */
	RANK_V4, /* the guest's own IPv4 address */
	RANK_V6, /* its own IPv6 address */
	RANK_UNUSABLE, /* link-local IPv6: a connect needs its interface */
};

struct cand {
	enum rank rank;
	int family;
	uint8_t bytes[16];
};

/* -EINVAL when S is no IP address. */
static int classify(const char *s, struct cand *ret)
{
	static const uint8_t loop4[4] = { 127, 0, 0, 1 };
	struct cand c = { 0 };

	if (inet_pton(AF_INET, s, c.bytes) == 1) {
		static const uint8_t any4[4] = { 0 };

		c.family = AF_INET;
		c.rank = !memcmp(c.bytes, any4, 4) || !memcmp(c.bytes, loop4, 4) ? RANK_V4_LOCAL
										 : RANK_V4;
	} else if (inet_pton(AF_INET6, s, c.bytes) == 1) {
		struct in6_addr a;

		memcpy(&a, c.bytes, sizeof(a));
		c.family = AF_INET6;
		if (IN6_IS_ADDR_UNSPECIFIED(&a) || IN6_IS_ADDR_LOOPBACK(&a))
			c.rank = RANK_V6_LOCAL;
		else if (IN6_IS_ADDR_LINKLOCAL(&a))
			c.rank = RANK_UNUSABLE;
		else
			c.rank = RANK_V6;
	} else
		return -EINVAL;
	*ret = c;
	return 0;
}

static bool better(const struct cand *a, const struct cand *b)
{
	if (a->rank != b->rank)
		return a->rank < b->rank;
	return memcmp(a->bytes, b->bytes, sizeof(a->bytes)) < 0;
}

static void cand_text(const struct cand *c, char *buf)
{
	if (c->rank == RANK_V4_LOCAL)
		strcpy(buf, "127.0.0.1");
	else if (c->rank == RANK_V6_LOCAL)
		strcpy(buf, "::1");
	else if (!inet_ntop(c->family, c->bytes, buf, FORWARD_ADDR_MAX))
		strcpy(buf, "?"); /* cannot happen: the bytes came from inet_pton */
}

const char *forward_ports_target(const char *const *addrs, size_t n, char *buf)
{
	struct cand best = { .rank = RANK_UNUSABLE }, c;

	for (size_t i = 0; i < n; i++)
		if (classify(addrs[i], &c) == 0 && c.rank != RANK_UNUSABLE && better(&c, &best))
			best = c;
	if (best.rank == RANK_UNUSABLE)
		return NULL;
	cand_text(&best, buf);
	return buf;
}

static int cmp(enum forward_proto pa, uint16_t a, enum forward_proto pb, uint16_t b)
{
	if (pa != pb)
		return pa < pb ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* Where (PROTO, PORT) is in S, or where it would go: *FOUND says which. */
static size_t find(const struct forward_port_set *s, enum forward_proto proto, uint16_t port,
		   bool *found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp(s->p[mid].proto, s->p[mid].port, proto, port);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

int forward_ports_add(struct forward_port_set *s, const struct forward_port *p)
{
	bool found;
	size_t i = find(s, p->proto, p->port, &found);

	if (!found) {
		if (s->n == FORWARD_PORTS_MAX)
			return -ENOSPC;
		memmove(&s->p[i + 1], &s->p[i], (s->n - i) * sizeof(s->p[0]));
		s->n++;
	}
	s->p[i] = *p;
	return 0;
}

static int bad(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

int forward_ports_from_json(json_t *result, int64_t *ret_generation, struct forward_port_set *ret,
			    char *why, size_t why_size)
{
	/* the best address so far of each entry of RET, in the same order */
	struct cand best[FORWARD_PORTS_MAX];
	json_t *gen = json_object_get(result, "generation");
	json_t *ports = json_object_get(result, "ports");
	json_t *e;
	size_t i;

	if (!json_is_object(result))
		return bad(why, why_size, "expected an object");
	if (!json_is_integer(gen))
		return bad(why, why_size, "generation: expected an integer");
	if (!json_is_array(ports))
		return bad(why, why_size, "ports: expected an array");
	ret->n = ret->ignored = 0;
	json_array_foreach(ports, i, e)
	{
		const char *proto, *addr;
		json_t *port;
		struct forward_port p = { 0 };
		struct cand c;
		bool found;
		size_t k;

		if (!json_is_object(e))
			return bad(why, why_size, "ports[%zu]: expected an object", i);
		proto = json_string_value(json_object_get(e, "protocol"));
		addr = json_string_value(json_object_get(e, "address"));
		port = json_object_get(e, "port");
		if (!proto || (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0))
			return bad(why, why_size,
				   "ports[%zu].protocol: expected \"tcp\" or \"udp\"", i);
		if (!addr || classify(addr, &c) < 0)
			return bad(why, why_size, "ports[%zu].address: expected an IP address", i);
		if (!json_is_integer(port) || json_integer_value(port) < 1 ||
		    json_integer_value(port) > 65535)
			return bad(why, why_size, "ports[%zu].port: expected 1 to 65535", i);
		if (c.rank == RANK_UNUSABLE) {
			ret->ignored++;
			continue;
		}
		p.proto = proto[0] == 't' ? FORWARD_TCP : FORWARD_UDP;
		p.port = (uint16_t)json_integer_value(port);
		k = find(ret, p.proto, p.port, &found);
		if (found) {
			if (better(&c, &best[k]))
				best[k] = c;
			continue;
		}
		if (ret->n == FORWARD_PORTS_MAX) {
			ret->ignored++;
			continue;
		}
		memmove(&ret->p[k + 1], &ret->p[k], (ret->n - k) * sizeof(ret->p[0]));
		memmove(&best[k + 1], &best[k], (ret->n - k) * sizeof(best[0]));
		ret->p[k] = p;
		best[k] = c;
		ret->n++;
	}
	for (i = 0; i < ret->n; i++)
		cand_text(&best[i], ret->p[i].target);
	*ret_generation = json_integer_value(gen);
	return 0;
}

void forward_ports_diff(const struct forward_port_set *before, const struct forward_port_set *after,
			forward_change_fn fn, void *data)
{
	size_t i = 0, j = 0;

	while (i < before->n || j < after->n) {
		const struct forward_port *b = i < before->n ? &before->p[i] : NULL;
		const struct forward_port *a = j < after->n ? &after->p[j] : NULL;
		int c = !a ? -1 : !b ? 1 : cmp(b->proto, b->port, a->proto, a->port);

		if (c < 0) {
			fn(data, FORWARD_REMOVED, b, NULL);
			i++;
		} else if (c > 0) {
			fn(data, FORWARD_ADDED, NULL, a);
			j++;
		} else {
			if (strcmp(a->target, b->target) != 0)
				fn(data, FORWARD_RETARGETED, b, a);
			i++;
			j++;
		}
	}
}

int forward_ports_parse_spec(const char *s, struct forward_port *ret)
{
	struct forward_port p = { .proto = FORWARD_TCP };
	int64_t v;

	if (strncmp(s, "tcp:", 4) == 0)
		s += 4;
	else if (strncmp(s, "udp:", 4) == 0) {
		p.proto = FORWARD_UDP;
		s += 4;
	}
	/* parse_int64 would take blanks, a sign and leading zeros */
	if (*s < '1' || *s > '9' || strspn(s, "0123456789") != strlen(s) ||
	    parse_int64(s, 1, 65535, &v) < 0)
		return -EINVAL;
	p.port = (uint16_t)v;
	strcpy(p.target, "127.0.0.1");
	*ret = p;
	return 0;
}

int forward_ports_parse_bind(const char *s, struct forward_bind *ret)
{
	struct forward_bind b = { 0 };
	char buf[FORWARD_ADDR_MAX + 2];
	size_t len = strlen(s);

	if (len >= sizeof(buf))
		return -EINVAL;
	if (len > 2 && s[0] == '[' && s[len - 1] == ']') {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = 0;
		if (inet_pton(AF_INET6, buf, &b.v6) != 1)
			return -EINVAL;
		b.family = AF_INET6;
	} else if (inet_pton(AF_INET, s, &b.v4) == 1)
		b.family = AF_INET;
	else if (inet_pton(AF_INET6, s, &b.v6) == 1)
		b.family = AF_INET6;
	else
		return -EINVAL;
	if (!inet_ntop(b.family, b.family == AF_INET ? (void *)&b.v4 : (void *)&b.v6, b.text,
		       sizeof(b.text)))
		return -EINVAL;
	*ret = b;
	return 0;
}

const char *forward_ports_proto_name(enum forward_proto proto)
{
	return proto == FORWARD_TCP ? "tcp" : "udp";
}

/* ADDR:PORT, with brackets around an IPv6 address */
static void addr_port(const char *addr, uint16_t port, char *buf, size_t size)
{
	bool v6 = strchr(addr, ':') != NULL;

	snprintf(buf, size, "%s%s%s:%u", v6 ? "[" : "", addr, v6 ? "]" : "", port);
}

void forward_ports_format(const struct forward_port *p, char *buf, size_t size)
{
	char ap[FORWARD_ADDR_MAX + 8];

	addr_port(p->target, p->port, ap, sizeof(ap));
	snprintf(buf, size, "%s %u -> guest %s", forward_ports_proto_name(p->proto), p->port, ap);
}

void forward_ports_relay_target(const struct forward_port *p, char *buf, size_t size)
{
	char ap[FORWARD_ADDR_MAX + 8];

	addr_port(p->target, p->port, ap, sizeof(ap));
	snprintf(buf, size, "%s:%s", forward_ports_proto_name(p->proto), ap);
}
