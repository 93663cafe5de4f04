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
/* Called for each child reaped: PID and its wait status. */
typedef void (*loop_child_fn)(struct loop *l, pid_t pid, int status, void *data);

int loop_new(struct loop **ret);
void loop_free(struct loop *l);

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *data);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
/* Removes FD (without closing it); safe from within its own callback. */
void loop_del_fd(struct loop *l, int fd);

/* Runs FN once, MS milliseconds from now; returns an id for loop_cancel. */
int64_t loop_timer(struct loop *l, uint64_t ms, loop_timer_fn fn, void *data);
void loop_cancel(struct loop *l, int64_t id);

/* Watches children: blocks SIGCHLD and reaps on it; FN sees every child. */
int loop_watch_children(struct loop *l, loop_child_fn fn, void *data);

/* Runs until loop_quit; returns 0, or -errno when epoll fails. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l);
