/* agent/cmd-*.c: each command's result against qemu-ga's
 * schema (qga/qapi-schema.json: member names and JSON types), argument
 * errors, and guest-exec driven through a real event loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cmd-health.h"
#include "base64.h"
#include "cmd-exec.h"
#include "cmd-json.h"
#include "command.h"
#include "log.h"
#include "loop.h"

/* ---- calling handlers through the tables ---- */

static const struct command *const *all_tables(void)
{
	static const struct command *const t[] = { cmd_guest_time_table,    cmd_system_table,
						   cmd_guest_network_table, cmd_fs_table,
						   cmd_power_table,	    cmd_exec_table,
						   cmd_health_table,	    NULL };

	return t;
}

static const struct command *find(const char *name)
{
	for (const struct command *const *t = all_tables(); *t; t++)
		for (const struct command *c = *t; c->name; c++)
			if (strcmp(c->name, name) == 0)
				return c;
	fail_msg("no command %s", name);
	return NULL;
}

static struct agent agent;
static struct cmd_error err;

/* Calls NAME with ARGS (JSON text, NULL for none) as the dispatcher would,
 * after its argument checks. Returns the handler's return. */
static int call(const char *name, const char *args, json_t **result)
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

static json_t *call_ok(const char *name, const char *args)
{
	json_t *res;

	if (call(name, args, &res) < 0)
		fail_msg("%s failed: %s", name, err.desc);
	return res;
}

static void call_fails(const char *name, const char *args, const char *needle)
{
	json_t *res;

	assert_int_equal(call(name, args, &res), -1);
	assert_string_equal(err.class, "GenericError");
	if (!strstr(err.desc, needle))
		fail_msg("%s: error '%s' does not say '%s'", name, err.desc, needle);
}

/* ---- a small schema checker: qapi types as JSON types ---- */

enum jt { T_STR, T_INT, T_NUM, T_BOOL, T_ARR, T_OBJ };

struct member {
	const char *name;
	enum jt type;
	bool required;
};

static bool type_is(const json_t *v, enum jt t)
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
static void check_struct(const json_t *o, const struct member *schema, const char *what)
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

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_EMERG); /* the errors below are expected */
	/* as the agent's main does: a closed pipe is an error, not a death */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* ---- time ---- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void test_get_time(void **state)
{
	int64_t before = now_ns(), after;
	json_t *r = call_ok("guest-get-time", NULL);

	(void)state;
	after = now_ns();
	assert_true(json_is_integer(r));
	assert_true(json_integer_value(r) >= before && json_integer_value(r) <= after);
	json_decref(r);
}

/* Out-of-range times are refused before anything is touched. (A valid time
 * would set this machine's clock: not tested here, but in the VM tests.) */
static void test_set_time_refuses_absurd(void **state)
{
	int64_t before = now_ns();

	(void)state;
	call_fails("guest-set-time", "{\"time\": -1}", "Invalid time -1");
	call_fails("guest-set-time", "{\"time\": 3155760000000000000}", "after 2069");
	/* before this image was built: the rule porthole-time-adjust follows too */
	call_fails("guest-set-time", "{\"time\": 1000000000000000000}",
		   "before this image was built");
	call_fails("guest-set-time", "{\"time\": 9223372036854775807}", "Invalid time");
	/* the clock has not moved by much more than the test took */
	assert_true(llabs(now_ns() - before) < 1000000000LL);
	assert_int_equal(find("guest-set-time")->args[0].type, ARG_INT);
	assert_false(find("guest-set-time")->args[0].required);
}

static void test_set_time_without_rtc(void **state)
{
	(void)state;
	if (access("/dev/rtc0", F_OK) == 0)
		skip(); /* it would set this machine's clock from its RTC */
	call_fails("guest-set-time", NULL, "/dev/rtc0");
}

/* ---- system ---- */

