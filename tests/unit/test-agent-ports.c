/* agent/ports.c: sock_diag answers to a set of listening ports, against
 * short, foreign and connected ones; sorting and duplicates; and a real
 * dump that finds this process's own listeners (skipped, saying why, where
 * the host kernel has no tcp_diag/udp_diag). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ports.h"

static struct port_set set;

static struct inet_diag_msg diag(uint8_t family, uint8_t state, const char *addr, uint16_t sport,
				 uint16_t dport)
{
	struct inet_diag_msg m = { .idiag_family = family, .idiag_state = state };

	m.id.idiag_sport = htons(sport);
	m.id.idiag_dport = htons(dport);
	assert_int_equal(inet_pton(family, addr, m.id.idiag_src), 1);
	return m;
}

static void test_add(void **state)
{
	struct inet_diag_msg m;
	char buf[64];

	(void)state;
	memset(&set, 0, sizeof(set));
	m = diag(AF_INET, 10, "0.0.0.0", 8080, 0); /* TCP LISTEN */
	assert_int_equal(ports_add_diag(&set, IPPROTO_TCP, &m, sizeof(m)), 0);
	m = diag(AF_INET, 1, "10.0.2.15", 22, 5555); /* TCP ESTABLISHED: no */
	assert_int_equal(ports_add_diag(&set, IPPROTO_TCP, &m, sizeof(m)), 0);
	m = diag(AF_INET6, 7, "::1", 5353, 0); /* UDP bound */
	assert_int_equal(ports_add_diag(&set, IPPROTO_UDP, &m, sizeof(m)), 0);
	m = diag(AF_INET6, 7, "::", 4000, 53); /* UDP connected: no */
	assert_int_equal(ports_add_diag(&set, IPPROTO_UDP, &m, sizeof(m)), 0);
	m = diag(AF_INET, 7, "0.0.0.0", 68, 0); /* the DHCP client: no */
	assert_int_equal(ports_add_diag(&set, IPPROTO_UDP, &m, sizeof(m)), 0);
	m = diag(AF_INET, 10, "127.0.0.1", 0, 0); /* no port yet: no */
	assert_int_equal(ports_add_diag(&set, IPPROTO_TCP, &m, sizeof(m)), 0);
	m = diag(AF_INET, 10, "127.0.0.1", 1, 0);
	m.idiag_family = AF_UNIX; /* a foreign family: no */
	assert_int_equal(ports_add_diag(&set, IPPROTO_TCP, &m, sizeof(m)), 0);
	/* a short answer is refused, not read past */
	assert_int_equal(ports_add_diag(&set, IPPROTO_TCP, &m, sizeof(m) - 1), -EBADMSG);
	assert_int_equal(set.n, 2);
	assert_int_equal(set.p[0].port, 8080);
	assert_string_equal(ports_addr_str(&set.p[0], buf, sizeof(buf)), "0.0.0.0");
	assert_int_equal(set.p[1].protocol, IPPROTO_UDP);
	assert_string_equal(ports_addr_str(&set.p[1], buf, sizeof(buf)), "::1");
}

static void test_normalize_and_bound(void **state)
{
	struct port_set *a = &set;
	static struct port_set b;
	struct inet_diag_msg m;

	(void)state;
	memset(a, 0, sizeof(*a));
	memset(&b, 0, sizeof(b));
	/* two SO_REUSEPORT listeners on one port are one; v4 and v6 stay two */
	m = diag(AF_INET, 10, "0.0.0.0", 80, 0);
	ports_add_diag(a, IPPROTO_TCP, &m, sizeof(m));
	m = diag(AF_INET6, 10, "::", 80, 0);
	ports_add_diag(a, IPPROTO_TCP, &m, sizeof(m));
	m = diag(AF_INET, 10, "0.0.0.0", 80, 0);
	ports_add_diag(a, IPPROTO_TCP, &m, sizeof(m));
	m = diag(AF_INET, 10, "0.0.0.0", 22, 0);
	ports_add_diag(a, IPPROTO_TCP, &m, sizeof(m));
	ports_normalize(a);
	assert_int_equal(a->n, 3);
	assert_int_equal(a->p[0].port, 22);
	/* the same ports in another order are equal; one fewer is not */
	m = diag(AF_INET, 10, "0.0.0.0", 22, 0);
	ports_add_diag(&b, IPPROTO_TCP, &m, sizeof(m));
	m = diag(AF_INET6, 10, "::", 80, 0);
	ports_add_diag(&b, IPPROTO_TCP, &m, sizeof(m));
	m = diag(AF_INET, 10, "0.0.0.0", 80, 0);
	ports_add_diag(&b, IPPROTO_TCP, &m, sizeof(m));
	ports_normalize(&b);
	assert_true(ports_equal(a, &b));
	b.n--;
	assert_false(ports_equal(a, &b));
	/* more than PORTS_MAX: kept to the bound, the rest counted */
	memset(a, 0, sizeof(*a));
	for (unsigned i = 1; i <= PORTS_MAX + 5; i++) {
		m = diag(AF_INET, 10, "0.0.0.0", (uint16_t)i, 0);
		assert_int_equal(ports_add_diag(a, IPPROTO_TCP, &m, sizeof(m)), 0);
	}
	assert_int_equal(a->n, PORTS_MAX);
	assert_int_equal(a->dropped, 5);
}

static bool has(const struct port_set *s, uint8_t proto, uint16_t port)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i].protocol == proto && s->p[i].port == port)
			return true;
	return false;
}

static void test_scan_finds_ours(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	uint16_t tport, uport;
	int r;

	(void)state;
	assert_true(t >= 0 && u >= 0);
	assert_int_equal(bind(t, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(t, 1), 0);
	assert_int_equal(getsockname(t, (struct sockaddr *)&sa, &len), 0);
	tport = ntohs(sa.sin_port);
	sa.sin_port = 0;
	assert_int_equal(bind(u, (struct sockaddr *)&sa, sizeof(sa)), 0);
	len = sizeof(sa);
	assert_int_equal(getsockname(u, (struct sockaddr *)&sa, &len), 0);
	uport = ntohs(sa.sin_port);
	r = ports_scan(&set);
	if (r < 0) {
		close(t);
		close(u);
		/* a kernel without tcp_diag/udp_diag (modules not loaded, not root) */
		print_message("sock_diag unavailable here: %s\n", strerror(-r));
		skip();
	}
	assert_true(has(&set, IPPROTO_TCP, tport));
	assert_true(has(&set, IPPROTO_UDP, uport));
	close(t);
	close(u);
	assert_int_equal(ports_scan(&set), 0);
	assert_false(has(&set, IPPROTO_TCP, tport));
	assert_false(has(&set, IPPROTO_UDP, uport));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_normalize_and_bound),
		cmocka_unit_test(test_scan_finds_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
