/* init/service-seccomp.c: the filters a service file's seccomp builds, loaded
 * in a forked child as launch.c loads them, and what a refused call does
 * there: EPERM, death by SIGSYS, or nothing for calls not named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service-conf.h"
#include "service-seccomp.h"
#include "probe.h"

/* The child's report: its exit status is what the call returned (0 or the
 * errno), or its death's signal. */
#define EXIT_GOT_0 100

/* Forks; the child loads SC's filter and makes the call NR with no
 * arguments. Returns the wait status. */
static int run_filtered(const struct service_seccomp *sc, long nr)
{
	struct sock_fprog prog = { 0 };
	char why[SERVICE_ERROR_MAX] = "";
	int status = 0;
	pid_t pid;

	if (service_seccomp_build(sc, &prog, why, sizeof(why)) < 0)
		fail_msg("build: %s", why);
	assert_non_null(prog.filter);
	assert_true(prog.len > 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long r;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
			syscall(SYS_exit_group, 1);
		r = syscall(nr, 0, 0, 0);
		/* the raw call: libc's _exit may make calls an allow-list refuses */
		syscall(SYS_exit_group, r == 0 ? EXIT_GOT_0 : errno);
	}
	service_seccomp_release(&prog);
	assert_null(prog.filter);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void sc_init(struct service_seccomp *sc, enum service_seccomp_mode mode)
{
	memset(sc, 0, sizeof(*sc));
	sc->mode = mode;
	sc->profile = -1;
}

static void test_deny_list_eperm(void **state)
{
	struct service_seccomp sc;
	int status;

	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	/* getppid never fails: EPERM can only be the filter's */
	sc_init(&sc, SECCOMP_DENY);
	sc.calls[sc.n_calls++] = SYS_getppid;
	status = run_filtered(&sc, SYS_getppid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EPERM);
	/* a call not in the list goes through */
	status = run_filtered(&sc, SYS_getpid);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), EPERM);
	assert_int_not_equal(WEXITSTATUS(status), 1);
}

static void test_deny_list_kill(void **state)
{
	struct service_seccomp sc;
	int status;

	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	sc_init(&sc, SECCOMP_DENY);
	sc.action = SECCOMP_ACTION_KILL;
	sc.calls[sc.n_calls++] = SYS_getppid;
	status = run_filtered(&sc, SYS_getppid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void test_allow_list(void **state)
{
	struct service_seccomp sc;
	int status;

	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	sc_init(&sc, SECCOMP_ALLOW);
	sc.calls[sc.n_calls++] = SYS_exit_group;
	sc.calls[sc.n_calls++] = SYS_getppid;
	/* allowed: the child reports getppid's pid, an exit status */
	status = run_filtered(&sc, SYS_getppid);
	assert_true(WIFEXITED(status));
	/* not allowed: killed, the allow-list's default */
	status = run_filtered(&sc, SYS_getpid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	/* ...or EPERM when the file says so */
	sc.action = SECCOMP_ACTION_EPERM;
	status = run_filtered(&sc, SYS_getpid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EPERM);
}

static void test_default_profile(void **state)
{
	int profile = service_seccomp_profile_find("default");
	struct service_seccomp sc;
	int status;

	(void)state;
	PROBE_SKIP_UNLESS(probe_seccomp());
	assert_true(profile >= 0);
	assert_int_equal(service_seccomp_profile_find("nosuch"), -ENOENT);
	assert_true(service_seccomp_profile_has(profile, SYS_kexec_load));
	assert_true(service_seccomp_profile_has(profile, SYS_finit_module));
	assert_true(service_seccomp_profile_has(profile, SYS_swapon));
	/* what the engine and the agent need is not in it */
	assert_false(service_seccomp_profile_has(profile, SYS_mount));
	assert_false(service_seccomp_profile_has(profile, SYS_bpf));
	assert_false(service_seccomp_profile_has(profile, SYS_keyctl));
	assert_false(service_seccomp_profile_has(profile, SYS_clock_settime));

	/* acct(NULL) is refused before the kernel looks at who asks: EPERM
	 * with the profile; without it, root turns accounting off (0) and
	 * others get EPERM, so the case without is only asserted as root */
	sc_init(&sc, SECCOMP_DENY);
	sc.profile = profile;
	status = run_filtered(&sc, SYS_acct);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EPERM);
	/* left out with -NAME: reaches the kernel again (not EPERM for
	 * swapoff(NULL): EFAULT or, unprivileged, EPERM, so as root only) */
	sc.except[sc.n_except++] = SYS_swapoff;
	if (geteuid() == 0) {
		status = run_filtered(&sc, SYS_swapoff);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), EFAULT);
	}
	status = run_filtered(&sc, SYS_swapon);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EPERM);
}

