/* lib/rtnl.c against this machine's kernel: a dump runs to its end and sees
 * the loopback link; a refused request comes back as the kernel's -errno,
 * with its extended-ack text when it gives one. Nothing is changed: the only
 * request asks for a link that does not exist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "rtnl.h"

static int count_links(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	int *seen_lo = data;

	if (nlh->nlmsg_type == RTM_NEWLINK && ifm->ifi_index == (int)if_nametoindex("lo"))
		*seen_lo = 1;
	return MNL_CB_OK;
}

static int fail_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh, (void)data;
	errno = ENOMEM;
	return MNL_CB_ERROR;
}

static void test_dump(void **state)
{
	struct rtnl r;
	char why[256];
	int seen_lo = 0;
	struct nlmsghdr *nlh;

	(void)state;
	assert_int_equal(rtnl_open(&r), 0);
	nlh = rtnl_msg(&r, RTM_GETLINK, 0);
	((struct ifinfomsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg)))
		->ifi_family = AF_UNSPEC;
	assert_int_equal(rtnl_dump(&r, nlh, count_links, &seen_lo, why, sizeof(why)), 0);
	assert_true(seen_lo);
	/* a callback's failure is the dump's */
	nlh = rtnl_msg(&r, RTM_GETLINK, 0);
	((struct ifinfomsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg)))
		->ifi_family = AF_UNSPEC;
	assert_int_equal(rtnl_dump(&r, nlh, fail_cb, NULL, why, sizeof(why)), -ENOMEM);
	/* ...and what it left unread does not reach the next dump on the socket
	 * (an interrupted dump is started over on the same one) */
	for (int i = 0; i < 3; i++) {
		seen_lo = 0;
		nlh = rtnl_msg(&r, RTM_GETLINK, 0);
		((struct ifinfomsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg)))
			->ifi_family = AF_UNSPEC;
		assert_int_equal(rtnl_dump(&r, nlh, count_links, &seen_lo, why, sizeof(why)), 0);
		assert_true(seen_lo);
	}
	rtnl_close(&r);
}

static void test_refused_request(void **state)
{
	struct rtnl r;
	char why[256] = "stale";
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	int e;

	(void)state;
	assert_int_equal(rtnl_open(&r), 0);
	nlh = rtnl_msg(&r, RTM_NEWLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = 0x7ffffff0; /* no such link */
	ifm->ifi_change = IFF_UP;
	e = rtnl_request(&r, nlh, why, sizeof(why));
	/* ENODEV as root; EPERM without CAP_NET_ADMIN: a refusal either way */
	if (e != -ENODEV && e != -EPERM)
		fail_msg("expected -ENODEV or -EPERM, got %d (%s)", e, why);
	/* WHY is the kernel's text or empty, never what was there before */
	assert_string_not_equal(why, "stale");
	rtnl_close(&r);
}

/* The attribute policy: what passes is in TB, what is malformed is left
 * out and counted, what is not asked for is left out. */
static void test_attr_policy(void **state)
{
	static const struct rtnl_attr_policy policy[] = {
		{ IFLA_MTU, MNL_TYPE_U32, 0, 0 },
		{ IFLA_IFNAME, MNL_TYPE_NUL_STRING, 0, 16 },
		{ IFLA_ADDRESS, MNL_TYPE_BINARY, 0, 6 },
		{ IFLA_BROADCAST, MNL_TYPE_BINARY, 4, 0 },
	};
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	const struct nlattr *tb[IFLA_MAX + 1];
	unsigned bad = 99;

	(void)state;
	nlh->nlmsg_type = RTM_NEWLINK;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "a-name-longer-than-16");
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, "\x52\x54\x00\x12\x34\x56");
	mnl_attr_put(nlh, IFLA_BROADCAST, 2, "\xff\xff"); /* under min_len */
	mnl_attr_put_u32(nlh, IFLA_TXQLEN, 1000); /* not asked for */
	assert_int_equal(
		rtnl_attrs(nlh, sizeof(struct ifinfomsg), policy, 4, tb, IFLA_MAX + 1, &bad), 0);
	assert_non_null(tb[IFLA_MTU]);
	assert_int_equal(mnl_attr_get_u32(tb[IFLA_MTU]), 1500);
	assert_non_null(tb[IFLA_ADDRESS]);
	assert_null(tb[IFLA_IFNAME]); /* too long */
	assert_null(tb[IFLA_BROADCAST]); /* too short */
	assert_null(tb[IFLA_TXQLEN]);
	assert_int_equal(bad, 2);
	/* an extra header longer than the message */
	assert_int_equal(rtnl_attrs(nlh, 4096, policy, 4, tb, IFLA_MAX + 1, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_refused_request),
		cmocka_unit_test(test_attr_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
