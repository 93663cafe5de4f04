/* agent/options.c: the agent's keys as init.conf's [agent] section, the
 * kernel command line's porthole.agent.* words and options_set take them
 * (docs/configuration.md): the defaults, each key's range, lists and their
 * bounds, paths and booleans; a bad value is refused, logged with what was
 * expected, and changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "options.h"
#include "stderr-capture.h"
#include "util.h"

static struct agent agent;

/* The defaults docs/configuration.md's table gives. */
static void test_defaults(void **state)
{
	struct agent_config c;

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	options_defaults(&c);
	assert_int_equal(c.vsock_port, 1024);
	assert_int_equal(c.n_vsock_cids, 1);
	assert_int_equal(c.vsock_cids[0], 2);
	assert_string_equal(c.unix_path, "/run/porthole/agent.sock");
	assert_int_equal(c.unix_mode, 0600);
	assert_true(c.serial);
	assert_string_equal(c.serial_dir, "/dev/virtio-ports");
	assert_int_equal(c.max_request, 65536);
	assert_int_equal(c.max_clients, 64);
	assert_int_equal(c.idle_timeout_s, 300);
	assert_false(c.exec_enabled);
	assert_int_equal(c.n_allow_rpcs, 0);
	assert_int_equal(c.n_block_rpcs, 0);
	assert_string_equal(c.data_mount, "/var/lib");
	assert_true(c.ptp_sync);
	assert_int_equal(c.n_share_roots, 4);
	assert_string_equal(c.share_roots[0], "/mnt");
	assert_string_equal(c.share_roots[1], "/host");
	assert_string_equal(c.share_roots[2], "/Users");
	assert_string_equal(c.share_roots[3], "/home");
	assert_int_equal(c.trim_interval_s, 86400);
	assert_string_equal(c.init_socket, "/run/porthole/init.sock");
	assert_string_equal(c.engine_socket, "/run/docker.sock");
	assert_int_equal(c.trim_after_delete_s, 5);
	assert_true(c.memory_reclaim);
	assert_int_equal(c.memory_idle_after_s, 20);
	assert_int_equal(c.memory_check_interval_s, 10);
	assert_string_equal(c.memory_engine, "dockerd");
	assert_int_equal(c.memory_report_order, 5);
}

/* KEY=VALUE is refused, and the whole configuration is as it was. */
static void refused(struct agent_config *c, const char *key, const char *value)
{
	struct agent_config before = *c;

	if (options_set(c, key, value, "test") != -EINVAL)
		fail_msg("agent.%s = '%s' was not refused", key, value);
	if (memcmp(&before, c, sizeof(before)) != 0)
		fail_msg("agent.%s = '%s' was refused but changed the configuration", key, value);
}

static void accepted(struct agent_config *c, const char *key, const char *value)
{
	if (options_set(c, key, value, "test") != 0)
		fail_msg("agent.%s = '%s' was refused", key, value);
}

