/* porthole-memory, porthole-memory-reclaim and porthole-memory-target, and
 * the agent's own reclaim, gentle while the VM is busy and thorough once it
 * is idle (memory-policy.h decides, docs/memory.md explains). */
#pragma once

#include "agent.h"

/* Starts the reclaim's timer (agent.memory_reclaim, not in a sandbox). */
void memory_start(struct agent *a);

/* For tests: where /proc and the cgroup v2 root are ("/proc",
 * "/sys/fs/cgroup"). */
void memory_set_roots(const char *proc, const char *cgroup);
