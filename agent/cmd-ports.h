/* porthole-ports' watch (cmd-ports.c), which the agent stops with its loop. */
#pragma once

#include "agent.h"

/* Answers the waiting clients with what there is and stops watching. */
void ports_stop(struct agent *a);