/* Every number at both ends of its range, and one past each. */
static void test_ranges(void **state)
{
	static const struct {
		const char *key;
		const char *min, *max, *below, *above;
		size_t offset, size;
		uint64_t min_value, max_value;
	} keys[] = {
#define F(field) offsetof(struct agent_config, field), sizeof(((struct agent_config *)0)->field)
		{ "vsock_port", "0", "4294967294", "-1", "4294967295", F(vsock_port), 0,
		  4294967294u },
		{ "max_request", "1024", "16777216", "1023", "16777217", F(max_request), 1024,
		  16777216 },
		{ "max_clients", "1", "512", "0", "513", F(max_clients), 1, 512 },
		{ "idle_timeout", "0", "86400", "-1", "86401", F(idle_timeout_s), 0, 86400 },
		{ "ptp_interval", "1", "3600", "0", "3601", F(ptp_interval_s), 1, 3600 },
		{ "trim_interval", "60", "2592000", "59", "2592001", F(trim_interval_s), 60,
		  2592000 },
		{ "trim_after_delete", "0", "3600", "-1", "3601", F(trim_after_delete_s), 0, 3600 },
		{ "memory_idle_after", "5", "86400", "4", "86401", F(memory_idle_after_s), 5,
		  86400 },
		{ "memory_check_interval", "5", "3600", "4", "3601", F(memory_check_interval_s), 5,
		  3600 },
		{ "memory_report_order", "0", "10", "-1", "11", F(memory_report_order), 0, 10 },
#undef F
	};
	struct agent_config c;

	(void)state;
	options_defaults(&c);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		uint64_t v = 0;

		accepted(&c, keys[i].key, keys[i].min);
		memcpy(&v, (char *)&c + keys[i].offset, keys[i].size);
		assert_int_equal(v, keys[i].min_value);
		accepted(&c, keys[i].key, keys[i].max);
		v = 0;
		memcpy(&v, (char *)&c + keys[i].offset, keys[i].size);
		assert_int_equal(v, keys[i].max_value);
		refused(&c, keys[i].key, keys[i].below);
		refused(&c, keys[i].key, keys[i].above);
		/* not a decimal number, whatever strtoll would make of it */
		for (const char *const *junk =
			     (const char *const[]){ "", "12x", "x", "0x10", " ", "1e3",
						    "99999999999999999999", NULL };
		     *junk; junk++)
			refused(&c, keys[i].key, *junk);
	}
	/* trim_interval: 0 is never; 1 to 59 is neither never nor a period */
	accepted(&c, "trim_interval", "0");
	assert_int_equal(c.trim_interval_s, 0);
	refused(&c, "trim_interval", "1");
	/* the engine: a service name or none, never a path */
	accepted(&c, "memory_engine", "");
	assert_string_equal(c.memory_engine, "");
	accepted(&c, "memory_engine", "containerd");
	refused(&c, "memory_engine", "../x");
	refused(&c, "memory_engine", "a/b");
	refused(&c, "memory_engine", "..");
	accepted(&c, "engine_socket", "");
	refused(&c, "engine_socket", "run/docker.sock");
	accepted(&c, "memory_reclaim", "0");
	assert_false(c.memory_reclaim);
}

static void test_lists(void **state)
{
	char many[AGENT_RPCS_MAX * 4 + 64] = "", word[80];
	struct agent_config c;

	(void)state;
	options_defaults(&c);
	/* commas, spaces or both */
	accepted(&c, "vsock_cids", "1, 2");
	assert_int_equal(c.n_vsock_cids, 2);
	assert_int_equal(c.vsock_cids[0], 1);
	assert_int_equal(c.vsock_cids[1], 2);
	accepted(&c, "vsock_cids", "1 2 3 4 5 6 7 4294967295");
	assert_int_equal(c.n_vsock_cids, AGENT_CIDS_MAX);
	assert_int_equal(c.vsock_cids[7], 4294967295u);
	refused(&c, "vsock_cids", "1 2 3 4 5 6 7 8 9");
	refused(&c, "vsock_cids", "4294967296");
	refused(&c, "vsock_cids", "2,-1");

	/* unix uids: listing any opens the socket's mode, the uid check stays */
	assert_int_equal(c.n_unix_uids, 0);
	accepted(&c, "unix_uids", "1000, 1001");
	assert_int_equal(c.n_unix_uids, 2);
	assert_int_equal(c.unix_uids[1], 1001);
	assert_int_equal(c.unix_mode, 0666);
	refused(&c, "unix_uids", "1000 4294967295");
	refused(&c, "unix_uids", "1 2 3 4 5 6 7 8 9");
	refused(&c, "unix_uids", "root");
	assert_int_equal(c.n_unix_uids, 2);
	accepted(&c, "unix_uids", "");
	assert_int_equal(c.n_unix_uids, 0);
	assert_int_equal(c.unix_mode, 0600);

	/* 64 names, each up to 63 bytes */
	for (int i = 0; i < AGENT_RPCS_MAX; i++)
		strcat(many, i ? ",x" : "x");
	accepted(&c, "allow_rpcs", many);
	assert_int_equal(c.n_allow_rpcs, AGENT_RPCS_MAX);
	memset(word, 'a', 64);
	word[64] = '\0';
	refused(&c, "allow_rpcs", word);
	word[63] = '\0';
	accepted(&c, "block_rpcs", word);
	assert_int_equal(c.n_block_rpcs, 1);
	assert_string_equal(c.block_rpcs[0], word);
	/* an empty list is none: every command allowed again */
	accepted(&c, "allow_rpcs", "");
	assert_int_equal(c.n_allow_rpcs, 0);

	/* share roots: cleaned, at most 8, never / */
	accepted(&c, "share_roots", "/a /b/ /c//d /e /f /g /h /i");
	assert_int_equal(c.n_share_roots, 8);
	assert_string_equal(c.share_roots[1], "/b");
	assert_string_equal(c.share_roots[2], "/c/d");
	refused(&c, "share_roots", "/a /b /c /d /e /f /g /h /i");
	refused(&c, "share_roots", "/mnt /a/../etc");
}