static void test_osinfo(void **state)
{
	static const struct member schema[] = {
		{ "kernel-release", T_STR, false },
		{ "kernel-version", T_STR, false },
		{ "machine", T_STR, false },
		{ "id", T_STR, false },
		{ "name", T_STR, false },
		{ "pretty-name", T_STR, false },
		{ "version", T_STR, false },
		{ "version-id", T_STR, false },
		{ "variant", T_STR, false },
		{ "variant-id", T_STR, false },
		{ NULL, T_STR, false },
	};
	json_t *r = call_ok("guest-get-osinfo", NULL);
	struct utsname u;

	(void)state;
	check_struct(r, schema, "GuestOSInfo");
	assert_int_equal(uname(&u), 0);
	assert_string_equal(json_string_value(json_object_get(r, "kernel-release")), u.release);
	assert_string_equal(json_string_value(json_object_get(r, "kernel-version")), u.version);
	assert_string_equal(json_string_value(json_object_get(r, "machine")), u.machine);
	/* os-release's quotes are gone ("Debian GNU/Linux", not "\"Debian...") */
	if (access("/etc/os-release", R_OK) == 0) {
		const char *name = json_string_value(json_object_get(r, "name"));

		FILE *sh;
		char shell[512] = "";

		assert_non_null(json_object_get(r, "id"));
		assert_non_null(name);
		assert_null(strchr(name, '"'));
		/* the unquoting agrees with the shell's (os-release(5) is made to
		 * be sourced) */
		sh = popen(". /etc/os-release; printf %s \"$PRETTY_NAME\"", "r");
		assert_non_null(sh);
		if (!fgets(shell, sizeof(shell), sh))
			shell[0] = '\0';
		pclose(sh);
		if (shell[0])
			assert_string_equal(json_string_value(json_object_get(r, "pretty-name")),
					    shell);
	}
	json_decref(r);
}

static void test_host_name(void **state)
{
	static const struct member schema[] = { { "host-name", T_STR, true },
						{ NULL, T_STR, false } };
	char name[256];
	json_t *r = call_ok("guest-get-host-name", NULL);

	(void)state;
	check_struct(r, schema, "GuestHostName");
	assert_int_equal(gethostname(name, sizeof(name)), 0);
	assert_string_equal(json_string_value(json_object_get(r, "host-name")), name);
	json_decref(r);
}

static void test_timezone(void **state)
{
	static const struct member schema[] = { { "zone", T_STR, false },
						{ "offset", T_INT, true },
						{ NULL, T_STR, false } };
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	json_t *r;

	(void)state;
	r = call_ok("guest-get-timezone", NULL);
	check_struct(r, schema, "GuestTimezone");
	json_decref(r);
	/* a zone with no daylight time: a fixed answer; offsets are east of UTC */
	setenv("TZ", "JST-9", 1);
	r = call_ok("guest-get-timezone", NULL);
	assert_string_equal(json_string_value(json_object_get(r, "zone")), "JST");
	assert_int_equal(json_integer_value(json_object_get(r, "offset")), 9 * 3600);
	json_decref(r);
	setenv("TZ", "UTC0", 1);
	r = call_ok("guest-get-timezone", NULL);
	assert_string_equal(json_string_value(json_object_get(r, "zone")), "UTC");
	assert_int_equal(json_integer_value(json_object_get(r, "offset")), 0);
	json_decref(r);
	if (old)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	free(old);
	tzset();
}

/* QEMU 10.0's GuestLoadAverage */
static void test_load(void **state)
{
	static const struct member schema[] = { { "load1m", T_NUM, true },
						{ "load5m", T_NUM, true },
						{ "load15m", T_NUM, true },
						{ NULL, T_STR, false } };
	json_t *r = call_ok("guest-get-load", NULL);

	(void)state;
	check_struct(r, schema, "GuestLoadAverage");
	assert_true(json_real_value(json_object_get(r, "load1m")) >= 0);
	json_decref(r);
}

static void test_users(void **state)
{
	static const struct member schema[] = { { "user", T_STR, true },
						{ "login-time", T_NUM, true },
						{ "domain", T_STR, false },
						{ NULL, T_STR, false } };
	json_t *r = call_ok("guest-get-users", NULL), *u;
	size_t i;

	(void)state;
	assert_true(json_is_array(r));
	json_array_foreach(r, i, u)
	{
		check_struct(u, schema, "GuestUser");
		/* a unique list */
		for (size_t j = 0; j < i; j++)
			assert_false(json_equal(json_object_get(json_array_get(r, j), "user"),
						json_object_get(u, "user")));
	}
	json_decref(r);
}

/* ---- network ---- */

