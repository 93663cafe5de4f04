/* /dev/virtio-ports/NAME links, as udev's 60-virtio-ports rules would make
 * them. A port's name arrives from the host after the device exists (the
 * kernel then sends a "change" uevent), so links are made at boot and again
 * on every virtio-ports uevent. */
#include "devices.h"

#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

int devices_link_virtio_ports(const char *sysdir, const char *devdir)
{
	char linkdir[256];
	DIR *d = opendir(sysdir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	snprintf(linkdir, sizeof(linkdir), "%s/virtio-ports", devdir);
	while ((de = readdir(d))) {
		char path[512], target[300], link[512], old[300];
		_cleanup_free_ char *name = NULL;
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/name", sysdir, de->d_name);
		if (read_file(path, 256, &name, NULL) < 0)
			continue;
		name[strcspn(name, "\n")] = '\0';
		/* An unnamed port, or a name that would escape the directory. */
		if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0)
			continue;
		if (mkdir_p(linkdir, 0755) < 0)
			break;
		snprintf(target, sizeof(target), "../%s", de->d_name);
		snprintf(link, sizeof(link), "%s/%s", linkdir, name);
		len = readlink(link, old, sizeof(old) - 1);
		if (len >= 0) {
			old[len] = '\0';
			if (strcmp(old, target) == 0)
				continue;
			unlink(link);
		}
		if (symlink(target, link) < 0) {
			log_warn_errno(-errno, "link %s -> %s, ignoring", link, target);
			continue;
		}
		log_debug("virtio port %s is %s/%s", name, devdir, de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

int devices_uevent_open(void)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_KOBJECT_UEVENT);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int devices_uevent_read(int fd, char *subsys, size_t size)
{
	char buf[8192];
	struct sockaddr_nl from = { 0 };
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr msg = {
		.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1
	};
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

	subsys[0] = '\0';
	if (n < 0)
		return -errno;
	/* Only the kernel (a netlink sender with port id 0) is believed: anyone
	 * may send to group 1, and a message without a netlink sender is not
	 * the kernel's either. */
	if (msg.msg_namelen != sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0 ||
	    (msg.msg_flags & MSG_TRUNC))
		return 0;
	buf[n] = '\0';
	/* "ACTION@DEVPATH\0KEY=VALUE\0..." */
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strncmp(p, "SUBSYSTEM=", 10) == 0)
			snprintf(subsys, size, "%s", p + 10);
	return 0;
}
