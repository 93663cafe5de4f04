/* init/dhcp.c: the DHCPv4 client's state machine, driven through its
 * operations table (struct dhcp_ops) on a fake CLOCK_BOOTTIME, with no
 * socket and no root: a server's replies go in through dhcp_client_receive,
 * and what the client sends, arms, applies and takes off is recorded here.
 * The real sockets, timerfd and rtnetlink are tests/sandbox/net.sh's, which
 * runs the same client against dnsmasq. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "dhcp.h"
#include "log.h"
#include "util.h"

#define S ((uint64_t)NSEC_PER_SEC)
#define SENT_MAX 64

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t other_mac[6] = { 0x52, 0x54, 0x00, 0x65, 0x43, 0x21 };
static const uint8_t server[4] = { 10, 0, 2, 2 }, address[4] = { 10, 0, 2, 15 },
		     bcast[4] = { 255, 255, 255, 255 }, none[4];

/* One message the client sent, with the fields the tests look at. */
struct sent {
	uint8_t type;
	enum dhcp_path path;
	uint8_t to[4];
	uint32_t xid;
	unsigned secs;
	bool broadcast_flag;
	uint8_t ciaddr[4];
	uint8_t requested[4]; /* option 50; zero: absent */
	uint8_t server_id[4]; /* option 54; zero: absent */
	bool rapid_commit; /* option 80 */
};

/* The client's world: the clock, its timer, what it sent and applied. */
static struct {
	uint64_t now;
	uint64_t armed; /* 0: no timer */
	enum dhcp_path listening;
	struct sent sent[SENT_MAX];
	size_t n_sent;
	int send_result, apply_result;
	struct dhcp_apply applied; /* the last apply */
	unsigned n_apply, n_unapply;
	struct dhcp_apply unapplied; /* the last unapply */
	unsigned changes; /* dhcp_change_fn calls */
} w;

static int fake_send(void *data, const struct dhcp_send *m)
{
	struct sent *s = &w.sent[w.n_sent];
	size_t p = DHCP_MIN_LEN;

	assert_ptr_equal(data, &w);
	assert_true(w.n_sent < SENT_MAX);
	assert_true(m->len >= DHCP_MIN_LEN && m->len <= DHCP_MSG_MAX);
	memset(s, 0, sizeof(*s));
	s->path = m->path;
	memcpy(s->to, m->to, 4);
	s->xid = (uint32_t)m->msg[4] << 24 | (uint32_t)m->msg[5] << 16 | (uint32_t)m->msg[6] << 8 |
		 m->msg[7];
	s->secs = (unsigned)m->msg[8] << 8 | m->msg[9];
	s->broadcast_flag = m->msg[10] & 0x80;
	memcpy(s->ciaddr, m->msg + 12, 4);
	assert_memory_equal(m->msg + 28, our_mac, 6);
	/* the options this client writes are well-formed: walk them to the end */
	while (p < m->len && m->msg[p] != 255) {
		const uint8_t *v = m->msg + p + 2;

		if (m->msg[p] == 0) {
			p++;
			continue;
		}
		assert_true(p + 2 <= m->len && p + 2 + m->msg[p + 1] <= m->len);
		switch (m->msg[p]) {
		case 53:
			s->type = v[0];
			break;
		case 50:
			memcpy(s->requested, v, 4);
			break;
		case 54:
			memcpy(s->server_id, v, 4);
			break;
		case 80:
			s->rapid_commit = true;
			break;
		}
		p += 2 + m->msg[p + 1];
	}
	assert_int_equal(s->type, m->type);
	w.n_sent++;
	/* as the real one, a send opens the path it goes by */
	if (w.send_result == 0)
		w.listening = m->path;
	return w.send_result;
}

static void fake_listen(void *data, enum dhcp_path path)
{
	(void)data;
	w.listening = path;
}

static void fake_arm(void *data, uint64_t at_ns)
{
	(void)data;
	w.armed = at_ns;
}

