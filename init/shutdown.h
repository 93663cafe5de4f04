/* The orderly end: what init started is stopped first (TERM, a grace period,
 * KILL), then every other process, then data is synced, file systems
 * unmounted, and the machine powered off, rebooted or halted. */
#pragma once

#include <stdbool.h>

#include "supervise.h"

/* Exit statuses in a sandbox, where reboot(2) is not init's to call. */
#define EXIT_POWEROFF 0
#define EXIT_REBOOT 3
#define EXIT_HALT 4
#define EXIT_EMERGENCY 111

/* Never returns: ends in reboot(2), or in exit(2) with the statuses above
 * when S->sandbox is set. */
struct services;
/* The services first (dependents before what they depend on, each with its
 * stop signal and time-out), then init's other children, then the rest. */
__attribute__((noreturn)) void shutdown_run(struct supervisor *s, struct services *ss,
					    enum shutdown_kind kind, unsigned timeout_s);

/* The last step alone, for emergencies: sync and reboot(2) (or exit). */
__attribute__((noreturn)) void shutdown_final(enum shutdown_kind kind, bool sandbox, int status);
