/* init/config.c: init.conf and kernel command line parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "config.h"
#include "log.h"

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG); /* the errors below are expected */
	return 0;
}

static void test_defaults(void **state)
{
	struct init_config c;

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_string_equal(c.hostname, "porthole");
	assert_int_equal(c.n_modules, 0);
	assert_int_equal(c.stop_timeout_s, 10);
	assert_int_equal(c.rlimit_nofile, 1048576);
	assert_true(c.root_tmpfs);
	assert_false(c.rescue);
	assert_int_equal(c.module_threads, 1);
}

static void test_ini_values_and_origins(void **state)
{
	struct init_config c;

	(void)state;
	config_defaults(&c);
	config_parse_ini(&c,
			 "# comment\n"
			 "log = debug\n"
			 "\n"
			 "hostname = vm-1\n"
			 "[init]\n"
			 "modules = virtio-net, 9p  vsock\n"
			 "stop_timeout = 3\n"
			 "module_threads = 0\n",
			 "t.conf");
	assert_int_equal(c.n_errors, 0);
	assert_int_equal(c.n_warnings, 0);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(c.hostname, "vm-1");
	assert_int_equal(c.n_modules, 3);
	/* '-' and '_' are the same in module names: kept in kmod's form */
	assert_string_equal(c.modules[0], "virtio_net");
	assert_string_equal(c.modules[1], "9p");
	assert_string_equal(c.modules[2], "vsock");
	assert_int_equal(c.stop_timeout_s, 3);
	assert_int_equal(c.module_threads, 0);
	/* each value remembers the file and line it came from */
	assert_string_equal(c.origin[0], "t.conf:2");
	assert_string_equal(c.origin[1], "t.conf:4");
	assert_string_equal(c.origin[2], "t.conf:6");
}

static void test_ini_bad_values_keep_defaults(void **state)
{
	struct init_config c;

	(void)state;
	config_defaults(&c);
	config_parse_ini(&c,
			 "log = loud\n"
			 "hostname = -bad-\n"
			 "stop_timeout = 301\n"
			 "rlimit_nofile = 12x\n"
			 "rescue = perhaps\n"
			 "shell = bash\n"
			 "modules = ok bad/name\n"
			 "module_threads = 5\n",
			 "t.conf");
	assert_int_equal(c.n_errors, 8);
	assert_int_equal(c.module_threads, 1);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_string_equal(c.hostname, "porthole");
	assert_int_equal(c.stop_timeout_s, 10);
	assert_int_equal(c.rlimit_nofile, 1048576);
	assert_false(c.rescue);
	assert_int_equal(c.shell, SHELL_NONE);
	/* a bad list changes nothing, not even its good part */
	assert_int_equal(c.n_modules, 0);
	assert_string_equal(c.origin[0], "default");
}

static void test_ini_unknown_keys_and_syntax(void **state)
{
	struct init_config c;

	(void)state;
	config_defaults(&c);
	config_parse_ini(&c,
			 "colour = blue\n"
			 "[colours]\n"
			 "nonsense = 1\n"
			 "this line has no equals sign\n"
			 "[init]\n"
			 "hostname = after-the-error\n",
			 "t.conf");
	assert_int_equal(c.n_warnings, 2);
	assert_int_equal(c.n_errors, 1);
	/* the lines after a syntax error are still read */
	assert_string_equal(c.hostname, "after-the-error");
	assert_string_equal(c.origin[1], "t.conf:6");
}

static void test_ini_long_line_refused(void **state)
{
	struct init_config c;
	char text[4096];
	size_t n;

	(void)state;
	/* 100 module names on one line: past inih's line limit */
	n = (size_t)snprintf(text, sizeof(text), "modules =");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " module_number_%d", i);
	snprintf(text + n, sizeof(text) - n, "\nhostname = next-line\n");
	config_defaults(&c);
	config_parse_ini(&c, text, "t.conf");
	/* one error for the line, nothing half-applied, the next line read */
	assert_int_equal(c.n_errors, 1);
	assert_int_equal(c.n_modules, 0);
	assert_string_equal(c.hostname, "next-line");
	assert_string_equal(c.origin[1], "t.conf:2");
}

