/* The agent's configuration: defaults, the [agent] section of init.conf, the
 * kernel command line's porthole.agent.* words, then its own options. */
#pragma once

#include "agent.h"

#define AGENT_CONFIG_PATH "/etc/porthole/init.conf"

void options_defaults(struct agent_config *c);

/* Applies KEY (without "agent.") = VALUE; WHERE names the source in messages.
 * Returns 0, or -EINVAL after logging what was wrong (the value is kept). */
int options_set(struct agent_config *c, const char *key, const char *value, const char *where);

/* Reads init.conf's [agent] section and the command line's porthole.agent.*
 * words; returns the number of errors (unknown keys are warnings). */
unsigned options_load(struct agent_config *c, const char *file, const char *cmdline);
