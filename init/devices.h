/* Device links that udev would make in a full system, for the few devices
 * porthole needs: /dev/virtio-ports/NAME. Kept current from kernel uevents. */
#pragma once

#include <stddef.h>

/* Creates /dev/virtio-ports/NAME -> ../vportNpM for every named port. */
int devices_link_virtio_ports(const char *sysdir, const char *devdir);

/* A NETLINK_KOBJECT_UEVENT socket; -errno on failure. */
int devices_uevent_open(void);

/* Reads one uevent from FD and returns its SUBSYSTEM= into SUBSYS (empty
 * when the message is not a kernel uevent). */
int devices_uevent_read(int fd, char *subsys, size_t size);
