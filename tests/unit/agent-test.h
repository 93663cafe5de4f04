/* What the agent's unit tests (test-agent-*.c) share: a handler called as
 * the dispatcher calls it once the arguments are checked, a small checker
 * of qemu-ga's schema (qga/qapi-schema.json: member names and JSON types),
 * a stand-in for init's side of the control socket, and /dev/kmsg's records
 * on a socket pair. Static inline, as stderr-capture.h: each test takes what
 * it uses. Include after cmocka.h. */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "command.h"
#include "log.h"

/* ---- calling handlers through the tables ---- */

static inline const struct command *const *all_tables(void)
{
	static const struct command *const t[] = {
		cmd_sync_table,
		cmd_guest_time_table,
		cmd_system_table,
		cmd_guest_network_table,
		cmd_fs_table,
		cmd_power_table,
		cmd_exec_table,
		cmd_health_table,
		cmd_porthole_network_table,
		cmd_shares_table,
		cmd_clock_table,
		cmd_events_table,
		cmd_services_table,
		cmd_shell_table,
		cmd_ports_table,
		cmd_memory_table,
		cmd_boot_table,
		NULL,
	};

	return t;
}

static inline const struct command *find(const char *name)
{
	for (const struct command *const *t = all_tables(); *t; t++)
		for (const struct command *c = *t; c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	fail_msg("no command %s", name);
	return NULL;
}

/* A group's table: every entry has a handler, its name is found as itself
 * (no other table has it first), and it holds N commands. */
static inline void check_table(const struct command *table, size_t n_expected)
{
	size_t n = 0;

	for (const struct command *c = table; c->name; c++) {
		assert_non_null(c->handler);
		assert_ptr_equal(find(c->name), c);
		n++;
	}
	assert_int_equal(n, n_expected);
}

static struct agent agent;
static struct cmd_error err;

/* Calls NAME with ARGS (JSON text, NULL for none) as the dispatcher would,
 * after its argument checks. Returns the handler's return. */
static inline int call(const char *name, const char *args, json_t **result)
{
	const struct command *c = find(name);
	json_t *a = args ? json_loads(args, JSON_ALLOW_NUL, NULL) : json_object();
	int r;

	assert_non_null(a);
	*result = NULL;
	memset(&err, 0, sizeof(err));
	r = c->handler(&agent, a, result, &err);
	json_decref(a);
	if (r < 0) {
		assert_non_null(err.class);
		assert_null(*result);
	}
	return r;
}

static inline json_t *call_ok(const char *name, const char *args)
{
	json_t *res;

	if (call(name, args, &res) < 0)
		fail_msg("%s failed: %s", name, err.desc);
	return res;
}

/* NAME fails with a GenericError whose text says NEEDLE. */
static inline void call_fails(const char *name, const char *args, const char *needle)
{
	json_t *res;

	assert_int_equal(call(name, args, &res), -1);
	assert_string_equal(err.class, "GenericError");
	if (!strstr(err.desc, needle))
		fail_msg("%s: error '%s' does not say '%s'", name, err.desc, needle);
}

/* NAME fails with a GenericError whose text is DESC, to the letter. */
static inline void call_fails_exactly(const char *name, const char *args, const char *desc)
{
	json_t *res;

	assert_int_equal(call(name, args, &res), -1);
	assert_string_equal(err.class, "GenericError");
	if (strcmp(err.desc, desc) != 0)
		fail_msg("%s %s: '%s', not '%s'", name, args ? args : "{}", err.desc, desc);
}

/* ---- a small schema checker: qapi types as JSON types ---- */

enum jt { T_STR, T_INT, T_NUM, T_BOOL, T_ARR, T_OBJ };

struct member {
	const char *name;
	enum jt type;
	bool required;
};

static inline bool type_is(const json_t *v, enum jt t)
{
	switch (t) {
	case T_STR:
		return json_is_string(v);
	case T_INT:
		return json_is_integer(v);
	case T_NUM:
		return json_is_number(v);
	case T_BOOL:
		return json_is_boolean(v);
	case T_ARR:
		return json_is_array(v);
	case T_OBJ:
		return json_is_object(v);
	}
	return false;
}

/* Every member of O is in SCHEMA with its type; every required one is there. */
static inline void check_struct(const json_t *o, const struct member *schema, const char *what)
{
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		fail_msg("%s is not an object", what);
	json_object_foreach((json_t *)o, key, v)
	{
		const struct member *m = schema;

		while (m->name && strcmp(m->name, key) != 0)
			m++;
		if (!m->name)
			fail_msg("%s: unexpected member '%s'", what, key);
		if (!type_is(v, m->type))
			fail_msg("%s: member '%s' has the wrong type", what, key);
	}
	for (const struct member *m = schema; m->name; m++)
		if (m->required && !json_object_get(o, m->name))
			fail_msg("%s: member '%s' is missing", what, m->name);
}

/* The group setup of every agent test. */
static inline int agent_test_setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG); /* the errors the tests provoke are expected */
	/* as the agent's main does: a closed pipe is an error, not a death */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* ---- a stand-in for init's side of the control socket ----
 *
 * A small server in a thread of the test, there only to exercise the
 * client's side of the exchange (a reply too long, a server that never
 * answers, nobody listening). The real porthole-init is exercised by
 * tests/sandbox/services-agent.sh and the vm tier. */

