/* porthole forward: host sockets that lead into the guest through its
 * porthole-relay (vsock port 1025; docs/relay.md). `forward docker` serves
 * the guest's /run/docker.sock as a unix socket on the host, so that the
 * host's docker CLI drives the VM's engine; `forward ports` is
 * cli-forward-ports.c. Here: the subcommands, where the guest's vsock is
 * (both use it), and the docker socket's loop. Each host connection gets a
 * connection of its own to the relay, dialled without blocking the others
 * (forward-dial.c); the bytes go through lib/relay, with half-close. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
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
#include "forward-dial.h"
#include "forward-seccomp.h"
#include "relay.h"
#include "util.h"

/* A connection to the relay, its answer included, takes at most this. */
#define FORWARD_CONNECT_MS 5000
#define FORWARD_EVENTS_MAX 64
/* Host connections at once, those being dialled included (the relay's own
 * limit is 256). */
#define FORWARD_CONNS_MAX 256

enum { TAG_LISTEN, TAG_SIGNAL, TAG_RELAY, TAG_DIAL };

struct forward {
	struct client_addr relay;
	char relay_name[160];
	const char *target; /* "unix:/run/docker.sock" */
	const char *socket_path;
	int epfd;
	unsigned open; /* dialling and relaying */
	bool said_full;
	uint64_t served, failed;
};

int cli_forward_vsock(struct cli *cli, uint32_t port, bool unix_ok, struct client_addr *ret)
{
	char buf[256];
	const char *s = cli->address;
	int r;

	if (!s && cli_vsock_address(port, buf, sizeof(buf)) == 0)
		s = buf;
	if (!s)
		s = getenv("PORTHOLE_CONNECT");
	if (!s || !*s) {
		cli_error("forward: no VM to forward to: %s does not exist here and neither "
			  "--connect nor PORTHOLE_CONNECT names one",
			  CLI_VSOCK_ADDRESS_FILE);
		return -ENOENT;
	}
	r = client_addr_parse(s, ret);
	if (r < 0) {
		cli_error("forward: bad address \"%s\": expected vsock:CID:PORT or "
			  "hvsock:PATH:PORT%s",
			  s, unix_ok ? " (or unix:PATH)" : "");
		return r;
	}
	if (ret->kind == CLIENT_ADDR_UNIX && !unix_ok) {
		cli_error("forward: %s is a unix socket (a virtio-serial port carries one stream): "
			  "forwarding needs the guest's vsock, --connect hvsock:PATH:PORT or "
			  "vsock:CID:PORT",
			  s);
		return -EINVAL;
	}
	ret->port = port; /* (a unix: address has none) */
	return 0;
}

