/* rtnetlink over libmnl, shared by init (links, addresses, routes) and the
 * agent (its dumps): a socket with extended acks and a receive time-out, a
 * request answered by its ack with the kernel's extended-ack text, a dump
 * run to its end. Building the messages and reading their attributes is the
 * callers'. Nothing is logged: errors are -errno, with the kernel's own
 * words in WHY when it gave some. The host CLI does not link this module. */
#pragma once

#include <libmnl/libmnl.h>
#include <stddef.h>
#include <stdint.h>

#define RTNL_TIMEOUT_S 2 /* the kernel answers at once; this bounds "ever" */
/* a dump is answered in messages of up to 32 KiB when the reader offers as
 * much (netlink_recvmsg sizes the next skb from the last read) */
#define RTNL_BUF_SIZE 32768
#define RTNL_DUMP_TRIES 3 /* a dump interrupted by a change: started over */

struct rtnl {
	struct mnl_socket *nl;
	unsigned portid;
	unsigned seq;
	char *buf; /* RTNL_BUF_SIZE, for building a request and receiving */
};

/* Opens and binds an rtnetlink socket. -errno. */
int rtnl_open(struct rtnl *r);
void rtnl_close(struct rtnl *r);

/* A message header at the start of R's buffer, with TYPE, FLAGS (and
 * NLM_F_REQUEST) and the next sequence number: the caller adds its extra
 * header and attributes, then passes it to rtnl_request or rtnl_dump. */
struct nlmsghdr *rtnl_msg(struct rtnl *r, unsigned type, unsigned flags);

/* Sends NLH with NLM_F_ACK and waits for the ack: 0, or the kernel's
 * -errno with its extended-ack message in WHY ("" when it gave none);
 * -ETIMEDOUT after RTNL_TIMEOUT_S; -EPROTO for an answer that is not one. */
int rtnl_request(struct rtnl *r, struct nlmsghdr *nlh, char *why, size_t why_size);

/* Sends NLH as a dump request (NLM_F_DUMP) and runs CB on each answer
 * until the end: 0; -EINTR when a change interrupted the dump
 * (NLM_F_DUMP_INTR: its results are not to be trusted, start over, at most
 * RTNL_DUMP_TRIES times); the error CB returned (MNL_CB_ERROR with errno
 * set, or -ENOMEM when it left errno 0); or the kernel's -errno with its
 * message in WHY. */
int rtnl_dump(struct rtnl *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, char *why,
	      size_t why_size);

/* What an attribute must be to be read: its kind as libmnl validates it
 * (MNL_TYPE_U32, MNL_TYPE_NUL_STRING, MNL_TYPE_BINARY...) and its payload's
 * length bounds (0: none beyond the kind's). */
struct rtnl_attr_policy {
	uint16_t type;
	enum mnl_attr_data_type kind;
	uint16_t min_len, max_len;
};

/* Fills TB (TB_SIZE entries, cleared first) with NLH's attributes after its
 * OFFSET bytes of extra header: those POLICY names and that pass it. The
 * rest, and any of the wrong kind or length, are left out, never read; how
 * many were left out for being malformed goes to *RET_BAD (may be NULL).
 * -EINVAL when the attribute stream itself is malformed. */
int rtnl_attrs(const struct nlmsghdr *nlh, size_t offset, const struct rtnl_attr_policy *policy,
	       size_t n_policy, const struct nlattr **tb, size_t tb_size, unsigned *ret_bad);
