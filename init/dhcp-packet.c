/* DHCPv4 messages, built and parsed (dhcp-packet.h). The parser reads
 * nothing it has not checked the length of: the fixed BOOTP part (RFC 2131
 * 2, figure 1), the magic cookie (RFC 2131 3), then each option's code and
 * length before its data (RFC 2132 2). */
#include "dhcp-packet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dnsconf.h"
#include "net-link.h"
#include "util.h"

#define BOOTREQUEST 1
#define BOOTREPLY 2
#define HTYPE_ETHER 1
#define FLAG_BROADCAST 0x8000 /* RFC 2131 2, figure 2 */

/* offsets in the fixed part (RFC 2131 2, figure 1) */
#define OFF_OP 0
#define OFF_HTYPE 1
#define OFF_HLEN 2
#define OFF_XID 4
#define OFF_SECS 8
#define OFF_FLAGS 10
#define OFF_CIADDR 12
#define OFF_YIADDR 16
#define OFF_CHADDR 28
#define OFF_COOKIE 236

/* RFC 2132 option codes */
enum {
	OPT_PAD = 0,
	OPT_SUBNET = 1,
	OPT_ROUTER = 3,
	OPT_DNS = 6,
	OPT_HOSTNAME = 12,
	OPT_DOMAIN = 15,
	OPT_MTU = 26,
	OPT_REQUESTED_IP = 50,
	OPT_LEASE = 51,
	OPT_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PARAMS = 55,
	OPT_MESSAGE = 56,
	OPT_MAX_SIZE = 57,
	OPT_T1 = 58,
	OPT_T2 = 59,
	OPT_CLIENT_ID = 61,
	OPT_RAPID_COMMIT = 80, /* RFC 4039 */
	OPT_END = 255,
};

static const uint8_t magic[4] = { 99, 130, 83, 99 };

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool is_zero4(const uint8_t a[4])
{
	return !(a[0] | a[1] | a[2] | a[3]);
}

/* Options are appended at *N, each checked against SIZE (and a byte kept
 * for the end option). */
static int put_opt(uint8_t *buf, size_t size, size_t *n, uint8_t code, const void *data, size_t len)
{
	if (len > 255 || *n + 2 + len + 1 > size)
		return -ENOBUFS;
	buf[(*n)++] = code;
	buf[(*n)++] = (uint8_t)len;
	if (len)
		memcpy(buf + *n, data, len);
	*n += len;
	return 0;
}

int dhcp_build(const struct dhcp_request *req, uint8_t *buf, size_t size)
{
	/* RFC 2132 9.8: what the client asks for, in the order it prefers */
	static const uint8_t params[] = { OPT_SUBNET, OPT_ROUTER, OPT_DNS, OPT_HOSTNAME, OPT_DOMAIN,
					  OPT_MTU,    OPT_LEASE,  OPT_T1,  OPT_T2 };
	uint8_t client_id[7], type = req->type, maxsize[2];
	size_t n = DHCP_MIN_LEN;
	int r = 0;

	if (size < DHCP_MIN_LEN + 1)
		return -ENOBUFS;
	memset(buf, 0, DHCP_MIN_LEN);
	buf[OFF_OP] = BOOTREQUEST;
	buf[OFF_HTYPE] = HTYPE_ETHER;
	buf[OFF_HLEN] = 6;
	put32(buf + OFF_XID, req->xid);
	put16(buf + OFF_SECS, req->secs);
	/* RFC 2131 4.1: a client that cannot receive unicast before it has
	 * its address sets BROADCAST */
	put16(buf + OFF_FLAGS, req->broadcast ? FLAG_BROADCAST : 0);
	memcpy(buf + OFF_CIADDR, req->ciaddr, 4);
	memcpy(buf + OFF_CHADDR, req->mac, 6);
	memcpy(buf + OFF_COOKIE, magic, 4);

	r |= put_opt(buf, size, &n, OPT_TYPE, &type, 1);
	/* RFC 2132 9.14: type 1 (Ethernet) and the hardware address */
	client_id[0] = HTYPE_ETHER;
	memcpy(client_id + 1, req->mac, 6);
	r |= put_opt(buf, size, &n, OPT_CLIENT_ID, client_id, sizeof(client_id));
	if (!is_zero4(req->requested))
		r |= put_opt(buf, size, &n, OPT_REQUESTED_IP, req->requested, 4);
	if (!is_zero4(req->server_id))
		r |= put_opt(buf, size, &n, OPT_SERVER_ID, req->server_id, 4);
	if (req->type == DHCP_DISCOVER && req->rapid_commit)
		r |= put_opt(buf, size, &n, OPT_RAPID_COMMIT, NULL, 0);
	if (req->type != DHCP_RELEASE && req->type != DHCP_DECLINE) {
		put16(maxsize, DHCP_PACKET_MAX);
		r |= put_opt(buf, size, &n, OPT_MAX_SIZE, maxsize, 2);
		r |= put_opt(buf, size, &n, OPT_PARAMS, params, sizeof(params));
		if (req->hostname && *req->hostname)
			r |= put_opt(buf, size, &n, OPT_HOSTNAME, req->hostname,
				     strlen(req->hostname));
	}
	if (r < 0)
		return -ENOBUFS;
	buf[n++] = OPT_END;
	/* RFC 1542 2.1: some relays drop BOOTP messages under 300 bytes */
	while (n < 300 && n < size)
		buf[n++] = OPT_PAD;
	return (int)n;
}

