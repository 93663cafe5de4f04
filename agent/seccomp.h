/* The agent's seccomp filter (libseccomp): once its transports are open and
 * its capabilities trimmed (privilege.h), the agent may make only the system
 * calls in the one table of seccomp.c, derived from strace of the sandbox and
 * VM tests. The mode is the configuration's (agent.seccomp); the capability
 * trimming is privilege.c's, the launcher that runs the host's commands
 * unfiltered launcher.c's. */
#pragma once

enum agent_seccomp_mode {
	AGENT_SECCOMP_ENFORCE = 0, /* a refused call fails with EPERM */
	AGENT_SECCOMP_LOG, /* allowed, and logged by the kernel (audit type=1326) */
	AGENT_SECCOMP_OFF, /* no filter */
};

/* A sanitizer build's LeakSanitizer ptraces the threads at exit, which no
 * filter worth having allows: its default is off (docs/security.md). */
#if defined(__SANITIZE_ADDRESS__)
#define AGENT_SECCOMP_DEFAULT AGENT_SECCOMP_OFF
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AGENT_SECCOMP_DEFAULT AGENT_SECCOMP_OFF
#endif
#endif
#ifndef AGENT_SECCOMP_DEFAULT
#define AGENT_SECCOMP_DEFAULT AGENT_SECCOMP_ENFORCE
#endif

/* The errno a refused call returns under AGENT_SECCOMP_ENFORCE. */
#define AGENT_SECCOMP_ERRNO EPERM

/* "enforce", "log", "off" to a mode: >= 0, or -EINVAL. */
int agent_seccomp_mode_from_string(const char *s);
const char *agent_seccomp_mode_to_string(enum agent_seccomp_mode m);

/* Loads the filter into every thread of this process (SCMP_FLTATR_CTL_TSYNC),
 * with no_new_privs. MODE off loads nothing. 0, or -errno when libseccomp or
 * the kernel refused it (nothing is loaded then). */
int agent_seccomp_apply(enum agent_seccomp_mode mode);
