/* The CONNECT line (target.h). */
#include "target.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/un.h>

#include "util.h"

static int bad(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

static int parse_port(const char *s, uint16_t *ret)
{
	int64_t v;

	if (!*s || *s == '0' || parse_int64(s, 1, 65535, &v) < 0)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/* tcp:1.2.3.4:80 or tcp:[::1]:80, the same with udp: (S is after the
 * colon; the messages name the scheme) */
static int parse_inet(char *s, bool udp, struct relay_target *t, const char **why)
{
	char *port;
	uint16_t p;

	if (*s == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&t->addr;
		char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return bad(why,
				   udp ? "expected udp:[IPv6]:PORT" : "expected tcp:[IPv6]:PORT");
		*end = 0;
		port = end + 2;
		if (inet_pton(AF_INET6, s + 1, &a->sin6_addr) != 1)
			return bad(why, "not an IPv6 address");
		if (parse_port(port, &p) < 0)
			return bad(why, "the port must be 1 to 65535");
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(p);
		t->family = AF_INET6;
		t->addr_len = sizeof(*a);
		return 0;
	}
	port = strrchr(s, ':');
	if (!port)
		return bad(why, udp ? "expected udp:ADDRESS:PORT" : "expected tcp:ADDRESS:PORT");
	*port++ = 0;
	struct sockaddr_in *a = (struct sockaddr_in *)&t->addr;

	if (inet_pton(AF_INET, s, &a->sin_addr) != 1)
		return bad(why, "not an IPv4 address (IPv6 goes in brackets)");
	if (parse_port(port, &p) < 0)
		return bad(why, "the port must be 1 to 65535");
	a->sin_family = AF_INET;
	a->sin_port = htons(p);
	t->family = AF_INET;
	t->addr_len = sizeof(*a);
	return 0;
}

int relay_parse_connect(const char *line, size_t len, struct relay_target *ret, const char **why)
{
	static const char prefix[] = "CONNECT ";
	char buf[RELAY_LINE_MAX + 1];
	const char *nl = memchr(line, '\n', len);
	size_t n, k = len < sizeof(prefix) - 1 ? len : sizeof(prefix) - 1;

	if (memcmp(line, prefix, k) != 0)
		return bad(why, "expected \"CONNECT <target>\"");
	if (!nl)
		return len <= RELAY_LINE_MAX ? 0 : bad(why, "the line is too long");
	n = (size_t)(nl - line);
	if (n > RELAY_LINE_MAX)
		return bad(why, "the line is too long");
	memcpy(buf, line, n);
	buf[n] = 0;
	if (n && buf[n - 1] == '\r')
		buf[n - 1] = 0;
	if (strlen(buf) != strcspn(buf, "\r") || memchr(line, 0, n))
		return bad(why, "a control character in the line");
	memset(ret, 0, sizeof(*ret));

	char *t = buf + sizeof(prefix) - 1;

	if (strncmp(t, "unix:", 5) == 0) {
		struct sockaddr_un *a = (struct sockaddr_un *)&ret->addr;

		t += 5;
		if (*t != '/')
			return bad(why, "a unix path must be absolute");
		if (strlen(t) >= sizeof(a->sun_path))
			return bad(why, "the unix path is too long");
		a->sun_family = AF_UNIX;
		strcpy(a->sun_path, t);
		ret->family = AF_UNIX;
		ret->type = SOCK_STREAM;
		ret->addr_len = sizeof(*a);
	} else if (strncmp(t, "tcp:", 4) == 0 || strncmp(t, "udp:", 4) == 0) {
		bool udp = t[0] == 'u';
		int r = parse_inet(t + 4, udp, ret, why);

		if (r < 0)
			return r;
		ret->type = udp ? SOCK_DGRAM : SOCK_STREAM;
	} else
		return bad(why,
			   "the target must be unix:PATH, tcp:ADDRESS:PORT or udp:ADDRESS:PORT");
	return (int)(n + 1);
}
