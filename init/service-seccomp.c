/* Services' seccomp filters: the named profiles, the names of system calls
 * (libseccomp's, so that a file means the same on x86_64 and arm64), and a
 * service file's list made into a BPF program. Built in init before the
 * fork, so that the child only hands it to the kernel (launch.c). Parsing
 * the key is service-conf.c's. */
#include "service-seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

/* The default profile: what no service of this VM does, or should be able
 * to do, whoever it runs as. Facts from systemd's SystemCallFilter groups
 * (@module, @reboot, @swap, @raw-io, @obsolete, @cpu-emulation) and
 * Docker's default container profile; what the engine needs is kept out:
 * runc joins a session keyring (keyctl, which it tolerates only as ENOSYS)
 * and attaches cgroup v2 device programs (bpf); perf_event_open and
 * ptrace are porthole shell's debugging tools; the clock is the agent's.
 * A name this architecture lacks (vm86 on x86_64) still applies to the
 * compat architectures the filter also covers (i386 programs). */
static const char *const default_calls[] = {
	/* @reboot: only init powers off or replaces the kernel; services ask it */
	"reboot",
	"kexec_load",
	"kexec_file_load",
	/* @module: init loads modules at boot (libkmod); a service that loads
	 * its own (dockerd's modprobe) leaves these out with -names */
	"init_module",
	"finit_module",
	"delete_module",
	"create_module",
	"query_module",
	"get_kernel_syms",
	/* @swap: storage is init's */
	"swapon",
	"swapoff",
	/* process accounting writes a file for ever: init's decision, not set */
	"acct",
	/* @raw-io: port I/O goes around every driver */
	"iopl",
	"ioperm",
	"pciconfig_iobase",
	"pciconfig_read",
	"pciconfig_write",
	/* opens any inode by handle, around path checks: the "shocker" escape */
	"open_by_handle_at",
	/* stalls the kernel on a page fault: the tool of many kernel exploits;
	 * only live migration (CRIU, QEMU postcopy) uses it */
	"userfaultfd",
	/* @obsolete and @cpu-emulation: a.out loading, old kernel interfaces,
	 * vm86 mode; nothing built this century calls them */
	"uselib",
	"_sysctl",
	"nfsservctl",
	"vm86",
	"vm86old",
	"lookup_dcookie",
};

static const struct {
	const char *name;
	const char *const *calls;
	size_t n_calls;
} profiles[] = {
	{ "default", default_calls, ARRAY_SIZE(default_calls) },
};

