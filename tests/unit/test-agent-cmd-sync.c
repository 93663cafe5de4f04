/* agent/cmd-sync.c: guest-sync and guest-sync-delimited give the id back
 * as it came (what a client resynchronises on), -delimited's reply has the
 * 0xFF in front, guest-ping answers {}, and guest-info lists every command
 * the dispatcher has, with qemu-ga's members and porthole's own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "agent-test.h"
#include "dispatch.h"
#include "options.h"

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_sync_table, 4);
	assert_int_equal(find("guest-sync")->args[0].type, ARG_INT);
	assert_true(find("guest-sync")->args[0].required);
	assert_int_equal(find("guest-sync-delimited")->args[0].type, ARG_INT);
	assert_true(find("guest-sync-delimited")->args[0].required);
	assert_null(find("guest-ping")->args[0].name);
	assert_null(find("guest-info")->args[0].name);
}

static void test_sync_gives_the_id_back(void **state)
{
	static const char *const ids[] = { "0", "-1", "123456789", "9223372036854775807",
					   "-9223372036854775808" };
	char args[64];

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		json_t *want = json_loads(ids[i], JSON_DECODE_ANY, NULL), *r;

		snprintf(args, sizeof(args), "{\"id\": %s}", ids[i]);
		r = call_ok("guest-sync", args);
		assert_true(json_equal(r, want));
		json_decref(r);
		r = call_ok("guest-sync-delimited", args);
		assert_true(json_equal(r, want));
		json_decref(r);
		json_decref(want);
	}
	/* -delimited only: the dispatcher puts 0xFF before its reply */
	assert_true(find("guest-sync-delimited")->flags & CMD_SYNC_DELIMITED);
	assert_false(find("guest-sync")->flags & CMD_SYNC_DELIMITED);
	assert_null(call_ok("guest-ping", NULL));
}

/* The 0xFF on the wire: before -delimited's reply, and before no other. */
static void test_delimited_reply_bytes(void **state)
{
	static const char delimited[] =
		"{\"execute\": \"guest-sync-delimited\", \"arguments\": {\"id\": 42}}";
	static const char plain[] = "{\"execute\": \"guest-sync\", \"arguments\": {\"id\": 42}}";
	struct reply r = { 0 };
	json_t *j;

	(void)state;
	options_defaults(&agent.cfg);
	dispatch_init(&agent);
	assert_int_equal(dispatch_value(&agent, delimited, strlen(delimited), &r), DISPATCH_REPLY);
	assert_true(r.len > 2);
	assert_int_equal((unsigned char)r.data[0], 0xFF);
	j = json_loadb(r.data + 1, r.len - 1, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "return")), 42);
	json_decref(j);
	free(r.data);
	assert_int_equal(dispatch_value(&agent, plain, strlen(plain), &r), DISPATCH_REPLY);
	assert_int_equal(r.data[0], '{');
	assert_null(memchr(r.data, 0xFF, r.len));
	free(r.data);
}

static void test_info(void **state)
{
	static const struct member info_schema[] = {
		{ "version", T_STR, true },
		{ "supported_commands", T_ARR, true },
		{ "porthole", T_OBJ, true },
		{ NULL, T_STR, false },
	};
	static const struct member cmd_schema[] = {
		{ "name", T_STR, true },
		{ "enabled", T_BOOL, true },
		{ "success-response", T_BOOL, true },
		{ NULL, T_STR, false },
	};
	static const struct member porthole_schema[] = {
		{ "version", T_STR, true },
		{ "protocol", T_INT, true },
		{ "capabilities", T_ARR, true },
		{ NULL, T_STR, false },
	};
	const struct dispatch_entry *entries;
	json_t *r, *cmds, *c, *caps, *cap;
	size_t n, i, j;
	bool health = false;

	(void)state;
	options_defaults(&agent.cfg);
	/* guest-exec off (the default), guest-ping blocked: guest-info says so */
	snprintf(agent.cfg.block_rpcs[0], sizeof(agent.cfg.block_rpcs[0]), "guest-ping");
	agent.cfg.n_block_rpcs = 1;
	assert_int_equal(dispatch_init(&agent), 0);
	entries = dispatch_commands(&n);
	r = call_ok("guest-info", NULL);
	check_struct(r, info_schema, "GuestAgentInfo");
	assert_string_equal(json_string_value(json_object_get(r, "version")), PORTHOLE_VERSION);
	cmds = json_object_get(r, "supported_commands");
	/* every command of every table, in the dispatcher's order, once */
	assert_int_equal(json_array_size(cmds), n);
	json_array_foreach(cmds, i, c)
	{
		const char *name = json_string_value(json_object_get(c, "name"));

		check_struct(c, cmd_schema, "GuestAgentCommandInfo");
		assert_string_equal(name, entries[i].cmd->name);
		assert_int_equal(json_is_true(json_object_get(c, "enabled")), entries[i].enabled);
		/* qemu-ga's success-response: false only where no reply comes */
		assert_int_equal(json_is_false(json_object_get(c, "success-response")),
				 strcmp(name, "guest-shutdown") == 0);
		for (j = 0; j < i; j++)
			assert_string_not_equal(
				json_string_value(json_object_get(json_array_get(cmds, j), "name")),
				name);
		if (strcmp(name, "guest-ping") == 0 || strcmp(name, "guest-exec") == 0)
			assert_true(json_is_false(json_object_get(c, "enabled")));
	}
	n = 0;
	for (const struct command *const *t = all_tables(); *t; t++)
		for (const struct command *cmd = *t; cmd->name; cmd++)
			n++;
	assert_int_equal(json_array_size(cmds), n);
	check_struct(json_object_get(r, "porthole"), porthole_schema, "porthole");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(r, "porthole"), "protocol")),
		AGENT_VERSION_PROTOCOL);
	caps = json_object_get(json_object_get(r, "porthole"), "capabilities");
	json_array_foreach(caps, i, cap)
	{
		assert_true(json_is_string(cap));
		health |= strcmp(json_string_value(cap), "porthole-health") == 0;
	}
	assert_true(health);
	json_decref(r);
	memset(&agent.cfg, 0, sizeof(agent.cfg));
	options_defaults(&agent.cfg);
	dispatch_init(&agent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_sync_gives_the_id_back),
		cmocka_unit_test(test_delimited_reply_bytes),
		cmocka_unit_test(test_info),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
