/* init/dhcp-packet.c: DHCP messages built and parsed (RFC 2131, 2132), every
 * bad input refused for its reason, the lease's timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dhcp-packet.h"
#include "log.h"
#include "net-link.h"

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
#define XID 0x11223344u

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	return 0;
}

/* A server's reply: the fixed part for MAC and XID, yiaddr 10.0.2.15, the
 * cookie, then OPTS as given (the caller ends them). */
static size_t reply(uint8_t *b, uint32_t xid, const uint8_t *opts, size_t olen)
{
	memset(b, 0, 240);
	b[0] = 2;
	b[1] = 1;
	b[2] = 6;
	b[4] = (uint8_t)(xid >> 24);
	b[5] = (uint8_t)(xid >> 16);
	b[6] = (uint8_t)(xid >> 8);
	b[7] = (uint8_t)xid;
	b[16] = 10;
	b[17] = 0;
	b[18] = 2;
	b[19] = 15;
	memcpy(b + 28, mac, 6);
	b[236] = 99;
	b[237] = 130;
	b[238] = 83;
	b[239] = 99;
	memcpy(b + 240, opts, olen);
	return 240 + olen;
}

/* QEMU's user networking's ACK, with T1/T2, MTU, names and rapid commit */
static const uint8_t full_ack[] = {
	53,  1, 5, /* ACK */
	54,  4, 10,   0,    2,	  2, /* server */
	51,  4, 0,    1,    0x51, 0x80, /* lease 86400 */
	1,   4, 255,  255,  255,  0, /* /24 */
	3,   8, 10,   0,    2,	  2,	10,  0,	  2,   1, /* routers */
	6,   4, 10,   0,    2,	  3, /* DNS */
	12,  4, 'v',  'm',  '-',  '1', /* host name */
	15,  8, 'e',  'x',  'a',  'm',	'p', 'l', 'e', 0, /* domain, NUL-ended */
	26,  2, 0x05, 0xdc, /* MTU 1500 */
	58,  4, 0,    0,    0,	  100, /* T1 */
	59,  4, 0,    0,    0,	  200, /* T2 */
	80,  0, /* rapid commit */
	0,   0, /* pads */
	255,
};

static void test_parse_full_ack(void **state)
{
	uint8_t b[600];
	struct dhcp_lease l;
	size_t n = reply(b, XID, full_ack, sizeof(full_ack));

	(void)state;
	assert_int_equal(dhcp_parse(b, n, XID, mac, &l), DHCP_OK);
	assert_int_equal(l.type, DHCP_ACK);
	assert_memory_equal(l.yiaddr, ((uint8_t[]){ 10, 0, 2, 15 }), 4);
	assert_memory_equal(l.server_id, ((uint8_t[]){ 10, 0, 2, 2 }), 4);
	assert_int_equal(l.lease_s, 86400);
	assert_int_equal(l.prefix_len, 24);
	assert_int_equal(l.n_routers, 2);
	assert_memory_equal(l.routers[1], ((uint8_t[]){ 10, 0, 2, 1 }), 4);
	assert_int_equal(l.n_dns, 1);
	assert_string_equal(l.hostname, "vm-1");
	assert_string_equal(l.domain, "example");
	assert_int_equal(l.mtu, 1500);
	assert_int_equal(l.t1_s, 100);
	assert_int_equal(l.t2_s, 200);
	assert_true(l.rapid_commit);
	assert_int_equal(l.n_ignored, 0);
}

/* REJECT: OPTS appended to a minimal valid offer's must be refused so */
static void expect_reject(const uint8_t *opts, size_t olen, enum dhcp_reject why)
{
	uint8_t b[600];
	struct dhcp_lease l;
	size_t n = reply(b, XID, opts, olen);

	memset(&l, 0xAA, sizeof(l));
	assert_int_equal(dhcp_parse(b, n, XID, mac, &l), why);
	/* untouched on failure */
	assert_int_equal(((uint8_t *)&l)[0], 0xAA);
}

