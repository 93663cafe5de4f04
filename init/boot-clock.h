/* The system clock from the hardware clock at boot. */
#pragma once

/* Sets CLOCK_REALTIME from /dev/rtc0 (kept in UTC, as QEMU's is) when they
 * differ by more than a second. Returns 1 when the clock was set. */
int rtc_set_system_clock(const char *dev);