static void test_network(void **state)
{
	static const struct member iface_schema[] = { { "name", T_STR, true },
						      { "hardware-address", T_STR, false },
						      { "ip-addresses", T_ARR, false },
						      { "statistics", T_OBJ, false },
						      { NULL, T_STR, false } };
	static const struct member addr_schema[] = { { "ip-address", T_STR, true },
						     { "ip-address-type", T_STR, true },
						     { "prefix", T_INT, true },
						     { NULL, T_STR, false } };
	static const struct member stat_schema[] = {
		{ "rx-bytes", T_INT, true }, { "rx-packets", T_INT, true },
		{ "rx-errs", T_INT, true },  { "rx-dropped", T_INT, true },
		{ "tx-bytes", T_INT, true }, { "tx-packets", T_INT, true },
		{ "tx-errs", T_INT, true },  { "tx-dropped", T_INT, true },
		{ NULL, T_STR, false },
	};
	json_t *r = call_ok("guest-network-get-interfaces", NULL), *f, *a;
	bool lo_seen = false, lo_v4 = false;
	size_t i, j;

	(void)state;
	assert_true(json_is_array(r));
	json_array_foreach(r, i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *mac = json_string_value(json_object_get(f, "hardware-address"));
		json_t *addrs = json_object_get(f, "ip-addresses");
		unsigned b[6];

		check_struct(f, iface_schema, "GuestNetworkInterface");
		assert_non_null(mac);
		assert_int_equal(strlen(mac), 17);
		assert_int_equal(sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3],
					&b[4], &b[5]),
				 6);
		/* as qemu-ga: no empty list; statistics come with addresses */
		if (addrs)
			assert_true(json_array_size(addrs) > 0);
		else
			assert_null(json_object_get(f, "statistics"));
		if (json_object_get(f, "statistics"))
			check_struct(json_object_get(f, "statistics"), stat_schema,
				     "GuestNetworkInterfaceStat");
		json_array_foreach(addrs, j, a)
		{
			const char *type = json_string_value(json_object_get(a, "ip-address-type"));
			json_int_t prefix = json_integer_value(json_object_get(a, "prefix"));

			check_struct(a, addr_schema, "GuestIpAddress");
			assert_true(strcmp(type, "ipv4") == 0 || strcmp(type, "ipv6") == 0);
			assert_true(prefix >= 0 && prefix <= (strcmp(type, "ipv4") ? 128 : 32));
		}
		if (strcmp(name, "lo") == 0) {
			lo_seen = true;
			assert_string_equal(mac, "00:00:00:00:00:00");
			json_array_foreach(addrs, j, a)
			{
				if (strcmp(json_string_value(json_object_get(a, "ip-address")),
					   "127.0.0.1") == 0) {
					lo_v4 = true;
					assert_int_equal(
						json_integer_value(json_object_get(a, "prefix")),
						8);
				}
			}
		}
	}
	/* every network namespace has lo; up, it has 127.0.0.1/8 */
	assert_true(lo_seen);
	if (lo_seen && !lo_v4)
		print_message("lo has no 127.0.0.1 here (down?)\n");
	json_decref(r);
}

/* ---- file systems ---- */

static void test_fsinfo(void **state)
{
	static const struct member fs_schema[] = {
		{ "name", T_STR, true },	 { "mountpoint", T_STR, true },
		{ "type", T_STR, true },	 { "used-bytes", T_INT, false },
		{ "total-bytes", T_INT, false }, { "disk", T_ARR, true },
		{ NULL, T_STR, false },
	};
	static const struct member disk_schema[] = {
		{ "pci-controller", T_OBJ, true },
		{ "bus-type", T_STR, true },
		{ "bus", T_INT, true },
		{ "target", T_INT, true },
		{ "unit", T_INT, true },
		{ "serial", T_STR, false },
		{ "dev", T_STR, false },
		{ NULL, T_STR, false },
	};
	static const struct member pci_schema[] = {
		{ "domain", T_INT, true },   { "bus", T_INT, true }, { "slot", T_INT, true },
		{ "function", T_INT, true }, { NULL, T_STR, false },
	};
	static const char *const pseudo[] = { "proc",	"sysfs",   "tmpfs", "devtmpfs", "cgroup2",
					      "devpts", "overlay", "9p",    "virtiofs", NULL };
	json_t *r = call_ok("guest-get-fsinfo", NULL), *fs, *d;
	size_t i, j;

	(void)state;
	assert_true(json_is_array(r));
	json_array_foreach(r, i, fs)
	{
		const char *type = json_string_value(json_object_get(fs, "type"));

		check_struct(fs, fs_schema, "GuestFilesystemInfo");
		for (const char *const *p = pseudo; *p; p++)
			assert_string_not_equal(type, *p);
		if (json_object_get(fs, "total-bytes"))
			assert_true(json_integer_value(json_object_get(fs, "used-bytes")) <=
				    json_integer_value(json_object_get(fs, "total-bytes")));
		json_array_foreach(json_object_get(fs, "disk"), j, d)
		{
			const char *bus = json_string_value(json_object_get(d, "bus-type"));

			check_struct(d, disk_schema, "GuestDiskAddress");
			check_struct(json_object_get(d, "pci-controller"), pci_schema,
				     "GuestPCIAddress");
			assert_true(strcmp(bus, "virtio") == 0 || strcmp(bus, "scsi") == 0 ||
				    strcmp(bus, "unknown") == 0);
			if (json_object_get(d, "dev"))
				assert_memory_equal(json_string_value(json_object_get(d, "dev")),
						    "/dev/", 5);
		}
		/* listed once per device: no mount point twice */
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(
				json_string_value(
					json_object_get(json_array_get(r, k), "mountpoint")),
				json_string_value(json_object_get(fs, "mountpoint")));
	}
	json_decref(r);
}

