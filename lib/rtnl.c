/* rtnl_*: the socket, the ack and the dump loop, with the kernel's extended
 * ack (netlink(7): NETLINK_EXT_ACK, NLMSGERR_ATTR_MSG) turned into text. */
#include "rtnl.h"

#include <errno.h>
#include <stdbool.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

int rtnl_open(struct rtnl *r)
{
	struct timeval tv = { .tv_sec = RTNL_TIMEOUT_S };
	int one = 1, e;

	memset(r, 0, sizeof(*r));
	r->buf = malloc(RTNL_BUF_SIZE);
	if (!r->buf)
		return -ENOMEM;
	r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->nl)
		goto fail;
	/* without extended acks (before Linux 4.12) the errors come without
	 * text: not worth failing for */
	(void)mnl_socket_setsockopt(r->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(r->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	r->portid = mnl_socket_get_portid(r->nl);
	r->seq = (unsigned)time(NULL);
	return 0;
fail:
	e = -errno;
	rtnl_close(r);
	return e;
}

void rtnl_close(struct rtnl *r)
{
	if (r->nl)
		mnl_socket_close(r->nl);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

struct nlmsghdr *rtnl_msg(struct rtnl *r, unsigned type, unsigned flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->buf);

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	nlh->nlmsg_seq = ++r->seq;
	return nlh;
}

/* What one exchange learned besides the caller's messages. */
struct exchange {
	mnl_cb_t cb;
	void *data;
	int error; /* the kernel's, from NLMSG_ERROR or NLMSG_DONE */
	char *why;
	size_t why_size;
};

static int msg_attr_cb(const struct nlattr *attr, void *data)
{
	struct exchange *x = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(x->why, x->why_size, "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* The extended ack's attributes follow the error code and the echoed
 * request: its header alone with NLM_F_CAPPED, all of it otherwise. */
static void ext_ack(const struct nlmsghdr *h, size_t off, const struct nlmsghdr *echoed,
		    struct exchange *x)
{
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || !x->why_size)
		return;
	if (echoed && !(h->nlmsg_flags & NLM_F_CAPPED) &&
	    echoed->nlmsg_len > sizeof(struct nlmsghdr))
		off += echoed->nlmsg_len - sizeof(struct nlmsghdr);
	if (off <= mnl_nlmsg_get_payload_len(h))
		mnl_attr_parse(h, (unsigned)off, msg_attr_cb, x);
}

static int on_error(const struct nlmsghdr *h, void *data)
{
	struct exchange *x = data;
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(h);

	if (mnl_nlmsg_get_payload_len(h) < sizeof(*err)) {
		x->error = -EPROTO;
		return MNL_CB_ERROR;
	}
	/* an ack: the request is done */
	if (err->error == 0)
		return MNL_CB_STOP;
	x->error = err->error < 0 ? err->error : -EPROTO;
	ext_ack(h, sizeof(*err), &err->msg, x);
	return MNL_CB_ERROR;
}

/* A dump's end; since Linux 4.20 it may carry the dump's error. */
static int on_done(const struct nlmsghdr *h, void *data)
{
	struct exchange *x = data;
	int e;

	if (mnl_nlmsg_get_payload_len(h) < sizeof(int))
		return MNL_CB_STOP;
	memcpy(&e, mnl_nlmsg_get_payload(h), sizeof(e));
	if (e >= 0)
		return MNL_CB_STOP;
	x->error = e;
	ext_ack(h, sizeof(int), NULL, x);
	return MNL_CB_ERROR;
}

static int on_noop(const struct nlmsghdr *h, void *data)
{
	(void)h, (void)data;
	return MNL_CB_OK;
}

static int on_msg(const struct nlmsghdr *h, void *data)
{
	struct exchange *x = data;

	return x->cb ? x->cb(h, x->data) : MNL_CB_OK;
}

/* After a dump stopped early (interrupted, or a callback failed), the rest
 * of its answer is still queued: read it away to its end, so that the next
 * exchange on R does not meet it. Bounded by the receive time-out. HAVE:
 * the bytes of the last read, still in R's buffer. */
static void drain(struct rtnl *r, unsigned seq, size_t have)
{
	for (ssize_t n = (ssize_t)have; n > 0;
	     n = mnl_socket_recvfrom(r->nl, r->buf, RTNL_BUF_SIZE)) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)r->buf;
		int len = (int)n;

		/* the end may be in what was read already (HAVE bytes) */
		for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len))
			if (h->nlmsg_seq == seq &&
			    (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR))
				return;
	}
}

