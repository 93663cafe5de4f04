/* rtnetlink through libmnl: a request is built with mnl_nlmsg_put_header and
 * mnl_attr_put_*, sent, and the kernel's answer checked, with the extended
 * ack's message (NLMSGERR_ATTR_MSG) in the log when there is one. */
#include "net.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

static int ack_attr_cb(const struct nlattr *attr, void *data)
{
	const char **msg = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		*msg = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

/* Sends NLH and waits for its ack. WHAT names the operation in messages. */
static int net_request(struct nlmsghdr *nlh, const char *what)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned portid, seq = (unsigned)time(NULL);
	int one = 1, r = 0;
	ssize_t n;

	if (!nl)
		return log_error_errno(-errno, "%s: netlink socket", what);
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = log_error_errno(-errno, "%s: netlink bind", what);
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = log_error_errno(-errno, "%s: netlink send", what);
		goto out;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0) {
		r = log_error_errno(-errno, "%s: netlink receive", what);
		goto out;
	}
	{
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (!mnl_nlmsg_ok(h, (int)n) || h->nlmsg_seq != seq || h->nlmsg_pid != portid ||
		    h->nlmsg_type != NLMSG_ERROR ||
		    h->nlmsg_len < mnl_nlmsg_size(sizeof(struct nlmsgerr))) {
			r = log_error_errno(-EPROTO, "%s: unexpected netlink answer", what);
			goto out;
		}
		{
			const struct nlmsgerr *err = mnl_nlmsg_get_payload(h);
			const char *msg = NULL;

			if (err->error == 0)
				goto out;
			/* With NLM_F_ACK_TLVS the attributes follow the echoed request
			 * header (capped: NLM_F_CAPPED) or the whole request. */
			if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
				unsigned off = sizeof(*err);

				if (!(h->nlmsg_flags & NLM_F_CAPPED))
					off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
				if (mnl_nlmsg_size(off) <= h->nlmsg_len)
					mnl_attr_parse(h, off, ack_attr_cb, &msg);
			}
			r = err->error;
			if (msg)
				log_error("%s: %s (%s)", what, strerror(-r), msg);
			else
				log_error("%s: %s", what, strerror(-r));
		}
	}
out:
	mnl_socket_close(nl);
	return r;
}

int net_link_up(const char *ifname)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], what[64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	unsigned idx = if_nametoindex(ifname);

	snprintf(what, sizeof(what), "set %s up", ifname);
	if (idx == 0)
		return log_error_errno(-errno, "%s", what);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)idx;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	return net_request(nlh, what);
}