static void test_fstrim(void **state)
{
	static const struct member schema[] = { { "path", T_STR, true },
						{ "trimmed", T_INT, false },
						{ "minimum", T_INT, false },
						{ "error", T_STR, false },
						{ NULL, T_STR, false } };
	json_t *r, *p;
	size_t i;

	(void)state;
	call_fails("guest-fstrim", "{\"minimum\": -1}", "minimum");
	/* a minimum larger than any free extent: the file systems check it and
	 * trim nothing, so the test discards nothing on this machine */
	r = call_ok("guest-fstrim", "{\"minimum\": 1099511627776}");
	assert_true(json_is_array(json_object_get(r, "paths")));
	assert_int_equal(json_object_size(r), 1);
	json_array_foreach(json_object_get(r, "paths"), i, p)
	{
		check_struct(p, schema, "GuestFilesystemTrimResult");
		/* either a result or an error */
		assert_true(!!json_object_get(p, "error") != !!json_object_get(p, "trimmed"));
	}
	json_decref(r);
}

/* ---- power ---- */

static void test_shutdown(void **state)
{
	static const struct {
		const char *args;
		int sig;
	} cases[] = {
		{ NULL, SIGTERM },
		{ "{\"mode\": \"powerdown\"}", SIGTERM },
		{ "{\"mode\": \"halt\"}", SIGUSR1 },
		{ "{\"mode\": \"reboot\"}", SIGINT },
	};
	json_t *r;

	(void)state;
	assert_true(find("guest-shutdown")->flags & CMD_NO_REPLY_ON_SUCCESS);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		agent.shutdown_requested = false;
		agent.shutdown_signal = 0;
		assert_int_equal(call("guest-shutdown", cases[i].args, &r), 0);
		assert_true(agent.shutdown_requested);
		assert_int_equal(agent.shutdown_signal, cases[i].sig);
		json_decref(r);
	}
	agent.shutdown_requested = false;
	agent.shutdown_signal = 0;
	call_fails("guest-shutdown", "{\"mode\": \"suspend\"}", "halt|powerdown|reboot");
	assert_false(agent.shutdown_requested);
	assert_int_equal(agent.shutdown_signal, 0);
}

/* ---- exec, through the loop ---- */

static void quit_cb(struct loop *l, void *data)
{
	(void)data;
	loop_quit(l);
}

/* Runs the loop for MS milliseconds: pipes are read, children reaped. */
static void spin(unsigned ms)
{
	loop_timer(agent.loop, ms, quit_cb, NULL);
	loop_run(agent.loop);
}

static json_int_t exec_ok(const char *args)
{
	json_t *r = call_ok("guest-exec", args);
	json_int_t pid;

	assert_int_equal(json_object_size(r), 1);
	pid = json_integer_value(json_object_get(r, "pid"));
	assert_true(pid > 0);
	json_decref(r);
	return pid;
}

/* Polls guest-exec-status until it reports the exit (bounded: 8 s, more
 * than the 5 s a background child's pipe is given). */