static void test_parse_bad_input(void **state)
{
	static const uint8_t ok[] = { 53, 1, 2, 54, 4, 10, 0, 2, 2, 51, 4, 0, 0, 1, 0, 255 };
	uint8_t b[600];
	struct dhcp_lease l;
	size_t n;

	(void)state;
	n = reply(b, XID, ok, sizeof(ok));
	assert_int_equal(dhcp_parse(b, n, XID, mac, &l), DHCP_OK);
	/* every truncation of a valid packet short of its options is refused */
	for (size_t cut = 0; cut < 240; cut++)
		assert_int_equal(dhcp_parse(b, cut, XID, mac, &l), DHCP_R_SHORT);
	assert_int_equal(dhcp_parse(b, n, XID + 1, mac, &l), DHCP_R_XID);
	assert_int_equal(dhcp_parse(b, n, XID, (const uint8_t[]){ 1, 2, 3, 4, 5, 6 }, &l),
			 DHCP_R_CHADDR);
	b[236] = 98;
	assert_int_equal(dhcp_parse(b, n, XID, mac, &l), DHCP_R_COOKIE);
	b[236] = 99;
	b[0] = 1; /* a BOOTREQUEST: another client's */
	assert_int_equal(dhcp_parse(b, n, XID, mac, &l), DHCP_R_NOT_REPLY);
	b[0] = 2;
	b[2] = 16; /* not Ethernet */
	assert_int_equal(dhcp_parse(b, n, XID, mac, &l), DHCP_R_NOT_REPLY);

	/* an option running past the end, or a code without its length */
	expect_reject((const uint8_t[]){ 53, 1, 2, 54, 4, 10, 0,  2, 2, 51, 4,
					 0,  0, 1, 0,  3, 8,  10, 0, 2, 2 },
		      21, DHCP_R_OVERFLOW);
	expect_reject((const uint8_t[]){ 53, 1, 2, 6 }, 4, DHCP_R_OVERFLOW);
	expect_reject((const uint8_t[]){ 53, 1 }, 2, DHCP_R_OVERFLOW);
	/* repeated options */
	expect_reject((const uint8_t[]){ 53, 1, 2, 53, 1, 5, 255 }, 7, DHCP_R_REPEATED);
	expect_reject((const uint8_t[]){ 53, 1, 2, 3, 4, 10, 0, 0, 1, 3, 4, 10, 0, 0, 2, 255 }, 16,
		      DHCP_R_REPEATED);
	/* wrong lengths and values */
	expect_reject((const uint8_t[]){ 53, 2, 2, 2, 255 }, 5, DHCP_R_BAD_OPTION);
	expect_reject((const uint8_t[]){ 53, 1, 9, 255 }, 4, DHCP_R_BAD_OPTION);
	expect_reject((const uint8_t[]){ 53, 1, 2, 1, 4, 255, 0, 255, 0, 255 }, 10,
		      DHCP_R_BAD_OPTION);
	expect_reject((const uint8_t[]){ 53, 1, 2, 1, 3, 255, 255, 0, 255 }, 9, DHCP_R_BAD_OPTION);
	expect_reject((const uint8_t[]){ 53, 1, 2, 26, 2, 0, 67, 255 }, 8, DHCP_R_BAD_OPTION);
	expect_reject((const uint8_t[]){ 53, 1, 2, 3, 3, 10, 0, 0, 255 }, 9, DHCP_R_BAD_OPTION);
	expect_reject((const uint8_t[]){ 53, 1, 2, 51, 4, 0, 0, 0, 0, 255 }, 10, DHCP_R_BAD_OPTION);
	expect_reject((const uint8_t[]){ 53, 1, 2, 80, 1, 0, 255 }, 7, DHCP_R_BAD_OPTION);
	/* an offer without server identifier or lease time */
	expect_reject((const uint8_t[]){ 53, 1, 2, 51, 4, 0, 0, 1, 0, 255 }, 10, DHCP_R_BAD_OPTION);
	expect_reject((const uint8_t[]){ 53, 1, 2, 54, 4, 10, 0, 2, 2, 255 }, 10,
		      DHCP_R_BAD_OPTION);
	/* BOOTP: no message type */
	expect_reject((const uint8_t[]){ 54, 4, 10, 0, 2, 2, 255 }, 7, DHCP_R_NO_TYPE);
	/* a client's message type in a reply */
	expect_reject((const uint8_t[]){ 53, 1, 3, 255 }, 4, DHCP_R_NOT_REPLY);
}

