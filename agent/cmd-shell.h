/* porthole-shell's sessions outside the command table: how many there are,
 * for porthole-health, and what the agent calls when it stops. */
#pragma once

#include <stdint.h>

/* Sessions at once; the next one is refused, with an error that says so. */
#define SHELL_SESSIONS_MAX 16

struct agent;

/* Sessions running now, and those refused over SHELL_SESSIONS_MAX since
 * the agent started. */
unsigned shell_sessions_open(const struct agent *a);
uint64_t shell_sessions_refused(const struct agent *a);

/* Forgets the sessions and frees a->shell; they run on, each in a process
 * of its own (init ends them with the agent's cgroup). Safe when
 * porthole-shell was never called. */
void cmd_shell_free(struct agent *a);
