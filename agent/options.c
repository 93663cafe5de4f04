/* The agent's keys, one table: name, parser, what it means. The same keys
 * are accepted in init.conf's [agent] section, as porthole.agent.KEY on the
 * kernel command line, and as --KEY (with '-' for '_') on the agent's own
 * command line (see main.c). */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "initctl.h"
#include "log.h"
#include "seccomp.h"
#include "util.h"

struct option_key {
	const char *name;
	int (*parse)(struct agent_config *c, const char *v, const char **expected);
};

static int parse_u(const char *v, int64_t min, int64_t max, int64_t *out)
{
	return parse_int64(v, min, max, out) < 0 ? -EINVAL : 0;
}

static int p_vsock_port(struct agent_config *c, const char *v, const char **expected)
{
	int64_t n;

	*expected = "a port number, 0 (no vsock) to 4294967294";
	if (parse_u(v, 0, 0xFFFFFFFEll, &n) < 0)
		return -EINVAL;
	c->vsock_port = (unsigned)n;
	return 0;
}

static int p_vsock_cids(struct agent_config *c, const char *v, const char **expected)
{
	char words[AGENT_CIDS_MAX][16];
	uint32_t cids[AGENT_CIDS_MAX];
	size_t n;

	*expected = "CIDs separated by commas or spaces (2 is the host, 1 this guest), at most 8";
	if (conf_split(v, words[0], sizeof(words[0]), AGENT_CIDS_MAX, &n) < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int64_t cid;

		if (parse_u(words[i], 0, 0xFFFFFFFFll, &cid) < 0)
			return -EINVAL;
		cids[i] = (uint32_t)cid;
	}
	memcpy(c->vsock_cids, cids, n * sizeof(cids[0]));
	c->n_vsock_cids = n;
	return 0;
}

static int p_unix_path(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "an absolute path shorter than 108 bytes, or empty for none";
	if (*v && (v[0] != '/' || strlen(v) >= sizeof(c->unix_path)))
		return -EINVAL;
	snprintf(c->unix_path, sizeof(c->unix_path), "%s", v);
	return 0;
}

/* Users besides root who may use the unix socket: the socket is then
 * world-connectable and the peer's uid (SO_PEERCRED) is the fence. */
static int p_unix_uids(struct agent_config *c, const char *v, const char **expected)
{
	char words[AGENT_UIDS_MAX][16];
	uid_t uids[AGENT_UIDS_MAX];
	size_t n;

	*expected = "uids separated by commas or spaces, at most 8, or empty for root only";
	if (conf_split(v, words[0], sizeof(words[0]), AGENT_UIDS_MAX, &n) < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int64_t uid;

		/* (uid_t)-1 is "no uid" to chown(2) and setreuid(2) */
		if (parse_u(words[i], 0, 0xFFFFFFFEll, &uid) < 0)
			return -EINVAL;
		uids[i] = (uid_t)uid;
	}
	memcpy(c->unix_uids, uids, n * sizeof(uids[0]));
	c->n_unix_uids = n;
	c->unix_mode = n > 0 ? 0666 : 0600;
	return 0;
}

static int p_serial(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "a boolean";
	return parse_bool(v, &c->serial) < 0 ? -EINVAL : 0;
}

static int p_serial_dir(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "an absolute path";
	if (v[0] != '/' || strlen(v) >= sizeof(c->serial_dir))
		return -EINVAL;
	snprintf(c->serial_dir, sizeof(c->serial_dir), "%s", v);
	return 0;
}

static int p_max_request(struct agent_config *c, const char *v, const char **expected)
{
	int64_t n;

	*expected = "bytes, 1024 to 16777216";
	if (parse_u(v, 1024, 16 << 20, &n) < 0)
		return -EINVAL;
	c->max_request = (size_t)n;
	return 0;
}

static int p_max_clients(struct agent_config *c, const char *v, const char **expected)
{
	int64_t n;

	*expected = "1 to 512";
	if (parse_u(v, 1, 512, &n) < 0)
		return -EINVAL;
	c->max_clients = (unsigned)n;
	return 0;
}