static int fake_apply(void *data, const struct dhcp_apply *a)
{
	(void)data;
	w.applied = *a;
	w.n_apply++;
	return w.apply_result;
}

static void fake_unapply(void *data, const struct dhcp_apply *a)
{
	(void)data;
	w.unapplied = *a;
	w.n_unapply++;
}

static uint64_t fake_now(void *data)
{
	(void)data;
	return w.now;
}

static const struct dhcp_ops fake_ops = {
	.send = fake_send,
	.listen = fake_listen,
	.arm = fake_arm,
	.apply = fake_apply,
	.unapply = fake_unapply,
	.now = fake_now,
};

static void on_change(struct dhcp_client *c, void *data)
{
	(void)c, (void)data;
	w.changes++;
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	return 0;
}

static int reset(void **state)
{
	(void)state;
	memset(&w, 0, sizeof(w));
	w.now = 1000 * S; /* a boot some time ago: 0 means "no timer" */
	return 0;
}

/* A client on the fake world, started: it has sent its first DISCOVER. */
static struct dhcp_client *started(bool rapid_commit, unsigned mtu)
{
	struct dhcp_settings set = { .rapid_commit = rapid_commit, .mtu = mtu };
	struct dhcp_client *c;

	assert_int_equal(
		dhcp_client_new_ops(&fake_ops, &w, 2, "eth0", our_mac, &set, on_change, NULL, &c),
		0);
	assert_int_equal(dhcp_client_info(c)->state, DHCP_STOPPED);
	dhcp_client_start(c);
	return c;
}

static const struct sent *last(void)
{
	assert_true(w.n_sent > 0);
	return &w.sent[w.n_sent - 1];
}

static enum dhcp_state state_of(const struct dhcp_client *c)
{
	return dhcp_client_info(c)->state;
}

/* The timer goes off: the clock moves to it, and it is spent. */
static void fire(struct dhcp_client *c)
{
	assert_true(w.armed != 0);
	assert_true(w.armed >= w.now);
	w.now = w.armed;
	w.armed = 0;
	dhcp_client_timeout(c);
}

/* What a server offers: 10.0.2.15/24 from 10.0.2.2, router 10.0.2.2. */
struct offer {
	uint32_t lease_s, t1_s, t2_s; /* T1, T2 0: not sent */
	unsigned mtu; /* 0: not sent */
	bool rapid_commit;
	bool no_subnet; /* option 1 left out */
	uint8_t yiaddr[4]; /* zero: 10.0.2.15 */
};

static void put_opt(uint8_t *b, size_t *n, uint8_t code, const void *data, uint8_t len)
{
	b[(*n)++] = code;
	b[(*n)++] = len;
	if (len)
		memcpy(b + *n, data, len);
	*n += len;
}

static void put_u32_opt(uint8_t *b, size_t *n, uint8_t code, uint32_t v)
{
	const uint8_t be[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
				(uint8_t)v };

	put_opt(b, n, code, be, 4);
}

/* A server's reply of TYPE for XID and MAC: dhcp_build writes the fixed
 * part (xid, chaddr, cookie), which a reply shares with a request but for
 * op and yiaddr; then the server's options. */
static size_t reply(uint8_t *b, uint8_t type, uint32_t xid, const uint8_t mac[6],
		    const struct offer *o)
{
	static const uint8_t mask[4] = { 255, 255, 255, 0 }, dns[4] = { 10, 0, 2, 3 };
	struct dhcp_request rq = { .type = type, .xid = xid };
	size_t n = DHCP_MIN_LEN;

	memcpy(rq.mac, mac, 6);
	assert_true(dhcp_build(&rq, b, DHCP_MSG_MAX) > 0);
	b[0] = 2; /* BOOTREPLY */
	if (type != DHCP_NAK)
		memcpy(b + 16, memcmp(o->yiaddr, none, 4) ? o->yiaddr : address, 4);
	put_opt(b, &n, 53, &type, 1);
	put_opt(b, &n, 54, server, 4);
	if (type == DHCP_NAK) {
		put_opt(b, &n, 56, "address not on this network", 27);
	} else {
		put_u32_opt(b, &n, 51, o->lease_s);
		if (!o->no_subnet)
			put_opt(b, &n, 1, mask, 4);
		put_opt(b, &n, 3, server, 4);
		put_opt(b, &n, 6, dns, 4);
		if (o->t1_s)
			put_u32_opt(b, &n, 58, o->t1_s);
		if (o->t2_s)
			put_u32_opt(b, &n, 59, o->t2_s);
		if (o->mtu) {
			const uint8_t mtu[2] = { (uint8_t)(o->mtu >> 8), (uint8_t)o->mtu };

			put_opt(b, &n, 26, mtu, 2);
		}
		if (o->rapid_commit)
			put_opt(b, &n, 80, NULL, 0);
	}
	b[n++] = 255;
	return n;
}

