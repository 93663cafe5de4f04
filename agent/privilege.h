/* The agent's capabilities (libcap): which ones its enabled commands need
 * (one table in privilege.c, each entry justified in docs/security.md), and
 * the drop to exactly those once its transports are open: bounding,
 * permitted, effective, inheritable and ambient sets, and no_new_privs. The
 * system call filter is seccomp.c's; which commands are enabled is
 * dispatch.c's. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "agent.h"

/* A set of capabilities, bit N for capability N (linux/capability.h). */
typedef uint64_t privilege_set;

#define PRIVILEGE_BIT(cap) ((privilege_set)1 << (cap))

/* What the agent keeps for A's configuration (dispatch_init must have run:
 * the enabled commands come from its index). guest-exec's commands and
 * porthole-shell's sessions run from the launcher (launcher.h) and need
 * nothing here. */
privilege_set privilege_needed(const struct agent *a);

/* The names of SET, "cap_sys_time,cap_net_admin" (libcap's), into BUF;
 * "none" for the empty set. Cut to fit. */
void privilege_format(privilege_set set, char *buf, size_t size);

/* Trims this process to KEEP: capabilities outside it leave the bounding
 * set (when this process may: CAP_SETPCAP), the permitted, effective and
 * inheritable sets hold KEEP only (inheritable: nothing), the ambient set is
 * cleared, and no_new_privs is set. 0, or -errno after logging what failed. */
int privilege_drop(privilege_set keep);