static int p_idle_timeout(struct agent_config *c, const char *v, const char **expected)
{
	int64_t n;

	*expected = "seconds, 0 (never) to 86400";
	if (parse_u(v, 0, 86400, &n) < 0)
		return -EINVAL;
	c->idle_timeout_s = (unsigned)n;
	return 0;
}

static int p_exec(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "a boolean";
	return parse_bool(v, &c->exec_enabled) < 0 ? -EINVAL : 0;
}

static int p_shell(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "a boolean";
	return parse_bool(v, &c->shell_enabled) < 0 ? -EINVAL : 0;
}

/* Into a copy first: a bad value leaves the list as it was. */
static int parse_list(const char *v, char (*list)[64], size_t *n)
{
	char words[AGENT_RPCS_MAX][64];
	size_t count;

	if (conf_split(v, words[0], sizeof(words[0]), AGENT_RPCS_MAX, &count) < 0)
		return -EINVAL;
	memcpy(list, words, count * sizeof(words[0]));
	*n = count;
	return 0;
}

static int p_allow_rpcs(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "command names separated by commas, at most 64";
	return parse_list(v, c->allow_rpcs, &c->n_allow_rpcs);
}

static int p_block_rpcs(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "command names separated by commas, at most 64";
	return parse_list(v, c->block_rpcs, &c->n_block_rpcs);
}

static int p_data_mount(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "an absolute path";
	if (v[0] != '/' || strlen(v) >= sizeof(c->data_mount))
		return -EINVAL;
	snprintf(c->data_mount, sizeof(c->data_mount), "%s", v);
	return 0;
}

static int p_ptp_sync(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "a boolean";
	return parse_bool(v, &c->ptp_sync) < 0 ? -EINVAL : 0;
}

static int p_ptp_interval(struct agent_config *c, const char *v, const char **expected)
{
	int64_t n;

	*expected = "seconds, 1 to 3600";
	if (parse_u(v, 1, 3600, &n) < 0)
		return -EINVAL;
	c->ptp_interval_s = (unsigned)n;
	return 0;
}

static int p_share_roots(struct agent_config *c, const char *v, const char **expected)
{
	char roots[SHARE_ROOTS_MAX][SHARE_PATH_MAX];
	size_t n = 0;

	*expected = "absolute directories separated by commas or spaces, at most 8, not /";
	for (const char *p = v; *p;) {
		char word[SHARE_PATH_MAX];
		size_t len;

		p += strspn(p, " ,");
		len = strcspn(p, " ,");
		if (!len)
			break;
		if (len >= sizeof(word) || n == SHARE_ROOTS_MAX)
			return -EINVAL;
		memcpy(word, p, len);
		word[len] = '\0';
		/* "/" would allow a share over /etc or /usr */
		if (share_path_clean(word, roots[n], sizeof(roots[n])) < 0 ||
		    strcmp(roots[n], "/") == 0)
			return -EINVAL;
		n++;
		p += len;
	}
	memcpy(c->share_roots, roots, sizeof(roots));
	c->n_share_roots = n;
	return 0;
}

static int p_trim_interval(struct agent_config *c, const char *v, const char **expected)
{
	int64_t n;

	*expected = "seconds, 0 (never) or 60 to 2592000";
	if (parse_u(v, 0, 2592000, &n) < 0 || (n > 0 && n < 60))
		return -EINVAL;
	c->trim_interval_s = (unsigned)n;
	return 0;
}

static int p_init_socket(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "an absolute path shorter than 108 bytes, or empty for none";
	if (*v && (v[0] != '/' || strlen(v) >= sizeof(c->init_socket)))
		return -EINVAL;
	snprintf(c->init_socket, sizeof(c->init_socket), "%s", v);
	return 0;
}

/* "log" finds what the filter would refuse (audit type=1326 in the kernel's
 * log) without refusing it; "off" is for valgrind (docs/security.md). */
