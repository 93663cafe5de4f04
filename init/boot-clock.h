/* The system clock from the hardware clock at boot (the RTC itself is
 * lib/hwclock.c's). */
#pragma once

/* Sets CLOCK_REALTIME from /dev/rtc0 (kept in UTC, as QEMU's is) when they
 * differ by more than a second. Returns 1 when the clock was set. */
int boot_clock_from_rtc(const char *dev);
