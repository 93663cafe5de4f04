/* What cmd-guest-time.c shares with the clock commands (cmd-clock.c). */
#pragma once

#include "command.h"

/* Writes the system clock's current second to /dev/rtc0 (UTC). A VM without
 * an RTC is not an error (logged). */
enum cmd_result guest_time_rtc_write(struct cmd_error *err);
