/* porthole forward: host sockets that lead into the guest through its
 * porthole-relay (vsock port 1025; docs/relay.md). `forward docker` serves
 * the guest's /run/docker.sock as a unix socket on the host, so that the
 * host's docker CLI drives the VM's engine. Each host connection gets its
 * own vsock connection; the bytes go through lib/relay, with half-close. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "client-addr.h"
#include "relay.h"
#include "util.h"

/* The guest's porthole-relay (relay/main.c's default). */
#define FORWARD_RELAY_PORT 1025
/* What run-vm writes: how host programs reach the guest's vsock. */
#define FORWARD_VSOCK_ADDRESS "build/vm/vsock.address"
/* A connection to the relay, its answer included, takes at most this: the
 * loop waits for it (the relay answers at once when the guest is up). */
#define FORWARD_CONNECT_MS 5000
#define FORWARD_EVENTS_MAX 64

enum { TAG_LISTEN, TAG_SIGNAL, TAG_RELAY };

struct forward {
	struct client_addr relay;
	char relay_name[160];
	const char *target; /* "unix:/run/docker.sock" */
	const char *socket_path;
	int epfd;
	unsigned open;
	uint64_t served, failed;
};

/* The relay's address: --connect's, else run-vm's vsock.address here, else
 * $PORTHOLE_CONNECT; vsock or hybrid vsock, with the relay's port. */
static int relay_address(struct cli *cli, uint32_t port, struct client_addr *ret)
{
	char buf[256], *file = NULL;
	const char *s = cli->address;
	size_t len;
	int r;

	if (!s && read_file(FORWARD_VSOCK_ADDRESS, 200, &file, &len) == 0) {
		file[strcspn(file, "\n")] = 0;
		snprintf(buf, sizeof(buf), "%s:%" PRIu32, file, port);
		free(file);
		s = buf;
	}
	if (!s)
		s = getenv("PORTHOLE_CONNECT");
	if (!s || !*s) {
		cli_error("forward: no VM to forward to: %s does not exist here and neither "
			  "--connect nor PORTHOLE_CONNECT names one",
			  FORWARD_VSOCK_ADDRESS);
		return -ENOENT;
	}
	r = client_addr_parse(s, ret);
	if (r < 0) {
		cli_error(
			"forward: bad address \"%s\": expected vsock:CID:PORT or hvsock:PATH:PORT",
			s);
		return r;
	}
	if (ret->kind == CLIENT_ADDR_UNIX) {
		cli_error("forward: %s is a unix socket (a virtio-serial port carries one stream): "
			  "forwarding needs the guest's vsock, --connect hvsock:PATH:PORT or "
			  "vsock:CID:PORT",
			  s);
		return -EINVAL;
	}
	ret->port = port;
	return 0;
}

static void relay_done(struct relay *r, int err, const struct relay_stats *st, void *data)
{
	struct forward *f = data;

	(void)r;
	(void)st;
	if (err < 0 && err != -ECONNRESET && err != -EPIPE)
		cli_error("forward: a connection ended: %s", strerror(-err));
	f->open--;
}

/* The relay's answer line: 0 for "OK", -EPROTO with its message in WHY. */
static int read_answer(int fd, uint64_t deadline, char *why, size_t size)
{
	char line[160];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		ssize_t k;
		int r = fd_wait(fd, POLLIN, deadline);

		if (r < 0) {
			snprintf(why, size, "no answer from the relay within %d s",
				 FORWARD_CONNECT_MS / 1000);
			return r;
		}
		k = read(fd, line + n, 1); /* one byte at a time: what follows is the stream's */
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k <= 0) {
			snprintf(why, size, "the relay closed the connection");
			return -ECONNRESET;
		}
		if (line[n] == '\n') {
			line[n] = 0;
			if (strcmp(line, "OK") == 0)
				return 0;
			snprintf(why, size, "the relay answered \"%.*s\"", 120, line);
			return -EPROTO;
		}
		n++;
	}
	snprintf(why, size, "the relay's answer is too long");
	return -EPROTO;
}

/* One host client: a vsock connection to the relay, CONNECT, then both fds
 * to a relay. */
