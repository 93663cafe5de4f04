/* lib/log.c: the line a user reads, as docs/configuration.md and
 * docs/boot.md show it ("porthole-init: warn: init.conf:3: ..."; info
 * without a level: "porthole-init: ready: ..."), the level filter, the
 * cut of an over-long line, log_errno's return, and the level names that
 * porthole.log takes. Lines go to stderr here, caught in a file; /dev/kmsg
 * is left alone (it would write to this machine's kernel log). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "log.h"
#include "stderr-capture.h"

static char out[4096];
static struct stderr_capture cap;

static int setup(void **state)
{
	(void)state;
	log_setup("test-log");
	assert_int_equal(log_set_target(LOG_TARGET_STDERR), 0);
	return 0;
}

static void test_format(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_DEBUG);
	stderr_capture_start(&cap);
	log_info("ready: %d ms since kernel start", 2345);
	log_warn("init.conf:%d: unknown key '%s', ignoring", 3, "colour");
	log_error("mount %s (%s): %s", "/sys/fs/cgroup", "cgroup2", "Device or resource busy");
	log_emerg("essential file systems: cannot mount");
	log_debug("%s", "details");
	stderr_capture_stop(&cap, out, sizeof(out));
	assert_string_equal(out, "test-log: ready: 2345 ms since kernel start\n"
				 "test-log: warn: init.conf:3: unknown key 'colour', ignoring\n"
				 "test-log: error: mount /sys/fs/cgroup (cgroup2): Device or "
				 "resource busy\n"
				 "test-log: emerg: essential file systems: cannot mount\n"
				 "test-log: debug: details\n");
}

/* Lines above the level are dropped; the level is the program's choice. */
static void test_levels_filter(void **state)
{
	static const struct {
		enum log_level max;
		const char *shown;
	} cases[] = {
		{ LOG_LEVEL_EMERG, "E" },   { LOG_LEVEL_ERROR, "EX" },	  { LOG_LEVEL_WARN, "EXW" },
		{ LOG_LEVEL_INFO, "EXWI" }, { LOG_LEVEL_DEBUG, "EXWID" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char shown[8] = "";

		log_set_level(cases[i].max);
		assert_int_equal(log_get_level(), cases[i].max);
		stderr_capture_start(&cap);
		log_emerg("E");
		log_error("X");
		log_warn("W");
		log_info("I");
		log_debug("D");
		stderr_capture_stop(&cap, out, sizeof(out));
		/* the last character of each line before its newline */
		for (char *nl = strchr(out, '\n'); nl; nl = strchr(nl + 1, '\n'))
			strncat(shown, nl - 1, 1);
		assert_string_equal(shown, cases[i].shown);
	}
	log_set_level(LOG_LEVEL_INFO);
}

/* One line at most LOG_LINE_MAX (1024) bytes, its newline kept, and the cut
 * marked; errno as it was, so that a caller can log and then use it. */
static void test_long_line_and_errno(void **state)
{
	char big[3000];
	size_t len;

	(void)state;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_set_level(LOG_LEVEL_INFO);
	stderr_capture_start(&cap);
	errno = EXDEV;
	log_error("%s", big);
	assert_int_equal(errno, EXDEV);
	log_info("next");
	stderr_capture_stop(&cap, out, sizeof(out));
	len = strcspn(out, "\n");
	assert_true(len + 1 <= 1024);
	assert_true(len > 1000);
	assert_memory_equal(out, "test-log: error: zzz", 20);
	assert_memory_equal(out + len - 3, "...", 3);
	assert_string_equal(out + len + 1, "test-log: next\n");
}

/* "return log_error_errno(r, ...)": logged once, with the reason, and the
 * error handed back negative whichever sign it came with. */
static void test_log_errno(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_INFO);
	stderr_capture_start(&cap);
	assert_int_equal(log_error_errno(-ENOENT, "open %s", "/etc/x"), -ENOENT);
	assert_int_equal(log_warn_errno(EACCES, "read %s", "/etc/y"), -EACCES);
	assert_int_equal(log_debug_errno(-EIO, "not shown"), -EIO);
	stderr_capture_stop(&cap, out, sizeof(out));
	assert_string_equal(out, "test-log: error: open /etc/x: No such file or directory\n"
				 "test-log: warn: read /etc/y: Permission denied\n");
}

/* porthole.log=LEVEL's words (docs/configuration.md), both ways. */
static void test_level_names(void **state)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {
		{ "emerg", LOG_LEVEL_EMERG },  { "error", LOG_LEVEL_ERROR },
		{ "err", LOG_LEVEL_ERROR },    { "warn", LOG_LEVEL_WARN },
		{ "warning", LOG_LEVEL_WARN }, { "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(log_level_from_string(names[i].name), names[i].level);
	for (const char *const *bad =
		     (const char *const[]){ "", "loud", "INFO", "3", "notice", "debug ", NULL };
	     *bad; bad++)
		assert_int_equal(log_level_from_string(*bad), -EINVAL);
	assert_string_equal(log_level_to_string(LOG_LEVEL_WARN), "warn");
	assert_string_equal(log_level_to_string(LOG_LEVEL_ERROR), "error");
	assert_string_equal(log_level_to_string(LOG_LEVEL_DEBUG), "debug");
	/* a level with no name (syslog's 1, 2, 5) and one out of range */
	assert_string_equal(log_level_to_string((enum log_level)5), "?");
	assert_string_equal(log_level_to_string((enum log_level)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_levels_filter),
		cmocka_unit_test(test_long_line_and_errno),
		cmocka_unit_test(test_log_errno),
		cmocka_unit_test(test_level_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