/* Copies a name option when it is a valid name; else it is left out. */
static void take_name(char *dst, size_t size, const uint8_t *data, size_t len, unsigned *ignored)
{
	char tmp[DHCP_DOMAIN_MAX];

	/* RFC 2132 3.14, 3.17: not NUL-terminated, but some servers add one */
	while (len > 0 && data[len - 1] == '\0')
		len--;
	if (len == 0 || len >= size || memchr(data, '\0', len)) {
		(*ignored)++;
		return;
	}
	memcpy(tmp, data, len);
	tmp[len] = '\0';
	if (!dnsconf_domain_valid(tmp) || tmp[len - 1] == '.') {
		(*ignored)++;
		return;
	}
	memcpy(dst, tmp, len + 1);
}

/* One option this client reads; DHCP_R_BAD_OPTION when its length or value
 * is not what RFC 2132 allows. */
static enum dhcp_reject read_option(struct dhcp_lease *l, uint8_t code, const uint8_t *d,
				    size_t len)
{
	switch (code) {
	case OPT_TYPE:
		if (len != 1 || d[0] < DHCP_DISCOVER || d[0] > DHCP_INFORM)
			return DHCP_R_BAD_OPTION;
		l->type = d[0];
		break;
	case OPT_SERVER_ID:
		if (len != 4)
			return DHCP_R_BAD_OPTION;
		memcpy(l->server_id, d, 4);
		l->has_server_id = true;
		break;
	case OPT_SUBNET:
		/* a mask that is not contiguous, or /0, configures nothing sane */
		if (len != 4 || get32(d) == 0 || net_netmask_to_len(d, &l->prefix_len) < 0)
			return DHCP_R_BAD_OPTION;
		l->has_subnet = true;
		break;
	case OPT_ROUTER:
	case OPT_DNS:
		/* RFC 2132 3.5, 3.8: a list of addresses, at least one */
		if (len < 4 || len % 4)
			return DHCP_R_BAD_OPTION;
		for (size_t i = 0; i < len; i += 4) {
			if (is_zero4(d + i))
				continue;
			if (code == OPT_ROUTER && l->n_routers < DHCP_ROUTERS_MAX)
				memcpy(l->routers[l->n_routers++], d + i, 4);
			else if (code == OPT_DNS && l->n_dns < DHCP_DNS_MAX)
				memcpy(l->dns[l->n_dns++], d + i, 4);
		}
		break;
	case OPT_HOSTNAME:
		take_name(l->hostname, sizeof(l->hostname), d, len, &l->n_ignored);
		break;
	case OPT_DOMAIN:
		take_name(l->domain, sizeof(l->domain), d, len, &l->n_ignored);
		break;
	case OPT_MTU:
		/* RFC 2132 5.1: at least 68 */
		if (len != 2 || get16(d) < 68)
			return DHCP_R_BAD_OPTION;
		l->mtu = get16(d);
		break;
	case OPT_LEASE:
	case OPT_T1:
	case OPT_T2: {
		uint32_t v;

		if (len != 4)
			return DHCP_R_BAD_OPTION;
		v = get32(d);
		if (v == 0)
			return DHCP_R_BAD_OPTION;
		if (code == OPT_LEASE)
			l->lease_s = v;
		else if (code == OPT_T1)
			l->t1_s = v;
		else
			l->t2_s = v;
		break;
	}
	case OPT_RAPID_COMMIT:
		if (len != 0)
			return DHCP_R_BAD_OPTION;
		l->rapid_commit = true;
		break;
	case OPT_MESSAGE: {
		size_t n = 0;

		/* shown in the log: printable ASCII only */
		for (size_t i = 0; i < len && n + 1 < sizeof(l->message); i++)
			l->message[n++] = d[i] >= 0x20 && d[i] < 0x7f ? (char)d[i] : '?';
		l->message[n] = '\0';
		break;
	}
	default:
		break;
	}
	return DHCP_OK;
}

