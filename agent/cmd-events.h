/* porthole-events' ring and long polls, which the clock (cmd-clock.c) posts
 * to, and which the agent starts and stops with its loop. */
#pragma once

#include <stdint.h>

#include "agent.h"

/* Queues an event for porthole-events and answers the long polls waiting
 * for one. TYPE is "clock-set", "resume" or "adjusted"; SOURCE (static
 * text) may be NULL. */
void events_post(const char *type, int64_t jump_ns, const char *source);

void events_start(struct agent *a);
/* Answers every long poll with what there is (the transport sends it
 * before closing) and lets init's events go. */
void events_stop(struct agent *a);
