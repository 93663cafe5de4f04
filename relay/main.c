/* porthole-relay: the guest's end of the host's forwarders. The host
 * connects to a vsock port (1025), sends one line, "CONNECT unix:PATH\n",
 * "CONNECT tcp:ADDRESS:PORT\n" or "CONNECT udp:ADDRESS:PORT\n", and once
 * the relay has connected there and answered "OK\n", the vsock connection
 * is that socket's: the docker socket for `porthole forward docker`, a
 * published port for `porthole forward ports`. A refusal is "ERR <why>\n"
 * and a close. One thread, one epoll set; the bytes of stream targets go
 * through lib/relay, with half-close both ways, the datagrams of udp:
 * targets through udp.c, framed on the stream (lib/dgramstream). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/vm_sockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dgramstream.h"
#include "log.h"
#include "relay.h"
#include "target.h"
#include "udp.h"
#include "util.h"

#define ALLOW_MAX 8
#define CIDS_MAX 8
#define EVENTS_MAX 64
/* How long a client has for its line, and a TCP target to accept. */
#define LINE_TIMEOUT_MS 10000
#define CONNECT_TIMEOUT_MS 10000

enum tag {
	TAG_LISTEN,
	TAG_SIGNAL,
	TAG_PENDING,
	TAG_RELAY,
	TAG_DGRAM, /* a udp: target's stream (lib/dgramstream) */
	TAG_UDP, /* a udp: target's socket (udp.c) */
};

struct listener {
	int tag;
	int fd;
	bool vsock;
};

struct config {
	unsigned vsock_port;
	unsigned cids[CIDS_MAX];
	size_t n_cids;
	const char *allow[ALLOW_MAX];
	size_t n_allow;
	bool tcp, udp;
	const char *listen_unix;
	unsigned max_conns;
};

/* A client still sending its line, or whose target is connecting. */
struct pending {
	int tag;
	int fd, target;
	int type; /* the target's: SOCK_STREAM or SOCK_DGRAM */
	char line[RELAY_LINE_MAX + 1];
	size_t len, line_len;
	uint64_t deadline;
	char name[64];
	struct pending *prev, *next;
};

static struct config cfg = { .vsock_port = 1025,
			     .cids = { 2 },
			     .n_cids = 1,
			     .tcp = true,
			     .udp = true,
			     .max_conns = 256 };
static int epfd = -1;
static struct pending *pendings;
static unsigned n_conns; /* pending and relaying */
static uint64_t served, refused;

static void pending_free(struct pending *p, bool close_client)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		pendings = p->next;
	if (p->next)
		p->next->prev = p->prev;
	if (p->target >= 0)
		(void)close(p->target); /* a socket: nothing to flush */
	if (close_client)
		(void)close(p->fd);
	free(p);
}

/* "ERR <why>\n" to the client, then closed. */
static void refuse(struct pending *p, const char *why)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "ERR %s\n", why);

	log_warn("%s: refused: %s", p->name, why);
	(void)send(p->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT); /* best effort */
	refused++;
	n_conns--;
	pending_free(p, true);
}

static void relay_done(struct relay *r, int err, const struct relay_stats *st, void *data)
{
	char *name = data;

	(void)r;
	if (err < 0 && err != -ECONNRESET && err != -EPIPE)
		log_warn("%s: ended: %s", name, strerror(-err));
	log_debug("%s: %" PRIu64 " bytes to the target, %" PRIu64 " back", name, st->bytes[0],
		  st->bytes[1]);
	free(name);
	n_conns--;
}

static void udp_done(int err, const struct relay_udp_stats *st, void *data)
{
	char *name = data;

	if (err == -EMSGSIZE)
		log_warn("%s: ended: a frame longer than %d bytes", name, DGRAM_MAX);
	else if (err == -EPROTO)
		log_warn("%s: ended: a frame cut short by the end of the stream", name);
	else if (err < 0 && err != -ECONNRESET && err != -EPIPE)
		log_warn("%s: ended: %s", name, strerror(-err));
	log_debug("%s: %" PRIu64 " datagrams to the target, %" PRIu64 " back, %" PRIu64 " dropped",
		  name, st->to_target, st->from_target, st->dropped);
	free(name);
	n_conns--;
}

/* The target accepted (or, for udp:, the socket is connected): "OK\n",
 * and the relay (or udp.c) takes both fds. */
