/* DHCPv4 messages (RFC 2131, options RFC 2132), pure functions: building a
 * client's message, parsing a server's reply with every length checked
 * before every field, the IPv4/UDP framing a packet socket needs, and the
 * lease's timers. No sockets and no clock here: dhcp.c owns those. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
/* RFC 2131 2: the fixed part is 236 bytes, then the 4-byte magic cookie */
#define DHCP_FIXED_LEN 236
#define DHCP_MIN_LEN (DHCP_FIXED_LEN + 4)
/* RFC 2131 2: a client must accept 576-byte IP datagrams; we build at most
 * this much and accept replies up to an Ethernet MTU's worth plus slack */
#define DHCP_MSG_MAX 1024
#define DHCP_PACKET_MAX 1500
#define DHCP_ROUTERS_MAX 4
#define DHCP_DNS_MAX 3
#define DHCP_NAME_MAX 64 /* host name: sethostname(2)'s limit */
#define DHCP_DOMAIN_MAX 254

enum dhcp_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

/* Why a packet was ignored; each has its counter. */
enum dhcp_reject {
	DHCP_OK = 0,
	DHCP_R_SHORT, /* shorter than its headers or its own lengths */
	DHCP_R_IP, /* not IPv4/UDP to port 68, a fragment, or a bad checksum */
	DHCP_R_NOT_REPLY, /* op is not BOOTREPLY, or htype/hlen not Ethernet */
	DHCP_R_XID, /* not the transaction we are in */
	DHCP_R_CHADDR, /* for another client's hardware address */
	DHCP_R_COOKIE, /* no magic cookie 99.130.83.99 */
	DHCP_R_OVERFLOW, /* an option runs past the end, or no end option */
	DHCP_R_REPEATED, /* an option this client reads appears twice */
	DHCP_R_BAD_OPTION, /* an option this client reads has a wrong length or value */
	DHCP_R_NO_TYPE, /* no message type (option 53): BOOTP, not DHCP */
	DHCP_R_MAX,
};

/* What a reply carries: the message's type and the lease it offers. */
struct dhcp_lease {
	uint8_t type; /* enum dhcp_type */
	uint8_t yiaddr[4];
	uint8_t server_id[4]; /* option 54 */
	bool has_server_id;
	unsigned prefix_len; /* from option 1; 0 when absent */
	bool has_subnet;
	uint8_t routers[DHCP_ROUTERS_MAX][4]; /* option 3 */
	size_t n_routers;
	uint8_t dns[DHCP_DNS_MAX][4]; /* option 6 */
	size_t n_dns;
	char hostname[DHCP_NAME_MAX + 1]; /* option 12 */
	char domain[DHCP_DOMAIN_MAX]; /* option 15 */
	unsigned mtu; /* option 26; 0 when absent */
	uint32_t lease_s; /* option 51 */
	uint32_t t1_s, t2_s; /* options 58 and 59; 0 when absent */
	bool rapid_commit; /* option 80 present (RFC 4039) */
	char message[128]; /* option 56, a NAK's reason */
	/* options 12 and 15 that are not valid names: left out, counted */
	unsigned n_ignored;
};

/* What the client sends. */
struct dhcp_request {
	uint8_t type;
	uint32_t xid;
	uint8_t mac[6];
	uint16_t secs;
	uint8_t ciaddr[4]; /* RENEWING, REBINDING: the address held */
	bool broadcast; /* the BROADCAST flag: no address yet to receive unicast on */
	uint8_t requested[4]; /* option 50 (SELECTING, INIT-REBOOT); zero: none */
	uint8_t server_id[4]; /* option 54 (SELECTING); zero: none */
	bool rapid_commit; /* option 80 in DISCOVER */
	const char *hostname; /* option 12; NULL: none */
};

/* Builds REQ into BUF; returns its length or -ENOBUFS. */
int dhcp_build(const struct dhcp_request *req, uint8_t *buf, size_t size);
/* Parses the DHCP message BUF of LEN bytes; it must answer XID for MAC.
 * Returns DHCP_OK with *RET filled, or the reason it was refused (RET then
 * untouched). */
enum dhcp_reject dhcp_parse(const uint8_t *buf, size_t len, uint32_t xid, const uint8_t mac[6],
			    struct dhcp_lease *ret);

/* IPv4 + UDP around PAYLOAD, for an AF_PACKET SOCK_DGRAM socket: from SRC:68
 * to DST:67. Returns the length or -ENOBUFS. */
int dhcp_udp_wrap(const uint8_t src[4], const uint8_t dst[4], const uint8_t *payload, size_t len,
		  uint8_t *buf, size_t size);
/* Checks an IPv4 packet (header checksum, lengths, UDP to port 68, the UDP
 * checksum when there is one and CHECK_UDP is set) and points *PAYLOAD at its
 * UDP data. CHECK_UDP is false for a packet whose checksum the kernel has
 * not filled in yet (TP_STATUS_CSUMNOTREADY: offloaded, as on a veth). */
enum dhcp_reject dhcp_udp_unwrap(const uint8_t *buf, size_t len, bool check_udp,
				 const uint8_t **payload, size_t *payload_len);

/* The lease's timers, RFC 2131 4.4.5: T1 and T2 from the server when they
 * are consistent (T1 < T2 < lease), else 0.5 and 0.875 of the lease. A lease
 * of 0xffffffff is infinite: all three are UINT32_MAX. */
struct dhcp_times {
	uint32_t t1_s, t2_s, lease_s;
};
void dhcp_lease_times(const struct dhcp_lease *l, struct dhcp_times *ret);
/* RFC 2131 4.1: the retransmission delay while no lease is held, 4 s doubled
 * each ATTEMPT (0 first) up to 64 s, randomised by -1 to +1 s with RAND
 * (a uniform 32-bit number). In milliseconds. */
uint64_t dhcp_backoff_ms(unsigned attempt, uint32_t rand);
/* RFC 2131 4.4.5: in RENEWING (or REBINDING) wait half the time left until
 * T2 (or the lease's end), at least 60 s, but never past that point.
 * REMAINING_S is the time left; returns the wait in seconds. */
uint32_t dhcp_retransmit_s(uint32_t remaining_s);

const char *dhcp_type_name(uint8_t type);
const char *dhcp_reject_name(enum dhcp_reject r);
