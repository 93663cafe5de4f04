/* The agent's event loop: epoll over registered fds, a bounded list of
 * one-shot timers (the next one sets epoll_wait's time-out), and SIGCHLD
 * through a signalfd, reaped with waitpid(-1, WNOHANG) until none is left
 * and each child handed to the watcher whose it is. */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LOOP_FDS_MAX 1024
#define LOOP_TIMERS_MAX 1024

struct loop_fd {
	int fd; /* -1: free */
	uint32_t gen; /* bumped when the slot is freed: stale events are dropped */
	loop_fd_fn fn;
	void *data;
};

struct loop_timer {
	int64_t id; /* 0: free */
	uint64_t due_ns;
	loop_timer_fn fn;
	void *data;
};

struct loop {
	int epfd;
	bool quit;
	struct loop_fd fds[LOOP_FDS_MAX];
	struct loop_timer timers[LOOP_TIMERS_MAX];
	size_t timers_used; /* slots from here on are all free: scans stop here */
	int64_t next_timer_id;
	int sigfd;
	struct {
		loop_child_fn fn;
		void *data;
	} watchers[LOOP_CHILD_WATCHERS_MAX];
};

int loop_new(struct loop **ret)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = -errno;

		free(l);
		return r;
	}
	for (size_t i = 0; i < LOOP_FDS_MAX; i++)
		l->fds[i].fd = -1;
	l->sigfd = -1;
	*ret = l;
	return 0;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l);
}

static struct loop_fd *find_fd(struct loop *l, int fd)
{
	for (size_t i = 0; i < LOOP_FDS_MAX; i++)
		if (l->fds[i].fd == fd)
			return &l->fds[i];
	return NULL;
}

/* epoll's data: the slot's index and generation, so that an event is
 * dispatched without a search, and one for a removed fd is recognised. */
static uint64_t slot_key(const struct loop *l, const struct loop_fd *slot)
{
	return (uint64_t)slot->gen << 32 | (uint64_t)(slot - l->fds);
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *data)
{
	struct loop_fd *slot = find_fd(l, -1);
	struct epoll_event ev = { .events = events };

	if (!slot)
		return -EMFILE;
	ev.data.u64 = slot_key(l, slot);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	slot->fd = fd;
	slot->fn = fn;
	slot->data = data;
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct loop_fd *slot = find_fd(l, fd);
	struct epoll_event ev = { .events = events };

	if (!slot)
		return -ENOENT;
	ev.data.u64 = slot_key(l, slot);
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void loop_del_fd(struct loop *l, int fd)
{
	struct loop_fd *slot = find_fd(l, fd);

	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	if (slot) {
		slot->fd = -1;
		slot->gen++;
	}
}

int64_t loop_timer(struct loop *l, uint64_t ms, loop_timer_fn fn, void *data)
{
	for (size_t i = 0; i < LOOP_TIMERS_MAX; i++) {
		if (l->timers[i].id)
			continue;
		l->timers[i] = (struct loop_timer){ ++l->next_timer_id,
						    now_mono_ns() + ms * NSEC_PER_MSEC, fn, data };
		if (i + 1 > l->timers_used)
			l->timers_used = i + 1;
		return l->timers[i].id;
	}
	return -ENOSPC;
}

void loop_cancel(struct loop *l, int64_t id)
{
	if (id <= 0)
		return;
	for (size_t i = 0; i < l->timers_used; i++)
		if (l->timers[i].id == id)
			l->timers[i].id = 0;
}

static void on_sigchld(struct loop *l, int fd, uint32_t events, void *data)
{
	struct signalfd_siginfo si[8];

	(void)events, (void)data;
	while (read(fd, si, sizeof(si)) > 0)
		;
	/* one SIGCHLD may stand for several children */
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		size_t i;

		if (pid <= 0)
			break;
		for (i = 0; i < LOOP_CHILD_WATCHERS_MAX; i++)
			if (l->watchers[i].fn &&
			    l->watchers[i].fn(l, pid, status, l->watchers[i].data))
				break;
		if (i == LOOP_CHILD_WATCHERS_MAX)
			log_debug("reaped process %d, which no one watched", (int)pid);
	}
}

int loop_watch_children(struct loop *l, loop_child_fn fn, void *data)
{
	size_t i, free_slot = LOOP_CHILD_WATCHERS_MAX;
	sigset_t set;
	int r;

	for (i = 0; i < LOOP_CHILD_WATCHERS_MAX; i++) {
		if (l->watchers[i].fn == fn && l->watchers[i].data == data)
			break;
		if (!l->watchers[i].fn && free_slot == LOOP_CHILD_WATCHERS_MAX)
			free_slot = i;
	}
	if (i == LOOP_CHILD_WATCHERS_MAX) {
		if (free_slot == LOOP_CHILD_WATCHERS_MAX)
			return -ENOSPC;
		l->watchers[free_slot].fn = fn;
		l->watchers[free_slot].data = data;
	}
	if (l->sigfd >= 0)
		return 0;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	l->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->sigfd < 0)
		return -errno;
	r = loop_add_fd(l, l->sigfd, EPOLLIN, on_sigchld, NULL);
	if (r < 0)
		return r;
	/* children that exited before the signalfd existed */
	on_sigchld(l, l->sigfd, 0, NULL);
	return 0;
}

void loop_unwatch_children(struct loop *l, loop_child_fn fn, void *data)
{
	for (size_t i = 0; i < LOOP_CHILD_WATCHERS_MAX; i++)
		if (l->watchers[i].fn == fn && l->watchers[i].data == data)
			l->watchers[i].fn = NULL;
}

/* Runs the timers that are due; returns epoll's time-out for the next one.
 * The next one is looked for after all have run: a callback may add a timer
 * (a long poll's time-out answers through a 0 ms timer), and the slot it
 * takes may be one this scan has passed already. */
static int run_timers(struct loop *l)
{
	uint64_t now = now_mono_ns(), next = UINT64_MAX;

	while (l->timers_used > 0 && !l->timers[l->timers_used - 1].id)
		l->timers_used--;
	for (size_t i = 0; i < l->timers_used; i++) {
		struct loop_timer t = l->timers[i];

		if (t.id && t.due_ns <= now) {
			l->timers[i].id = 0;
			t.fn(l, t.data);
		}
	}
	for (size_t i = 0; i < l->timers_used; i++)
		if (l->timers[i].id && l->timers[i].due_ns < next)
			next = l->timers[i].due_ns;
	if (next == UINT64_MAX)
		return -1;
	now = now_mono_ns();
	return next <= now ? 0 : (int)((next - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

int loop_run(struct loop *l)
{
	l->quit = false;
	while (!l->quit) {
		struct epoll_event ev[64];
		int timeout = run_timers(l), n;

		if (l->quit)
			break;
		n = epoll_wait(l->epfd, ev, ARRAY_SIZE(ev), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			uint32_t idx = (uint32_t)ev[i].data.u64,
				 gen = (uint32_t)(ev[i].data.u64 >> 32);
			struct loop_fd *slot = idx < LOOP_FDS_MAX ? &l->fds[idx] : NULL;

			/* an earlier callback of this batch may have removed it */
			if (slot && slot->fd >= 0 && slot->gen == gen)
				slot->fn(l, slot->fd, ev[i].events, slot->data);
		}
	}
	return 0;
}

void loop_quit(struct loop *l)
{
	l->quit = true;
}
