/* The PID-1 loop, after catatonit and tini: every signal blocked and read
 * through a signalfd; children reaped with waitpid(-1, WNOHANG) until none is
 * left, because the kernel coalesces SIGCHLD (catatonit issue 4). One epoll
 * set of watches, init's own fds (signals, uevents, power buttons) among
 * them like any module's; the console shell kept alive with backoff.c. */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "devices.h"
#include "launch.h"
#include "log.h"
#include "util.h"

static const struct {
	int sig;
	enum shutdown_kind kind;
} signal_actions[] = {
	/* As busybox init and systemd users expect: TERM and USR2 power off,
	 * INT (ctrl-alt-del, with CAD disabled) reboots, USR1 halts. */
	{ SIGTERM, SHUTDOWN_POWEROFF }, { SIGUSR2, SHUTDOWN_POWEROFF },
	{ SIGPWR, SHUTDOWN_POWEROFF },	{ SIGINT, SHUTDOWN_REBOOT },
	{ SIGUSR1, SHUTDOWN_HALT },
};

enum shutdown_kind supervise_signal_action(int sig)
{
	for (size_t i = 0; i < ARRAY_SIZE(signal_actions); i++)
		if (signal_actions[i].sig == sig)
			return signal_actions[i].kind;
	return SHUTDOWN_NONE;
}

int supervise_block_signals(int *ret_sigfd)
{
	sigset_t all;
	int fd;

	/* Everything blocked: PID 1 gets no default actions anyway, and a handled
	 * signal is read from the signalfd, in order, in the loop. */
	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	*ret_sigfd = fd;
	return 0;
}

static void on_signals(struct supervisor *s, int fd, uint32_t events, void *data);
static void on_uevent(struct supervisor *s, int fd, uint32_t events, void *data);
static void on_power(struct supervisor *s, int fd, uint32_t events, void *data);

/* The first shutdown asked for in this turn of the loop wins. */
static void ask(struct supervisor *s, enum shutdown_kind kind)
{
	if (s->asked == SHUTDOWN_NONE)
		s->asked = kind;
}

/* Opens the power buttons not open yet and watches them. */
static void power_scan(struct supervisor *s)
{
	int before[POWER_BUTTONS_MAX];

	memcpy(before, s->power_fds, sizeof(before));
	power_buttons_scan(s->power_fds);
	for (int i = 0; i < POWER_BUTTONS_MAX; i++) {
		int r;

		if (s->power_fds[i] < 0 || before[i] >= 0)
			continue;
		r = supervise_watch(s, s->power_fds[i], on_power, NULL);
		if (r < 0) {
			log_warn_errno(r, "watch power button; it is not heard");
			supervise_close(NULL, &s->power_fds[i]);
		}
	}
}

int supervise_init(struct supervisor *s, int sigfd, bool sandbox)
{
	int r;

	memset(s, 0, sizeof(*s));
	s->sigfd = sigfd;
	s->sandbox = sandbox;
	s->ueventfd = -1;
	for (int i = 0; i < WATCHES_MAX; i++)
		s->watches[i].fd = -1;
	for (int i = 0; i < POWER_BUTTONS_MAX; i++)
		s->power_fds[i] = -1;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return log_error_errno(-errno, "epoll_create1");
	r = supervise_watch(s, sigfd, on_signals, NULL);
	if (r < 0)
		return log_error_errno(r, "epoll add signalfd");
	return 0;
}

void supervise_init_late(struct supervisor *s)
{
	int r;

	s->ueventfd = devices_uevent_open();
	if (s->ueventfd < 0) {
		log_warn_errno(s->ueventfd, "uevent socket; device links made only at boot");
		s->ueventfd = -1;
	} else if ((r = supervise_watch(s, s->ueventfd, on_uevent, NULL)) < 0) {
		log_warn_errno(r, "watch uevent socket; device links made only at boot");
		supervise_close(NULL, &s->ueventfd);
	}
	power_scan(s);
}

/* The terminal behind /dev/console: the last name in
 * /sys/class/tty/console/active ("tty0 ttyS0"). /dev/console itself cannot
 * be a controlling terminal with job control. */