static json_t *wait_status(json_int_t pid)
{
	static const struct member schema[] = {
		{ "exited", T_BOOL, true },	    { "exitcode", T_INT, false },
		{ "signal", T_INT, false },	    { "out-data", T_STR, false },
		{ "err-data", T_STR, false },	    { "out-truncated", T_BOOL, false },
		{ "err-truncated", T_BOOL, false }, { NULL, T_STR, false },
	};
	char args[64];

	snprintf(args, sizeof(args), "{\"pid\": %lld}", (long long)pid);
	for (int i = 0; i < 800; i++) {
		json_t *r = call_ok("guest-exec-status", args);

		check_struct(r, schema, "GuestExecStatus");
		if (json_is_true(json_object_get(r, "exited")))
			return r;
		/* while running: nothing but exited */
		assert_int_equal(json_object_size(r), 1);
		json_decref(r);
		spin(10);
	}
	fail_msg("process %lld did not exit", (long long)pid);
	return NULL;
}

static void assert_b64(json_t *r, const char *key, const char *expect)
{
	const char *s = json_string_value(json_object_get(r, key));
	void *dec;
	size_t len;

	assert_non_null(s);
	assert_int_equal(base64_decode(s, strlen(s), 0, &dec, &len), 0);
	assert_int_equal(len, strlen(expect));
	assert_memory_equal(dec, expect, len);
	free(dec);
}

static int exec_setup(void **state)
{
	(void)state;
	memset(&agent, 0, sizeof(agent));
	agent.cfg.exec_enabled = true;
	agent.cfg.exec_output_max = 1000;
	return loop_new(&agent.loop);
}

static int exec_teardown(void **state)
{
	(void)state;
	cmd_exec_free(&agent);
	assert_null(agent.exec);
	loop_free(agent.loop);
	agent.loop = NULL;
	return 0;
}

static void test_exec_flags(void **state)
{
	(void)state;
	assert_true(find("guest-exec")->flags & CMD_DISABLED_BY_DEFAULT);
	assert_true(find("guest-exec-status")->flags & CMD_DISABLED_BY_DEFAULT);
}

static void test_exec_echo(void **state)
{
	json_int_t pid;
	json_t *r;
	char args[64];

	(void)state;
	pid = exec_ok("{\"path\": \"/bin/echo\", \"arg\": [\"hello\"], \"capture-output\": true}");
	r = wait_status(pid);
	assert_int_equal(json_integer_value(json_object_get(r, "exitcode")), 0);
	assert_null(json_object_get(r, "signal"));
	assert_b64(r, "out-data", "hello\n");
	assert_true(json_is_false(json_object_get(r, "out-truncated")));
	/* no stderr output: no err-data */
	assert_null(json_object_get(r, "err-data"));
	json_decref(r);
	/* reported once, then forgotten, as qemu-ga does */
	snprintf(args, sizeof(args), "{\"pid\": %lld}", (long long)pid);
	call_fails("guest-exec-status", args, "Invalid parameter 'pid'");
}

static void test_exec_streams(void **state)
{
	json_t *r;

	(void)state;
	/* separated, exit code and PATH search */
	r = wait_status(
		exec_ok("{\"path\": \"sh\", \"arg\": [\"-c\", \"echo out; echo err >&2; exit "
			"3\"], \"capture-output\": \"separated\"}"));
	assert_int_equal(json_integer_value(json_object_get(r, "exitcode")), 3);
	assert_b64(r, "out-data", "out\n");
	assert_b64(r, "err-data", "err\n");
	json_decref(r);
	/* merged: both in out-data */
	r = wait_status(
		exec_ok("{\"path\": \"/bin/sh\", \"arg\": [\"-c\", \"echo a; echo b >&2\"], "
			"\"capture-output\": \"merged\"}"));
	assert_b64(r, "out-data", "a\nb\n");
	assert_null(json_object_get(r, "err-data"));
	json_decref(r);
	/* stderr only */
	r = wait_status(
		exec_ok("{\"path\": \"/bin/sh\", \"arg\": [\"-c\", \"echo a; echo b >&2\"], "
			"\"capture-output\": \"stderr\"}"));
	assert_null(json_object_get(r, "out-data"));
	assert_b64(r, "err-data", "b\n");
	json_decref(r);
	/* no capture: no data at all */
	r = wait_status(exec_ok("{\"path\": \"/bin/echo\", \"arg\": [\"x\"], \"capture-output\": "
				"false}"));
	assert_int_equal(json_object_size(r), 2); /* exited, exitcode */
	json_decref(r);
	/* env replaces the environment */
	r = wait_status(exec_ok("{\"path\": \"/usr/bin/env\", \"env\": [\"A=1\"], "
				"\"capture-output\": true}"));
	assert_b64(r, "out-data", "A=1\n");
	json_decref(r);
}