enum fake_mode {
	FAKE_REPLY, /* the reply, then a newline */
	FAKE_SILENT, /* reads the request, never answers */
	FAKE_LONG, /* 1.25 MiB without a newline */
	FAKE_CLOSE, /* closes without answering */
	FAKE_TRICKLE, /* the reply in three parts, then a newline and a second line */
};

static struct fake {
	char dir[64];
	char path[108];
	int lfd;
	pthread_t thread;
	enum fake_mode mode;
	const char *reply;
	char request[8192];
	size_t request_len;
	unsigned connections;
} fake = { .lfd = -1 };

static inline void *fake_run(void *data)
{
	(void)data;
	for (;;) {
		int fd = accept4(fake.lfd, NULL, NULL, SOCK_CLOEXEC);
		char buf[8192];
		size_t len = 0;

		if (fd < 0)
			return NULL;
		fake.connections++;
		/* the request line, bounded */
		while (len < sizeof(buf)) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - len);

			if (n <= 0)
				break;
			len += (size_t)n;
			if (memchr(buf, '\n', len))
				break;
		}
		memcpy(fake.request, buf, len);
		fake.request_len = len;
		switch (fake.mode) {
		case FAKE_REPLY:
			send(fd, fake.reply, strlen(fake.reply), MSG_NOSIGNAL);
			send(fd, "\n", 1, MSG_NOSIGNAL);
			break;
		case FAKE_SILENT:
			/* until the client gives up and closes */
			while (read(fd, buf, sizeof(buf)) > 0)
				;
			break;
		case FAKE_LONG: {
			static char chunk[64 << 10];

			memset(chunk, 'x', sizeof(chunk));
			for (int i = 0; i < 20; i++)
				if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) < 0)
					break;
			break;
		}
		case FAKE_CLOSE:
			break;
		case FAKE_TRICKLE: {
			size_t n = strlen(fake.reply), cut[] = { 0, n / 3, 2 * n / 3, n };
			static const char after[] = "\n{\"error\": \"a line nobody asked for\"}\n";

			for (int i = 0; i < 3; i++) {
				send(fd, fake.reply + cut[i], cut[i + 1] - cut[i], MSG_NOSIGNAL);
				usleep(30000);
			}
			send(fd, after, sizeof(after) - 1, MSG_NOSIGNAL);
			break;
		}
		}
		close(fd);
	}
}

/* Listens on a socket in a new temporary directory, which the agent's
 * configuration names as init's (agent.cfg.init_socket). */
static inline void fake_start(enum fake_mode mode, const char *reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	fake.mode = mode;
	fake.reply = reply;
	fake.request_len = 0;
	fake.connections = 0;
	snprintf(fake.dir, sizeof(fake.dir), "/tmp/test-agent-fake-init.XXXXXX");
	assert_non_null(mkdtemp(fake.dir));
	snprintf(fake.path, sizeof(fake.path), "%s/init.sock", fake.dir);
	/* the commands' tests ask it */
	snprintf(agent.cfg.init_socket, sizeof(agent.cfg.init_socket), "%s", fake.path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fake.path);
	fake.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fake.lfd >= 0);
	assert_int_equal(bind(fake.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fake.lfd, 8), 0);
	assert_int_equal(pthread_create(&fake.thread, NULL, fake_run, NULL), 0);
}

static inline void fake_stop(void)
{
	/* shutdown(2) on a listening socket wakes accept with EINVAL */
	shutdown(fake.lfd, SHUT_RDWR);
	pthread_join(fake.thread, NULL);
	close(fake.lfd);
	fake.lfd = -1;
	unlink(fake.path);
	rmdir(fake.dir);
}

/* The request the fake server last read, parsed. */
static inline json_t *request_sent(void)
{
	json_t *j;

	/* exactly one line: the JSON, then its newline */
	assert_true(fake.request_len > 0);
	assert_int_equal(fake.request[fake.request_len - 1], '\n');
	assert_null(memchr(fake.request, '\n', fake.request_len - 1));
	j = json_loadb(fake.request, fake.request_len - 1, 0, NULL);
	assert_non_null(j);
	return j;
}

/* ---- the kernel log's records ---- */

/* /dev/kmsg gives one record per read(2) and EAGAIN at the end when opened
 * O_NONBLOCK: a non-blocking SOCK_SEQPACKET pair behaves the same. */
static inline int kmsg_pair(const char *const *records, int *ret_writer)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
			 0);
	for (const char *const *r = records; *r; r++)
		assert_int_equal(write(sv[1], *r, strlen(*r)), (ssize_t)strlen(*r));
	*ret_writer = sv[1];
	return sv[0];
}

/* Not every test reads them. */
__attribute__((unused)) static const char *const kernel_records[] = {
	/* seq 0 and 1 are gone: overwritten before anyone read them */
	"6,2,1000000,-;first\n",
	"3,3,2000000,-;second\n",
	"not a record",
	/* 4 to 6 overwritten while reading (EPIPE) */
	"4,7,3000000,-;third\n SUBSYSTEM=x\n",
	"6,8,4000000,-;fourth \\xff\n",
	NULL,
};
