/* A service's processes, for real: its cgroup prepared, its output pipes
 * and notification pipe made, the program started through launch.c with
 * what its service file asks (user, limits, capabilities, seccomp, ...), its output
 * read into its log, and its cgroup killed. These are service_exec_ops, the
 * world the state machine (service.c) acts on outside of tests. */
#pragma once

#include "service.h"

extern const struct service_ops service_exec_ops;

/* SV's process has exited: what is in its pipes now is read (bounded), so
 * that it comes before the exit line. */
void service_exec_drain(struct services *ss, struct service *sv);