static void test_ini_list_continues_on_indented_lines(void **state)
{
	struct init_config c;
	char text[8192];
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "modules = first");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%smodule_number_%d",
				      i % 5 == 0 ? "\n\t" : " ", i);
	snprintf(text + n, sizeof(text) - n, "\nhostname = h\n  more\n");
	config_defaults(&c);
	config_parse_ini(&c, text, "t.conf");
	/* the indented line under hostname is an error: it takes one line */
	assert_int_equal(c.n_errors, 1);
	assert_int_equal(c.n_modules, 101);
	assert_string_equal(c.modules[0], "first");
	assert_string_equal(c.modules[100], "module_number_99");
	assert_string_equal(c.hostname, "h");
}

static void test_cmdline_overrides(void **state)
{
	struct init_config c;

	(void)state;
	config_defaults(&c);
	config_parse_ini(&c, "log = warn\nhostname = from-file\n", "t.conf");
	config_parse_cmdline(&c, "BOOT_IMAGE=/vmlinuz console=ttyS0 porthole.log=debug "
				 "porthole.rescue quiet porthole.hostname=\"from-cmdline\" "
				 "-- porthole.stop_timeout=1\n");
	assert_int_equal(c.n_errors, 0);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	assert_true(c.rescue); /* a bare key is "1" */
	assert_string_equal(c.hostname, "from-cmdline");
	assert_string_equal(c.origin[1], "kernel command line");
	/* after "--" the words are init's arguments, not the kernel's */
	assert_int_equal(c.stop_timeout_s, 10);
}

/* The agent's keys share init.conf: init leaves them to the agent. */
static void test_agent_keys_are_not_inits(void **state)
{
	struct init_config c;

	(void)state;
	config_defaults(&c);
	config_parse_ini(&c, "[agent]\nvsock_port = 1024\nwhatever = 1\n", "t.conf");
	config_parse_cmdline(&c, "porthole.agent.exec=1");
	assert_int_equal(c.n_warnings, 0);
	assert_int_equal(c.n_errors, 0);
}

static void test_cmdline_bad_and_unknown(void **state)
{
	struct init_config c;

	(void)state;
	config_defaults(&c);
	config_parse_cmdline(&c, "porthole.log=loud porthole.nosuchkey=1 porthole.shell=none");
	assert_int_equal(c.n_errors, 1);
	assert_int_equal(c.n_warnings, 1);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_int_equal(c.shell, SHELL_NONE);
}

static void test_too_many_modules(void **state)
{
	struct init_config c;
	char text[8192];
	size_t n;

	(void)state;
	/* ten a line, so that only the count can be wrong */
	n = (size_t)snprintf(text, sizeof(text), "modules =");
	for (int i = 0; i < CONFIG_MODULES_MAX + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sm%d", i % 10 ? " " : "\n ", i);
	config_defaults(&c);
	config_parse_ini(&c, text, "t.conf");
	assert_int_equal(c.n_errors, 1);
	/* the line that would pass the limit is refused whole */
	assert_int_equal(c.n_modules, 120);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_ini_values_and_origins),
		cmocka_unit_test(test_ini_bad_values_keep_defaults),
		cmocka_unit_test(test_ini_unknown_keys_and_syntax),
		cmocka_unit_test(test_ini_long_line_refused),
		cmocka_unit_test(test_ini_list_continues_on_indented_lines),
		cmocka_unit_test(test_cmdline_overrides),
		cmocka_unit_test(test_agent_keys_are_not_inits),
		cmocka_unit_test(test_cmdline_bad_and_unknown),
		cmocka_unit_test(test_too_many_modules),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
