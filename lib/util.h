/* Small helpers both sides share: cleanup attributes for fds and memory,
 * bounded whole-file reads and writes, string parsing with range checks. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Time units: one set for every program. */
#define NSEC_PER_SEC 1000000000LL
#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_USEC 1000LL
#define USEC_PER_SEC 1000000LL
#define MSEC_PER_SEC 1000LL

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void freep(void *p)
{
	free(*(void **)p);
}

#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_free_ __attribute__((cleanup(freep)))

/* Reads at most MAX bytes of PATH into a NUL-terminated buffer owned by the
 * caller. -EFBIG when the file is longer than MAX. */
int read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Reads the first SIZE bytes of PATH (a disk's superblock, a file's header)
 * into BUF, retrying on EINTR and short reads: the count read, less than SIZE
 * only at the end of the file, or -errno. */
int read_head_of(const char *path, void *buf, size_t size);
/* Writes S to PATH (which must exist: sysfs, procfs), with one write(2). */
int write_file(const char *path, const char *s);
/* Writes all of LEN bytes, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* Writes LEN bytes to PATH.tmp.PID, then renames it over PATH: a reader sees
 * the old contents or the new ones, never a part. */
int write_file_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* Parses a decimal integer in [MIN, MAX]; -EINVAL or -ERANGE otherwise. */
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret);
/* 1/0, yes/no, true/false, on/off. */
int parse_bool(const char *s, bool *ret);
/* A duration in seconds with up to three decimals ("90", "0.5", "1.250"),
 * as milliseconds in [MIN_MS, MAX_MS]: the one syntax of durations, in
 * service files and on the host's command lines. -EINVAL for anything else
 * (a sign, blanks, an exponent, a fourth decimal), -ERANGE outside. */
int parse_seconds_ms(const char *s, unsigned min_ms, unsigned max_ms, unsigned *ret_ms);
/* Whether S is one of the strings of LIST (NULL-terminated). */
bool str_in_list(const char *s, const char *const *list);

/* Clock ID's time in nanoseconds (clock_gettime(2)), for CLOCK_REALTIME
 * since the epoch. */
int64_t now_clock_ns(clockid_t id);
/* Monotonic and boot-time clocks in nanoseconds. */
uint64_t now_mono_ns(void);
/* Milliseconds from now to DEADLINE (CLOCK_MONOTONIC ns), rounded up; 0
 * once it has passed. For poll(2)'s time-out. */
int ms_until(uint64_t deadline);
/* Waits until FD is ready for EVENTS or DEADLINE passes: 0, -ETIMEDOUT or
 * -errno. POLLHUP and POLLERR count as ready: the I/O that follows tells. */
int fd_wait(int fd, short events, uint64_t deadline);
/* Sends all of LEN bytes on the non-blocking socket FD before DEADLINE
 * (MSG_NOSIGNAL: a peer that went away is -EPIPE, not SIGPIPE). */
int send_all_until(int fd, const void *buf, size_t len, uint64_t deadline);
uint64_t now_boot_ns(void);

/* A listening unix stream socket at PATH, non-blocking, mode 0600, bound
 * under a temporary name and renamed, so that a client never finds it
 * before it listens. A socket left there by a process that died is
 * replaced; one that answers is in use: -EADDRINUSE; anything else there
 * is -EEXIST. -ENAMETOOLONG when PATH does not fit sun_path. */
int unix_listen(const char *path, int backlog);

/* The socket's pending error (SO_ERROR), read and so cleared: -errno, 0
 * for none, or -errno of getsockopt(2). What a non-blocking connect ended
 * with, or why epoll said EPOLLERR. */
int sock_error(int fd);

/* Creates PATH and its missing parents, each with MODE exactly (not masked
 * by the umask); directories that exist are left as they are. -ENOTDIR when
 * one of them exists as something else. */
int mkdir_p(const char *path, unsigned mode);

/* Undoes proc(5)'s escaping of space, tab, newline and backslash in
 * /proc/PID/mountinfo fields (\040 and the like), in place. */
void mountinfo_unescape(char *s);