static void accept_one(struct forward *f, int lfd)
{
	uint64_t deadline = now_mono_ns() + FORWARD_CONNECT_MS * NSEC_PER_MSEC;
	int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct client_error err = { 0 };
	char line[160], why[200];
	struct relay *r;
	int vfd, n;

	if (cfd < 0)
		return;
	vfd = client_addr_connect(&f->relay, deadline, &err);
	if (vfd < 0) {
		cli_error("forward: %s", err.desc[0] ? err.desc : strerror(-vfd));
		goto fail;
	}
	n = snprintf(line, sizeof(line), "CONNECT %s\n", f->target);
	if (send_all_until(vfd, line, (size_t)n, deadline) < 0)
		snprintf(why, sizeof(why), "the relay went away");
	else if (read_answer(vfd, deadline, why, sizeof(why)) == 0)
		why[0] = 0;
	if (why[0]) {
		cli_error("forward: %s through %s: %s", f->target, f->relay_name, why);
		(void)close(vfd);
		goto fail;
	}
	if (relay_new(f->epfd, TAG_RELAY, cfd, vfd, NULL, 0, relay_done, f, &r) < 0) {
		cli_error("forward: no memory for a connection");
		f->failed++;
		return;
	}
	f->open++;
	f->served++;
	return;
fail:
	f->failed++;
	(void)close(cfd); /* the client sees the connection close */
}

static int serve(struct forward *f, int lfd)
{
	struct epoll_event ev[FORWARD_EVENTS_MAX];
	int tag_listen = TAG_LISTEN, tag_signal = TAG_SIGNAL;
	sigset_t mask;
	int sfd, r = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || f->epfd < 0 ||
	    epoll_ctl(f->epfd, EPOLL_CTL_ADD, lfd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_listen }) < 0 ||
	    epoll_ctl(f->epfd, EPOLL_CTL_ADD, sfd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_signal }) < 0) {
		cli_error("forward: setting up the event loop: %s", strerror(errno));
		return CLI_EXIT_CONNECT;
	}
	for (;;) {
		int n = epoll_wait(f->epfd, ev, FORWARD_EVENTS_MAX, -1);

		if (n < 0 && errno != EINTR) {
			cli_error("forward: epoll_wait: %s", strerror(errno));
			r = CLI_EXIT_CONNECT;
			break;
		}
		for (int i = 0; i < n; i++) {
			int *tag = ev[i].data.ptr;

			if (*tag == TAG_LISTEN)
				accept_one(f, lfd);
			else if (*tag == TAG_RELAY)
				relay_event((struct relay_end *)tag, ev[i].events);
			else
				goto out;
		}
		relay_reap();
	}
out:
	fprintf(stderr,
		"porthole: forward: stopped: %" PRIu64 " connections served, %" PRIu64 " failed\n",
		f->served, f->failed);
	(void)close(sfd);
	return r;
}

static int forward_usage(const char *msg)
{
	return cli_usage_error("forward", "%s", msg);
}

int cli_forward(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "relay-port", required_argument, NULL, 'p' },
		{ 0 },
	};
	struct forward f = { .target = "unix:/run/docker.sock" };
	char path[256];
	int64_t port = FORWARD_RELAY_PORT;
	int c, lfd, r;

	if (argc < 2)
		return forward_usage("what to forward? (docker)");
	if (strcmp(argv[1], "docker") != 0)
		return forward_usage("unknown forward: expected docker");
	optind = 2;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			f.socket_path = optarg;
			break;
		case 'p':
			if (parse_int64(optarg, 1, UINT32_MAX - 1, &port) < 0)
				return forward_usage("--relay-port wants a vsock port number");
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return forward_usage("unexpected argument");
	if (relay_address(cli, (uint32_t)port, &f.relay) < 0)
		return CLI_EXIT_CONNECT;
	client_addr_format(&f.relay, f.relay_name, sizeof(f.relay_name));
	if (!f.socket_path) {
		char dir[sizeof(f.relay.path)];

		/* beside the VM's other sockets: the hybrid socket's directory */
		if (f.relay.kind != CLIENT_ADDR_HVSOCK)
			return forward_usage("--socket PATH is needed with a vsock:CID address");
		strcpy(dir, f.relay.path);
		if (snprintf(path, sizeof(path), "%s/docker.sock", dirname(dir)) >=
		    (int)sizeof(path))
			return forward_usage("the VM's directory is too long for a socket path");
		f.socket_path = path;
	}
	lfd = unix_listen(f.socket_path, 128);
	if (lfd < 0) {
		cli_error("forward: %s: %s", f.socket_path,
			  lfd == -EADDRINUSE ? "in use: another forward serves it"
					     : strerror(-lfd));
		return CLI_EXIT_CONNECT;
	}
	printf("porthole: forwarding %s to the guest's /run/docker.sock through %s\n"
	       "  export DOCKER_HOST=unix://%s\n",
	       f.socket_path, f.relay_name, f.socket_path);
	fflush(stdout);
	r = serve(&f, lfd);
	(void)close(lfd);
	(void)unlink(f.socket_path);
	return r;
}
