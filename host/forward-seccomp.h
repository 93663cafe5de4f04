/* The forwarders' seccomp filter (`porthole forward docker|ports`): once a
 * forward listens, the long-running CLI process moves bytes between the
 * host's sockets and the guest, whose replies it parses; the filter keeps a
 * forwarder that the guest subverted from starting programs, tracing or
 * reading other processes, or reaching the kernel's riskier interfaces.
 * The refused calls are one table in forward-seccomp.c. */
#pragma once

/* Loads the filter (and no_new_privs) into every thread of this process:
 * 0, or -errno when libseccomp or the kernel refused it. */
int forward_seccomp_apply(void);