int service_seccomp_profile_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++)
		if (strcmp(profiles[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

const char *service_seccomp_profile_name(int profile)
{
	if (profile < 0 || (size_t)profile >= ARRAY_SIZE(profiles))
		return "?";
	return profiles[profile].name;
}

const char *service_seccomp_profile_names(void)
{
	/* from the table, once: init reads its files on one thread */
	static char names[64];

	if (!names[0])
		for (size_t i = 0; i < ARRAY_SIZE(profiles); i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 i ? ", " : "", profiles[i].name);
	return names;
}

/* The profile's calls by number; names libseccomp does not know at all are
 * left out (an older libseccomp), as the kernel would not know them either. */
static int profile_call(int profile, size_t i)
{
	int nr = seccomp_syscall_resolve_name(profiles[profile].calls[i]);

	return nr == __NR_SCMP_ERROR ? -ENOENT : nr;
}

bool service_seccomp_profile_has(int profile, int nr)
{
	if (profile < 0 || (size_t)profile >= ARRAY_SIZE(profiles))
		return false;
	for (size_t i = 0; i < profiles[profile].n_calls; i++)
		if (profile_call(profile, i) == nr)
			return true;
	return false;
}

int service_seccomp_resolve(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return -ENOENT;
	/* libseccomp's pseudo-numbers (below -1) stand for calls it knows on
	 * other architectures only */
	if (nr < 0)
		return -EDOM;
	return nr;
}

const char *service_seccomp_arch(void)
{
#if defined(__x86_64__)
	return "x86_64";
#elif defined(__aarch64__)
	return "aarch64";
#else
	return "this architecture";
#endif
}

enum service_seccomp_action service_seccomp_action(const struct service_seccomp *sc)
{
	if (sc->action != SECCOMP_ACTION_DEFAULT)
		return sc->action;
	/* a deny list names what the program may try and should be told no
	 * (as Docker's profile does); an allow-list claims to be all the
	 * program does, so a call outside it is a bug or an attack, and a
	 * death by SIGSYS in its log says which */
	return sc->mode == SECCOMP_ALLOW ? SECCOMP_ACTION_KILL : SECCOMP_ACTION_EPERM;
}

const char *service_seccomp_action_name(enum service_seccomp_action action)
{
	switch (action) {
	case SECCOMP_ACTION_KILL:
		return "kill";
	case SECCOMP_ACTION_LOG:
		return "log";
	case SECCOMP_ACTION_EPERM:
	case SECCOMP_ACTION_DEFAULT:
		break;
	}
	return "eperm";
}

static bool excepted(const struct service_seccomp *sc, int nr)
{
	for (size_t i = 0; i < sc->n_except; i++)
		if (sc->except[i] == nr)
			return true;
	return false;
}

/* A deny list must also hold for the compat architectures the kernel runs
 * (an i386 binary in a container): without them in the filter, their calls
 * would meet libseccomp's bad-architecture action, a kill. */
static int add_compat_arches(scmp_filter_ctx ctx)
{
	static const uint32_t x86_64[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };
	static const uint32_t aarch64[] = { SCMP_ARCH_ARM };
	const uint32_t *arches = NULL;
	size_t n = 0;
	int r;

	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		arches = x86_64;
		n = ARRAY_SIZE(x86_64);
	} else if (seccomp_arch_native() == SCMP_ARCH_AARCH64) {
		arches = aarch64;
		n = ARRAY_SIZE(aarch64);
	}
	for (size_t i = 0; i < n; i++) {
		r = seccomp_arch_add(ctx, arches[i]);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct service_seccomp *sc, uint32_t refuse,
		     int *ret_nr)
{
	int r;

	if (sc->mode == SECCOMP_ALLOW) {
		/* init's own exec of the program comes after the filter */
		*ret_nr = SCMP_SYS(execve);
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execve), 0);
		for (size_t i = 0; i < sc->n_calls && r == 0; i++) {
			*ret_nr = sc->calls[i];
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sc->calls[i], 0);
		}
		return r;
	}
	r = add_compat_arches(ctx);
	if (r < 0)
		return r;
	if (sc->profile >= 0)
		for (size_t i = 0; i < profiles[sc->profile].n_calls; i++) {
			int nr = profile_call(sc->profile, i);

			if (nr == -ENOENT || excepted(sc, nr))
				continue;
			*ret_nr = nr;
			r = seccomp_rule_add(ctx, refuse, nr, 0);
			if (r < 0)
				return r;
		}
	for (size_t i = 0; i < sc->n_calls; i++) {
		*ret_nr = sc->calls[i];
		r = seccomp_rule_add(ctx, refuse, sc->calls[i], 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The program out of libseccomp through a memfd: 2.5 has no export to
 * memory, and its seccomp_load would allocate in the child. */
static int export_program(scmp_filter_ctx ctx, struct sock_fprog *ret)
{
	/* the kernel's limit on one filter (BPF_MAXINSNS) */
	const size_t max = 4096 * sizeof(struct sock_filter);
	struct sock_filter *prog = NULL;
	off_t size;
	int fd, r;

	fd = memfd_create("porthole-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		goto out;
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || (size_t)size > max || size % sizeof(struct sock_filter)) {
		r = size < 0 ? -errno : -E2BIG;
		goto out;
	}
	prog = malloc((size_t)size);
	if (!prog) {
		r = -ENOMEM;
		goto out;
	}
	if (pread(fd, prog, (size_t)size, 0) != size) {
		r = -EIO;
		free(prog);
		goto out;
	}
	ret->filter = prog;
	ret->len = (unsigned short)((size_t)size / sizeof(struct sock_filter));
	r = 0;
out:
	close(fd);
	return r;
}

int service_seccomp_build(const struct service_seccomp *sc, struct sock_fprog *ret, char *why,
			  size_t why_size)
{
	enum service_seccomp_action action = service_seccomp_action(sc);
	uint32_t refuse = action == SECCOMP_ACTION_KILL	 ? SCMP_ACT_KILL_PROCESS
			  : action == SECCOMP_ACTION_LOG ? SCMP_ACT_LOG
							 : SCMP_ACT_ERRNO(EPERM);
	scmp_filter_ctx ctx;
	int nr = -1, r;

	ctx = seccomp_init(sc->mode == SECCOMP_ALLOW ? refuse : SCMP_ACT_ALLOW);
	if (!ctx) {
		snprintf(why, why_size, "seccomp: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	r = add_rules(ctx, sc, refuse, &nr);
	if (r < 0) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		snprintf(why, why_size, "seccomp: the rule for %s: %s", name ? name : "a call",
			 strerror(-r));
		free(name);
		goto out;
	}
	r = export_program(ctx, ret);
	if (r < 0)
		snprintf(why, why_size, "seccomp: the filter's program: %s", strerror(-r));
out:
	seccomp_release(ctx);
	return r;
}

void service_seccomp_release(struct sock_fprog *prog)
{
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}

static void print_call(FILE *out, const char *prefix, int nr)
{
	char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

	fprintf(out, " %s%s", prefix, name ? name : "?");
	free(name);
}

void service_seccomp_print(const struct service_seccomp *sc, FILE *out)
{
	if (sc->mode == SECCOMP_OFF) {
		fputs("none", out);
		return;
	}
	if (sc->mode == SECCOMP_DENY && sc->profile >= 0 && !sc->n_calls && !sc->n_except) {
		fputs(service_seccomp_profile_name(sc->profile), out);
	} else {
		fputs(sc->mode == SECCOMP_ALLOW ? "allow:" : "deny:", out);
		if (sc->profile >= 0)
			fprintf(out, " @%s", service_seccomp_profile_name(sc->profile));
		for (size_t i = 0; i < sc->n_except; i++)
			print_call(out, "-", sc->except[i]);
		for (size_t i = 0; i < sc->n_calls; i++)
			print_call(out, "", sc->calls[i]);
	}
	fprintf(out, " (%s)", service_seccomp_action_name(service_seccomp_action(sc)));
}