static void receive(struct dhcp_client *c, uint8_t type, uint32_t xid, const uint8_t mac[6],
		    const struct offer *o)
{
	uint8_t b[DHCP_MSG_MAX];
	size_t n = reply(b, type, xid, mac, o);

	dhcp_client_receive(c, b, n);
}

static const struct offer hour = { .lease_s = 3600, .t1_s = 1800, .t2_s = 3150, .mtu = 1400 };

/* Started, offered, requested, acknowledged: bound with O's lease. */
static struct dhcp_client *bound(const struct offer *o)
{
	struct dhcp_client *c = started(false, 0);
	uint32_t xid = last()->xid;

	receive(c, DHCP_OFFER, xid, our_mac, o);
	assert_int_equal(state_of(c), DHCP_REQUESTING);
	receive(c, DHCP_ACK, xid, our_mac, o);
	assert_int_equal(state_of(c), DHCP_BOUND);
	return c;
}

/* The last message asks to keep the lease held (RENEWING, REBINDING): a
 * REQUEST over UDP to TO, ciaddr set, neither option 50 nor 54, no
 * BROADCAST flag (RFC 2131 4.3.2, table 4). */
static void expect_lease_request(const uint8_t to[4])
{
	assert_int_equal(last()->type, DHCP_REQUEST);
	assert_int_equal(last()->path, DHCP_PATH_UDP);
	assert_memory_equal(last()->to, to, 4);
	assert_memory_equal(last()->ciaddr, address, 4);
	assert_memory_equal(last()->requested, none, 4);
	assert_memory_equal(last()->server_id, none, 4);
	assert_false(last()->broadcast_flag);
}

/* DISCOVER, OFFER, REQUEST, ACK: the lease's address, route and MTU are
 * applied, the owner told, and the renewal timed at T1. */