static void test_exec_input(void **state)
{
	json_t *r;

	(void)state;
	/* "hello" */
	r = wait_status(exec_ok("{\"path\": \"/bin/cat\", \"input-data\": \"aGVsbG8=\", "
				"\"capture-output\": true}"));
	assert_b64(r, "out-data", "hello");
	json_decref(r);
	/* without input-data, stdin is /dev/null: cat ends at once */
	r = wait_status(exec_ok("{\"path\": \"/bin/cat\", \"capture-output\": true}"));
	assert_int_equal(json_integer_value(json_object_get(r, "exitcode")), 0);
	assert_null(json_object_get(r, "out-data"));
	json_decref(r);
	/* input the process never reads: EPIPE, not a dead agent */
	r = wait_status(exec_ok("{\"path\": \"/bin/true\", \"input-data\": \"aGVsbG8=\"}"));
	assert_int_equal(json_integer_value(json_object_get(r, "exitcode")), 0);
	json_decref(r);
}

static void test_exec_bounds(void **state)
{
	json_t *r;
	json_int_t pids[64];
	const char *s;

	(void)state;
	/* past exec_output_max (1000 here): cut, and said so */
	r = wait_status(exec_ok("{\"path\": \"/usr/bin/head\", \"arg\": [\"-c\", \"100000\", "
				"\"/dev/zero\"], \"capture-output\": true}"));
	assert_true(json_is_true(json_object_get(r, "out-truncated")));
	s = json_string_value(json_object_get(r, "out-data"));
	assert_int_equal(strlen(s), (1000 + 2) / 3 * 4);
	assert_int_equal(json_integer_value(json_object_get(r, "exitcode")), 0);
	json_decref(r);
	/* killed by a signal: signal, no exitcode */
	r = wait_status(exec_ok("{\"path\": \"/bin/sh\", \"arg\": [\"-c\", \"kill -9 $$\"]}"));
	assert_int_equal(json_integer_value(json_object_get(r, "signal")), 9);
	assert_null(json_object_get(r, "exitcode"));
	json_decref(r);
	/* 64 processes not collected: the 65th is refused, then all collected */
	for (size_t i = 0; i < 64; i++)
		pids[i] = exec_ok("{\"path\": \"/bin/true\"}");
	call_fails("guest-exec", "{\"path\": \"/bin/true\"}", "64 processes");
	for (size_t i = 0; i < 64; i++)
		json_decref(wait_status(pids[i]));
	json_decref(wait_status(exec_ok("{\"path\": \"/bin/true\"}")));
}

static void test_exec_errors(void **state)
{
	(void)state;
	call_fails("guest-exec", "{\"path\": \"/nonexistent/x\"}",
		   "Failed to execute child process \"/nonexistent/x\" (No such file");
	call_fails("guest-exec", "{\"path\": \"no-such-program-here\"}", "No such file");
	/* PATH from the given environment, as qemu-ga's g_spawn does */
	call_fails("guest-exec", "{\"path\": \"env\", \"env\": [\"PATH=/nonexistent\"]}",
		   "No such file");
	call_fails("guest-exec", "{\"path\": \"/etc\"}", "Failed to execute");
	call_fails("guest-exec", "{\"path\": \"\"}", "path");
	call_fails("guest-exec", "{\"path\": \"/bin/cat\", \"input-data\": \"!!!\"}",
		   "invalid base64");
	call_fails("guest-exec", "{\"path\": \"/bin/true\", \"capture-output\": \"all\"}",
		   "capture-output");
	call_fails("guest-exec", "{\"path\": \"/bin/true\", \"capture-output\": 1}",
		   "capture-output");
	/* elements of the wrong type, and NULs: the dispatcher's (test-agent-dispatch) */
	assert_int_equal(find("guest-exec")->args[1].type, ARG_STRING_ARRAY);
	call_fails("guest-exec-status", "{\"pid\": 1}", "Invalid parameter 'pid'");
	call_fails("guest-exec-status", "{\"pid\": -5}", "Invalid parameter 'pid'");
}

/* A process that leaves a child holding its stdout: reported as exited once
 * the drain time-out closes the pipe, not never (as qemu-ga would). */