static bool option_read(uint8_t code)
{
	switch (code) {
	case OPT_TYPE:
	case OPT_SERVER_ID:
	case OPT_SUBNET:
	case OPT_ROUTER:
	case OPT_DNS:
	case OPT_HOSTNAME:
	case OPT_DOMAIN:
	case OPT_MTU:
	case OPT_LEASE:
	case OPT_T1:
	case OPT_T2:
	case OPT_RAPID_COMMIT:
	case OPT_MESSAGE:
		return true;
	default:
		return false;
	}
}

enum dhcp_reject dhcp_parse(const uint8_t *buf, size_t len, uint32_t xid, const uint8_t mac[6],
			    struct dhcp_lease *ret)
{
	struct dhcp_lease l = { 0 };
	bool seen[256] = { false };
	size_t p = DHCP_MIN_LEN;

	if (len < DHCP_MIN_LEN)
		return DHCP_R_SHORT;
	if (buf[OFF_OP] != BOOTREPLY || buf[OFF_HTYPE] != HTYPE_ETHER || buf[OFF_HLEN] != 6)
		return DHCP_R_NOT_REPLY;
	if (get32(buf + OFF_XID) != xid)
		return DHCP_R_XID;
	if (memcmp(buf + OFF_CHADDR, mac, 6) != 0)
		return DHCP_R_CHADDR;
	if (memcmp(buf + OFF_COOKIE, magic, 4) != 0)
		return DHCP_R_COOKIE;
	memcpy(l.yiaddr, buf + OFF_YIADDR, 4);
	/* RFC 2132 2: pad and end are one byte; every other option is code,
	 * length, data. Option overload (52) is not honoured: sname and file
	 * are never read as options. RFC 3396 lets a long option be split in
	 * parts; the options read here are all short, so a second one is an
	 * error rather than a continuation. */
	for (;;) {
		uint8_t code, olen;
		enum dhcp_reject r;

		if (p >= len)
			break; /* no end option: accepted when nothing is cut short */
		code = buf[p++];
		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			break;
		if (p >= len)
			return DHCP_R_OVERFLOW;
		olen = buf[p++];
		if (olen > len - p)
			return DHCP_R_OVERFLOW;
		if (option_read(code)) {
			if (seen[code])
				return DHCP_R_REPEATED;
			seen[code] = true;
			r = read_option(&l, code, buf + p, olen);
			if (r != DHCP_OK)
				return r;
		}
		p += olen;
	}
	if (!l.type)
		return DHCP_R_NO_TYPE;
	switch (l.type) {
	case DHCP_OFFER:
	case DHCP_ACK:
		/* RFC 2131 4.3.1, table 3: an address, the server's identifier
		 * and a lease time are MUSTs in an offer and an ack */
		if (is_zero4(l.yiaddr) || !l.has_server_id || !l.lease_s)
			return DHCP_R_BAD_OPTION;
		/* a usable address: not multicast, broadcast or 0.x / 127.x */
		if (l.yiaddr[0] == 0 || l.yiaddr[0] == 127 || l.yiaddr[0] >= 224)
			return DHCP_R_BAD_OPTION;
		break;
	case DHCP_NAK:
		break;
	default:
		return DHCP_R_NOT_REPLY;
	}
	*ret = l;
	return DHCP_OK;
}

/* RFC 1071: the ones' complement of the ones' complement sum */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t udp_checksum(const uint8_t *ip, const uint8_t *udp, size_t ulen)
{
	uint8_t pseudo[12];

	memcpy(pseudo, ip + 12, 8); /* source and destination */
	pseudo[8] = 0;
	pseudo[9] = 17;
	put16(pseudo + 10, (uint16_t)ulen);
	return fold(sum16(sum16(0, pseudo, sizeof(pseudo)), udp, ulen));
}

