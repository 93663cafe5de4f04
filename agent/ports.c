/* Reading the guest's listeners with sock_diag (ports.h): one
 * NETLINK_SOCK_DIAG dump per protocol and family, TCP asked for the LISTEN
 * state only and UDP for the "closed" state that a bound, unconnected UDP
 * socket has (connected ones are TCP_ESTABLISHED), as ss(8) does. */
#include "ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* include/net/tcp_states.h */
#define STATE_ESTABLISHED 1
#define STATE_CLOSE 7
#define STATE_LISTEN 10

int ports_add_diag(struct port_set *s, uint8_t protocol, const void *msg, size_t len)
{
	const struct inet_diag_msg *m = msg;
	struct port p = { .protocol = protocol };

	if (len < sizeof(*m))
		return -EBADMSG;
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return 0;
	if (protocol == IPPROTO_TCP && m->idiag_state != STATE_LISTEN)
		return 0;
	if (protocol == IPPROTO_UDP && (m->idiag_state != STATE_CLOSE || m->id.idiag_dport))
		return 0;
	p.family = m->idiag_family;
	p.port = ntohs(m->id.idiag_sport);
	if (!p.port)
		return 0; /* not bound to a port (yet) */
	/* a DHCP client's own port (init's: RFC 2131's 68, DHCPv6's 546) is
	 * nobody's service */
	if (protocol == IPPROTO_UDP && (p.port == 68 || p.port == 546))
		return 0;
	memcpy(p.addr, m->id.idiag_src, p.family == AF_INET ? 4 : 16);
	if (s->n == PORTS_MAX) {
		s->dropped++;
		return 0;
	}
	s->p[s->n++] = p;
	return 0;
}

static int port_cmp(const void *a, const void *b)
{
	const struct port *x = a, *y = b;

	if (x->protocol != y->protocol)
		return x->protocol < y->protocol ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

void ports_normalize(struct port_set *s)
{
	size_t n = 0;

	qsort(s->p, s->n, sizeof(s->p[0]), port_cmp);
	for (size_t i = 0; i < s->n; i++)
		if (!n || port_cmp(&s->p[n - 1], &s->p[i]) != 0)
			s->p[n++] = s->p[i];
	s->n = n;
}

bool ports_equal(const struct port_set *a, const struct port_set *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (port_cmp(&a->p[i], &b->p[i]) != 0)
			return false;
	return true;
}

struct dump_ctx {
	struct port_set *s;
	uint8_t protocol;
};

static int on_msg(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *c = data;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return MNL_CB_OK;
	return ports_add_diag(c->s, c->protocol, mnl_nlmsg_get_payload(nlh),
			      mnl_nlmsg_get_payload_len(nlh)) < 0
		       ? MNL_CB_ERROR
		       : MNL_CB_OK;
}

static int dump(struct mnl_socket *nl, uint8_t family, uint8_t protocol, uint32_t states,
		struct port_set *s, uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct inet_diag_req_v2 *req;
	struct dump_ctx ctx = { s, protocol };
	uint32_t portid = mnl_socket_get_portid(nl);
	ssize_t n;
	int r;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = protocol;
	req->idiag_states = states;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, (size_t)n, seq, portid, on_msg, &ctx);
		if (r == MNL_CB_STOP)
			return 0;
		if (r == MNL_CB_ERROR)
			return errno ? -errno : -EBADMSG;
	}
	return n < 0 ? -errno : -EBADMSG;
}

int ports_scan(struct port_set *ret)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	uint32_t seq = (uint32_t)time(NULL);
	int r = 0;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		mnl_socket_close(nl);
		return r;
	}
	ret->n = 0;
	ret->dropped = 0;
	for (size_t i = 0; i < sizeof(families) && r == 0; i++) {
		r = dump(nl, families[i], IPPROTO_TCP, 1u << STATE_LISTEN, ret, seq++);
		if (r == 0)
			r = dump(nl, families[i], IPPROTO_UDP, 1u << STATE_CLOSE, ret, seq++);
	}
	mnl_socket_close(nl);
	if (r == 0)
		ports_normalize(ret);
	return r;
}

const char *ports_addr_str(const struct port *p, char *buf, size_t size)
{
	if (!inet_ntop(p->family, p->addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}
