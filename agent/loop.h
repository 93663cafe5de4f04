/* A small epoll event loop: fds with callbacks, one-shot timers, and SIGCHLD
 * through a signalfd. The agent's transports and guest-exec register here. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct loop;

/* EVENTS are epoll's (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR). */
typedef void (*loop_fd_fn)(struct loop *l, int fd, uint32_t events, void *data);
typedef void (*loop_timer_fn)(struct loop *l, void *data);
/* Called for each child reaped: PID and its wait status. Returns true when
 * PID was the watcher's own: the watchers after it are not asked. */
typedef bool (*loop_child_fn)(struct loop *l, pid_t pid, int status, void *data);

int loop_new(struct loop **ret);
void loop_free(struct loop *l);

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *data);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
/* Removes FD (without closing it); safe from within its own callback. */
void loop_del_fd(struct loop *l, int fd);

/* Runs FN once, MS milliseconds from now; returns an id for loop_cancel. */
int64_t loop_timer(struct loop *l, uint64_t ms, loop_timer_fn fn, void *data);
void loop_cancel(struct loop *l, int64_t id);

/* Watches children: blocks SIGCHLD and reaps on it; FN is asked about
 * every child reaped until one watcher claims it. Several modules start
 * children (guest-exec, porthole-shell): each watches for its own, at most
 * LOOP_CHILD_WATCHERS_MAX of them (-ENOSPC past it). FN with the same DATA
 * again replaces nothing and adds nothing. */
#define LOOP_CHILD_WATCHERS_MAX 4
int loop_watch_children(struct loop *l, loop_child_fn fn, void *data);
/* Stops asking FN with DATA; the loop still reaps every child. */
void loop_unwatch_children(struct loop *l, loop_child_fn fn, void *data);

/* Runs until loop_quit; returns 0, or -errno when epoll fails. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);
