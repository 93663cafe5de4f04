/* agent/options.c: the agent's keys as init.conf's [agent] section, the
 * kernel command line's porthole.agent.* words and options_set take them
 * (docs/configuration.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "agent.h"
#include "log.h"
#include "options.h"

static struct agent agent;

/* A bad list value is refused whole: the list it would have replaced stays. */
static void test_bad_list_changes_nothing(void **state)
{
	struct agent_config c;
	char many[AGENT_RPCS_MAX * 4 + 64] = "";

	(void)state;
	options_defaults(&c);
	assert_int_equal(options_set(&c, "block_rpcs", "guest-ping,guest-info", "test"), 0);
	for (int i = 0; i <= AGENT_RPCS_MAX; i++)
		strcat(many, "x,");
	assert_int_equal(options_set(&c, "block_rpcs", many, "test"), -EINVAL);
	assert_int_equal(c.n_block_rpcs, 2);
	assert_string_equal(c.block_rpcs[0], "guest-ping");
	assert_string_equal(c.block_rpcs[1], "guest-info");
	assert_int_equal(options_set(&c, "vsock_cids", "1 2 x", "test"), -EINVAL);
	assert_int_equal(c.n_vsock_cids, 1);
	assert_int_equal(c.vsock_cids[0], 2);
}

/* agent.share_roots and agent.trim_interval */
static void test_share_roots_and_trim(void **state)
{
	(void)state;
	options_defaults(&agent.cfg);
	assert_int_equal(options_set(&agent.cfg, "share_roots", "/srv, /data/", "test"), 0);
	assert_int_equal(agent.cfg.n_share_roots, 2);
	assert_string_equal(agent.cfg.share_roots[1], "/data");
	assert_int_equal(options_set(&agent.cfg, "share_roots", "/", "test"), -EINVAL);
	assert_int_equal(options_set(&agent.cfg, "share_roots", "relative", "test"), -EINVAL);
	assert_int_equal(options_set(&agent.cfg, "trim_interval", "10", "test"), -EINVAL);
	assert_int_equal(options_set(&agent.cfg, "trim_interval", "0", "test"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_list_changes_nothing),
		cmocka_unit_test(test_share_roots_and_trim),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
