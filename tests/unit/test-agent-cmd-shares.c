/* agent/cmd-shares.c: the commands' argument errors, which refuse before
 * anything is loaded or mounted, and porthole-mounts' shape. (What the
 * checks stand on, lib/sharemount.c, is test-sharemount's.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent-test.h"
#include "options.h"

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_shares_table, 3);
}

static void test_commands(void **state)
{
	json_t *res = NULL, *a = json_object();

	(void)state;
	options_defaults(&agent.cfg);
	assert_int_equal(agent.cfg.n_share_roots, 4);
	call_fails("porthole-mount", "{\"tag\": \"t\", \"target\": \"/etc/x\"}",
		   "outside the allowed roots (/mnt, /host, /Users, /home)");
	call_fails("porthole-mount", "{\"tag\": \"t\", \"target\": \"mnt/x\"}", "absolute path");
	call_fails("porthole-mount", "{\"tag\": \"t\", \"target\": \"/mnt/x\", \"type\": \"nfs\"}",
		   "\"virtiofs\" or \"9p\"");
	call_fails("porthole-mount", "{\"tag\": \"\", \"target\": \"/mnt/x\"}", "'tag'");
	call_fails("porthole-mount",
		   "{\"tag\": \"t\", \"target\": \"/mnt/x\", \"type\": \"9p\", \"options\": "
		   "{\"trans\": \"tcp\"}}",
		   "option 'trans'");
	call_fails("porthole-mount",
		   "{\"tag\": \"t\", \"target\": \"/mnt/x\", \"type\": \"9p\", \"options\": "
		   "{\"msize\": [1]}}",
		   "msize must be");
	call_fails("porthole-unmount", "{\"target\": \"/usr\"}", "outside the allowed roots");
	/* porthole-mounts answers whatever the mount table holds */
	assert_int_equal(find("porthole-mounts")->handler(&agent, a, &res, &err), 0);
	assert_true(json_is_array(json_object_get(res, "mounts")));
	json_decref(res);
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_commands),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
