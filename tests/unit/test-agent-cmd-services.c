/* agent/cmd-services.c: the checks on init's replies (services, logs,
 * events), the kernel's log as porthole-logs shows it, and the commands
 * against a stand-in for init. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent-test.h"
#include "cmd-services.h"
#include "initctl.h"
#include "options.h"

static char why[INITCTL_WHY_MAX];

/* The group's table, and the argument specs the schema gives its commands. */
static void test_table(void **state)
{
	(void)state;
	check_table(cmd_services_table, 3);
}

static void test_kernel_log_json(void **state)
{
	json_t *r, *line;
	int w, fd;

	(void)state;
	fd = kmsg_pair(kernel_records, &w);
	assert_int_equal(cmd_services_kernel_log(fd, 3, 0, &r, why, sizeof(why)), 0);
	assert_int_equal(json_array_size(json_object_get(r, "lines")), 3);
	assert_int_equal(json_integer_value(json_object_get(r, "dropped")), 5);
	line = json_array_get(json_object_get(r, "lines"), 0);
	assert_int_equal(json_object_size(line), 4);
	assert_string_equal(json_string_value(json_object_get(line, "stream")), "kernel");
	assert_string_equal(json_string_value(json_object_get(line, "text")), "second");
	assert_int_equal(json_integer_value(json_object_get(line, "level")), 3);
	/* a time since the epoch: boot + 2 s, within this run */
	assert_true(json_real_value(json_object_get(line, "time")) > 1.6e9);
	json_decref(r);
	close(fd);
	close(w);
}

static const char services_reply[] =
	"{\"services\": [{\"name\": \"dockerd\", \"description\": \"Docker Engine\", "
	"\"state\": \"running\", \"pid\": 812, \"since\": 1795766400, \"restarts\": 1, "
	"\"last_exit\": {\"signal\": 9}, \"ready\": true, \"ready_ms\": 9120, "
	"\"cgroup\": \"/porthole/dockerd\", \"memory_bytes\": 73400320, \"cpu_usec\": 2100000, "
	"\"oom_kills\": 0, \"requires\": [\"containerd\"], \"after\": [], \"future\": 1}, "
	"{\"name\": \"containerd\", \"state\": \"stopped\", \"pid\": null, \"since\": 1.5, "
	"\"last_exit\": null, \"ready_ms\": null, \"memory_bytes\": null}]}";

static void test_services_reply(void **state)
{
	json_t *reply = json_loads(services_reply, 0, NULL), *list = NULL, *d;

	(void)state;
	assert_int_equal(cmd_services_from_init(reply, &list, why, sizeof(why)), 0);
	assert_int_equal(json_array_size(list), 2);
	d = json_array_get(list, 0);
	/* every documented member kept; the unknown one left out */
	assert_int_equal(json_object_size(d), 15);
	assert_null(json_object_get(d, "future"));
	assert_int_equal(json_integer_value(json_object_get(d, "pid")), 812);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(d, "last_exit"), "signal")), 9);
	assert_true(json_is_null(json_object_get(json_array_get(list, 1), "pid")));
	json_decref(list);
	json_decref(reply);

	for (const char *const *bad =
		     (const char *const[]){
			     "{}", "{\"services\": {}}", "{\"services\": [5]}",
			     "{\"services\": [{\"state\": \"running\"}]}",
			     "{\"services\": [{\"name\": \"a\", \"state\": \"running\", \"pid\": \"12\"}]}",
			     "{\"services\": [{\"name\": \"a\", \"state\": \"running\", \"ready\": null}]}",
			     "{\"services\": [{\"name\": \"a\", \"state\": \"x\", \"requires\": [1]}]}",
			     "{\"services\": [{\"name\": \"a\", \"state\": \"x\", \"last_exit\": {}}]}",
			     "{\"services\": [{\"name\": \"a\", \"state\": \"x\", \"since\": \"now\"}]}",
			     NULL };
	     *bad; bad++) {
		reply = json_loads(*bad, 0, NULL);
		assert_non_null(reply);
		list = NULL;
		if (cmd_services_from_init(reply, &list, why, sizeof(why)) != -EPROTO)
			fail_msg("accepted: %s", *bad);
		assert_null(list);
		assert_non_null(strstr(why, "porthole-init's reply: "));
		json_decref(reply);
	}
	reply = json_loads("{\"services\": [{\"name\": \"a\", \"state\": \"x\"}, "
			   "{\"name\": \"b\", \"state\": \"x\", \"pid\": 1.5}]}",
			   0, NULL);
	assert_int_equal(cmd_services_from_init(reply, &list, why, sizeof(why)), -EPROTO);
	assert_string_equal(why,
			    "porthole-init's reply: services[1].pid: expected an integer or null");
	json_decref(reply);
}