static void test_lease_obtained_and_applied(void **state)
{
	struct dhcp_client *c = started(false, 0);
	const struct dhcp_info *in = dhcp_client_info(c);
	uint64_t t0 = w.now;
	uint32_t xid;

	(void)state;
	/* DISCOVER: broadcast from 0.0.0.0, BROADCAST flag, nothing requested */
	assert_int_equal(state_of(c), DHCP_SELECTING);
	assert_int_equal(w.n_sent, 1);
	assert_int_equal(last()->type, DHCP_DISCOVER);
	assert_int_equal(last()->path, DHCP_PATH_LINK);
	assert_memory_equal(last()->to, bcast, 4);
	assert_true(last()->broadcast_flag);
	assert_memory_equal(last()->ciaddr, none, 4);
	assert_memory_equal(last()->requested, none, 4);
	assert_false(last()->rapid_commit);
	xid = last()->xid;

	/* OFFER: REQUEST for that address from that server, same xid */
	w.now += S / 10;
	receive(c, DHCP_OFFER, xid, our_mac, &hour);
	assert_int_equal(state_of(c), DHCP_REQUESTING);
	assert_int_equal(w.n_sent, 2);
	assert_int_equal(last()->type, DHCP_REQUEST);
	assert_int_equal(last()->path, DHCP_PATH_LINK);
	assert_memory_equal(last()->to, bcast, 4);
	assert_int_equal(last()->xid, xid);
	assert_memory_equal(last()->requested, address, 4);
	assert_memory_equal(last()->server_id, server, 4);
	assert_memory_equal(last()->ciaddr, none, 4);
	assert_int_equal(w.n_apply, 0);
	assert_false(in->has_lease);

	/* ACK: applied, and the owner hears of it */
	w.now += S / 10;
	receive(c, DHCP_ACK, xid, our_mac, &hour);
	assert_int_equal(state_of(c), DHCP_BOUND);
	assert_int_equal(w.n_apply, 1);
	assert_int_equal(w.applied.addr.family, AF_INET);
	assert_memory_equal(w.applied.addr.addr, address, 4);
	assert_int_equal(w.applied.addr.len, 24);
	assert_int_equal(w.applied.valid_s, 3600);
	assert_true(w.applied.has_router);
	assert_memory_equal(w.applied.router, server, 4);
	assert_false(w.applied.onlink);
	assert_int_equal(w.applied.mtu, 1400);
	assert_int_equal(w.changes, 1);
	assert_true(in->has_lease);
	assert_int_equal(in->leases, 1);
	assert_int_equal(in->lease.n_dns, 1);
	assert_int_equal(in->obtained_ns, w.now);
	assert_int_equal(in->t1_ns, w.now + 1800 * S);
	assert_int_equal(in->t2_ns, w.now + 3150 * S);
	assert_int_equal(in->expires_ns, w.now + 3600 * S);
	/* replies now come to the lease's address; the next event is T1 */
	assert_int_equal(w.listening, DHCP_PATH_UDP);
	assert_int_equal(w.armed, in->t1_ns);
	assert_int_equal(w.n_sent, 2);
	assert_true(w.now - t0 < S);
	dhcp_client_free(c);
}

/* What the lease leaves open is filled in: the address's class without
 * option 1, a router outside it on the link, the configured MTU over the
 * server's. */
static void test_apply_defaults(void **state)
{
	struct offer o = hour;
	struct dhcp_settings set = { .mtu = 9000 };
	struct dhcp_client *c;
	uint32_t xid;

	(void)state;
	o.no_subnet = true;
	memcpy(o.yiaddr, ((uint8_t[]){ 192, 168, 7, 9 }), 4);
	assert_int_equal(
		dhcp_client_new_ops(&fake_ops, &w, 2, "eth0", our_mac, &set, NULL, NULL, &c), 0);
	dhcp_client_start(c);
	xid = last()->xid;
	receive(c, DHCP_OFFER, xid, our_mac, &o);
	receive(c, DHCP_ACK, xid, our_mac, &o);
	assert_int_equal(state_of(c), DHCP_BOUND);
	assert_memory_equal(w.applied.addr.addr, o.yiaddr, 4);
	assert_int_equal(w.applied.addr.len, 24); /* class C */
	assert_true(w.applied.onlink); /* 10.0.2.2 is not in 192.168.7.0/24 */
	assert_int_equal(w.applied.mtu, 9000);
	dhcp_client_free(c);
}

/* RFC 4039: asked for, a DISCOVER answered by an ACK binds at once; not
 * asked for, such an ACK is not taken. */
static void test_rapid_commit(void **state)
{
	struct offer o = hour;
	struct dhcp_client *c = started(true, 0);

	(void)state;
	o.rapid_commit = true;
	assert_true(last()->rapid_commit);
	receive(c, DHCP_ACK, last()->xid, our_mac, &o);
	assert_int_equal(state_of(c), DHCP_BOUND);
	assert_int_equal(w.n_sent, 1); /* no REQUEST */
	assert_int_equal(w.n_apply, 1);
	assert_true(dhcp_client_info(c)->lease.rapid_commit);
	dhcp_client_free(c);

	reset(NULL);
	c = started(false, 0);
	assert_false(last()->rapid_commit);
	receive(c, DHCP_ACK, last()->xid, our_mac, &o);
	assert_int_equal(state_of(c), DHCP_SELECTING);
	assert_int_equal(w.n_apply, 0);
	dhcp_client_free(c);
}

