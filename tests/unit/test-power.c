/* init/power.c: what counts as a press of the power button in an evdev
 * stream (struct input_event through a pipe, as the ACPI button's device
 * gives them). Finding the button among /dev/input's devices needs the
 * kernel's: the vm tier presses QEMU's (make stop, scripts/stop-vm). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "power.h"

static void put(int fd, unsigned short type, unsigned short code, int value)
{
	struct input_event ev = { .type = type, .code = code, .value = value };

	assert_int_equal(write(fd, &ev, sizeof(ev)), (ssize_t)sizeof(ev));
}

static void test_presses(void **state)
{
	int p[2];

	(void)state;
	log_set_level(LOG_LEVEL_EMERG);
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	/* nothing yet: no press, no error */
	assert_int_equal(power_button_read(p[0]), 0);
	/* a press and its release, with the SYN reports between: one press */
	put(p[1], EV_KEY, KEY_POWER, 1);
	put(p[1], EV_SYN, SYN_REPORT, 0);
	put(p[1], EV_KEY, KEY_POWER, 0);
	put(p[1], EV_SYN, SYN_REPORT, 0);
	assert_int_equal(power_button_read(p[0]), 1);
	/* other keys, and the power key's auto-repeat (value 2), are not presses */
	put(p[1], EV_KEY, KEY_SLEEP, 1);
	put(p[1], EV_KEY, KEY_POWER, 2);
	assert_int_equal(power_button_read(p[0]), 0);
	/* the device gone (the writer closed): -ENODEV, so the loop lets it go */
	close(p[1]);
	assert_int_equal(power_button_read(p[0]), -ENODEV);
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
