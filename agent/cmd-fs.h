/* The file-system commands' part the agent's main uses: the periodic trim
 * of the data disk (agent.trim_interval), which gives the blocks that files
 * freed back to the host's sparse image file. */
#pragma once

#include "agent.h"

/* Arms the timer when agent.trim_interval is not 0: every interval, FITRIM
 * on agent.data_mount when a file system is mounted there. */
void fs_trim_start(struct agent *a);