int dhcp_udp_wrap(const uint8_t src[4], const uint8_t dst[4], const uint8_t *payload, size_t len,
		  uint8_t *buf, size_t size)
{
	size_t total = 20 + 8 + len;
	uint8_t *udp = buf + 20;
	uint16_t sum;

	if (total > size || total > 0xffff)
		return -ENOBUFS;
	memset(buf, 0, 28);
	buf[0] = 0x45; /* IPv4, a 20-byte header */
	put16(buf + 2, (uint16_t)total);
	buf[8] = 64; /* TTL */
	buf[9] = 17; /* UDP */
	memcpy(buf + 12, src, 4);
	memcpy(buf + 16, dst, 4);
	put16(buf + 10, fold(sum16(0, buf, 20)));
	put16(udp, DHCP_CLIENT_PORT);
	put16(udp + 2, DHCP_SERVER_PORT);
	put16(udp + 4, (uint16_t)(8 + len));
	memcpy(udp + 8, payload, len);
	sum = udp_checksum(buf, udp, 8 + len);
	/* RFC 768: a computed 0 is sent as all ones */
	put16(udp + 6, sum ? sum : 0xffff);
	return (int)total;
}

enum dhcp_reject dhcp_udp_unwrap(const uint8_t *buf, size_t len, bool check_udp,
				 const uint8_t **payload, size_t *payload_len)
{
	size_t ihl, total, ulen;
	const uint8_t *udp;

	if (len < 20)
		return DHCP_R_SHORT;
	if (buf[0] >> 4 != 4)
		return DHCP_R_IP;
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < 20)
		return DHCP_R_IP;
	total = get16(buf + 2);
	/* the frame may carry padding after the datagram (Ethernet's minimum) */
	if (len < ihl + 8 || total < ihl + 8 || total > len)
		return DHCP_R_SHORT;
	if ((get16(buf + 6) & 0x3fff) != 0 || buf[9] != 17)
		return DHCP_R_IP; /* a fragment, or not UDP */
	if (fold(sum16(0, buf, ihl)) != 0)
		return DHCP_R_IP;
	udp = buf + ihl;
	if (get16(udp + 2) != DHCP_CLIENT_PORT)
		return DHCP_R_IP;
	ulen = get16(udp + 4);
	if (ulen < 8 || ulen > total - ihl)
		return DHCP_R_SHORT;
	/* 0: the sender computed none (RFC 768) */
	if (check_udp && get16(udp + 6) != 0 && udp_checksum(buf, udp, ulen) != 0)
		return DHCP_R_IP;
	*payload = udp + 8;
	*payload_len = ulen - 8;
	return DHCP_OK;
}

void dhcp_lease_times(const struct dhcp_lease *l, struct dhcp_times *ret)
{
	uint32_t lease = l->lease_s, t1, t2;

	if (lease == UINT32_MAX) {
		*ret = (struct dhcp_times){ UINT32_MAX, UINT32_MAX, UINT32_MAX };
		return;
	}
	/* RFC 2131 4.4.5: T1 0.5 and T2 0.875 of the lease by default */
	t2 = l->t2_s && l->t2_s < lease ? l->t2_s : (uint32_t)((uint64_t)lease * 7 / 8);
	t1 = l->t1_s && l->t1_s < t2 ? l->t1_s : lease / 2;
	if (t1 > t2)
		t1 = t2;
	*ret = (struct dhcp_times){ t1, t2, lease };
}

uint64_t dhcp_backoff_ms(unsigned attempt, uint32_t rand)
{
	uint64_t base = 4000ull << (attempt < 4 ? attempt : 4);

	/* uniform in [-1000, +1000] ms */
	return base - 1000 + rand % 2001;
}

uint32_t dhcp_retransmit_s(uint32_t remaining_s)
{
	uint32_t w = remaining_s / 2;

	if (w < 60)
		w = 60;
	return w < remaining_s ? w : remaining_s;
}

const char *dhcp_type_name(uint8_t type)
{
	static const char *const names[] = { "?",   "DISCOVER", "OFFER",   "REQUEST", "DECLINE",
					     "ACK", "NAK",	"RELEASE", "INFORM" };

	return type < ARRAY_SIZE(names) ? names[type] : "?";
}

const char *dhcp_reject_name(enum dhcp_reject r)
{
	static const char *const names[DHCP_R_MAX] = {
		[DHCP_OK] = "ok",
		[DHCP_R_SHORT] = "short",
		[DHCP_R_IP] = "not DHCP over IPv4/UDP to port 68",
		[DHCP_R_NOT_REPLY] = "not a reply",
		[DHCP_R_XID] = "wrong xid",
		[DHCP_R_CHADDR] = "another client's",
		[DHCP_R_COOKIE] = "no magic cookie",
		[DHCP_R_OVERFLOW] = "option overflows",
		[DHCP_R_REPEATED] = "repeated option",
		[DHCP_R_BAD_OPTION] = "invalid option",
		[DHCP_R_NO_TYPE] = "no message type",
	};

	return (unsigned)r < DHCP_R_MAX ? names[r] : "?";
}