static void console_tty(char *buf, size_t size)
{
	_cleanup_free_ char *active = NULL;
	char *last;

	snprintf(buf, size, "/dev/console");
	if (read_file("/sys/class/tty/console/active", 256, &active, NULL) < 0)
		return;
	active[strcspn(active, "\n")] = '\0';
	last = strrchr(active, ' ');
	last = last ? last + 1 : active;
	if (*last)
		snprintf(buf, size, "/dev/%s", last);
}

static pid_t spawn(struct child *c)
{
	static char *const env[] = { "TERM=vt100", NULL };
	struct launch_opts opts;
	char tty[64];

	launch_opts_init(&opts, c->argv);
	opts.env = env;
	opts.new_session = true;
	if (c->console) {
		console_tty(tty, sizeof(tty));
		opts.tty = tty;
		opts.directory = "/root";
		opts.directory_optional = true;
	}
	return launch_start(&opts);
}

int supervise_start(struct supervisor *s, const char *name, char *const *argv, bool respawn,
		    bool console)
{
	struct child *c = NULL;
	pid_t pid;

	for (int i = 0; i < CHILDREN_MAX; i++)
		if (!s->children[i].argv) {
			c = &s->children[i];
			break;
		}
	if (!c)
		return log_error_errno(-ENOSPC, "start %s: more than %d children", name,
				       CHILDREN_MAX);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->argv = argv;
	c->respawn = respawn;
	c->console = console;
	pid = spawn(c);
	if (pid < 0) {
		c->argv = NULL;
		return log_error_errno(pid, "start %s", name);
	}
	c->pid = pid;
	c->started_ns = now_mono_ns();
	log_debug("started %s (pid %d)", name, pid);
	return (int)(c - s->children);
}

static void child_exited(struct supervisor *s, struct child *c, int status)
{
	uint64_t now = now_mono_ns(), lived = now - c->started_ns, delay;

	if (WIFEXITED(status))
		log_info("%s (pid %d) exited with status %d", c->name, c->pid, WEXITSTATUS(status));
	else
		log_info("%s (pid %d) killed by signal %d", c->name, c->pid, WTERMSIG(status));
	c->pid = 0;
	if (!c->respawn) {
		c->argv = NULL;
		return;
	}
	/* the services' backoff, with their defaults */
	delay = backoff_next_ms(&c->backoff, lived / NSEC_PER_MSEC, BACKOFF_FIRST_MS,
				BACKOFF_MAX_MS);
	c->next_start_ns = now + delay * NSEC_PER_MSEC;
	(void)s;
}

void supervise_reap(struct supervisor *s)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		bool ours = false;

		if (pid <= 0)
			break; /* 0: children left, none exited; -1 ECHILD: none left */
		for (int i = 0; i < CHILDREN_MAX; i++) {
			if (s->children[i].argv && s->children[i].pid == pid) {
				child_exited(s, &s->children[i], status);
				ours = true;
				break;
			}
		}
		if (!ours && s->on_exit && s->on_exit(s->hook_data, pid, status))
			ours = true;
		if (!ours)
			s->reaped_orphans++;
	}
}

/* Starts what is due and returns the epoll timeout until the next respawn. */
static int respawn_due(struct supervisor *s)
{
	uint64_t now = now_mono_ns(), next = UINT64_MAX;

	for (int i = 0; i < CHILDREN_MAX; i++) {
		struct child *c = &s->children[i];
		pid_t pid;

		if (!c->argv || c->pid || !c->next_start_ns)
			continue;
		if (c->next_start_ns <= now) {
			c->next_start_ns = 0;
			pid = spawn(c);
			if (pid < 0) {
				log_error_errno(pid, "restart %s", c->name);
				c->next_start_ns = now + BACKOFF_MAX_MS * NSEC_PER_MSEC;
			} else {
				c->pid = pid;
				c->started_ns = now;
				continue;
			}
		}
		if (c->next_start_ns < next)
			next = c->next_start_ns;
	}
	if (next == UINT64_MAX)
		return -1;
	return (int)((next - now) / NSEC_PER_MSEC + 1);
}