#ifdef __x86_64__
/* getppid through the i386 entry (int 0x80, i386's number 64): what an
 * i386 program in a container makes */
static long getppid_i386(void)
{
	long r = 64;

	__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
	return r;
}

/* A forked child's i386 getppid under SC's filter: its exit status. */
static int run_i386(const struct service_seccomp *sc)
{
	struct sock_fprog prog = { 0 };
	char why[SERVICE_ERROR_MAX] = "";
	int status = 0;
	pid_t pid;

	if (sc && service_seccomp_build(sc, &prog, why, sizeof(why)) < 0)
		fail_msg("build: %s", why);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long r;

		if (sc && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
			   prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0))
			syscall(SYS_exit_group, 1);
		r = getppid_i386();
		syscall(SYS_exit_group, r == -EPERM ? EPERM : r > 0 ? EXIT_GOT_0 : 2);
	}
	service_seccomp_release(&prog);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}
#endif

/* A deny list holds for i386 calls too, and does not kill them as calls of
 * an architecture the filter does not know. */
static void test_deny_list_i386(void **state)
{
#ifdef __x86_64__
	struct service_seccomp sc;
	int status;

	(void)state;
	status = run_i386(NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != EXIT_GOT_0) {
		print_message("skip: this kernel runs no i386 calls (no IA32 emulation)\n");
		skip();
	}
	sc_init(&sc, SECCOMP_DENY);
	sc.calls[sc.n_calls++] = SYS_getppid;
	status = run_i386(&sc);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EPERM);
	/* a call the list does not name goes through */
	sc.calls[0] = SYS_getpid;
	status = run_i386(&sc);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EXIT_GOT_0);
#else
	/* arm's compat calls (which the filter covers on aarch64) need an
	 * arm32 program to make them */
	(void)state;
	print_message("skip: i386 calls can be made from x86_64 only\n");
	skip();
#endif
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(service_seccomp_resolve("mount"), SYS_mount);
	assert_int_equal(service_seccomp_resolve("sys_mount"), -ENOENT);
	assert_int_equal(service_seccomp_resolve(""), -ENOENT);
#ifdef __x86_64__
	assert_int_equal(service_seccomp_resolve("vm86"), -EDOM);
#endif
}

static void test_print(void **state)
{
	struct service_seccomp sc;
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	(void)state;
	sc_init(&sc, SECCOMP_DENY);
	sc.profile = service_seccomp_profile_find("default");
	sc.except[sc.n_except++] = SYS_finit_module;
	sc.calls[sc.n_calls++] = SYS_unshare;
	f = open_memstream(&text, &size);
	assert_non_null(f);
	service_seccomp_print(&sc, f);
	fclose(f);
	assert_string_equal(text, "deny: @default -finit_module unshare (eperm)");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deny_list_eperm), cmocka_unit_test(test_deny_list_kill),
		cmocka_unit_test(test_allow_list),	cmocka_unit_test(test_deny_list_i386),
		cmocka_unit_test(test_default_profile), cmocka_unit_test(test_names),
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