static int p_seccomp(struct agent_config *c, const char *v, const char **expected)
{
	int m = agent_seccomp_mode_from_string(v);

	*expected = "enforce, log or off";
	if (m < 0)
		return -EINVAL;
	c->seccomp = m;
	return 0;
}

static int p_engine_socket(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "an absolute path shorter than 108 bytes, or empty for none";
	if (*v && (v[0] != '/' || strlen(v) >= sizeof(c->engine_socket)))
		return -EINVAL;
	snprintf(c->engine_socket, sizeof(c->engine_socket), "%s", v);
	return 0;
}

static int p_trim_after_delete(struct agent_config *c, const char *v, const char **expected)
{
	int64_t n;

	*expected = "seconds, 0 (never) to 3600";
	if (parse_u(v, 0, 3600, &n) < 0)
		return -EINVAL;
	c->trim_after_delete_s = (unsigned)n;
	return 0;
}

static int p_memory_reclaim(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "a boolean";
	return parse_bool(v, &c->memory_reclaim) < 0 ? -EINVAL : 0;
}

static int p_memory_idle_after(struct agent_config *c, const char *v, const char **expected)
{
	int64_t n;

	*expected = "seconds, 5 to 86400";
	if (parse_u(v, 5, 86400, &n) < 0)
		return -EINVAL;
	c->memory_idle_after_s = (unsigned)n;
	return 0;
}

/* not below 5 s: the check must not itself keep the VM awake */
static int p_memory_check_interval(struct agent_config *c, const char *v, const char **expected)
{
	int64_t n;

	*expected = "seconds, 5 to 3600";
	if (parse_u(v, 5, 3600, &n) < 0)
		return -EINVAL;
	c->memory_check_interval_s = (unsigned)n;
	return 0;
}

static int p_memory_engine(struct agent_config *c, const char *v, const char **expected)
{
	*expected = "a service name (letters, digits, '-', '_', '.'), or empty for none";
	if (strlen(v) >= sizeof(c->memory_engine) ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz"
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789-_.") != strlen(v) ||
	    v[0] == '.')
		return -EINVAL;
	snprintf(c->memory_engine, sizeof(c->memory_engine), "%s", v);
	return 0;
}

static int p_memory_report_order(struct agent_config *c, const char *v, const char **expected)
{
	int64_t n;

	*expected = "0 (the kernel's) or an order of pages, 1 to 10";
	if (parse_u(v, 0, 10, &n) < 0)
		return -EINVAL;
	c->memory_report_order = (unsigned)n;
	return 0;
}

static const struct option_key keys[] = {
	{ "vsock_port", p_vsock_port },
	{ "vsock_cids", p_vsock_cids },
	{ "unix_path", p_unix_path },
	{ "unix_uids", p_unix_uids },
	{ "serial", p_serial },
	{ "serial_dir", p_serial_dir },
	{ "max_request", p_max_request },
	{ "max_clients", p_max_clients },
	{ "idle_timeout", p_idle_timeout },
	{ "exec", p_exec },
	{ "shell", p_shell },
	{ "allow_rpcs", p_allow_rpcs },
	{ "block_rpcs", p_block_rpcs },
	{ "data_mount", p_data_mount },
	{ "ptp_sync", p_ptp_sync },
	{ "ptp_interval", p_ptp_interval },
	{ "share_roots", p_share_roots },
	{ "trim_interval", p_trim_interval },
	{ "init_socket", p_init_socket },
	{ "seccomp", p_seccomp },
	{ "engine_socket", p_engine_socket },
	{ "trim_after_delete", p_trim_after_delete },
	{ "memory_reclaim", p_memory_reclaim },
	{ "memory_idle_after", p_memory_idle_after },
	{ "memory_check_interval", p_memory_check_interval },
	{ "memory_engine", p_memory_engine },
	{ "memory_report_order", p_memory_report_order },
};

