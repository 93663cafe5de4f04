/* init/service-graph.c: the check across service files that users meet as
 * "disabled" lines (a requires naming a missing or disabled service, in
 * turn; a cycle through after and requires, named in the log), what stays
 * enabled, and the questions the supervisor asks (find, depends). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "service-conf.h"
#include "service-graph.h"
#include "stderr-capture.h"

static char logged[8192];

/* Runs service_graph_check with the log caught in LOGGED. */
static unsigned check_logged(struct service_spec *s, size_t n)
{
	struct stderr_capture c;
	unsigned r;

	stderr_capture_start(&c);
	log_set_level(LOG_LEVEL_ERROR);
	r = service_graph_check(s, n);
	log_set_level(LOG_LEVEL_EMERG);
	stderr_capture_stop(&c, logged, sizeof(logged));
	return r;
}

static void spec_named(struct service_spec *s, const char *name, const char *after,
		       const char *requires)
{
	char text[256], err[SERVICE_ERROR_MAX];

	snprintf(text, sizeof(text), "[service]\ncommand = /bin/%s\nafter = %s\nrequires = %s\n",
		 name, after, requires);
	if (service_conf_parse(text, "t.conf", name, s, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void test_deps_missing_requires(void **state)
{
	struct service_spec s[5];

	(void)state;
	spec_named(&s[0], "a", "", "gone");
	spec_named(&s[1], "b", "", "a"); /* a is disabled in turn */
	spec_named(&s[2], "c", "gone", ""); /* after a missing one: fine */
	spec_named(&s[3], "d", "", "e");
	spec_named(&s[4], "e", "c", "");
	s[4].enabled = false; /* as if enabled = no */
	assert_int_equal(service_graph_check(s, 5), 3);
	assert_false(s[0].enabled);
	assert_false(s[1].enabled);
	assert_true(s[2].enabled);
	assert_false(s[3].enabled);
	assert_false(s[4].enabled);
	for (size_t i = 0; i < 5; i++)
		service_spec_free(&s[i]);
}

static void test_deps_cycle(void **state)
{
	struct service_spec s[6];

	(void)state;
	spec_named(&s[0], "x", "", "");
	spec_named(&s[1], "a", "b", "x");
	spec_named(&s[2], "b", "", "c");
	spec_named(&s[3], "c", "a", "");
	spec_named(&s[4], "d", "a", "x"); /* after a member: it still starts */
	spec_named(&s[5], "e", "", "b"); /* requires a member: it cannot */
	assert_int_equal(service_graph_check(s, 6), 4);
	assert_true(s[0].enabled);
	assert_false(s[1].enabled);
	assert_false(s[2].enabled);
	assert_false(s[3].enabled);
	assert_true(s[4].enabled);
	assert_false(s[5].enabled);
	/* nothing left to disable */
	assert_int_equal(service_graph_check(s, 6), 0);
	for (size_t i = 0; i < 6; i++)
		service_spec_free(&s[i]);
}

static void test_deps_no_cycle(void **state)
{
	struct service_spec s[4];

	(void)state;
	/* a diamond is not a cycle */
	spec_named(&s[0], "top", "left right", "");
	spec_named(&s[1], "left", "", "base");
	spec_named(&s[2], "right", "base", "");
	spec_named(&s[3], "base", "", "");
	assert_int_equal(service_graph_check(s, 4), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_true(s[i].enabled);
		service_spec_free(&s[i]);
	}
}

static void test_cycle_named(void **state)
{
	struct service_spec s[3];

	(void)state;
	spec_named(&s[0], "a", "b", "");
	spec_named(&s[1], "b", "", "c");
	spec_named(&s[2], "c", "a", "");
	assert_int_equal(check_logged(s, 3), 3);
	assert_non_null(strstr(logged, "services: a dependency cycle through after and requires: "
				       "a -> b -> c -> a; these services are disabled"));
	for (size_t i = 0; i < 3; i++)
		service_spec_free(&s[i]);
}

static void test_missing_named(void **state)
{
	struct service_spec s[2];

	(void)state;
	spec_named(&s[0], "dockerd", "", "containerd");
	spec_named(&s[1], "web", "", "dockerd");
	assert_int_equal(check_logged(s, 2), 2);
	assert_non_null(strstr(logged, "t.conf: dockerd requires containerd, which does not exist; "
				       "dockerd is disabled"));
	assert_non_null(strstr(logged, "t.conf: web requires dockerd, which is disabled; web is "
				       "disabled"));
	for (size_t i = 0; i < 2; i++)
		service_spec_free(&s[i]);
}

static void test_find_and_depends(void **state)
{
	struct service_spec s[3];

	(void)state;
	spec_named(&s[0], "containerd", "", "");
	spec_named(&s[1], "dockerd", "", "containerd");
	spec_named(&s[2], "web", "dockerd", "");
	assert_int_equal(service_graph_find(s, 3, "dockerd"), 1);
	assert_int_equal(service_graph_find(s, 3, "docker"), -1);
	assert_int_equal(service_graph_find(s, 0, "dockerd"), -1);
	/* the shutdown order: a service stops before what it depends on */
	assert_true(service_graph_depends(&s[1], "containerd"));
	assert_true(service_graph_depends(&s[2], "dockerd"));
	assert_false(service_graph_depends(&s[2], "containerd")); /* not transitively */
	assert_false(service_graph_depends(&s[0], "dockerd"));
	for (size_t i = 0; i < 3; i++)
		service_spec_free(&s[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deps_missing_requires),
		cmocka_unit_test(test_deps_cycle),
		cmocka_unit_test(test_deps_no_cycle),
		cmocka_unit_test(test_cycle_named),
		cmocka_unit_test(test_missing_named),
		cmocka_unit_test(test_find_and_depends),
	};

	log_setup("test");
	log_set_level(LOG_LEVEL_EMERG); /* the errors are expected; some are read back */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