/* At T1 the client renews with its server, unicast over UDP, ciaddr set and
 * neither option 50 nor 54, in a transaction of its own; the ACK extends
 * the lease in place. */
static void test_renew_at_t1_unicast(void **state)
{
	struct dhcp_client *c = bound(&hour);
	const struct dhcp_info *in = dhcp_client_info(c);
	uint32_t first_xid = last()->xid;
	uint64_t t1 = in->t1_ns;

	(void)state;
	fire(c);
	assert_int_equal(w.now, t1);
	assert_int_equal(state_of(c), DHCP_RENEWING);
	expect_lease_request(server);
	assert_int_not_equal(last()->xid, first_xid);
	assert_int_equal(last()->secs, 0);
	/* the address stays while renewing */
	assert_int_equal(w.n_unapply, 0);
	assert_true(in->has_lease);

	w.now += 2 * S;
	receive(c, DHCP_ACK, last()->xid, our_mac, &hour);
	assert_int_equal(state_of(c), DHCP_BOUND);
	assert_int_equal(in->leases, 2);
	assert_int_equal(w.n_apply, 2); /* the lifetime extended */
	assert_int_equal(w.n_unapply, 0);
	assert_int_equal(w.changes, 2);
	assert_int_equal(in->expires_ns, w.now + 3600 * S);
	assert_int_equal(w.armed, w.now + 1800 * S);
	dhcp_client_free(c);
}

/* Unanswered, RENEWING retransmits at half the time left to T2 (at least
 * 60 s, never past it); at T2 it rebinds by broadcast, and any server's ACK
 * keeps the lease. */
static void test_rebind_at_t2_broadcast(void **state)
{
	/* 1350 s from T1 to T2: half of what is left, in whole seconds, then
	 * 60 s, then the rest */
	static const unsigned waits_s[] = { 675, 337, 169, 84, 60, 25 };
	struct dhcp_client *c = bound(&hour);
	const struct dhcp_info *in = dhcp_client_info(c);
	uint64_t t2 = in->t2_ns;
	uint32_t xid;

	(void)state;
	fire(c);
	xid = last()->xid;
	for (size_t i = 0; i < sizeof(waits_s) / sizeof(waits_s[0]); i++) {
		assert_int_equal(state_of(c), DHCP_RENEWING);
		expect_lease_request(server);
		assert_int_equal(last()->xid, xid);
		assert_int_equal(w.armed - w.now, waits_s[i] * S);
		fire(c);
	}
	assert_int_equal(w.now, t2);
	assert_int_equal(state_of(c), DHCP_REBINDING);
	expect_lease_request(bcast);
	assert_true(w.armed <= in->expires_ns);
	assert_int_equal(w.n_unapply, 0);

	receive(c, DHCP_ACK, last()->xid, our_mac, &hour);
	assert_int_equal(state_of(c), DHCP_BOUND);
	assert_int_equal(in->leases, 2);
	assert_int_equal(in->expires_ns, w.now + 3600 * S);
	dhcp_client_free(c);
}

/* Straight from BOUND to REBINDING, when T1 is T2 (a server that sends only
 * T2, below half the lease) or the timer comes late (the VM was suspended
 * past T2): the REQUEST is a new transaction, not the first exchange's, and
 * its secs count from now, not from the first DISCOVER. */
static void test_rebind_without_renewing(void **state)
{
	struct offer t2_only = { .lease_s = 120, .t2_s = 5 };
	struct dhcp_client *c = bound(&t2_only);
	const struct dhcp_info *in = dhcp_client_info(c);
	uint32_t xid = last()->xid;

	(void)state;
	assert_int_equal(in->t1_ns, in->t2_ns);
	fire(c);
	assert_int_equal(state_of(c), DHCP_REBINDING);
	expect_lease_request(bcast);
	assert_int_not_equal(last()->xid, xid);
	assert_int_equal(last()->secs, 0);
	dhcp_client_free(c);

	reset(NULL);
	c = bound(&hour);
	in = dhcp_client_info(c);
	xid = last()->xid;
	w.armed = in->t2_ns + 10 * S;
	fire(c);
	assert_int_equal(state_of(c), DHCP_REBINDING);
	assert_int_not_equal(last()->xid, xid);
	assert_int_equal(last()->secs, 0);
	dhcp_client_free(c);
}

