/* porthole-vsockd: a vhost-user-vsock device backend, so that a VM has
 * vsock without root or /dev/vhost-vsock. QEMU's vhost-user-vsock-pci
 * connects to --socket and hands over the guest's memory and the rx and tx
 * rings; host programs reach the guest's vsock ports through --uds-path in
 * the hybrid vsock convention (docs/vsockd.md). One thread, one epoll set:
 * the front-end's socket, the rings' kick eventfds, the host sockets and
 * the signals. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vhost-user-sock.h"
#include "vsock-bridge.h"
#include "vsock-device.h"
#include "vsock-seccomp.h"

/* A front-end that stops inside a message, or does not read its reply,
 * for this long is dropped. */
#define FRONTEND_TIMEOUT_S 5
#define EVENTS_MAX 64
/* 0, 1 and 2 are reserved (the hypervisor, local, the host); -1 is any */
#define GUEST_CID_MIN 3
#define GUEST_CID_MAX 0xfffffffeu

struct kick {
	struct vsock_watch w;
	unsigned index;
};

struct vsockd {
	const char *socket_path, *uds_path;
	uint64_t guest_cid;
	bool persistent;
	bool seccomp;

	int epfd;
	struct vsock_watch listen_w, frontend_w, signal_w;
	int listen_fd, host_listen_fd, frontend_fd, signal_fd;
	struct kick kick[VSOCK_DEVICE_VRINGS];
	int kick_reg[VSOCK_DEVICE_VRINGS]; /* the fd registered, -1 none */
	/* where each ring stopped (GET_VRING_BASE): a start elsewhere is a
	 * device reset, after which the guest has forgotten its connections */
	bool stopped[VSOCK_DEVICE_VRINGS];
	uint32_t stop_base[VSOCK_DEVICE_VRINGS];
	struct vsock_device dev;
	struct vsock_bridge *bridge;
	uint64_t frontends;
};

static void usage(FILE *f)
{
	fputs("Usage: porthole-vsockd --socket PATH --uds-path PATH [--guest-cid N] [--persistent]\n"
	      "                       [--log-level LEVEL]\n"
	      "A vhost-user-vsock device backend: gives a QEMU VM vsock without root or\n"
	      "/dev/vhost-vsock. Start it first, then QEMU with\n"
	      "  -object memory-backend-memfd,id=mem,size=<the -m size>,share=on\n"
	      "  -machine memory-backend=mem\n"
	      "  -chardev socket,id=vsock,path=PATH -device vhost-user-vsock-pci,chardev=vsock\n"
	      "Host programs reach guest port P by connecting to the --uds-path socket and\n"
	      "writing \"CONNECT P\\n\" (answered \"OK <host port>\\n\"); a guest connection to\n"
	      "CID 2, port P, goes to the unix socket <uds-path>_P.\n"
	      "  --socket PATH       the vhost-user socket QEMU connects to (created here)\n"
	      "  --uds-path PATH     the hybrid vsock socket for host programs (created here)\n"
	      "  --guest-cid N       the guest's CID, 3 to 4294967294 (default 3)\n"
	      "  --persistent        serve the next QEMU when one disconnects (default: exit)\n"
	      "  --no-seccomp        without the system call filter (for debugging)\n"
	      "  --log-level LEVEL   error, warn, info (default) or debug\n"
	      "  -h, --help          this text\n"
	      "  --version           porthole-vsockd's version\n"
	      "Exit status: 0 when QEMU disconnected or on SIGTERM/SIGINT, 1 on an error,\n"
	      "2 on a usage error. See docs/vsockd.md.\n",
	      f);
}

static int watch(struct vsockd *s, int fd, struct vsock_watch *w, uint32_t events)
{
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd,
		      &(struct epoll_event){ .events = events, .data.ptr = w }) < 0)
		return -errno;
	return 0;
}

/* The kick fds in the epoll set as the device holds them now. Closing an
 * fd takes it out of the set, and a new one may get the same number, so
 * each is registered afresh whenever a request may have changed it. */
static void sync_kicks(struct vsockd *s)
{
	for (unsigned i = 0; i < VSOCK_DEVICE_VRINGS; i++) {
		int fd = s->dev.vr[i].kick_fd;

		if (s->kick_reg[i] >= 0)
			(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->kick_reg[i], NULL);
		s->kick_reg[i] = -1;
		if (fd >= 0 && watch(s, fd, &s->kick[i].w, EPOLLIN) == 0)
			s->kick_reg[i] = fd;
	}
}

