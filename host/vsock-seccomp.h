/* porthole-vsockd's seccomp filter (libseccomp): once its sockets are
 * bound, the back-end that maps guest memory can do little but move bytes
 * between the sockets, the eventfds and that memory. The allowed system
 * calls are one table in vsock-seccomp.c, derived from strace of the vsock
 * tests; any other call ends the process with a message naming it. */
#pragma once

/* The exit status after a refused system call. */
#define VSOCK_SECCOMP_EXIT 70

/* Loads the filter (and no_new_privs) into this process: 0, or -errno when
 * libseccomp or the kernel refused it. */
int vsock_seccomp_apply(void);