/* Nobody answers: at the lease's end the address goes, the owner is told,
 * and the client starts over with a DISCOVER at once. */
static void test_expiry_removes_the_address(void **state)
{
	struct dhcp_client *c = bound(&hour);
	const struct dhcp_info *in = dhcp_client_info(c);
	uint64_t expires = in->expires_ns;
	unsigned requests = 0;

	(void)state;
	while (in->has_lease) {
		fire(c);
		requests += last()->type == DHCP_REQUEST;
		assert_true(requests < 20);
	}
	assert_int_equal(w.now, expires);
	assert_int_equal(w.n_unapply, 1);
	assert_memory_equal(w.unapplied.addr.addr, address, 4);
	assert_int_equal(w.unapplied.addr.len, 24);
	assert_true(w.unapplied.has_router);
	assert_int_equal(w.changes, 2); /* bound, then lost */
	assert_int_equal(state_of(c), DHCP_SELECTING);
	assert_int_equal(last()->type, DHCP_DISCOVER);
	assert_int_equal(last()->path, DHCP_PATH_LINK);
	assert_memory_equal(last()->ciaddr, none, 4);
	dhcp_client_free(c);
}

/* A NAK while renewing: the address goes at once and the client starts
 * over, after a short pause, with a new transaction. */
static void test_nak_drops_the_lease_and_starts_over(void **state)
{
	struct dhcp_client *c = bound(&hour);
	const struct dhcp_info *in = dhcp_client_info(c);
	uint32_t xid;

	(void)state;
	fire(c); /* T1 */
	xid = last()->xid;
	receive(c, DHCP_NAK, xid, our_mac, &hour);
	assert_false(in->has_lease);
	assert_int_equal(w.n_unapply, 1);
	assert_memory_equal(w.unapplied.addr.addr, address, 4);
	assert_int_equal(w.changes, 2);
	assert_int_equal(state_of(c), DHCP_SELECTING);
	assert_int_equal(w.listening, DHCP_PATH_NONE);
	/* a quarter of the first backoff: 0.75 to 1.25 s */
	assert_true(w.armed >= w.now + 750000000ull && w.armed <= w.now + 1250000000ull);
	fire(c);
	assert_int_equal(last()->type, DHCP_DISCOVER);
	assert_int_equal(last()->path, DHCP_PATH_LINK);
	assert_int_not_equal(last()->xid, xid);
	assert_int_equal(last()->secs, 0);
	dhcp_client_free(c);

	/* a NAK for the REQUEST of an OFFER: nothing to remove, start over */
	reset(NULL);
	c = started(false, 0);
	xid = last()->xid;
	receive(c, DHCP_OFFER, xid, our_mac, &hour);
	receive(c, DHCP_NAK, xid, our_mac, &hour);
	assert_int_equal(state_of(c), DHCP_SELECTING);
	assert_int_equal(w.n_unapply, 0);
	assert_int_equal(w.changes, 0);
	fire(c);
	assert_int_equal(last()->type, DHCP_DISCOVER);
	dhcp_client_free(c);
}

/* RFC 2131 4.1: DISCOVER again after 4 s, doubled up to 64 s, each +/- 1 s;
 * the same transaction, its secs counting. Failed sends are retried. */
