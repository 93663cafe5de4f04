/* agent/dispatch.c: the request envelope, argument checks, enabling, and the
 * reply's bytes, checked against what Debian's qemu-ga 7.2 sends for the same
 * request (tests/fixtures/qga-7.2-replies.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <stdbool.h>

#include "agent.h"
#include "cmd-shell.h"
#include "dispatch.h"
#include "log.h"
#include "options.h"

static struct agent agent;

static char *call(const char *request)
{
	struct reply r = { 0 };
	int n = dispatch_value(&agent, request, strlen(request), &r);
	char *s;

	assert_true(n >= 0);
	if (n == 0)
		return strdup("(no reply)");
	s = strndup(r.data, r.len);
	free(r.data);
	return s;
}

static void expect(const char *request, const char *reply)
{
	char *got = call(request);

	if (strcmp(got, reply) != 0)
		fail_msg("request %s\n  expected %s  got      %s", request, reply, got);
	free(got);
}

/* Byte for byte what qemu-ga 7.2 answers. */
static void test_same_bytes_as_qemu_ga(void **state)
{
	static const char *const cases[][2] = {
		{ "{\"execute\":\"guest-ping\"}", "{\"return\": {}}\n" },
		{ "{\"execute\":\"guest-ping\",\"id\":5}", "{\"return\": {}, \"id\": 5}\n" },
		{ "{\"execute\":\"guest-ping\",\"id\":\"abc\"}",
		  "{\"return\": {}, \"id\": \"abc\"}\n" },
		{ "{\"execute\":\"guest-ping\",\"id\":{\"a\":1}}",
		  "{\"return\": {}, \"id\": {\"a\": 1}}\n" },
		{ "{\"execute\":\"guest-ping\",\"id\":null}", "{\"return\": {}, \"id\": null}\n" },
		{ "{\"execute\":\"guest-ping\",\"foo\":1}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'foo' is "
		  "unexpected\"}}\n" },
		{ "{\"execute\":\"guest-nonexistent\"}",
		  "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
		  "guest-nonexistent has not been found\"}}\n" },
		{ "{\"execute\":\"guest-nonexistent\",\"id\":7}",
		  "{\"id\": 7, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
		  "guest-nonexistent has not been found\"}}\n" },
		{ "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":123}}",
		  "\xff{\"return\": 123}\n" },
		{ "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":456},\"id\":9}",
		  "{\"return\": 456, \"id\": 9}\n" },
		{ "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":-1}}", "{\"return\": -1}\n" },
		{ "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":1.0}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for "
		  "'id', expected: integer\"}}\n" },
		{ "{\"execute\":\"guest-sync\"}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'id' is "
		  "missing\"}}\n" },
		{ "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":\"x\"}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for "
		  "'id', expected: integer\"}}\n" },
		{ "{\"execute\":\"guest-ping\",\"arguments\":{\"x\":1}}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'x' is "
		  "unexpected\"}}\n" },
		{ "{\"execute\":\"guest-ping\",\"arguments\":5}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member "
		  "'arguments' must be an object\"}}\n" },
		{ "{\"execute\":5}",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
		  "member 'execute' must be a string\"}}\n" },
		{ "\"just a string\"", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP "
				       "input must be a JSON object\"}}\n" },
		{ "[1,2]",
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input must be "
		  "a JSON object\"}}\n" },
		{ "{}", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input lacks "
			"member 'execute'\"}}\n" },
		{ "{\"arguments\":{}}", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP "
					"input lacks member 'execute'\"}}\n" },
		{ "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":1},\"id\":\"a}b{c\"}",
		  "{\"return\": 1, \"id\": \"a}b{c\"}\n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(cases[i][0], cases[i][1]);
}

/* Where qemu-ga's text comes from its own JSON parser, porthole's comes from
 * jansson: the class is the same and the text says what was wrong. */
static void test_parse_errors(void **state)
{
	static const char prefix[] =
		"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, ";
	static const char *const bad[] = {
		"{\"execute\":}",
		"]",
		"garbage",
		"{\"execute\":\"guest-ping\",\"execute\":\"guest-info\"}",
		"{\"execute\":\"guest-ping\",\"id\":\"\xc3(\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *got = call(bad[i]);

		if (strncmp(got, prefix, strlen(prefix)) != 0)
			fail_msg("%s: %s", bad[i], got);
		free(got);
	}
}

