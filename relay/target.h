/* What a porthole-relay client asks for: the one line before its stream,
 * "CONNECT <target>\n", where the target is unix:PATH (a path the relay
 * was told to allow), tcp:HOST:PORT or udp:HOST:PORT (an IPv4 address, or
 * an IPv6 one in brackets). Parsing only: the sockets are the caller's. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The longest line read: "CONNECT " and a unix path of 107 bytes, "\r\n". */
#define RELAY_LINE_MAX 128

struct relay_target {
	int family; /* AF_UNIX, AF_INET or AF_INET6 */
	int type; /* SOCK_STREAM (unix:, tcp:) or SOCK_DGRAM (udp:) */
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

/* LINE holds LEN bytes read so far. > 0, the length of the line, when they
 * begin with a whole "CONNECT <target>\n" ("\r\n" too), *ret filled; 0 when
 * they are a beginning (read more); -EINVAL with *why set when they cannot
 * become one (a message for the client's ERR line). */
int relay_parse_connect(const char *line, size_t len, struct relay_target *ret, const char **why);