static void start_relay(struct pending *p)
{
	struct relay *r;
	char *name = strdup(p->name);
	size_t extra = p->len - p->line_len;
	uint8_t first[RELAY_LINE_MAX];
	int fd = p->fd, target = p->target, p_type = p->type;

	if (send(fd, "OK\n", 3, MSG_NOSIGNAL | MSG_DONTWAIT) != 3 || !name) {
		free(name);
		log_warn("%s: the client left before its answer", p->name);
		n_conns--;
		pending_free(p, true);
		return;
	}
	/* bytes the client sent after its line are the target's */
	memcpy(first, p->line + p->line_len, extra);
	(void)epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	if (target >= 0)
		(void)epoll_ctl(epfd, EPOLL_CTL_DEL, target, NULL);
	p->target = -1;
	pending_free(p, false);
	served++;
	if (p_type == SOCK_DGRAM) {
		if (relay_udp_new(epfd, TAG_DGRAM, TAG_UDP, fd, target, first, extra, udp_done,
				  name) < 0) {
			log_warn("%s: no memory for the relay", name);
			free(name);
			n_conns--;
		}
		return;
	}
	if (relay_new(epfd, TAG_RELAY, fd, target, first, extra, relay_done, name, &r) < 0) {
		log_warn("%s: no memory for the relay", name);
		free(name);
		n_conns--;
	}
}

static bool unix_allowed(const char *path)
{
	for (size_t i = 0; i < cfg.n_allow; i++)
		if (strcmp(cfg.allow[i], path) == 0)
			return true;
	return false;
}

static void on_line(struct pending *p)
{
	struct relay_target t;
	const char *why = NULL;
	ssize_t n = read(p->fd, p->line + p->len, RELAY_LINE_MAX - p->len);
	int r;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		log_debug("%s: left before its CONNECT line", p->name);
		n_conns--;
		pending_free(p, true);
		return;
	}
	p->len += (size_t)n;
	r = relay_parse_connect(p->line, p->len, &t, &why);
	if (!r)
		return;
	if (r < 0) {
		refuse(p, why);
		return;
	}
	p->line_len = (size_t)r;
	if (t.family == AF_UNIX && !unix_allowed(((struct sockaddr_un *)&t.addr)->sun_path)) {
		refuse(p, "that unix socket is not one the relay serves (--allow-unix)");
		return;
	}
	if (t.family != AF_UNIX && t.type == SOCK_STREAM && !cfg.tcp) {
		refuse(p, "TCP targets are off (--no-tcp)");
		return;
	}
	if (t.type == SOCK_DGRAM && !cfg.udp) {
		refuse(p, "UDP targets are off (--no-udp)");
		return;
	}
	p->type = t.type;
	/* a UDP socket's connect() only sets its peer: it never waits */
	p->target = socket(t.family, t.type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->target < 0) {
		refuse(p, strerror(errno));
		return;
	}
	if (connect(p->target, (struct sockaddr *)&t.addr, t.addr_len) == 0) {
		start_relay(p);
		return;
	}
	/* a unix socket does not wait: EAGAIN there is a full backlog */
	if (errno != EINPROGRESS) {
		refuse(p, strerror(errno));
		return;
	}
	p->deadline = now_mono_ns() + CONNECT_TIMEOUT_MS * NSEC_PER_MSEC;
	(void)epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, p->target,
		      &(struct epoll_event){ .events = EPOLLOUT, .data.ptr = p }) < 0)
		refuse(p, strerror(errno));
}

static void on_connected(struct pending *p)
{
	int err = sock_error(p->target);

	if (err < 0) {
		refuse(p, strerror(-err));
		return;
	}
	start_relay(p);
}

static void on_pending(struct pending *p, uint32_t events)
{
	(void)events;
	if (p->target < 0)
		on_line(p);
	else
		on_connected(p);
}

static void on_accept(struct listener *l)
{
	for (;;) {
		union {
			struct sockaddr sa;
			struct sockaddr_vm vm;
		} peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(l->fd, &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct pending *p;
		bool ok = !l->vsock;

		if (fd < 0)
			return;
		for (size_t i = 0; l->vsock && i < cfg.n_cids; i++)
			ok |= peer.vm.svm_cid == cfg.cids[i];
		if (!ok) {
			log_warn("vsock CID %u refused (--vsock-cids)", peer.vm.svm_cid);
			(void)close(fd);
			continue;
		}
		if (n_conns >= cfg.max_conns) {
			static const char msg[] = "ERR too many connections\n";

			log_warn("%u connections already: one more refused", n_conns);
			(void)send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)close(fd);
			refused++;
			continue;
		}
		p = calloc(1, sizeof(*p));
		if (!p) {
			(void)close(fd);
			continue;
		}
		p->tag = TAG_PENDING;
		p->fd = fd;
		p->target = -1;
		p->deadline = now_mono_ns() + LINE_TIMEOUT_MS * NSEC_PER_MSEC;
		if (l->vsock)
			snprintf(p->name, sizeof(p->name), "vsock %u:%u", peer.vm.svm_cid,
				 peer.vm.svm_port);
		else
			snprintf(p->name, sizeof(p->name), "unix client");
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd,
			      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = p }) < 0) {
			(void)close(fd);
			free(p);
			continue;
		}
		p->next = pendings;
		if (pendings)
			pendings->prev = p;
		pendings = p;
		n_conns++;
	}
}