static void frontend_close(struct vsockd *s)
{
	const struct vsock_bridge_stats *st = vsock_bridge_stats(s->bridge);

	if (s->frontend_fd < 0)
		return;
	log_info("QEMU disconnected: %" PRIu64 " bytes to the guest, %" PRIu64
		 " to the host; %" PRIu64 " connections from the host, %" PRIu64
		 " from the guest, %" PRIu64 " refused; %" PRIu64 " malformed chains, %" PRIu64
		 " packets refused",
		 st->to_guest, st->to_host, st->conns_host, st->conns_guest, st->refused,
		 st->bad_chains, st->bad_packets);
	vsock_bridge_reset(s->bridge);
	(void)close(s->frontend_fd); /* a socket: nothing to flush */
	s->frontend_fd = -1;
	vsock_device_free(&s->dev); /* closes the kick fds: out of the epoll set */
	vsock_device_init(&s->dev, s->guest_cid);
	for (unsigned i = 0; i < VSOCK_DEVICE_VRINGS; i++) {
		s->kick_reg[i] = -1;
		s->stopped[i] = false;
	}
}

static void frontend_accept(struct vsockd *s)
{
	struct timeval tv = { .tv_sec = FRONTEND_TIMEOUT_S };
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (s->frontend_fd >= 0) {
		log_warn("a second front-end connected while one is served: refused");
		(void)close(fd);
		return;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    watch(s, fd, &s->frontend_w, EPOLLIN) < 0) {
		log_error_errno(-errno, "setting up the front-end's socket");
		(void)close(fd);
		return;
	}
	s->frontend_fd = fd;
	s->frontends++;
	log_info("QEMU connected");
}

/* One request from the front-end: false when it is to be dropped. */
static bool frontend_request(struct vsockd *s)
{
	struct vhost_user_msg m;
	int fds[VHOST_USER_FDS_MAX];
	uint8_t reply[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];
	int r = vhost_user_sock_recv(s->frontend_fd, &m, fds);
	uint32_t index;

	if (r == 0)
		return false;
	if (r < 0) {
		log_error_errno(r, "reading a message from QEMU");
		return false;
	}
	index = m.state.index;
	if (m.hdr.request == VHOST_USER_SET_VRING_BASE && index < VSOCK_DEVICE_VRINGS &&
	    s->stopped[index]) {
		s->stopped[index] = false;
		if (m.state.num != s->stop_base[index]) {
			log_info("the guest reset the device: its connections are closed");
			vsock_bridge_reset(s->bridge);
			/* once for the device, not again for its other ring */
			for (unsigned i = 0; i < VSOCK_DEVICE_VRINGS; i++)
				s->stopped[i] = false;
		}
	}
	r = vsock_device_handle(&s->dev, &m, fds, reply, sizeof(reply));
	if (r < 0) {
		log_error_errno(r, "QEMU's request %" PRIu32 " refused", m.hdr.request);
		return false;
	}
	if (m.hdr.request == VHOST_USER_GET_VRING_BASE && index < VSOCK_DEVICE_VRINGS) {
		s->stopped[index] = true;
		s->stop_base[index] = s->dev.vr[index].base;
	}
	if (r > 0 && (r = vhost_user_sock_send(s->frontend_fd, reply, (size_t)r)) < 0) {
		log_error_errno(r, "replying to QEMU");
		return false;
	}
	if (m.hdr.request == VHOST_USER_SET_VRING_KICK ||
	    m.hdr.request == VHOST_USER_GET_VRING_BASE)
		sync_kicks(s);
	return true;
}

static void kick_read(struct kick *k, struct vsockd *s)
{
	uint64_t n;

	/* clears the count; the rings are run after every batch of events */
	/* (nothing to clear: EAGAIN, fine) */
	if (s->kick_reg[k->index] >= 0 && read(s->kick_reg[k->index], &n, sizeof(n)) < 0) {
	}
}

/* Runs until QEMU leaves (unless --persistent) or a signal: 0, or -errno. */
static int serve(struct vsockd *s)
{
	struct epoll_event ev[EVENTS_MAX];
	bool more = false;

	for (;;) {
		int timeout = vsock_bridge_timers(s->bridge);
		int n = epoll_wait(s->epfd, ev, EVENTS_MAX, more ? 0 : timeout);

		if (n < 0 && errno != EINTR)
			return log_error_errno(-errno, "epoll_wait");
		for (int i = 0; i < n; i++) {
			struct vsock_watch *w = ev[i].data.ptr;

			switch (w->kind) {
			case VSOCK_WATCH_FRONTEND_LISTEN:
				frontend_accept(s);
				break;
			case VSOCK_WATCH_FRONTEND:
				if (s->frontend_fd < 0)
					break;
				if (!frontend_request(s)) {
					frontend_close(s);
					if (!s->persistent)
						return 0;
				}
				break;
			case VSOCK_WATCH_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(s->signal_fd, &si, sizeof(si)) == sizeof(si)) {
					log_info("%s: exiting", strsignal((int)si.ssi_signo));
					return 0;
				}
				break;
			}
			case VSOCK_WATCH_KICK:
				kick_read((struct kick *)w, s);
				break;
			case VSOCK_WATCH_HOST_LISTEN:
			case VSOCK_WATCH_HOST:
				vsock_bridge_event(s->bridge, w, ev[i].events);
				break;
			}
		}
		more = vsock_bridge_run(s->bridge);
	}
}