/* Sends NLH and runs the answers through X until one stops the exchange. */
static int exchange(struct rtnl *r, struct nlmsghdr *nlh, struct exchange *x)
{
	/* every control type has an entry: mnl_cb_run2 does nothing for a NULL
	 * one below the array's length (not const: libmnl 1.0.4's prototype
	 * takes a plain pointer) */
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_NOOP] = on_noop,
		[NLMSG_ERROR] = on_error,
		[NLMSG_DONE] = on_done,
		[NLMSG_OVERRUN] = on_noop,
	};
	/* NLH is in R's buffer, which the answers overwrite */
	unsigned seq = nlh->nlmsg_seq;
	bool is_dump = nlh->nlmsg_flags & NLM_F_DUMP;
	ssize_t n = 0;
	int ret, e;

	if (x->why_size)
		x->why[0] = '\0';
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(r->nl, r->buf, RTNL_BUF_SIZE);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		/* mnl_cb_run2 checks each message's length, sequence and port and
		 * turns NLM_F_DUMP_INTR into EINTR */
		errno = 0;
		ret = mnl_cb_run2(r->buf, (size_t)n, seq, r->portid, on_msg, x, ctl,
				  NLMSG_MIN_TYPE);
	} while (ret == MNL_CB_OK);
	if (ret == MNL_CB_STOP)
		return 0;
	/* what stopped it, before drain's reads can change errno */
	e = errno;
	/* stopped before its end: a dump interrupted or refused by a callback */
	if (is_dump && !x->error)
		drain(r, seq, (size_t)n);
	if (x->error)
		return x->error;
	if (e == ESRCH || e == EPROTO)
		return -EPROTO; /* not our answer, or a message cut short */
	return e ? -e : -ENOMEM;
}

int rtnl_request(struct rtnl *r, struct nlmsghdr *nlh, char *why, size_t why_size)
{
	struct exchange x = { .why = why, .why_size = why_size };

	nlh->nlmsg_flags |= NLM_F_ACK;
	return exchange(r, nlh, &x);
}

int rtnl_dump(struct rtnl *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, char *why,
	      size_t why_size)
{
	struct exchange x = { .cb = cb, .data = data, .why = why, .why_size = why_size };

	nlh->nlmsg_flags |= NLM_F_DUMP;
	return exchange(r, nlh, &x);
}

struct attrs_parse {
	const struct rtnl_attr_policy *policy;
	size_t n_policy;
	const struct nlattr **tb;
	size_t tb_size;
	unsigned bad;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct attrs_parse *p = data;
	uint16_t type = mnl_attr_get_type(attr);

	for (size_t i = 0; i < p->n_policy; i++) {
		const struct rtnl_attr_policy *pol = &p->policy[i];
		uint16_t len;

		if (pol->type != type)
			continue;
		len = mnl_attr_get_payload_len(attr);
		if (type >= p->tb_size || mnl_attr_validate(attr, pol->kind) < 0 ||
		    len < pol->min_len || (pol->max_len && len > pol->max_len)) {
			p->bad++;
			return MNL_CB_OK;
		}
		p->tb[type] = attr;
		return MNL_CB_OK;
	}
	return MNL_CB_OK; /* not asked for, or newer than our headers */
}

int rtnl_attrs(const struct nlmsghdr *nlh, size_t offset, const struct rtnl_attr_policy *policy,
	       size_t n_policy, const struct nlattr **tb, size_t tb_size, unsigned *ret_bad)
{
	struct attrs_parse p = { policy, n_policy, tb, tb_size, 0 };

	memset(tb, 0, tb_size * sizeof(*tb));
	if (mnl_nlmsg_get_payload_len(nlh) < offset ||
	    mnl_attr_parse(nlh, (unsigned)offset, attr_cb, &p) < 0)
		return -EINVAL;
	if (ret_bad)
		*ret_bad = p.bad;
	return 0;
}