static void test_parse_bad_names_ignored(void **state)
{
	static const uint8_t opts[] = {
		53, 1, 5,   54, 4,   10, 0, 2,	 2,    51,
		4,  0, 0,   1,	0,   12, 3, 'a', '\n', 'b', /* control character */
		15, 3, 'a', 0,	'b', /* NUL inside */
		255
	};
	uint8_t b[600];
	struct dhcp_lease l;
	size_t n = reply(b, XID, opts, sizeof(opts));

	(void)state;
	assert_int_equal(dhcp_parse(b, n, XID, mac, &l), DHCP_OK);
	assert_string_equal(l.hostname, "");
	assert_string_equal(l.domain, "");
	assert_int_equal(l.n_ignored, 2);
}

static void test_nak(void **state)
{
	static const uint8_t opts[] = { 53, 1, 6, 56, 5, 'n', 'o', '\x01', 'p', 'e', 255 };
	uint8_t b[600];
	struct dhcp_lease l;
	size_t n = reply(b, XID, opts, sizeof(opts));

	(void)state;
	b[16] = 0; /* a NAK has no address */
	assert_int_equal(dhcp_parse(b, n, XID, mac, &l), DHCP_OK);
	assert_int_equal(l.type, DHCP_NAK);
	assert_string_equal(l.message, "no?pe");
}

/* finds option CODE in a built message: its length, or -1 */
static int find_opt(const uint8_t *b, int len, uint8_t code, const uint8_t **data)
{
	for (int p = 240; p < len;) {
		if (b[p] == 0) {
			p++;
			continue;
		}
		if (b[p] == 255)
			return -1;
		if (b[p] == code) {
			*data = b + p + 2;
			return b[p + 1];
		}
		p += 2 + b[p + 1];
	}
	return -1;
}

static void test_build(void **state)
{
	struct dhcp_request rq = { .type = DHCP_DISCOVER,
				   .xid = XID,
				   .broadcast = true,
				   .rapid_commit = true,
				   .hostname = "porthole" };
	uint8_t b[DHCP_MSG_MAX];
	const uint8_t *d;
	int n;

	(void)state;
	memcpy(rq.mac, mac, 6);
	n = dhcp_build(&rq, b, sizeof(b));
	assert_true(n >= 300);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[1], 1);
	assert_int_equal(b[2], 6);
	assert_memory_equal(b + 4, ((uint8_t[]){ 0x11, 0x22, 0x33, 0x44 }), 4);
	assert_int_equal(b[10], 0x80); /* BROADCAST */
	assert_memory_equal(b + 28, mac, 6);
	assert_memory_equal(b + 236, ((uint8_t[]){ 99, 130, 83, 99 }), 4);
	assert_int_equal(find_opt(b, n, 53, &d), 1);
	assert_int_equal(d[0], DHCP_DISCOVER);
	assert_int_equal(find_opt(b, n, 80, &d), 0);
	assert_int_equal(find_opt(b, n, 61, &d), 7);
	assert_int_equal(find_opt(b, n, 12, &d), 8);
	assert_true(find_opt(b, n, 55, &d) > 0);
	assert_int_equal(find_opt(b, n, 50, &d), -1);

	/* SELECTING's REQUEST: requested address and server, no rapid commit */
	rq.type = DHCP_REQUEST;
	memcpy(rq.requested, ((uint8_t[]){ 10, 0, 2, 15 }), 4);
	memcpy(rq.server_id, ((uint8_t[]){ 10, 0, 2, 2 }), 4);
	n = dhcp_build(&rq, b, sizeof(b));
	assert_int_equal(find_opt(b, n, 50, &d), 4);
	assert_memory_equal(d, ((uint8_t[]){ 10, 0, 2, 15 }), 4);
	assert_int_equal(find_opt(b, n, 54, &d), 4);
	assert_int_equal(find_opt(b, n, 80, &d), -1);
	/* too small a buffer */
	assert_int_equal(dhcp_build(&rq, b, 250), -ENOBUFS);
}