static void test_big_integers_exact(void **state)
{
	(void)state;
	/* int64 both ways, as qemu-ga */
	expect("{\"execute\":\"guest-sync\",\"arguments\":{\"id\":9223372036854775807}}",
	       "{\"return\": 9223372036854775807}\n");
	expect("{\"execute\":\"guest-sync\",\"arguments\":{\"id\":-9223372036854775808}}",
	       "{\"return\": -9223372036854775808}\n");
}

static void test_blocked_and_disabled(void **state)
{
	struct agent a = { 0 };
	struct reply r = { 0 };
	static const char req[] = "{\"execute\":\"guest-ping\",\"id\":1}";
	static const char shell_req[] = "{\"execute\":\"porthole-shell\"}";

	(void)state;
	options_defaults(&a.cfg);
	snprintf(a.cfg.block_rpcs[0], 64, "guest-ping");
	a.cfg.n_block_rpcs = 1;
	snprintf(a.cfg.block_rpcs[1], 64, "no-such-command");
	a.cfg.n_block_rpcs = 2;
	assert_int_equal(dispatch_init(&a), 1); /* the unknown name is counted */
	assert_int_equal(dispatch_value(&a, req, strlen(req), &r), 1);
	assert_string_equal(r.data, "{\"id\": 1, \"error\": {\"class\": \"CommandNotFound\", "
				    "\"desc\": \"Command guest-ping has been disabled\"}}\n");
	free(r.data);
	/* guest-exec is off unless enabled, and guest-info says so */
	assert_non_null(dispatch_find("guest-exec"));
	assert_false(dispatch_find("guest-exec")->enabled);
	assert_false(dispatch_find("guest-ping")->enabled);
	assert_true(dispatch_find("guest-info")->enabled);

	/* allow list: only those */
	options_defaults(&a.cfg);
	snprintf(a.cfg.allow_rpcs[0], 64, "guest-info");
	a.cfg.n_allow_rpcs = 1;
	a.cfg.exec_enabled = true;
	assert_int_equal(dispatch_init(&a), 0);
	assert_true(dispatch_find("guest-info")->enabled);
	assert_false(dispatch_find("guest-ping")->enabled);
	assert_false(dispatch_find("guest-exec")->enabled);

	/* porthole-shell: its own switch, which exec's does not turn on, and
	 * the refusal says which it is */
	options_defaults(&a.cfg);
	a.cfg.exec_enabled = true;
	assert_int_equal(dispatch_init(&a), 0);
	assert_false(dispatch_find("porthole-shell")->enabled);
	r = (struct reply){ 0 };
	assert_int_equal(dispatch_value(&a, shell_req, strlen(shell_req), &r), 1);
	assert_string_equal(
		r.data, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Command "
			"porthole-shell has been disabled: agent.shell is 0 (init.conf's [agent] "
			"shell = 1, or porthole.agent.shell=1 on the kernel command line, "
			"enables it)\"}}\n");
	free(r.data);
	a.cfg.exec_enabled = false;
	a.cfg.shell_enabled = true;
	assert_int_equal(dispatch_init(&a), 0);
	assert_true(dispatch_find("porthole-shell")->enabled);
	assert_false(dispatch_find("guest-exec")->enabled);
	/* a block list still wins, in qemu-ga's words */
	snprintf(a.cfg.block_rpcs[0], 64, "porthole-shell");
	a.cfg.n_block_rpcs = 1;
	assert_int_equal(dispatch_init(&a), 0);
	r = (struct reply){ 0 };
	assert_int_equal(dispatch_value(&a, shell_req, strlen(shell_req), &r), 1);
	assert_non_null(strstr(r.data, "\"Command porthole-shell has been disabled\""));
	free(r.data);
	dispatch_init(&agent);
}

/* A command that hands its connection over (porthole-shell): from a
 * connection, the success reply and a hand-over to take; from none, an
 * error; when the hand-over fails, an error reply with the request's id
 * that names the command. */