static void test_exec_background_child(void **state)
{
	json_int_t pid;
	json_t *r;

	(void)state;
	pid = exec_ok("{\"path\": \"/bin/sh\", \"arg\": [\"-c\", \"sleep 8 & echo bg\"], "
		      "\"capture-output\": true}");
	r = wait_status(pid);
	assert_b64(r, "out-data", "bg\n");
	json_decref(r);
}

/* ---- porthole-health ---- */

static void test_health(void **state)
{
	static const struct member schema[] = {
		{ "status", T_STR, true },
		{ "reasons", T_ARR, true },
		{ "uptime_ns", T_INT, true },
		{ "boot_id", T_STR, true },
		{ "load", T_ARR, true },
		{ "memory", T_OBJ, true },
		{ "pressure", T_OBJ, false },
		{ "disks", T_ARR, true },
		{ "services", T_ARR, true },
		{ "agent", T_OBJ, true },
		/* init's control socket did not answer, or a dockerd service */
		{ "services_error", T_STR, false },
		{ "engine", T_OBJ, false },
		{ NULL, T_STR, false },
	};
	static const struct member memory[] = { { "total_bytes", T_INT, true },
						{ "available_bytes", T_INT, true },
						{ "free_bytes", T_INT, true },
						{ NULL, T_STR, false } };
	static const struct member psi[] = { { "some_avg10", T_NUM, true },
					     { "full_avg10", T_NUM, false },
					     { NULL, T_STR, false } };
	static const struct member disk[] = {
		{ "path", T_STR, true },
		{ "mounted", T_BOOL, true },
		{ "total_bytes", T_INT, false },
		{ "used_bytes", T_INT, false },
		{ "available_bytes", T_INT, false },
		{ "used_percent", T_INT, false },
		{ "note", T_STR, false }, /* "no data disk: data on tmpfs" */
		{ NULL, T_STR, false },
	};
	static const struct member service[] = { { "name", T_STR, true },
						 { "state", T_STR, true },
						 { "pid", T_INT, true },
						 { NULL, T_STR, false } };
	static const struct member agent_m[] = { { "version", T_STR, true },
						 { "protocol", T_INT, true },
						 { "uptime_ns", T_INT, true },
						 { "clients", T_OBJ, true },
						 { NULL, T_STR, false } };
	static const struct member clients[] = { { "open", T_INT, true },
						 { "max", T_INT, true },
						 { "refused", T_INT, true },
						 { NULL, T_STR, false } };
	char dir[] = "/tmp/test-agent-cmds-XXXXXX";
	const char *status, *key;
	json_t *r, *v, *disks;
	size_t i;

	(void)state;
	memset(&agent, 0, sizeof(agent));
	assert_non_null(mkdtemp(dir));
	/* a data mount that is not mounted */
	snprintf(agent.cfg.data_mount, sizeof(agent.cfg.data_mount), "%s", dir);
	r = call_ok("porthole-health", NULL);
	check_struct(r, schema, "porthole-health");
	status = json_string_value(json_object_get(r, "status"));
	assert_true(strcmp(status, "ok") == 0 || strcmp(status, "degraded") == 0 ||
		    strcmp(status, "starting") == 0);
	/* reasons exactly when not ok */
	assert_int_equal(strcmp(status, "ok") != 0,
			 json_array_size(json_object_get(r, "reasons")) > 0);
	json_array_foreach(json_object_get(r, "reasons"), i, v) assert_true(json_is_string(v));
	assert_true(json_integer_value(json_object_get(r, "uptime_ns")) > 0);
	assert_int_equal(strlen(json_string_value(json_object_get(r, "boot_id"))), 36);
	assert_int_equal(json_array_size(json_object_get(r, "load")), 3);
	json_array_foreach(json_object_get(r, "load"), i, v) assert_true(json_is_real(v));
	check_struct(json_object_get(r, "memory"), memory, "memory");
	json_object_foreach(json_object_get(r, "pressure"), key, v)
	{
		assert_true(strcmp(key, "cpu") == 0 || strcmp(key, "memory") == 0 ||
			    strcmp(key, "io") == 0);
		check_struct(v, psi, "pressure");
	}
	disks = json_object_get(r, "disks");
	assert_int_equal(json_array_size(disks), 2);
	json_array_foreach(disks, i, v) check_struct(v, disk, "disk");
	assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 0), "path")),
			    "/");
	assert_true(json_is_true(json_object_get(json_array_get(disks, 0), "mounted")));
	assert_non_null(json_object_get(json_array_get(disks, 0), "total_bytes"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 1), "path")),
			    dir);
	assert_true(json_is_false(json_object_get(json_array_get(disks, 1), "mounted")));
	/* path, mounted and the note that the data are on tmpfs; no reason:
	 * running without a data disk does not degrade the status */
	assert_int_equal(json_object_size(json_array_get(disks, 1)), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 1), "note")),
			    "no data disk: data on tmpfs");
	json_array_foreach(json_object_get(r, "services"), i, v)
		check_struct(v, service, "service");
	/* no init socket configured here: the agent alone, and why */
	assert_non_null(strstr(json_string_value(json_object_get(r, "services_error")),
			       "only the agent is listed"));
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(r, "services"), 0), "pid")),
			 getpid());
	check_struct(json_object_get(r, "agent"), agent_m, "agent");
	check_struct(json_object_get(json_object_get(r, "agent"), "clients"), clients, "clients");
	/* one figure of use, the one the reasons quote: df's */
	v = json_array_get(disks, 0);
	assert_int_equal(json_integer_value(json_object_get(v, "used_percent")),
			 health_disk_used_percent((unsigned long long)json_integer_value(
							  json_object_get(v, "used_bytes")),
						  (unsigned long long)json_integer_value(
							  json_object_get(v, "available_bytes"))));
	json_decref(r);

	/* df's Use%: used over used + available, rounded up */
	assert_int_equal(health_disk_used_percent(0, 0), 0);
	assert_int_equal(health_disk_used_percent(0, 100), 0);
	assert_int_equal(health_disk_used_percent(1, 1000000), 1);
	assert_int_equal(health_disk_used_percent(98, 2), 98);
	/* the full disk that once read 100.0% in the reason and 98% in the table:
	 * the root's reserve counts as neither used nor available */
	assert_int_equal(health_disk_used_percent(980, 0), 100);
	assert_int_equal(health_disk_used_percent(UINT64_MAX / 200, 1), 100);

	/* a mounted data disk: /proc is a mount point everywhere */
	snprintf(agent.cfg.data_mount, sizeof(agent.cfg.data_mount), "/proc");
	r = call_ok("porthole-health", NULL);
	disks = json_object_get(r, "disks");
	assert_true(json_is_true(json_object_get(json_array_get(disks, 1), "mounted")));
	assert_non_null(json_object_get(json_array_get(disks, 1), "total_bytes"));
	json_decref(r);
	rmdir(dir);
	memset(&agent, 0, sizeof(agent));
}