int cli_forward_relay(struct cli *cli, const char *relay, uint32_t port, struct client_addr *ret)
{
	if (!relay)
		return cli_forward_vsock(cli, port, false, ret);
	if (client_addr_parse(relay, ret) < 0) {
		cli_error("forward: --relay \"%s\": expected vsock:CID:PORT, hvsock:PATH:PORT or "
			  "unix:PATH",
			  relay);
		return -EINVAL;
	}
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

struct pending {
	struct forward *f;
	int cfd;
};

/* The relay answered (or did not): the host client's connection and the
 * relay's are joined, or the client's is closed. */
static void dialled(const struct forward_dial_result *res, void *data)
{
	struct pending *p = data;
	struct forward *f = p->f;
	struct relay *r;

	if (res->fd < 0) {
		cli_error("forward: %s through %s", f->target, res->why);
		f->failed++;
		f->open--;
		(void)close(p->cfd); /* the client sees the connection close */
		free(p);
		return;
	}
	/* the relay's side first: what came after its "OK" goes to the client */
	if (relay_new(f->epfd, TAG_RELAY, res->fd, p->cfd, res->rest, res->rest_len, relay_done, f,
		      &r) < 0) {
		cli_error("forward: no memory for a connection");
		f->failed++;
		f->open--;
	} else
		f->served++;
	free(p);
}

static void on_accept(struct forward *f, int lfd)
{
	for (int i = 0; i < 16; i++) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct forward_dial *d;
		struct pending *p;
		int r;

		if (cfd < 0)
			return;
		if (f->open >= FORWARD_CONNS_MAX) {
			if (!f->said_full)
				cli_error("forward: %d connections open: more are closed at once",
					  FORWARD_CONNS_MAX);
			f->said_full = true;
			f->failed++;
			(void)close(cfd);
			continue;
		}
		f->said_full = false;
		p = malloc(sizeof(*p));
		if (!p) {
			(void)close(cfd);
			f->failed++;
			continue;
		}
		*p = (struct pending){ .f = f, .cfd = cfd };
		r = forward_dial_start(f->epfd, TAG_DIAL, &f->relay, f->target, FORWARD_CONNECT_MS,
				       dialled, p, &d);
		if (r < 0) {
			cli_error("forward: %s: %s", f->relay_name, strerror(-r));
			(void)close(cfd);
			free(p);
			f->failed++;
			continue;
		}
		f->open++;
	}
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
		int n = epoll_wait(f->epfd, ev, FORWARD_EVENTS_MAX, forward_dial_timers());

		if (n < 0 && errno != EINTR) {
			cli_error("forward: epoll_wait: %s", strerror(errno));
			r = CLI_EXIT_CONNECT;
			break;
		}
		for (int i = 0; i < n; i++) {
			int *tag = ev[i].data.ptr;

			if (*tag == TAG_LISTEN)
				on_accept(f, lfd);
			else if (*tag == TAG_RELAY)
				relay_event((struct relay_end *)tag, ev[i].events);
			else if (*tag == TAG_DIAL)
				forward_dial_event((struct forward_dial_end *)tag, ev[i].events);
			else
				goto out;
		}
		relay_reap();
		forward_dial_reap();
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

static const struct option forward_docker_longs[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "relay-port", required_argument, NULL, 'p' },
	{ "relay", required_argument, NULL, 'r' },
	{ "no-seccomp", no_argument, NULL, 'S' },
	{ 0 },
};
const struct cli_options cli_forward_docker_options = { "+", forward_docker_longs };

static int forward_docker(struct cli *cli, int argc, char **argv)
{
	struct forward f = { .target = "unix:/run/docker.sock" };
	const char *relay = NULL;
	char path[256];
	int64_t port = CLI_RELAY_VSOCK_PORT;
	bool port_given = false, seccomp = true;
	int c, lfd, r;

	optind = 2;
	while ((c = getopt_long(argc, argv, cli_forward_docker_options.shorts,
				cli_forward_docker_options.longs, NULL)) != -1) {
		switch (c) {
		case 's':
			f.socket_path = optarg;
			break;
		case 'p':
			if (parse_int64(optarg, 1, UINT32_MAX - 1, &port) < 0)
				return forward_usage("--relay-port wants a vsock port number");
			port_given = true;
			break;
		case 'r':
			relay = optarg;
			break;
		case 'S':
			seccomp = false;
			break;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return forward_usage("unexpected argument");
	if (relay && port_given)
		return forward_usage("--relay names the relay's address, port included: no "
				     "--relay-port with it");
	if (cli_forward_relay(cli, relay, (uint32_t)port, &f.relay) < 0)
		return CLI_EXIT_CONNECT;
	client_addr_format(&f.relay, f.relay_name, sizeof(f.relay_name));
	if (!f.socket_path) {
		char dir[sizeof(f.relay.path)];

		/* beside the VM's other sockets: the hybrid socket's directory */
		if (f.relay.kind != CLIENT_ADDR_HVSOCK)
			return forward_usage("--socket PATH is needed unless the relay is at an "
					     "hvsock: address");
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
	/* from here on it moves bytes (forward-seccomp.h) */
	if (seccomp && (r = forward_seccomp_apply()) < 0) {
		cli_error("forward: loading the seccomp filter (--no-seccomp runs without): %s",
			  strerror(-r));
		(void)close(lfd);
		(void)unlink(f.socket_path);
		return CLI_EXIT_CONNECT;
	}
	r = serve(&f, lfd);
	(void)close(lfd);
	(void)unlink(f.socket_path);
	return r;
}

int cli_forward(struct cli *cli, int argc, char **argv)
{
	if (argc < 2)
		return forward_usage("what to forward? (docker or ports)");
	if (strcmp(argv[1], "docker") == 0)
		return forward_docker(cli, argc, argv);
	if (strcmp(argv[1], "ports") == 0)
		return cli_forward_ports(cli, argc, argv);
	return forward_usage("unknown forward: expected docker or ports");
}
