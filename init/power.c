/* The power button through evdev, as acpid and systemd-logind see it: the
 * ACPI button driver ("Power Button" input device) reports KEY_POWER. */
#include "power.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define BITS_PER_LONG (8 * sizeof(unsigned long))
#define NLONGS(n) (((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)

static bool has_power_key(int fd)
{
	unsigned long keys[NLONGS(KEY_MAX + 1)] = { 0 };

	if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(keys)), keys) < 0)
		return false;
	return keys[KEY_POWER / BITS_PER_LONG] & (1ul << (KEY_POWER % BITS_PER_LONG));
}

static bool already_open(const int *fds, dev_t rdev)
{
	for (int i = 0; i < POWER_BUTTONS_MAX; i++) {
		struct stat st;

		if (fds[i] >= 0 && fstat(fds[i], &st) == 0 && st.st_rdev == rdev)
			return true;
	}
	return false;
}

int power_buttons_scan(int *fds)
{
	DIR *d = opendir("/dev/input");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[300], name[128] = "";
		struct stat st;
		int fd, slot = -1;

		if (strncmp(de->d_name, "event", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/input/%s", de->d_name);
		if (stat(path, &st) < 0 || already_open(fds, st.st_rdev))
			continue;
		for (int i = 0; i < POWER_BUTTONS_MAX; i++)
			if (fds[i] < 0) {
				slot = i;
				break;
			}
		if (slot < 0)
			break;
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			continue;
		if (!has_power_key(fd)) {
			close(fd);
			continue;
		}
		ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name);
		log_debug("power button: %s (%s)", path, name);
		fds[slot] = fd;
		n++;
	}
	closedir(d);
	return n;
}

int power_button_read(int fd)
{
	struct input_event ev[16];
	int pressed = 0;

	for (;;) {
		ssize_t n = read(fd, ev, sizeof(ev));

		if (n < 0)
			return errno == EAGAIN ? pressed : -errno;
		if (n == 0)
			return -ENODEV;
		for (size_t i = 0; i < (size_t)n / sizeof(ev[0]); i++)
			if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER && ev[i].value == 1)
				pressed = 1;
	}
}