/* Time-outs; the milliseconds to the next one, -1 for none. */
static int timers(void)
{
	uint64_t now = now_mono_ns(), next = UINT64_MAX;
	struct pending *p = pendings;

	while (p) {
		struct pending *following = p->next;

		if (p->deadline <= now)
			refuse(p, p->target < 0 ? "no CONNECT line within 10 s"
						: "the target did not accept within 10 s");
		else if (p->deadline < next)
			next = p->deadline;
		p = following;
	}
	return next == UINT64_MAX ? -1 : (int)((next - now) / NSEC_PER_MSEC + 1);
}

static void usage(FILE *f)
{
	fputs("Usage: porthole-relay [--vsock-port N] [--vsock-cids LIST] [--allow-unix PATH]...\n"
	      "                      [--no-tcp] [--no-udp] [--max-connections N]\n"
	      "                      [--listen-unix PATH] [--log-level LEVEL]\n"
	      "The guest's end of the host's forwarders (porthole forward): a client sends\n"
	      "\"CONNECT unix:PATH\\n\", \"CONNECT tcp:ADDRESS:PORT\\n\" or\n"
	      "\"CONNECT udp:ADDRESS:PORT\\n\" and, answered \"OK\\n\", the connection is that\n"
	      "socket's (udp: datagrams each framed by a 2-byte big-endian length);\n"
	      "\"ERR <why>\\n\" otherwise.\n"
	      "  --vsock-port N        vsock port to listen on (default 1025; 0: none)\n"
	      "  --vsock-cids LIST     peers accepted, commas (default 2, the host)\n"
	      "  --allow-unix PATH     a unix socket clients may reach (up to 8)\n"
	      "  --no-tcp              refuse tcp: targets\n"
	      "  --no-udp              refuse udp: targets\n"
	      "  --max-connections N   at once, those still sending their line included\n"
	      "                        (default 256)\n"
	      "  --listen-unix PATH    also listen on this unix socket (tests)\n"
	      "  --log-level LEVEL     error, warn, info (default) or debug\n"
	      "  -h, --help            this text\n"
	      "See docs/relay.md.\n",
	      f);
}