static void test_paths_and_booleans(void **state)
{
	char longer[200];
	struct agent_config c;

	(void)state;
	options_defaults(&c);
	/* a socket path: absolute, shorter than sun_path, or empty for none */
	accepted(&c, "unix_path", "");
	assert_string_equal(c.unix_path, "");
	refused(&c, "unix_path", "agent.sock");
	memset(longer, 'a', sizeof(longer));
	longer[0] = '/';
	longer[108] = '\0';
	refused(&c, "unix_path", longer);
	refused(&c, "init_socket", longer);
	longer[107] = '\0';
	accepted(&c, "unix_path", longer);
	assert_int_equal(strlen(c.unix_path), 107);
	accepted(&c, "init_socket", "");
	assert_string_equal(c.init_socket, "");
	refused(&c, "init_socket", "run/init.sock");
	/* directories: absolute, never empty */
	refused(&c, "serial_dir", "");
	refused(&c, "serial_dir", "dev");
	refused(&c, "data_mount", "");
	accepted(&c, "data_mount", "/data");
	assert_string_equal(c.data_mount, "/data");

	/* booleans as parse_bool reads them */
	accepted(&c, "serial", "off");
	assert_false(c.serial);
	accepted(&c, "serial", "Yes");
	assert_true(c.serial);
	accepted(&c, "exec", "1");
	assert_true(c.exec_enabled);
	accepted(&c, "ptp_sync", "false");
	assert_false(c.ptp_sync);
	refused(&c, "exec", "2");
	refused(&c, "exec", "");
	/* porthole-shell: off unless the image or the command line says */
	options_defaults(&c);
	assert_false(c.shell_enabled);
	accepted(&c, "shell", "on");
	assert_true(c.shell_enabled);
	refused(&c, "shell", "console");
	refused(&c, "ptp_sync", "enabled");
}

/* What a user sees: a bad value names the source, the key, the value and
 * what was expected; an unknown key is a warning that changes nothing. */
static void test_messages(void **state)
{
	struct stderr_capture cap;
	struct agent_config c, before;
	enum log_level old = log_get_level();
	char out[1024];

	(void)state;
	options_defaults(&c);
	before = c;
	log_set_level(LOG_LEVEL_INFO);
	stderr_capture_start(&cap);
	assert_int_equal(options_set(&c, "max_clients", "0", "init.conf:7"), -EINVAL);
	assert_int_equal(options_set(&c, "colour", "blue", "kernel command line"), 0);
	stderr_capture_stop(&cap, out, sizeof(out));
	log_set_level(old);
	assert_memory_equal(&c, &before, sizeof(c));
	if (!strstr(out, "error: init.conf:7: agent.max_clients: invalid value '0' (expected 1 to "
			 "512), ignored\n"))
		fail_msg("logged: %s", out);
	if (!strstr(out, "warn: kernel command line: unknown key 'agent.colour', ignoring\n"))
		fail_msg("logged: %s", out);
}