static void on_signals(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct signalfd_siginfo si[16];
	ssize_t n;

	(void)events;
	(void)data;
	while ((n = read(fd, si, sizeof(si))) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			int sig = (int)si[i].ssi_signo;
			enum shutdown_kind k = supervise_signal_action(sig);

			if (sig == SIGCHLD)
				continue;
			if (k == SHUTDOWN_NONE) {
				log_debug("signal %d from pid %u ignored", sig, si[i].ssi_pid);
				continue;
			}
			log_info("%s from pid %u: %s", strsignal(sig), si[i].ssi_pid,
				 k == SHUTDOWN_REBOOT ? "reboot"
				 : k == SHUTDOWN_HALT ? "halt"
						      : "power-off");
			ask(s, k);
		}
	}
	/* SIGCHLD or not: reaping is cheap and a lost wakeup is not. */
	supervise_reap(s);
}

static void on_uevent(struct supervisor *s, int fd, uint32_t events, void *data)
{
	char subsys[64];

	/* Drain what is queued; act once per batch. */
	bool ports = false, input = false;

	(void)events;
	(void)data;
	for (int i = 0; i < 256 && devices_uevent_read(fd, subsys, sizeof(subsys)) == 0; i++) {
		if (strcmp(subsys, "virtio-ports") == 0)
			ports = true;
		else if (strcmp(subsys, "input") == 0)
			input = true;
	}
	if (ports)
		devices_link_virtio_ports("/sys/class/virtio-ports", "/dev");
	if (input)
		power_scan(s);
}

static void on_power(struct supervisor *s, int fd, uint32_t events, void *data)
{
	int r = power_button_read(fd);

	(void)events;
	(void)data;
	if (r < 0) {
		/* the device is gone: a new one comes back through a uevent */
		for (int i = 0; i < POWER_BUTTONS_MAX; i++)
			if (s->power_fds[i] == fd)
				supervise_close(s, &s->power_fds[i]);
		return;
	}
	if (r > 0) {
		log_info("power button pressed: power-off");
		ask(s, SHUTDOWN_POWEROFF);
	}
}

int supervise_watch(struct supervisor *s, int fd, supervise_fd_fn fn, void *data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	for (int i = 0; i < WATCHES_MAX; i++) {
		if (s->watches[i].fd >= 0)
			continue;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		s->watches[i] = (struct watch){ fd, fn, data };
		return 0;
	}
	return -ENOSPC;
}

int supervise_watch_set(struct supervisor *s, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void supervise_unwatch(struct supervisor *s, int fd)
{
	for (int i = 0; i < WATCHES_MAX; i++)
		if (s->watches[i].fd == fd && fd >= 0) {
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
			s->watches[i].fd = -1;
		}
}

void supervise_close(struct supervisor *s, int *fd)
{
	if (*fd < 0)
		return;
	if (s)
		supervise_unwatch(s, *fd);
	close(*fd);
	*fd = -1;
}

/* A watched fd's callback; false when FD is not watched (any more: an
 * earlier callback of the same batch may have let it go). */
static bool handle_watch(struct supervisor *s, int fd, uint32_t events)
{
	for (int i = 0; i < WATCHES_MAX; i++)
		if (s->watches[i].fd == fd) {
			s->watches[i].fn(s, fd, events, s->watches[i].data);
			return true;
		}
	return false;
}

enum shutdown_kind supervise_poll_once(struct supervisor *s, int timeout_ms)
{
	struct epoll_event ev[8];
	int n = epoll_wait(s->epfd, ev, ARRAY_SIZE(ev), timeout_ms);

	s->asked = SHUTDOWN_NONE;
	if (n < 0) {
		if (errno != EINTR)
			log_error_errno(-errno, "epoll_wait");
		return SHUTDOWN_NONE;
	}
	for (int i = 0; i < n; i++)
		handle_watch(s, ev[i].data.fd, ev[i].events);
	return s->asked;
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

enum shutdown_kind supervise_run(struct supervisor *s)
{
	for (;;) {
		int timeout = respawn_due(s);
		enum shutdown_kind k;

		if (s->on_tick)
			timeout = min_timeout(timeout, s->on_tick(s->hook_data));
		k = supervise_poll_once(s, timeout);
		if (k == SHUTDOWN_NONE)
			k = s->requested;
		if (k != SHUTDOWN_NONE)
			return k;
	}
}
