/* porthole-time, porthole-time-adjust and porthole-events: placeholder
 * until the time issue lands. */
#include "command.h"

const struct command cmd_clock_table[] = {
	{ 0 },
};
