/* The one rule for which wall-clock times porthole sets, on the system clock
 * (guest-set-time, porthole-time-adjust, the ptp_kvm keeper, init's read of
 * the RTC at boot) and on the hardware clock. Setting is left to callers. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* 2070-01-01T00:00:00Z, (100 * 365 + 25 leap days) * 86400 s: qemu-ga
 * refuses a time from then on, and an RTC's two-digit year ends there. */
#define WALLTIME_END_S 3155760000LL

/* The image's build time (the newest commit's, from the Makefile), the
 * earliest time a clock is set to. */
#ifndef PORTHOLE_BUILD_EPOCH
#define PORTHOLE_BUILD_EPOCH 1700000000LL
#endif
#define WALLTIME_BUILD_NS (PORTHOLE_BUILD_EPOCH * 1000000000LL)
/* 9999-12-31T23:59:59Z: the latest time a query may name ("logs since"),
 * far inside what int64 microseconds and nanoseconds can hold. */
#define WALLTIME_QUERY_MAX_S 253402300799LL

/* 0 when NS (nanoseconds since the epoch) is a time porthole may set: not
 * before BUILD_NS (the image's build: a clock cannot be right before the
 * software that reads it existed) and before WALLTIME_END_S. -ERANGE
 * otherwise, with why, in words and as a date, in WHY. */
int walltime_check(int64_t ns, int64_t build_ns, char *why, size_t why_size);

/* Formats NS as "YYYY-MM-DD HH:MM:SS UTC" (or "N s since the epoch" where
 * gmtime_r(3) cannot) into BUF. Returns BUF. */
const char *walltime_format(int64_t ns, char *buf, size_t size);