static void test_retransmissions_back_off_and_cap(void **state)
{
	static const unsigned base_s[] = { 4, 8, 16, 32, 64, 64, 64, 64 };
	struct dhcp_client *c = started(false, 0);
	uint32_t xid = last()->xid;
	uint64_t t0 = w.now;

	(void)state;
	w.send_result = -ENETDOWN; /* the timer goes on regardless */
	for (size_t i = 0; i < sizeof(base_s) / sizeof(base_s[0]); i++) {
		uint64_t wait = w.armed - w.now;

		assert_true(wait >= (base_s[i] - 1) * S && wait <= (base_s[i] + 1) * S);
		fire(c);
		assert_int_equal(state_of(c), DHCP_SELECTING);
		assert_int_equal(last()->type, DHCP_DISCOVER);
		assert_int_equal(last()->xid, xid);
		assert_int_equal(last()->secs, (w.now - t0) / S);
	}
	assert_int_equal(w.n_sent, 9);
	w.send_result = 0;

	/* REQUESTING: 4 REQUESTs for one OFFER, backing off the same way,
	 * then DISCOVER again in a new transaction */
	receive(c, DHCP_OFFER, xid, our_mac, &hour);
	assert_int_equal(last()->type, DHCP_REQUEST);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t wait = w.armed - w.now;

		assert_true(wait >= (base_s[i] - 1) * S && wait <= (base_s[i] + 1) * S);
		fire(c);
		assert_int_equal(state_of(c), DHCP_REQUESTING);
		assert_int_equal(last()->type, DHCP_REQUEST);
		assert_int_equal(last()->xid, xid);
	}
	fire(c);
	assert_int_equal(state_of(c), DHCP_SELECTING);
	assert_int_equal(last()->type, DHCP_DISCOVER);
	assert_int_not_equal(last()->xid, xid);
	assert_int_equal(last()->secs, 0);
	dhcp_client_free(c);
}

/* A reply for another transaction or another client changes nothing and
 * is counted by its reason (net.state's "rejected"). */
static void test_foreign_replies_refused_and_counted(void **state)
{
	struct dhcp_client *c = started(false, 0);
	const struct dhcp_info *in = dhcp_client_info(c);
	uint32_t xid = last()->xid, first_xid = xid;
	uint8_t junk[100] = { 2 };

	(void)state;
	receive(c, DHCP_OFFER, xid + 1, our_mac, &hour);
	receive(c, DHCP_OFFER, xid, other_mac, &hour);
	dhcp_client_receive(c, junk, sizeof(junk));
	assert_int_equal(in->rejected[DHCP_R_XID], 1);
	assert_int_equal(in->rejected[DHCP_R_CHADDR], 1);
	assert_int_equal(in->rejected[DHCP_R_SHORT], 1);
	assert_int_equal(state_of(c), DHCP_SELECTING);
	assert_int_equal(w.n_sent, 1);

	receive(c, DHCP_OFFER, xid, our_mac, &hour);
	receive(c, DHCP_ACK, xid, our_mac, &hour);
	assert_int_equal(state_of(c), DHCP_BOUND);
	fire(c); /* T1: a new transaction */
	xid = last()->xid;
	/* the first exchange's ACK, late, and a NAK for someone else */
	receive(c, DHCP_ACK, first_xid, our_mac, &hour);
	receive(c, DHCP_NAK, xid, other_mac, &hour);
	assert_int_equal(in->rejected[DHCP_R_XID], 2);
	assert_int_equal(in->rejected[DHCP_R_CHADDR], 2);
	assert_int_equal(state_of(c), DHCP_RENEWING);
	assert_true(in->has_lease);
	assert_int_equal(in->leases, 1);
	assert_int_equal(w.n_unapply, 0);
	dhcp_client_free(c);
}

/* The link goes down: the lease and its address go, nothing is awaited;
 * up again, a new DISCOVER. Freed (the link gone), nothing is removed. */
