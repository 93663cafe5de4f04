/* porthole-ports: the guest's listening ports for the host's forwarder,
 * long-polled. The set is read with sock_diag (ports.c) when something may
 * have changed it, not on a clock: the kernel's process events (proc
 * connector: a program started or ended) start a short series of reads,
 * since a server binds a moment after it starts and a published container
 * port is a docker-proxy process that starts; a quiet guest wakes for
 * nothing. While a client waits, a read every 30 s catches a program that
 * binds long after it started. Nothing runs until the first request. */
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"
#include "cmd-ports.h"
#include "command.h"
#include "log.h"
#include "loop.h"
#include "ports.h"
#include "util.h"

#define WAITERS_MAX 16
#define WAIT_MAX_MS 60000
/* After a process event: read at these delays from the first one; a new
 * event starts the series again without putting off the read due. */
static const unsigned scan_delays_ms[] = { 100, 500, 2000, 8000 };
#define BACKSTOP_MS 30000

struct waiter {
	struct cmd_async *pending; /* NULL: free */
	int64_t timer;
};

static struct {
	struct agent *a;
	bool started;
	int cn_fd; /* the proc connector, -1 when the kernel refused it */
	struct port_set cur, next;
	int64_t generation;
	char error[160]; /* the last read's failure, "" when it worked */
	unsigned step; /* the next of scan_delays_ms */
	int64_t scan_timer, backstop_timer;
	bool timer_first; /* scan_timer is the series' first (short) delay */
	struct waiter waiters[WAITERS_MAX];
} pw = { .cn_fd = -1 };

static json_t *ports_json(void)
{
	json_t *list = json_array(), *r;

	for (size_t i = 0; list && i < pw.cur.n; i++) {
		const struct port *p = &pw.cur.p[i];
		char addr[64];

		json_array_append_new(
			list, json_pack("{s:s,s:s,s:i}", "protocol",
					p->protocol == IPPROTO_TCP ? "tcp" : "udp", "address",
					ports_addr_str(p, addr, sizeof(addr)), "port", p->port));
	}
	r = json_pack("{s:I,s:o}", "generation", (json_int_t)pw.generation, "ports", list);
	if (r && pw.cur.dropped)
		json_object_set_new(r, "dropped", json_integer((json_int_t)pw.cur.dropped));
	if (r && pw.error[0])
		json_object_set_new(r, "error", json_string(pw.error));
	return r;
}

static void waiter_done(struct waiter *w)
{
	struct cmd_async *p = w->pending;

	w->pending = NULL;
	if (w->timer > 0 && pw.a)
		loop_cancel(pw.a->loop, w->timer);
	w->timer = 0;
	cmd_async_finish(p, ports_json(), NULL);
}

static bool anyone_waiting(void)
{
	for (size_t i = 0; i < WAITERS_MAX; i++)
		if (pw.waiters[i].pending)
			return true;
	return false;
}

/* Reads the set; a change is a new generation, and the waiters hear it. */
static void scan(void)
{
	int r = ports_scan(&pw.next);

	if (r < 0) {
		if (!pw.error[0])
			log_warn("ports: reading the listening sockets: %s", strerror(-r));
		snprintf(pw.error, sizeof(pw.error), "reading the listening sockets: %s",
			 strerror(-r));
		return;
	}
	pw.error[0] = 0;
	if (pw.generation && ports_equal(&pw.cur, &pw.next))
		return;
	pw.cur = pw.next;
	pw.generation++;
	log_debug("ports: generation %lld, %zu listening", (long long)pw.generation, pw.cur.n);
	for (size_t i = 0; i < WAITERS_MAX; i++)
		if (pw.waiters[i].pending)
			waiter_done(&pw.waiters[i]);
}

static void scan_timer(struct loop *l, void *data)
{
	(void)data;
	pw.scan_timer = 0;
	pw.timer_first = false;
	scan();
	if (pw.step < ARRAY_SIZE(scan_delays_ms) && anyone_waiting()) {
		unsigned wait = scan_delays_ms[pw.step] - scan_delays_ms[pw.step - 1];

		pw.step++;
		pw.scan_timer = loop_timer(l, wait, scan_timer, NULL);
	}
}

/* Something may have bound or closed a port: the series starts again. The
 * first read is never put off by a later event (a burst of them reads at
 * most ten times a second), and nobody waiting, nothing is read: the next
 * request reads for itself. */
static void poke(void)
{
	if (!pw.a || !anyone_waiting())
		return;
	pw.step = 1;
	if (pw.scan_timer && pw.timer_first)
		return;
	if (pw.scan_timer)
		loop_cancel(pw.a->loop, pw.scan_timer);
	pw.scan_timer = loop_timer(pw.a->loop, scan_delays_ms[0], scan_timer, NULL);
	pw.timer_first = true;
}

static void backstop(struct loop *l, void *data)
{
	(void)data;
	pw.backstop_timer = 0;
	if (!anyone_waiting())
		return; /* the next request starts it again */
	scan();
	pw.backstop_timer = loop_timer(l, BACKSTOP_MS, backstop, NULL);
}