static int parse_cids(const char *s)
{
	char buf[128];
	char *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	cfg.n_cids = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int64_t v;

		if (cfg.n_cids == CIDS_MAX || parse_int64(t, 1, UINT32_MAX - 1, &v) < 0)
			return -EINVAL;
		cfg.cids[cfg.n_cids++] = (unsigned)v;
	}
	return cfg.n_cids ? 0 : -EINVAL;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vsock-port", required_argument, NULL, 'p' },
		{ "vsock-cids", required_argument, NULL, 'c' },
		{ "allow-unix", required_argument, NULL, 'a' },
		{ "no-tcp", no_argument, NULL, 'T' },
		{ "no-udp", no_argument, NULL, 'U' },
		{ "max-connections", required_argument, NULL, 'm' },
		{ "listen-unix", required_argument, NULL, 'u' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, level;
	int64_t v;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_int64(optarg, 0, UINT32_MAX - 1, &v) < 0) {
				fprintf(stderr,
					"porthole-relay: --vsock-port '%s': expected 0 to %u\n",
					optarg, UINT32_MAX - 1);
				return -EINVAL;
			}
			cfg.vsock_port = (unsigned)v;
			break;
		case 'c':
			if (parse_cids(optarg) < 0) {
				fprintf(stderr,
					"porthole-relay: --vsock-cids '%s': expected up to %d CIDs, "
					"commas between\n",
					optarg, CIDS_MAX);
				return -EINVAL;
			}
			break;
		case 'a':
			if (optarg[0] != '/' ||
			    strlen(optarg) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
			    cfg.n_allow == ALLOW_MAX) {
				fprintf(stderr,
					"porthole-relay: --allow-unix '%s': expected an absolute path "
					"shorter than 108 bytes, at most %d of them\n",
					optarg, ALLOW_MAX);
				return -EINVAL;
			}
			cfg.allow[cfg.n_allow++] = optarg;
			break;
		case 'T':
			cfg.tcp = false;
			break;
		case 'U':
			cfg.udp = false;
			break;
		case 'm':
			if (parse_int64(optarg, 1, 65536, &v) < 0) {
				fprintf(stderr,
					"porthole-relay: --max-connections '%s': expected 1 to 65536\n",
					optarg);
				return -EINVAL;
			}
			cfg.max_conns = (unsigned)v;
			break;
		case 'u':
			cfg.listen_unix = optarg;
			break;
		case 'l':
			level = log_level_from_string(optarg);
			if (level < 0) {
				fprintf(stderr,
					"porthole-relay: --log-level '%s': expected error, warn, info or "
					"debug\n",
					optarg);
				return -EINVAL;
			}
			log_set_level((enum log_level)level);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "porthole-relay: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static int listen_on(struct listener *l)
{
	int r;

	if (l->vsock) {
		struct sockaddr_vm sa = { .svm_family = AF_VSOCK,
					  .svm_cid = VMADDR_CID_ANY,
					  .svm_port = cfg.vsock_port };

		l->fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return log_error_errno(-errno, "vsock port %u", cfg.vsock_port);
	} else {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(cfg.listen_unix) >= sizeof(sa.sun_path))
			return log_error_errno(-ENAMETOOLONG, "--listen-unix %s", cfg.listen_unix);
		strcpy(sa.sun_path, cfg.listen_unix);
		(void)unlink(cfg.listen_unix);
		l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return log_error_errno(-errno, "--listen-unix %s", cfg.listen_unix);
	}
	if (listen(l->fd, 128) < 0)
		return log_error_errno(-errno, "listen");
	r = epoll_ctl(epfd, EPOLL_CTL_ADD, l->fd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = l });
	return r < 0 ? log_error_errno(-errno, "epoll") : 0;
}

int main(int argc, char **argv)
{
	struct listener lv = { .tag = TAG_LISTEN, .fd = -1, .vsock = true };
	struct listener lu = { .tag = TAG_LISTEN, .fd = -1 };
	int sig_tag = TAG_SIGNAL;
	struct epoll_event ev[EVENTS_MAX];
	sigset_t mask;
	int sfd;

	log_setup("porthole-relay");
	if (parse_args(argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	(void)sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || epfd < 0 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, sfd,
		      &(struct epoll_event){ .events = EPOLLIN, .data.ptr = &sig_tag }) < 0) {
		log_error_errno(-errno, "setting up the event loop");
		return 1;
	}
	if ((cfg.vsock_port && listen_on(&lv) < 0) || (cfg.listen_unix && listen_on(&lu) < 0))
		return 1;
	if (!cfg.vsock_port && !cfg.listen_unix) {
		log_error("nothing to listen on: --vsock-port 0 and no --listen-unix");
		return 2;
	}
	log_info("listening on vsock port %u%s%s; %zu unix socket(s) allowed, tcp %s, udp %s",
		 cfg.vsock_port, cfg.listen_unix ? " and " : "",
		 cfg.listen_unix ? cfg.listen_unix : "", cfg.n_allow, cfg.tcp ? "on" : "off",
		 cfg.udp ? "on" : "off");
	for (;;) {
		int n = epoll_wait(epfd, ev, EVENTS_MAX, timers());

		if (n < 0 && errno != EINTR) {
			log_error_errno(-errno, "epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int *tag = ev[i].data.ptr;

			switch (*tag) {
			case TAG_LISTEN:
				on_accept((struct listener *)tag);
				break;
			case TAG_SIGNAL:
				log_info("exiting: %" PRIu64 " connections served, %" PRIu64
					 " refused",
					 served, refused);
				return 0;
			case TAG_PENDING:
				on_pending((struct pending *)tag, ev[i].events);
				break;
			case TAG_RELAY:
				relay_event((struct relay_end *)tag, ev[i].events);
				break;
			case TAG_DGRAM:
				dgram_stream_event((struct dgram_stream_end *)tag, ev[i].events);
				break;
			case TAG_UDP:
				relay_udp_event(tag, ev[i].events);
				break;
			}
		}
		relay_reap();
		relay_udp_reap();
		dgram_stream_reap();
	}
}