static int parse_args(int argc, char **argv, struct vsockd *s)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "uds-path", required_argument, NULL, 'u' },
		{ "guest-cid", required_argument, NULL, 'c' },
		{ "persistent", no_argument, NULL, 'p' },
		{ "no-seccomp", no_argument, NULL, 'S' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, level;
	int64_t v;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			s->socket_path = optarg;
			break;
		case 'u':
			s->uds_path = optarg;
			break;
		case 'c':
			if (parse_int64(optarg, GUEST_CID_MIN, GUEST_CID_MAX, &v) < 0) {
				fprintf(stderr,
					"porthole-vsockd: --guest-cid '%s': expected %u to %u (0, 1 "
					"and 2 are reserved)\n",
					optarg, GUEST_CID_MIN, GUEST_CID_MAX);
				return -EINVAL;
			}
			s->guest_cid = (uint64_t)v;
			break;
		case 'p':
			s->persistent = true;
			break;
		case 'S':
			s->seccomp = false;
			break;
		case 'l':
			level = log_level_from_string(optarg);
			if (level < 0) {
				fprintf(stderr,
					"porthole-vsockd: --log-level '%s': expected error, warn, "
					"info or debug\n",
					optarg);
				return -EINVAL;
			}
			log_set_level((enum log_level)level);
			break;
		case 'V':
			printf("porthole-vsockd %s\n", PORTHOLE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "porthole-vsockd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!s->socket_path || !s->uds_path) {
		fprintf(stderr, "porthole-vsockd: --socket and --uds-path are required\n");
		return -EINVAL;
	}
	return 0;
}

static int setup(struct vsockd *s)
{
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return log_error_errno(-errno, "sigprocmask");
	s->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->signal_fd < 0 || s->epfd < 0)
		return log_error_errno(-errno, "setting up the event loop");
	s->listen_fd = unix_listen(s->socket_path, 128);
	if (s->listen_fd < 0)
		return log_error_errno(s->listen_fd, "--socket %s", s->socket_path);
	s->host_listen_fd = unix_listen(s->uds_path, 128);
	if (s->host_listen_fd < 0)
		return log_error_errno(s->host_listen_fd, "--uds-path %s", s->uds_path);
	r = vsock_bridge_new(s->epfd, &s->dev, s->host_listen_fd, s->uds_path, &s->bridge);
	if (r < 0)
		return log_error_errno(r, "--uds-path %s", s->uds_path);
	if ((r = watch(s, s->listen_fd, &s->listen_w, EPOLLIN)) < 0 ||
	    (r = watch(s, s->signal_fd, &s->signal_w, EPOLLIN)) < 0)
		return log_error_errno(r, "setting up the event loop");
	/* from here on it moves bytes: the filter allows little else */
	if (s->seccomp && (r = vsock_seccomp_apply()) < 0)
		return log_error_errno(r, "loading the seccomp filter (--no-seccomp runs without)");
	return 0;
}

int main(int argc, char **argv)
{
	struct vsockd s = {
		.guest_cid = GUEST_CID_MIN,
		.seccomp = true,
		.epfd = -1,
		.listen_fd = -1,
		.host_listen_fd = -1,
		.frontend_fd = -1,
		.signal_fd = -1,
		.listen_w.kind = VSOCK_WATCH_FRONTEND_LISTEN,
		.frontend_w.kind = VSOCK_WATCH_FRONTEND,
		.signal_w.kind = VSOCK_WATCH_SIGNAL,
	};
	int r;

	log_setup("porthole-vsockd");
	/* Each connection's buffers (its receive ring, VSOCK_BUF_ALLOC, and
	 * its host side's staging buffer, VSOCK_BRIDGE_STAGE) mappings of
	 * their own, given back at its close: in the heap, and glibc's
	 * threshold rises past them after the first free (mallopt(3)), a
	 * burst of connections left 1.2 to 2.5 MiB in the heap after they
	 * ended (tests/vm/faults.sh: 10,000 short connections). */
	(void)mallopt(M_MMAP_THRESHOLD, VSOCK_BRIDGE_STAGE);
	if (parse_args(argc, argv, &s) < 0) {
		usage(stderr);
		return 2;
	}
	for (unsigned i = 0; i < VSOCK_DEVICE_VRINGS; i++) {
		s.kick[i] = (struct kick){ .w.kind = VSOCK_WATCH_KICK, .index = i };
		s.kick_reg[i] = -1;
	}
	vsock_device_init(&s.dev, s.guest_cid);
	r = setup(&s);
	if (r == 0) {
		log_info("guest CID %" PRIu64 ": QEMU on %s, host programs on %s", s.guest_cid,
			 s.socket_path, s.uds_path);
		r = serve(&s);
		frontend_close(&s);
	}
	vsock_bridge_free(s.bridge);
	vsock_device_free(&s.dev);
	/* the sockets are ours: a stale one would only mislead the next user */
	if (s.listen_fd >= 0)
		(void)unlink(s.socket_path);
	if (s.host_listen_fd >= 0)
		(void)unlink(s.uds_path);
	return r < 0 ? 1 : 0;
}
