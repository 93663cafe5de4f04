/* udp-echo: a UDP echo server for tests/vm/engine.sh, run in a container of
 * a busybox image (whose busybox has no UDP server): static, no library.
 *
 *   udp-echo PORT
 *     binds [::]:PORT (IPv4 too, unless the kernel has no IPv6: then
 *     0.0.0.0:PORT) and sends each datagram back to whoever sent it,
 *     prefixed with "echo: ", until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PREFIX "echo: "

int main(int argc, char **argv)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	char buf[65536];
	long port;
	int fd, off = 0;

	port = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
	if (port < 1 || port > 65535) {
		fprintf(stderr, "usage: udp-echo PORT\n");
		return 2;
	}
	a6.sin6_port = a4.sin_port = htons((unsigned short)port);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd >= 0 && (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
			bind(fd, (struct sockaddr *)&a6, sizeof(a6)) < 0)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&a4, sizeof(a4)) < 0) {
			fprintf(stderr, "udp-echo: bind port %ld: %s\n", port, strerror(errno));
			return 1;
		}
	}
	printf("udp-echo: on port %ld\n", port);
	fflush(stdout);
	memcpy(buf, PREFIX, sizeof(PREFIX) - 1);
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		ssize_t n = recvfrom(fd, buf + sizeof(PREFIX) - 1, sizeof(buf) - sizeof(PREFIX) + 1, 0,
				     (struct sockaddr *)&peer, &len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "udp-echo: recvfrom: %s\n", strerror(errno));
			return 1;
		}
		if (sendto(fd, buf, (size_t)n + sizeof(PREFIX) - 1, 0, (struct sockaddr *)&peer, len) <
		    0)
			fprintf(stderr, "udp-echo: sendto: %s, ignoring\n", strerror(errno));
	}
}
