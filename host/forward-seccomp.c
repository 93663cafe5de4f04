/* The forwarders' filter (forward-seccomp.h): a deny list, not an allow
 * list. porthole-vsockd, which does one small thing, has an allow list
 * (vsock-seccomp.c); the CLI runs on whatever host the user has, whose libc
 * may make calls that Debian 12's glibc does not (clone3, rseq, statx,
 * epoll_pwait2, ...), and a forwarder that dies on them would take the
 * user's docker socket with it. So everything is allowed but what a
 * forwarder never does and what an attacker who took it over would want
 * first: to start programs or processes, to read or trace others, to
 * change mounts and namespaces, and the kernel's riskier doors. Those fail
 * with EPERM (the forwarder itself never makes them, so nothing it does
 * can meet one), and names are resolved by libseccomp for the architecture
 * it runs on: one that does not exist there (iopl on arm64) is skipped. */
#include "forward-seccomp.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>

#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#include <stdbool.h>

/* A build with ASan (make san): LeakSanitizer's check at exit stops the
 * process from a tracer that it starts with clone(2) without CLONE_THREAD
 * and attaches with ptrace(2), both refused below, and would end the
 * forwarder with "LeakSanitizer has encountered a fatal error". Once the
 * filter is on, that check is off (the sanitizer's own hook, read at
 * exit); ASan's and UBSan's checks of every access stay. */
static bool filter_loaded;
int __lsan_is_turned_off(void)
{
	return filter_loaded;
}
#define FILTER_LOADED() (filter_loaded = true)
#else
#define FILTER_LOADED() ((void)0)
#endif

/* A table read by groups, kept as written: */
/* clang-format off */
static const char *const denied[] = {
	/* starting programs; new processes (threads are clone with
	 * CLONE_THREAD, allowed below) */
	"execve", "execveat", "fork", "vfork",
	/* other processes' memory and state */
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	/* mounts, namespaces, the root */
	"mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
	"open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
	/* the kernel's riskier interfaces: modules, kexec, BPF, perf, keys,
	 * userfaultfd, io_uring (its operations bypass seccomp), handles */
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"open_by_handle_at", "name_to_handle_at",
	/* the machine's state: power, swap, clocks, names, accounting, I/O ports */
	"reboot", "swapon", "swapoff", "settimeofday", "clock_settime", "clock_adjtime",
	"adjtimex", "sethostname", "setdomainname", "acct", "quotactl", "syslog",
	"iopl", "ioperm", "vhangup",
};
/* clang-format on */

int forward_seccomp_apply(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(denied) && r == 0; i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);

		if (nr != __NR_SCMP_ERROR)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	}
	/* clone(2) makes threads (CLONE_THREAD) or processes: only threads */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	/* clone3's flags are behind a pointer, which seccomp cannot read:
	 * ENOSYS makes glibc's pthread_create fall back to clone(2) */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* every thread: the watch's poller may be running already */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	/* no_new_privs is libseccomp's default (SCMP_FLTATR_CTL_NNP) */
	if (r == 0)
		r = seccomp_load(ctx);
	if (r == 0)
		FILTER_LOADED();
	seccomp_release(ctx);
	return r;
}