static void on_proc_event(struct loop *l, int fd, uint32_t events, void *data)
{
	char buf[4096];
	bool relevant = false;
	ssize_t n;

	(void)l;
	(void)data;
	if (events & EPOLLERR) {
		/* the kernel dropped events (ENOBUFS): cleared, and look anyway */
		(void)sock_error(fd);
		relevant = true;
	}
	/* a burst is read whole, bounded by the socket's buffer */
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			struct cn_msg *cn = NLMSG_DATA(h);
			uint32_t what;

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + sizeof(struct proc_event)))
				continue;
			/* the event follows the 20-byte cn_msg, 4 bytes off the
			 * 8 that struct proc_event (a u64 inside) needs: copied,
			 * not read in place (UBSan: misaligned access) */
			memcpy(&what, cn->data + offsetof(struct proc_event, what), sizeof(what));
			if (what == PROC_EVENT_EXEC || what == PROC_EVENT_EXIT)
				relevant = true;
		}
	}
	if (n < 0 && errno == ENOBUFS)
		relevant = true;
	if (relevant)
		poke();
}

/* Subscribes to the kernel's process events: -errno when it cannot (no
 * CONFIG_PROC_EVENTS, no CAP_NET_ADMIN). */
static int proc_connector_open(struct agent *a)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	/* nlmsghdr, cn_msg, then the operation: cn_msg ends in a flexible array,
	 * so the three are laid out by hand */
	union {
		struct nlmsghdr align;
		uint8_t b[NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))];
	} msg = { 0 };
	struct nlmsghdr *h = &msg.align;
	struct cn_msg *cn = NLMSG_DATA(h);
	enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	int r;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	h->nlmsg_len = sizeof(msg.b);
	h->nlmsg_type = NLMSG_DONE;
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	if (send(fd, msg.b, sizeof(msg.b), 0) != (ssize_t)sizeof(msg.b))
		goto fail;
	r = loop_add_fd(a->loop, fd, EPOLLIN, on_proc_event, NULL);
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	return fd;
fail:
	r = -errno;
	(void)close(fd);
	return r;
}

static void start(struct agent *a)
{
	pw.a = a;
	if (pw.started)
		return;
	pw.started = true;
	pw.cn_fd = proc_connector_open(a);
	if (pw.cn_fd < 0)
		log_warn("ports: no process events (%s): changes are seen every %d s while the "
			 "host waits",
			 strerror(-pw.cn_fd), BACKSTOP_MS / 1000);
}

static void waiter_timeout(struct loop *l, void *data)
{
	struct waiter *w = data;

	(void)l;
	w->timer = 0;
	if (w->pending)
		waiter_done(w);
}

static enum cmd_result ports(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
{
	json_t *jafter = json_object_get(args, "after"),
	       *jwait = json_object_get(args, "timeout_ms");
	int64_t after = jafter ? json_integer_value(jafter) : -1;
	int64_t wait_ms = jwait ? json_integer_value(jwait) : 0;
	struct waiter *w = NULL;

	if (wait_ms < 0 || wait_ms > WAIT_MAX_MS)
		return cmd_fail(err, "Parameter 'timeout_ms' must be 0 to %d", WAIT_MAX_MS);
	start(a);
	/* what a request sees is read now: nothing is read while nobody waits */
	scan();
	if (after != pw.generation || wait_ms == 0) {
		*result = ports_json();
		return *result ? CMD_OK : cmd_fail(err, "out of memory");
	}
	for (size_t i = 0; i < WAITERS_MAX && !w; i++)
		if (!pw.waiters[i].pending)
			w = &pw.waiters[i];
	if (!w)
		return cmd_fail(err, "%d clients are already waiting for ports", WAITERS_MAX);
	w->pending = cmd_async_take();
	if (!w->pending) {
		*result = ports_json();
		return *result ? CMD_OK : cmd_fail(err, "out of memory");
	}
	w->timer = loop_timer(a->loop, (uint64_t)wait_ms, waiter_timeout, w);
	if (!pw.backstop_timer)
		pw.backstop_timer = loop_timer(a->loop, BACKSTOP_MS, backstop, NULL);
	return CMD_LATER;
}

void ports_stop(struct agent *a)
{
	for (size_t i = 0; i < WAITERS_MAX; i++)
		if (pw.waiters[i].pending)
			waiter_done(&pw.waiters[i]);
	if (pw.scan_timer)
		loop_cancel(a->loop, pw.scan_timer);
	if (pw.backstop_timer)
		loop_cancel(a->loop, pw.backstop_timer);
	pw.scan_timer = pw.backstop_timer = 0;
	if (pw.cn_fd >= 0) {
		loop_del_fd(a->loop, pw.cn_fd);
		(void)close(pw.cn_fd);
	}
	pw.cn_fd = -1;
	pw.started = false;
	pw.a = NULL;
}

const struct command cmd_ports_table[] = {
	{ "porthole-ports",
	  ports,
	  { { "after", ARG_INT, false }, { "timeout_ms", ARG_INT, false } },
	  CMD_QUIET },
	{ 0 },
};