static void test_upgrade(void **state)
{
	static const char req[] =
		"{\"execute\":\"porthole-shell\",\"arguments\":{\"argv\":[\"sh\"],"
		"\"tty\":false},\"id\":9}";
	struct agent a = { 0 };
	struct reply r = { 0 };
	struct dispatch_upgrade *u;

	(void)state;
	options_defaults(&a.cfg);
	a.cfg.shell_enabled = true;
	assert_int_equal(loop_new(&a.loop), 0);
	dispatch_init(&a);
	assert_int_equal(dispatch_value(&a, req, strlen(req), &r), DISPATCH_REPLY);
	assert_non_null(strstr(r.data, "porthole-shell: the request came from no connection"));
	assert_null(dispatch_upgrade_take());
	free(r.data);

	r = (struct reply){ 0 };
	assert_int_equal(dispatch_value_from(&a, 7, req, strlen(req), &r), DISPATCH_UPGRADE);
	assert_true(strncmp(r.data, "{\"return\": {\"path\": \"/", 22) == 0);
	assert_non_null(strstr(r.data, "\"tty\": false}, \"id\": 9}\n"));
	free(r.data);
	u = dispatch_upgrade_take();
	assert_non_null(u);
	assert_null(dispatch_upgrade_take());
	r = (struct reply){ 0 };
	assert_int_equal(dispatch_upgrade_error(u, "fork: Resource temporarily unavailable", &r),
			 DISPATCH_REPLY);
	assert_string_equal(r.data,
			    "{\"id\": 9, \"error\": {\"class\": \"GenericError\", \"desc\": "
			    "\"porthole-shell: fork: Resource temporarily unavailable\"}}\n");
	free(r.data);
	dispatch_upgrade_free(u);
	cmd_shell_free(&a);
	loop_free(a.loop);
	dispatch_init(&agent);
}

static void test_guest_info_shape(void **state)
{
	struct reply r = { 0 };
	static const char req[] = "{\"execute\":\"guest-info\"}";
	json_t *j, *cmds, *c;
	size_t i, n_seen = 0;

	(void)state;
	assert_int_equal(dispatch_value(&agent, req, strlen(req), &r), 1);
	j = json_loadb(r.data, r.len, 0, NULL);
	assert_non_null(j);
	assert_true(json_is_string(json_object_get(json_object_get(j, "return"), "version")));
	cmds = json_object_get(json_object_get(j, "return"), "supported_commands");
	assert_true(json_is_array(cmds));
	json_array_foreach(cmds, i, c)
	{
		/* exactly qemu-ga's members */
		assert_int_equal(json_object_size(c), 3);
		assert_true(json_is_string(json_object_get(c, "name")));
		assert_true(json_is_boolean(json_object_get(c, "enabled")));
		assert_true(json_is_boolean(json_object_get(c, "success-response")));
		if (strcmp(json_string_value(json_object_get(c, "name")), "guest-shutdown") == 0) {
			assert_true(json_is_false(json_object_get(c, "success-response")));
			n_seen++;
		}
	}
	assert_int_equal(n_seen, 1);
	/* every group's table is in the dispatcher's list */
	for (const char *const *name =
		     (const char *const[]){
			     "guest-sync-delimited", "guest-get-time", "guest-get-osinfo",
			     "guest-network-get-interfaces", "guest-get-fsinfo", "guest-shutdown",
			     "guest-exec", "porthole-health", "porthole-time",
			     "porthole-time-adjust", "porthole-events", "porthole-services",
			     "porthole-service-restart", "porthole-logs", "porthole-shell", NULL };
	     *name; name++)
		if (!dispatch_find(*name))
			fail_msg("%s is not in the dispatcher's tables", *name);
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(json_object_get(j, "return"), "porthole"), "protocol")),
		AGENT_VERSION_PROTOCOL);
	json_decref(j);
	free(r.data);
}

/* A value of type T. */
static const char *placeholder(enum arg_type t)
{
	switch (t) {
	case ARG_STRING:
		return "\"x\"";
	case ARG_BOOL:
		return "true";
	case ARG_ARRAY:
	case ARG_STRING_ARRAY:
		return "[]";
	case ARG_OBJECT:
		return "{}";
	default:
		return "0";
	}
}

/* The promise of the argument table: no handler ever sees a value of a type
 * it did not declare, null included. For every argument of every command,
 * null and every value of another type draw the type error, and the handler
 * is never reached (so nothing here can act on this machine). */
