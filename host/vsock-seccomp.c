/* porthole-vsockd's allow-list (vsock-seccomp.h). A refused call raises
 * SIGSYS (SCMP_ACT_TRAP): the handler writes which call it was to stderr,
 * with write(2), and ends the process, so the log says why the VM lost its
 * vsock rather than a bare "Bad system call". Arguments are narrowed where
 * it is cheap: sockets are AF_UNIX only (the guest's connections to the
 * host), and no mapping or protection change may make memory executable. */
#include "vsock-seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

/* What the event loop, the vhost-user messages (mmap of the memory table,
 * fstat of its fds), the host sockets, malloc and the log do; the set-up
 * before the filter (bind, listen, rename, signalfd) is not here. */
static const int allowed[] = {
	/* the loop and its sockets, eventfds and signalfd */
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(sendto),
	SCMP_SYS(recvfrom),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmsg),
	SCMP_SYS(accept4),
	SCMP_SYS(connect),
	SCMP_SYS(shutdown),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),
	SCMP_SYS(close),
	/* the memory table: its fds' sizes, their mappings */
	SCMP_SYS(fstat),
	SCMP_SYS(newfstatat),
	SCMP_SYS(munmap),
	/* malloc, time, the exit and its clean-up of the sockets */
	SCMP_SYS(brk),
	SCMP_SYS(madvise),
	SCMP_SYS(clock_gettime),
	/* unlink(3) is unlinkat(2) on aarch64, which has no unlink(2) */
	SCMP_SYS(unlink),
	SCMP_SYS(unlinkat),
	SCMP_SYS(exit_group),
	SCMP_SYS(exit),
	SCMP_SYS(rt_sigreturn),
	/* a signal handler's stack: the sanitizers' builds set one up */
	SCMP_SYS(sigaltstack),
};

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char msg[96];
	int n = snprintf(
		msg, sizeof(msg),
		"porthole-vsockd: error: seccomp: system call %d is not allowed: exiting\n",
		si->si_syscall);

	(void)sig;
	(void)ctx;
	/* async-signal-safe: snprintf of an int does not allocate in glibc */
	/* nowhere left to say that it could not be said */
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0) {
	}
	/* the call itself, not libc's _exit: a sanitizer build's _exit runs
	 * its own exit-time work, which the filter would refuse in turn */
	syscall(SYS_exit_group, VSOCK_SECCOMP_EXIT);
}

int vsock_seccomp_apply(void)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	int r = 0;

	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(allowed) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* the guest's connections to the host: unix sockets only */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* the memory table's mappings, malloc's: never executable */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* no_new_privs is libseccomp's default (SCMP_FLTATR_CTL_NNP) */
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}
