/* init/devices.c: /dev/virtio-ports/NAME links from a sysfs tree of the
 * test's own (names given by the host, a rename, names that would escape
 * the directory), and uevents believed only from the kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices.h"
#include "log.h"
#include "tmptree.h"
#include "util.h"

static char tmp[] = "/tmp/test-devices.XXXXXX";
static char sys[64], dev[64];

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	assert_non_null(mkdtemp(tmp));
	snprintf(sys, sizeof(sys), "%s/sys", tmp);
	snprintf(dev, sizeof(dev), "%s/dev", tmp);
	assert_int_equal(mkdir_p(sys, 0755), 0);
	assert_int_equal(mkdir_p(dev, 0755), 0);
	return 0;
}

static int teardown(void **state)
{

	(void)state;
	return tmptree_remove(tmp);
}

/* sysfs's /sys/class/virtio-ports/PORT/name, as the host named it */
static void port(const char *p, const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sys, p);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/name", sys, p);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(name, f);
	fclose(f);
}

static const char *link_of(const char *name)
{
	static char target[256];
	char path[256];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/virtio-ports/%s", dev, name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return NULL;
	target[n] = '\0';
	return target;
}

static void test_links(void **state)
{
	(void)state;
	port("vport0p1", "org.qemu.guest_agent.0\n");
	port("vport0p2", "org.porthole.agent.0\n");
	port("vport0p3", ""); /* not named yet */
	port("vport0p4", "..");
	port("vport0p5", "a/../../etc");
	assert_int_equal(devices_link_virtio_ports(sys, dev), 2);
	assert_string_equal(link_of("org.qemu.guest_agent.0"), "../vport0p1");
	assert_string_equal(link_of("org.porthole.agent.0"), "../vport0p2");
	/* nothing escapes virtio-ports/ */
	assert_null(link_of(".."));
	assert_null(link_of("a"));
	/* again: nothing to do */
	assert_int_equal(devices_link_virtio_ports(sys, dev), 0);
	/* the host names the port later, or another port takes a name: the
	 * change uevent makes them current */
	port("vport0p3", "org.example.late");
	port("vport0p2", "org.qemu.guest_agent.0");
	port("vport0p1", "org.other");
	assert_int_equal(devices_link_virtio_ports(sys, dev), 3);
	assert_string_equal(link_of("org.example.late"), "../vport0p3");
	assert_string_equal(link_of("org.other"), "../vport0p1");
	assert_string_equal(link_of("org.qemu.guest_agent.0"), "../vport0p2");
	/* no such class (no virtio-serial device): nothing, no error */
	assert_int_equal(devices_link_virtio_ports("/nonexistent/class", dev), 0);
}

/* Anyone may send to the uevent group: only port id 0, the kernel, is
 * believed. A socketpair's sender is not a netlink address at all. */
static void test_uevent_sender(void **state)
{
	static const char ev[] = "change@/devices/pci0000:00/virtio1/virtio-ports/vport0p1\0"
				 "ACTION=change\0SUBSYSTEM=virtio-ports\0";
	char subsys[64] = "stale";
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(send(sv[1], ev, sizeof(ev), 0), (ssize_t)sizeof(ev));
	assert_int_equal(devices_uevent_read(sv[0], subsys, sizeof(subsys)), 0);
	assert_string_equal(subsys, "");
	/* nothing queued: -EAGAIN, not a hang */
	assert_int_equal(devices_uevent_read(sv[0], subsys, sizeof(subsys)), -EAGAIN);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_uevent_sender),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