static void test_udp(void **state)
{
	static const uint8_t src[4] = { 0, 0, 0, 0 }, dst[4] = { 255, 255, 255, 255 };
	uint8_t payload[300], pkt[400];
	const uint8_t *p;
	size_t plen;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	n = dhcp_udp_wrap(src, dst, payload, sizeof(payload), pkt, sizeof(pkt));
	assert_int_equal(n, 328);
	/* ours goes to port 67: a reply comes to 68, so turn the ports */
	pkt[20 + 2] = 0;
	pkt[20 + 3] = 68;
	pkt[20 + 0] = 0;
	pkt[20 + 1] = 67;
	/* the ports swapped keep the UDP sum (one's complement addition commutes) */
	assert_int_equal(dhcp_udp_unwrap(pkt, (size_t)n, true, &p, &plen), DHCP_OK);
	assert_int_equal(plen, sizeof(payload));
	assert_memory_equal(p, payload, sizeof(payload));
	/* trailing padding is allowed */
	assert_int_equal(dhcp_udp_unwrap(pkt, (size_t)n + 20, true, &p, &plen), DHCP_OK);
	pkt[100] ^= 1;
	assert_int_equal(dhcp_udp_unwrap(pkt, (size_t)n, true, &p, &plen), DHCP_R_IP);
	/* an offloaded checksum (TP_STATUS_CSUMNOTREADY) is not checked */
	assert_int_equal(dhcp_udp_unwrap(pkt, (size_t)n, false, &p, &plen), DHCP_OK);
	pkt[100] ^= 1;
	for (size_t cut = 0; cut < 28; cut++)
		assert_int_not_equal(dhcp_udp_unwrap(pkt, cut, true, &p, &plen), DHCP_OK);
	assert_int_equal(dhcp_udp_unwrap(pkt, (size_t)n - 1, true, &p, &plen), DHCP_R_SHORT);
	pkt[6] |= 0x20; /* more fragments */
	assert_int_equal(dhcp_udp_unwrap(pkt, (size_t)n, true, &p, &plen), DHCP_R_IP);
	pkt[6] &= (uint8_t)~0x20;
	pkt[10] ^= 0xff; /* header checksum */
	assert_int_equal(dhcp_udp_unwrap(pkt, (size_t)n, true, &p, &plen), DHCP_R_IP);
}

static void test_lease_times(void **state)
{
	struct dhcp_lease l = { .lease_s = 1000 };
	struct dhcp_times t;

	(void)state;
	dhcp_lease_times(&l, &t);
	assert_int_equal(t.t1_s, 500);
	assert_int_equal(t.t2_s, 875);
	assert_int_equal(t.lease_s, 1000);
	l.t1_s = 100;
	l.t2_s = 200;
	dhcp_lease_times(&l, &t);
	assert_int_equal(t.t1_s, 100);
	assert_int_equal(t.t2_s, 200);
	/* inconsistent values from the server: the defaults instead */
	l.t1_s = 300;
	l.t2_s = 2000;
	dhcp_lease_times(&l, &t);
	assert_int_equal(t.t2_s, 875);
	assert_int_equal(t.t1_s, 300);
	l.t1_s = 900;
	dhcp_lease_times(&l, &t);
	assert_int_equal(t.t1_s, 500);
	l.lease_s = UINT32_MAX;
	dhcp_lease_times(&l, &t);
	assert_int_equal(t.t1_s, UINT32_MAX);
	assert_int_equal(t.lease_s, UINT32_MAX);

	/* RFC 2131 4.1: 4 s doubling to 64 s, +/- 1 s */
	assert_int_equal(dhcp_backoff_ms(0, 0), 3000);
	assert_int_equal(dhcp_backoff_ms(0, 2000), 5000);
	assert_int_equal(dhcp_backoff_ms(1, 1000), 8000);
	assert_int_equal(dhcp_backoff_ms(4, 1000), 64000);
	assert_int_equal(dhcp_backoff_ms(40, 1000), 64000);
	/* RFC 2131 4.4.5: half the time left, at least 60 s, never past it */
	assert_int_equal(dhcp_retransmit_s(1000), 500);
	assert_int_equal(dhcp_retransmit_s(100), 60);
	assert_int_equal(dhcp_retransmit_s(30), 30);
	assert_int_equal(dhcp_retransmit_s(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_full_ack),
		cmocka_unit_test(test_parse_bad_input),
		cmocka_unit_test(test_parse_bad_names_ignored),
		cmocka_unit_test(test_nak),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_lease_times),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