static void test_no_handler_sees_an_undeclared_type(void **state)
{
	static const struct {
		const char *json;
		enum arg_type fits[3]; /* the types it is a value of; ARG_ANY ends */
	} values[] = {
		{ "null", { ARG_ANY } },
		{ "0", { ARG_INT, ARG_NUMBER, ARG_ANY } },
		{ "-9223372036854775808", { ARG_INT, ARG_NUMBER, ARG_ANY } },
		{ "1.5", { ARG_NUMBER, ARG_ANY } },
		{ "\"x\"", { ARG_STRING, ARG_ANY } },
		{ "true", { ARG_BOOL, ARG_ANY } },
		{ "[]", { ARG_ARRAY, ARG_STRING_ARRAY, ARG_ANY } },
		{ "{}", { ARG_OBJECT, ARG_ANY } },
	};
	const struct dispatch_entry *e;
	size_t n, checked = 0;
	struct agent a = { 0 };

	(void)state;
	options_defaults(&a.cfg);
	a.cfg.exec_enabled = true;
	a.cfg.shell_enabled = true;
	dispatch_init(&a);
	e = dispatch_commands(&n);
	for (size_t c = 0; c < n; c++) {
		const struct command *cmd = e[c].cmd;

		for (size_t i = 0; i < CMD_ARGS_MAX && cmd->args[i].name; i++) {
			const struct arg_spec *spec = &cmd->args[i];

			for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
				char req[512], want[256], *got;
				bool fits = false;

				for (size_t f = 0; f < 3; f++) {
					fits |= values[v].fits[f] == spec->type;
					if (values[v].fits[f] == ARG_ANY)
						break;
				}
				/* null fits no declared type, ARG_ANY included */
				if (fits && strcmp(values[v].json, "null") != 0)
					continue;
				/* the required ones before it present, as they must be */
				snprintf(req, sizeof(req), "{\"execute\":\"%s\",\"arguments\":{",
					 cmd->name);
				for (size_t k = 0; k < i; k++)
					if (cmd->args[k].required)
						snprintf(req + strlen(req),
							 sizeof(req) - strlen(req), "\"%s\":%s,",
							 cmd->args[k].name,
							 placeholder(cmd->args[k].type));
				snprintf(req + strlen(req), sizeof(req) - strlen(req),
					 "\"%s\":%s}}", spec->name, values[v].json);
				snprintf(want, sizeof(want), "Invalid parameter type for '%s'",
					 spec->name);
				got = call(req);
				if (!strstr(got, want))
					fail_msg("%s: expected \"%s\", got %s", req, want, got);
				free(got);
				checked++;
			}
		}
	}
	assert_true(checked > 50);
	/* an array of strings: each element is checked */
	expect("{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/echo\",\"arg\":[\"a\","
	       "2]}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for "
	       "'arg[1]', expected: string\"}}\n");
	expect("{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/echo\",\"env\":[null]}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for "
	       "'env[0]', expected: string\"}}\n");
	expect("{\"execute\":\"porthole-dns-set\",\"arguments\":{\"servers\":[\"10.0.0.1\",{}]}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for "
	       "'servers[1]', expected: string\"}}\n");
	/* no string carries a NUL to a handler: the parser refuses it */
	expect("{\"execute\":\"guest-exec\",\"arguments\":{\"path\":\"/bin/e\\u0000cho\"}}",
	       "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, \\\\u0000 "
	       "is not allowed without JSON_ALLOW_NUL near '\\\"/bin/e\\\\u0000cho\\\"'\"}}\n");
	dispatch_init(&agent);
}

/* An error text cut to fit is cut between characters, and whatever a text
 * holds, the reply is built and sent: a command name of 200 euro signs
 * (600 bytes) makes a description longer than its 512-byte buffer. */
static void test_error_text_cut_on_a_character(void **state)
{
	char req[1024] = "{\"execute\":\"", *got;
	json_t *j;
	const char *desc;

	(void)state;
	for (int i = 0; i < 200; i++)
		strcat(req, "\xe2\x82\xac");
	strcat(req, "\",\"id\":3}");
	got = call(req);
	j = json_loads(got, 0, NULL);
	if (!j)
		fail_msg("not a JSON reply: %s", got);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(j, "error"), "class")),
		"CommandNotFound");
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 3);
	desc = json_string_value(json_object_get(json_object_get(j, "error"), "desc"));
	assert_non_null(desc);
	/* the longest whole-character prefix of "The command €€€..." in 511 bytes */
	assert_int_equal(strlen(desc), strlen("The command ") + 3 * ((511 - 12) / 3));
	assert_null(strstr(desc, "\xef\xbf\xbd"));
	json_decref(j);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_bytes_as_qemu_ga),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_big_integers_exact),
		cmocka_unit_test(test_blocked_and_disabled),
		cmocka_unit_test(test_upgrade),
		cmocka_unit_test(test_guest_info_shape),
		cmocka_unit_test(test_no_handler_sees_an_undeclared_type),
		cmocka_unit_test(test_error_text_cut_on_a_character),
	};

	log_set_level(LOG_LEVEL_EMERG);
	options_defaults(&agent.cfg);
	dispatch_init(&agent);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
