/* The hardware clock (rtc(4)), kept in UTC as QEMU's is: read and written
 * in whole seconds. Shared by init (the clock at boot) and the agent
 * (guest-set-time, porthole-time-adjust's rtc). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define HWCLOCK_DEV "/dev/rtc0"

/* Reads DEV into seconds since the epoch. -errno from open or the ioctl;
 * -ERANGE when the RTC holds no valid time (a dead battery, an unset RTC),
 * with the fields it held in WHY. */
int hwclock_read(const char *dev, int64_t *ret_s, char *why, size_t why_size);

/* Writes the system clock's current second to DEV. -errno. */
int hwclock_write(const char *dev);