static void test_logs_and_events_reply(void **state)
{
	json_t *reply, *out = NULL, *events = NULL;
	int64_t next = -1;

	(void)state;
	reply = json_loads("{\"lines\": [{\"time\": 1795766401.25, \"stream\": \"stderr\", "
			   "\"text\": \"hi\", \"extra\": 1}], \"dropped\": 3}",
			   0, NULL);
	assert_int_equal(logs_from_init(reply, &out, why, sizeof(why)), 0);
	assert_int_equal(json_integer_value(json_object_get(out, "dropped")), 3);
	assert_int_equal(json_object_size(json_array_get(json_object_get(out, "lines"), 0)), 3);
	json_decref(out);
	json_decref(reply);
	for (const char *const *bad =
		     (const char *const[]){
			     "{\"lines\": []}", "{\"lines\": [], \"dropped\": -1}",
			     "{\"lines\": [{\"time\": 1, \"stream\": \"stdout\"}], \"dropped\": 0}",
			     "{\"lines\": [{\"time\": \"1\", \"stream\": \"stdout\", \"text\": \"\"}], "
			     "\"dropped\": 0}",
			     NULL };
	     *bad; bad++) {
		reply = json_loads(*bad, 0, NULL);
		out = NULL;
		if (logs_from_init(reply, &out, why, sizeof(why)) != -EPROTO)
			fail_msg("accepted: %s", *bad);
		json_decref(reply);
	}

	reply = json_loads("{\"events\": [{\"seq\": 5, \"time\": 1795766401.2, \"service\": "
			   "\"dockerd\", \"type\": \"oom_kill\", \"detail\": \"1 process\"}], "
			   "\"next\": 5}",
			   0, NULL);
	assert_int_equal(events_from_init(reply, &events, &next, why, sizeof(why)), 0);
	assert_int_equal(next, 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "type")),
			    "oom_kill");
	json_decref(events);
	json_decref(reply);
	reply = json_loads("{\"events\": [{\"seq\": 5}], \"next\": 5}", 0, NULL);
	assert_int_equal(events_from_init(reply, &events, &next, why, sizeof(why)), -EPROTO);
	json_decref(reply);
	reply = json_loads("{\"events\": []}", 0, NULL);
	assert_int_equal(events_from_init(reply, &events, &next, why, sizeof(why)), -EPROTO);
	json_decref(reply);
}

static void test_commands(void **state)
{
	json_t *r, *sent;

	(void)state;
	options_defaults(&agent.cfg);
	fake_start(FAKE_REPLY, services_reply);
	assert_int_equal(call("porthole-services", NULL, &r), 0);
	assert_true(json_is_array(r));
	assert_int_equal(json_array_size(r), 2);
	json_decref(r);
	fake_stop();

	/* restart: {} on success, init's error text as it is */
	fake_start(FAKE_REPLY, "{\"ok\": true}");
	assert_int_equal(call("porthole-service-restart", "{\"name\": \"dockerd\"}", &r), 0);
	assert_null(r);
	sent = request_sent();
	assert_string_equal(json_string_value(json_object_get(sent, "op")), "restart");
	assert_string_equal(json_string_value(json_object_get(sent, "name")), "dockerd");
	json_decref(sent);
	fake_stop();
	fake_start(FAKE_REPLY, "{\"error\": \"no service named \\\"nope\\\"\"}");
	call_fails_exactly("porthole-service-restart", "{\"name\": \"nope\"}",
			   "no service named \"nope\"");
	call_fails_exactly("porthole-service-restart", "{\"name\": \"\"}",
			   "Parameter 'name' must be 1 to 255 bytes");
	fake_stop();

	/* logs: the arguments init gets, and what comes back */
	fake_start(FAKE_REPLY, "{\"lines\": [{\"time\": 1795766401.25, \"stream\": \"stdout\", "
			       "\"text\": \"hello\"}], \"dropped\": 0}");
	assert_int_equal(call("porthole-logs", "{\"service\": \"web\", \"since\": 12.5}", &r), 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(r, "lines"), 0), "text")),
			    "hello");
	json_decref(r);
	sent = request_sent();
	assert_string_equal(json_string_value(json_object_get(sent, "op")), "logs");
	assert_string_equal(json_string_value(json_object_get(sent, "name")), "web");
	assert_int_equal(json_integer_value(json_object_get(sent, "lines")), 100);
	assert_true(json_number_value(json_object_get(sent, "since")) == 12.5);
	json_decref(sent);
	call_fails_exactly("porthole-logs", "{\"service\": \"web\", \"lines\": 0}",
			   "Parameter 'lines' must be 1 to 10000");
	call_fails_exactly("porthole-logs", "{\"service\": \"web\", \"lines\": 10001}",
			   "Parameter 'lines' must be 1 to 10000");
	call_fails_exactly(
		"porthole-logs", "{\"service\": \"web\", \"since\": -1}",
		"Parameter 'since' must be seconds since the epoch, from 0 to 253402300799 "
		"(9999-12-31)");
	/* far in the future: refused before it is converted (it once returned
	 * every line, past what int64 microseconds hold) */
	call_fails_exactly(
		"porthole-logs", "{\"service\": \"web\", \"since\": 9.3e12}",
		"Parameter 'since' must be seconds since the epoch, from 0 to 253402300799 "
		"(9999-12-31)");
	fake_stop();

	/* init not there: said, with the socket's path */
	snprintf(agent.cfg.init_socket, sizeof(agent.cfg.init_socket), "%s",
		 "/nonexistent/init.sock");
	call_fails_exactly("porthole-services", NULL,
			   "porthole-init's control socket /nonexistent/init.sock: No such file or "
			   "directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),	       cmocka_unit_test(test_kernel_log_json),
		cmocka_unit_test(test_services_reply), cmocka_unit_test(test_logs_and_events_reply),
		cmocka_unit_test(test_commands),
	};

	return cmocka_run_group_tests(tests, agent_test_setup, NULL);
}