/* CONF in a temporary file whose name goes to PATH (a mkstemp template). */
static void conf_file(char *path, const char *conf)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, conf, strlen(conf)), 0);
	close(fd);
}

/* init.conf's [agent] section, init's own data_mount, then the kernel
 * command line's porthole.agent.* words, which win. */
static void test_load(void **state)
{
	static const char conf[] = "data_mount = /srv/data\n"
				   "[agent]\n"
				   "vsock_port = 2000\n"
				   "max_clients = 9\n"
				   "idle_timeout = forever\n"
				   "colour = blue\n"
				   "[network]\n"
				   "max_clients = 3\n";
	char path[] = "/tmp/test-agent-options.XXXXXX";
	struct agent_config c;

	(void)state;
	conf_file(path, conf);
	options_defaults(&c);
	/* one error: idle_timeout's value; the unknown key is only a warning,
	 * and [network]'s max_clients is not the agent's */
	assert_int_equal(options_load(&c, path, NULL), 1);
	assert_int_equal(c.vsock_port, 2000);
	assert_int_equal(c.max_clients, 9);
	assert_int_equal(c.idle_timeout_s, 300);
	assert_string_equal(c.data_mount, "/srv/data");

	options_defaults(&c);
	assert_int_equal(options_load(&c, path,
				      "quiet porthole.agent.vsock_port=3000 porthole.agent.exec "
				      "porthole.agent.max_clients=0 porthole.log=debug "
				      "\"porthole.agent.block_rpcs=guest-ping guest-info\" -- "
				      "porthole.agent.idle_timeout=5"),
			 2);
	assert_int_equal(c.vsock_port, 3000);
	/* a bare word is "1" */
	assert_true(c.exec_enabled);
	/* refused on the command line: the file's value stays */
	assert_int_equal(c.max_clients, 9);
	assert_int_equal(c.n_block_rpcs, 2);
	/* after "--": the init's arguments, not read */
	assert_int_equal(c.idle_timeout_s, 300);
	unlink(path);

	/* no file: the defaults, no error */
	options_defaults(&c);
	assert_int_equal(options_load(&c, path, NULL), 0);
	assert_int_equal(c.vsock_port, 1024);
}

/* A list goes on on indented lines, as docs/configuration.md says and as
 * init's keys do: each adds to it (it once replaced it). */
static void test_list_continues(void **state)
{
	static const char conf[] = "[agent]\n"
				   "block_rpcs = guest-ping,\n"
				   "\tguest-info\n"
				   "  guest-sync\n"
				   "vsock_cids = 2\n"
				   "\t3\n";
	char path[] = "/tmp/test-agent-options.XXXXXX";
	struct agent_config c;

	(void)state;
	conf_file(path, conf);
	options_defaults(&c);
	assert_int_equal(options_load(&c, path, NULL), 0);
	unlink(path);
	assert_int_equal(c.n_block_rpcs, 3);
	assert_string_equal(c.block_rpcs[0], "guest-ping");
	assert_string_equal(c.block_rpcs[1], "guest-info");
	assert_string_equal(c.block_rpcs[2], "guest-sync");
	assert_int_equal(c.n_vsock_cids, 2);
	assert_int_equal(c.vsock_cids[1], 3);

	/* a list over its bounds, given over continuation lines, is refused and counted */
	{
		static char big[8192];
		char path2[] = "/tmp/test-agent-options.XXXXXX";
		size_t n = 0;

		n += (size_t)snprintf(big + n, sizeof(big) - n, "[agent]\nblock_rpcs = a\n");
		for (int i = 0; i < 300; i++)
			n += (size_t)snprintf(big + n, sizeof(big) - n, "\tguest-x%04d\n", i);
		conf_file(path2, big);
		options_defaults(&c);
		assert_true(options_load(&c, path2, NULL) >= 1);
		unlink(path2);
	}
}

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
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_paths_and_booleans),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_list_continues),
		cmocka_unit_test(test_bad_list_changes_nothing),
		cmocka_unit_test(test_share_roots_and_trim),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