static void test_stop_and_free(void **state)
{
	struct dhcp_client *c = bound(&hour);
	const struct dhcp_info *in = dhcp_client_info(c);

	(void)state;
	dhcp_client_stop(c);
	assert_int_equal(state_of(c), DHCP_STOPPED);
	assert_false(in->has_lease);
	assert_int_equal(w.n_unapply, 1);
	assert_int_equal(w.armed, 0);
	assert_int_equal(w.listening, DHCP_PATH_NONE);
	dhcp_client_timeout(c); /* a late timer: nothing */
	assert_int_equal(w.n_sent, 2);

	dhcp_client_start(c);
	assert_int_equal(state_of(c), DHCP_SELECTING);
	assert_int_equal(last()->type, DHCP_DISCOVER);
	receive(c, DHCP_OFFER, last()->xid, our_mac, &hour);
	receive(c, DHCP_ACK, last()->xid, our_mac, &hour);
	assert_int_equal(state_of(c), DHCP_BOUND);
	dhcp_client_free(c);
	assert_int_equal(w.n_unapply, 1);
	assert_int_equal(w.armed, 0);
}

/* An address the kernel refused is not taken off later, and the renewal
 * applies it again. An infinite lease sets no timer at all. */
static void test_apply_failure_and_infinite_lease(void **state)
{
	struct offer forever = hour;
	struct dhcp_client *c;

	(void)state;
	w.apply_result = -EEXIST;
	c = bound(&hour);
	assert_true(dhcp_client_info(c)->has_lease);
	w.apply_result = 0;
	fire(c);
	receive(c, DHCP_ACK, last()->xid, our_mac, &hour);
	assert_int_equal(w.n_apply, 2);
	dhcp_client_stop(c);
	assert_int_equal(w.n_unapply, 1);
	dhcp_client_free(c);

	reset(NULL);
	w.apply_result = -EEXIST;
	c = bound(&hour);
	dhcp_client_stop(c);
	assert_int_equal(w.n_unapply, 0);
	dhcp_client_free(c);

	reset(NULL);
	forever.lease_s = UINT32_MAX;
	forever.t1_s = forever.t2_s = 0;
	c = bound(&forever);
	assert_int_equal(w.applied.valid_s, UINT32_MAX);
	assert_int_equal(dhcp_client_info(c)->expires_ns, UINT64_MAX);
	assert_int_equal(w.armed, 0);
	dhcp_client_free(c);
}

/* RFC 2131 4.4.1: the REQUEST for an OFFER carries the secs of the
 * DISCOVER it answers, however much later it goes (it counted on). */
static void test_request_repeats_discover_secs(void **state)
{
	struct dhcp_client *c;
	unsigned secs;
	uint32_t xid;

	(void)state;
	c = started(false, 0);
	fire(c); /* the DISCOVER again, 4 s on (+/- 1 s of RFC 2131's jitter) */
	assert_int_equal(last()->type, DHCP_DISCOVER);
	secs = last()->secs;
	assert_true(secs >= 3 && secs <= 5);
	xid = last()->xid;
	w.now += 3 * S; /* the OFFER comes 3 s after that */
	receive(c, DHCP_OFFER, xid, our_mac, &hour);
	assert_int_equal(state_of(c), DHCP_REQUESTING);
	assert_int_equal(last()->type, DHCP_REQUEST);
	assert_int_equal(last()->secs, secs);
	/* its retransmission too */
	fire(c);
	assert_int_equal(last()->type, DHCP_REQUEST);
	assert_int_equal(last()->secs, secs);
	dhcp_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lease_obtained_and_applied, reset),
		cmocka_unit_test_setup(test_apply_defaults, reset),
		cmocka_unit_test_setup(test_rapid_commit, reset),
		cmocka_unit_test_setup(test_renew_at_t1_unicast, reset),
		cmocka_unit_test_setup(test_rebind_at_t2_broadcast, reset),
		cmocka_unit_test_setup(test_rebind_without_renewing, reset),
		cmocka_unit_test_setup(test_expiry_removes_the_address, reset),
		cmocka_unit_test_setup(test_nak_drops_the_lease_and_starts_over, reset),
		cmocka_unit_test_setup(test_retransmissions_back_off_and_cap, reset),
		cmocka_unit_test_setup(test_foreign_replies_refused_and_counted, reset),
		cmocka_unit_test_setup(test_stop_and_free, reset),
		cmocka_unit_test_setup(test_apply_failure_and_infinite_lease, reset),
		cmocka_unit_test_setup(test_request_repeats_discover_secs, reset),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