/* Every table ends with a NULL name; names are unique; argument specs of
 * the qemu-ga commands match the schema's. */
static void test_tables(void **state)
{
	size_t n = 0;

	(void)state;
	for (const struct command *const *t = all_tables(); *t; t++) {
		for (const struct command *c = *t; c->name; c++) {
			assert_non_null(c->handler);
			assert_ptr_equal(find(c->name), c);
			n++;
		}
	}
	assert_int_equal(n, 15);
	assert_int_equal(find("guest-exec-status")->args[0].type, ARG_INT);
	assert_true(find("guest-exec")->args[0].required);
	assert_int_equal(find("guest-fstrim")->args[0].type, ARG_INT);
	assert_int_equal(find("guest-shutdown")->args[0].type, ARG_STRING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_get_time),
		cmocka_unit_test(test_set_time_refuses_absurd),
		cmocka_unit_test(test_set_time_without_rtc),
		cmocka_unit_test(test_osinfo),
		cmocka_unit_test(test_host_name),
		cmocka_unit_test(test_timezone),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_fsinfo),
		cmocka_unit_test(test_fstrim),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_exec_flags),
		cmocka_unit_test_setup_teardown(test_exec_echo, exec_setup, exec_teardown),
		cmocka_unit_test_setup_teardown(test_exec_streams, exec_setup, exec_teardown),
		cmocka_unit_test_setup_teardown(test_exec_input, exec_setup, exec_teardown),
		cmocka_unit_test_setup_teardown(test_exec_bounds, exec_setup, exec_teardown),
		cmocka_unit_test_setup_teardown(test_exec_errors, exec_setup, exec_teardown),
		cmocka_unit_test_setup_teardown(test_exec_background_child, exec_setup,
						exec_teardown),
		cmocka_unit_test(test_health),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
