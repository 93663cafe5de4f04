/* The services' dependency graph: after (order only) and requires (order,
 * and it must be there) across the service files. Which services start
 * together and which wait is service.c's; this only answers from the specs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "service-conf.h"

/* The dependency check across SPECS: a `requires` naming no service or a
 * disabled one, or a cycle through after/requires, disables the services
 * involved (logged, enabled = false) so the rest still start. Returns how
 * many were disabled. */
unsigned service_graph_check(struct service_spec *specs, size_t n);

/* The index of the service NAME in SPECS, or -1. */
ssize_t service_graph_find(const struct service_spec *specs, size_t n, const char *name);

/* Whether S comes after or requires NAME: S stops before NAME does. */
bool service_graph_depends(const struct service_spec *s, const char *name);