void options_defaults(struct agent_config *c)
{
	memset(c, 0, sizeof(*c));
	c->vsock_port = 1024;
	c->vsock_cids[0] = 2; /* VMADDR_CID_HOST */
	c->n_vsock_cids = 1;
	snprintf(c->unix_path, sizeof(c->unix_path), "/run/porthole/agent.sock");
	c->unix_mode = 0600;
	c->serial = true;
	snprintf(c->serial_dir, sizeof(c->serial_dir), "/dev/virtio-ports");
	c->max_request = 64 * 1024;
	/* the largest reply: guest-exec-status with two full captures, base64 */
	c->max_output = 4 << 20;
	c->max_clients = 64;
	c->idle_timeout_s = 300;
	c->exec_output_max = 1 << 20;
	snprintf(c->data_mount, sizeof(c->data_mount), "/var/lib");
	c->ptp_sync = true;
	c->ptp_interval_s = 16;
	p_share_roots(c, "/mnt /host /Users /home", &(const char *){ NULL });
	c->trim_interval_s = 86400; /* daily, as fstrim.timer */
	snprintf(c->init_socket, sizeof(c->init_socket), "%s", INITCTL_SOCKET_DEFAULT);
	c->seccomp = AGENT_SECCOMP_DEFAULT;
	snprintf(c->engine_socket, sizeof(c->engine_socket), "/run/docker.sock");
	c->trim_after_delete_s = 5;
	c->memory_reclaim = true;
	c->memory_idle_after_s = 20;
	c->memory_check_interval_s = 10;
	snprintf(c->memory_engine, sizeof(c->memory_engine), "dockerd");
	/* 128 KiB: docs/memory.md */
	c->memory_report_order = 5;
}

int options_set(struct agent_config *c, const char *key, const char *value, const char *where)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *expected = "";

		if (strcmp(keys[i].name, key) != 0)
			continue;
		if (keys[i].parse(c, value, &expected) < 0) {
			log_error("%s: agent.%s: invalid value '%s' (expected %s), ignored", where,
				  key, value, expected);
			return -EINVAL;
		}
		return 0;
	}
	log_warn("%s: unknown key 'agent.%s', ignoring", where, key);
	return 0;
}

/* The longest list value, its continuation lines joined */
#define LIST_VALUE_MAX 4096

struct load_state {
	struct agent_config *c;
	unsigned errors;
	/* the key last set and its value so far: an indented line continues
	 * a list (docs/configuration.md), so it adds to it */
	char key[CONF_KEY_MAX];
	char value[LIST_VALUE_MAX];
};

static void entry(void *user, const char *key, const char *value, const char *where,
		  bool continuation)
{
	struct load_state *st = user;

	/* init's data_mount is where the data disk is: the agent's too */
	if (strcmp(key, "data_mount") == 0 && options_set(st->c, key, value, where) < 0)
		st->errors++;
	if (strncmp(key, "agent.", 6) != 0)
		return; /* init's, or another part's */
	if (continuation && strcmp(st->key, key) == 0) {
		size_t n = strlen(st->value);

		if (n + 1 + strlen(value) >= sizeof(st->value)) {
			log_error("%s: %s: the list is longer than %d bytes, ignored", where, key,
				  LIST_VALUE_MAX);
			st->errors++;
			return;
		}
		snprintf(st->value + n, sizeof(st->value) - n, ",%s", value);
	} else {
		snprintf(st->key, sizeof(st->key), "%s", key);
		snprintf(st->value, sizeof(st->value), "%s", value);
	}
	if (options_set(st->c, key + 6, st->value, where) < 0)
		st->errors++;
}

static void conf_refused(void *user, const char *name, unsigned line, const char *why)
{
	(void)user;
	if (line)
		log_error("%s:%u: %s, line ignored", name, line, why);
	else
		log_error("%s: %s", name, why);
}

unsigned options_load(struct agent_config *c, const char *file, const char *cmdline)
{
	struct load_state st = { .c = c };

	st.errors += conf_load_file(file ? file : AGENT_CONFIG_PATH, entry, conf_refused, &st);
	if (cmdline)
		conf_parse_cmdline(cmdline, entry, &st);
	return st.errors;
}
