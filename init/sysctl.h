/* Kernel parameters from /etc/porthole/sysctl.conf (sysctl.d(5)'s format),
 * written to /proc/sys at boot, each failure named with file:line, key,
 * value and errno. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SYSCTL_CONF_PATH "/etc/porthole/sysctl.conf"
#define SYSCTL_KEY_MAX 200
#define SYSCTL_VALUE_MAX 512

/* One line: 0 with KEY and VALUE filled, 1 for a blank or comment line,
 * -EINVAL for anything else. *IGNORE_FAILURE is set for a '-' prefix
 * (sysctl.d(5): a failure to set it is only logged at debug level). */
int sysctl_parse_line(const char *line, char key[SYSCTL_KEY_MAX], char value[SYSCTL_VALUE_MAX],
		      bool *ignore_failure);
/* "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward"; -EINVAL for a
 * key that could name anything outside /proc/sys. */
int sysctl_path(const char *key, char *buf, size_t size);
/* Writes VALUE to KEY's file; -errno. */
int sysctl_write(const char *key, const char *value);
/* Applies PATH (a missing file is nothing to do). In a SANDBOX only net.*
 * keys are written: the rest are the host's. Returns the number of lines
 * that failed. */
unsigned sysctl_apply_file(const char *path, bool sandbox);
