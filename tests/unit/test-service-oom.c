/* init/service-oom.c: an OOM kill in a service's cgroup becomes a warning,
 * a note and a porthole-events event ("oom_kill", how many and in all),
 * once per rise of memory.events' oom_kill, not for kills counted before
 * the watch. The cgroup is a directory laid out as cgroupfs is, in /tmp;
 * inotify and the supervisor's loop are real. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "service-conf.h"
#include "service-oom.h"
#include "service.h"
#include "service-test.h"
#include "supervise.h"
#include "util.h"

static struct services ss;
static struct supervisor sup;
static char dir[64];

static void put_events(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.events", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static size_t oom_events(void)
{
	size_t n = 0;

	for (uint64_t i = 0; i < ss.next_seq && i < SERVICE_EVENTS_MAX; i++)
		if (strcmp(ss.events[i].type, "oom_kill") == 0)
			n++;
	return n;
}

static const struct service_event *last(void)
{
	assert_true(ss.next_seq > 0);
	return &ss.events[(ss.next_seq - 1) % SERVICE_EVENTS_MAX];
}

static void loop_a_little(void)
{
	for (int i = 0; i < 5; i++)
		supervise_poll_once(&sup, 20);
}

static void test_oom_kills_reported(void **state)
{
	struct service *sv = &ss.svc[0];
	char path[128];
	int wd;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-service-oom.XXXXXX");
	assert_non_null(mkdtemp(dir));
	test_loop_init(&sup, false);

	/* one service whose cgroup is DIR, with 3 kills from before */
	memset(&ss, 0, sizeof(ss));
	ss.sup = &sup;
	ss.cgroups = true;
	ss.n = 1;
	snprintf(sv->spec.name, sizeof(sv->spec.name), "dockerd");
	snprintf(sv->cgroup, sizeof(sv->cgroup), "%s", dir);
	snprintf(sv->leaf, sizeof(sv->leaf), "%s", dir);
	sv->oom_wd = -1;
	put_events("low 0\nhigh 0\nmax 4\noom 3\noom_kill 3\noom_group_kill 0\n");
	assert_int_equal(service_oom_start(&ss), 0);
	service_oom_watch(&ss, sv);
	assert_true(sv->oom_wd >= 0);
	assert_int_equal(sv->oom_seen, 3);
	loop_a_little();
	assert_int_equal(oom_events(), 0);

	/* two more: one event, with how many and the count in all */
	put_events("low 0\nhigh 0\nmax 6\noom 5\noom_kill 5\noom_group_kill 0\n");
	loop_a_little();
	assert_int_equal(oom_events(), 1);
	assert_string_equal(last()->service, "dockerd");
	assert_string_equal(last()->type, "oom_kill");
	assert_string_equal(last()->detail, "2 killed, 5 in all");
	/* the file changes, the count does not: nothing new */
	put_events("low 0\nhigh 1\nmax 6\noom 5\noom_kill 5\noom_group_kill 0\n");
	loop_a_little();
	assert_int_equal(oom_events(), 1);
	put_events("low 0\nhigh 1\nmax 7\noom 6\noom_kill 6\noom_group_kill 0\n");
	loop_a_little();
	assert_int_equal(oom_events(), 2);
	assert_string_equal(last()->detail, "1 killed, 6 in all");

	/* watched once: a second watch changes nothing */
	wd = sv->oom_wd;
	service_oom_watch(&ss, sv);
	assert_int_equal(sv->oom_wd, wd);

	snprintf(path, sizeof(path), "%s/memory.events", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oom_kills_reported),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
