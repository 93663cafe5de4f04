/* The ACPI power button: QEMU's system_powerdown (and a host's "stop")
 * presses it; init powers off. */
#pragma once

#define POWER_BUTTONS_MAX 8

/* Opens every /dev/input/event* device that reports KEY_POWER and is not
 * open yet; FDS holds up to POWER_BUTTONS_MAX of them (-1 for free slots).
 * Returns the number newly opened. */
int power_buttons_scan(int *fds);

/* Reads the events queued on FD; returns 1 when the power key was pressed,
 * 0 when not, -errno when the device is gone. */
int power_button_read(int fd);
