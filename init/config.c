/* init's configuration: a table of keys, each with a parser that validates its
 * value. INI files are read with inih; the kernel command line by hand, since
 * its quoting rules are the kernel's own (lib/cmdline.c in the kernel). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "coldplug.h"
#include "conf.h"
#include "dnsconf.h"
#include "util.h"

struct config_key {
	const char *name;
	/* Returns 0, or -EINVAL with *expected naming what would have been valid. */
	int (*parse)(struct init_config *c, const char *value, const char **expected);
	/* Writes the current value as it would be written in init.conf. */
	void (*format)(const struct init_config *c, char *buf, size_t size);
	const char *doc;
};

static void fmt_log(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s", log_level_to_string(c->log_level));
}

static void fmt_hostname(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s", c->hostname);
}

static void fmt_modules(const struct init_config *c, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t m = 0; m < c->n_modules && n < size; m++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", m ? " " : "", c->modules[m]);
}

static void fmt_rescue(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%d", c->rescue);
}

static void fmt_shell(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s", c->shell == SHELL_CONSOLE ? "console" : "none");
}

static void fmt_stop_timeout(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%u", c->stop_timeout_s);
}

static void fmt_nofile(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%llu", (unsigned long long)c->rlimit_nofile);
}

static int parse_agent(struct init_config *c, const char *v, const char **expected)
{
	*expected = "a boolean (1/0, yes/no, true/false, on/off)";
	return parse_bool(v, &c->agent);
}

static void fmt_agent(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%d", c->agent);
}

static void fmt_root_tmpfs(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%d", c->root_tmpfs);
}

static void fmt_root_disk(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", c->root_disk[0] ? "serial:" : "none", c->root_disk);
}

static int parse_root_disk(struct init_config *c, const char *v, const char **expected)
{
	*expected = "serial:NAME (a virtio serial: letters, digits, - _ .) or none";
	if (strcmp(v, "none") == 0) {
		c->root_disk[0] = '\0';
		return 0;
	}
	if (strncmp(v, "serial:", 7) != 0 || !v[7] || strlen(v + 7) >= sizeof(c->root_disk) ||
	    strspn(v + 7, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
		    strlen(v + 7))
		return -EINVAL;
	snprintf(c->root_disk, sizeof(c->root_disk), "%s", v + 7);
	return 0;
}

static int parse_log(struct init_config *c, const char *v, const char **expected)
{
	int l = log_level_from_string(v);

	*expected = "error, warn, info or debug";
	if (l < 0)
		return l;
	c->log_level = (enum log_level)l;
	return 0;
}

static int parse_hostname(struct init_config *c, const char *v, const char **expected)
{
	*expected = "a host name of letters, digits and '-', at most 64 characters";
	if (!dnsconf_hostname_valid(v))
		return -EINVAL;
	snprintf(c->hostname, sizeof(c->hostname), "%s", v);
	return 0;
}

static bool module_name_valid(const char *s, size_t len)
{
	if (len == 0 || len >= CONFIG_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static int parse_modules(struct init_config *c, const char *v, const char **expected)
{
	char names[CONFIG_MODULES_MAX][CONFIG_NAME_MAX];
	size_t n;

	*expected = "module names separated by spaces or commas, at most 128";
	if (conf_split(v, names[0], sizeof(names[0]), CONFIG_MODULES_MAX, &n) < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!module_name_valid(names[i], strlen(names[i])))
			return -EINVAL;
		/* '-' and '_' are the same in module names (kmod's rule). */
		for (char *q = names[i]; *q; q++)
			if (*q == '-')
				*q = '_';
	}
	memcpy(c->modules, names, sizeof(names[0]) * n);
	c->n_modules = n;
	return 0;
}

static int parse_modalias(struct init_config *c, const char *v, const char **expected)
{
	*expected = "a boolean (1/0, yes/no, true/false, on/off)";
	return parse_bool(v, &c->modalias);
}

static void fmt_modalias(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%d", c->modalias);
}

static int parse_module_threads(struct init_config *c, const char *v, const char **expected)
{
	int64_t n;

	_Static_assert(COLDPLUG_THREADS_MAX == 4, "the message below names the bound");
	*expected = "0 (one per CPU) to 4";
	if (parse_int64(v, 0, COLDPLUG_THREADS_MAX, &n) < 0)
		return -EINVAL;
	c->module_threads = (unsigned)n;
	return 0;
}

static void fmt_module_threads(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%u", c->module_threads);
}

static int parse_rescue(struct init_config *c, const char *v, const char **expected)
{
	*expected = "a boolean (1/0, yes/no, true/false, on/off)";
	return parse_bool(v, &c->rescue);
}

static int parse_root_tmpfs(struct init_config *c, const char *v, const char **expected)
{
	*expected = "a boolean (1/0, yes/no, true/false, on/off)";
	return parse_bool(v, &c->root_tmpfs);
}

static int parse_shell(struct init_config *c, const char *v, const char **expected)
{
	*expected = "console or none";
	if (strcmp(v, "console") == 0)
		c->shell = SHELL_CONSOLE;
	else if (strcmp(v, "none") == 0)
		c->shell = SHELL_NONE;
	else
		return -EINVAL;
	return 0;
}

static int parse_stop_timeout(struct init_config *c, const char *v, const char **expected)
{
	int64_t n;
	int r;

	*expected = "seconds, 0 to 300";
	r = parse_int64(v, 0, 300, &n);
	if (r < 0)
		return -EINVAL;
	c->stop_timeout_s = (unsigned)n;
	return 0;
}

static int parse_nofile(struct init_config *c, const char *v, const char **expected)
{
	int64_t n;

	/* fs.nr_open is 1048576 by default: more cannot be set without raising it. */
	*expected = "a number of files, 1024 to 1048576";
	if (parse_int64(v, 1024, 1048576, &n) < 0)
		return -EINVAL;
	c->rlimit_nofile = (uint64_t)n;
	return 0;
}

/* The order is --check's order; the index is the origin slot. */
static const struct config_key keys[] = {
	{ "log", parse_log, fmt_log, "log level" },
	{ "hostname", parse_hostname, fmt_hostname, "host name" },
	{ "modules", parse_modules, fmt_modules,
	  "kernel modules to load at boot besides those the devices ask for" },
	{ "modalias", parse_modalias, fmt_modalias,
	  "load the modules the devices' modalias ask for, at boot and on hotplug" },
	{ "module_threads", parse_module_threads, fmt_module_threads,
	  "modules loaded at once at boot (0: one per CPU)" },
	{ "rescue", parse_rescue, fmt_rescue, "open a shell on the console when boot fails" },
	{ "shell", parse_shell, fmt_shell, "a shell on the console" },
	{ "stop_timeout", parse_stop_timeout, fmt_stop_timeout,
	  "seconds between TERM and KILL at shutdown" },
	{ "rlimit_nofile", parse_nofile, fmt_nofile,
	  "open files limit for everything init starts" },
	{ "root_tmpfs", parse_root_tmpfs, fmt_root_tmpfs,
	  "put an initramfs root on a mount pivot_root accepts" },
	{ "root_disk", parse_root_disk, fmt_root_disk,
	  "the root on the read-only disk of this virtio serial, under a tmpfs overlay" },
	{ "agent", parse_agent, fmt_agent, "start the porthole-agent service (" AGENT_PATH ")" },
};

_Static_assert(ARRAY_SIZE(keys) <= ARRAY_SIZE(((struct init_config *)0)->origin),
	       "origin[] too small for the key table");

void config_defaults(struct init_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = LOG_LEVEL_INFO;
	snprintf(c->hostname, sizeof(c->hostname), "porthole");
	c->shell = SHELL_NONE;
	c->stop_timeout_s = 10;
	c->rlimit_nofile = 1048576;
	c->root_tmpfs = true;
	c->modalias = true;
	c->module_threads = 1;
	c->agent = true;
	net_config_defaults(&c->net);
	storage_defaults(&c->storage);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		snprintf(c->origin[i], sizeof(c->origin[i]), "default");
}

/* net.* keys: the network's table (net-config.c). Returns false when KEY is
 * not one. */
static bool net_set(struct init_config *c, const char *key, const char *value, bool append,
		    const char *where)
{
	const char *expected = "";
	int r;

	if (strncmp(key, "net.", 4) != 0)
		return false;
	r = net_config_set(&c->net, key + 4, value, append, where, &expected);
	if (r == -ENOENT)
		return false;
	if (r < 0) {
		log_error("%s: %s: invalid value '%s' (expected %s)", where, key, value, expected);
		c->n_errors++;
	} else if (strcmp(key, "net.ip") == 0 && c->net.ip_hostname[0]) {
		/* ip='s <hostname> field */
		snprintf(c->hostname, sizeof(c->hostname), "%s", c->net.ip_hostname);
		snprintf(c->origin[1], sizeof(c->origin[1]), "%s", where);
	}
	return true;
}

/* The storage keys (storage.c). Returns false when KEY is not one. */
static bool storage_set(struct init_config *c, const char *key, const char *value, bool append,
			const char *where)
{
	const char *expected = "";
	int r = storage_config_set(&c->storage, key, value, append, &expected);

	if (r == -ENOENT)
		return false;
	if (r < 0) {
		log_error("%s: %s: invalid value '%s' (expected %s)", where, key, value, expected);
		c->n_errors++;
	}
	return true;
}

void config_set(struct init_config *c, const char *key, const char *value, const char *where)
{
	if (net_set(c, key, value, false, where) || storage_set(c, key, value, false, where))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *expected = "";

		if (strcmp(key, keys[i].name) != 0)
			continue;
		if (keys[i].parse(c, value, &expected) < 0) {
			log_error("%s: %s: invalid value '%s' (expected %s), keeping %s", where,
				  key, value, expected, c->origin[i]);
			c->n_errors++;
			return;
		}
		snprintf(c->origin[i], sizeof(c->origin[i]), "%s", where);
		return;
	}
	log_warn("%s: unknown key '%s', ignoring", where, key);
	c->n_warnings++;
}

void config_append(struct init_config *c, const char *key, const char *value, const char *where)
{
	struct init_config tmp;

	if (net_set(c, key, value, true, where))
		return;
	if (strcmp(key, "shares") == 0) {
		storage_set(c, key, value, true, where);
		return;
	}
	if (strcmp(key, "modules") != 0) {
		log_error("%s: %s: takes one line (an indented line continues a list)", where, key);
		c->n_errors++;
		return;
	}
	/* Parse the continuation alone, then append it: a bad line changes nothing. */
	memcpy(&tmp, c, sizeof(tmp));
	config_set(&tmp, key, value, where);
	if (tmp.n_errors != c->n_errors) {
		c->n_errors = tmp.n_errors;
		return;
	}
	if (c->n_modules + tmp.n_modules > CONFIG_MODULES_MAX) {
		log_error("%s: %s: more than %d modules", where, key, CONFIG_MODULES_MAX);
		c->n_errors++;
		return;
	}
	memcpy(c->modules[c->n_modules], tmp.modules, sizeof(tmp.modules[0]) * tmp.n_modules);
	c->n_modules += tmp.n_modules;
}

/* Keys of the other parts (the agent's "agent.*", later the network's):
 * theirs to check, not init's. */
static bool foreign_key(const char *key)
{
	static const char *const prefixes[] = { "agent." };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static void config_entry(void *user, const char *key, const char *value, const char *where,
			 bool continuation)
{
	struct init_config *c = user;

	if (foreign_key(key))
		return;
	if (continuation)
		config_append(c, key, value, where);
	else
		config_set(c, key, value, where);
}

/* A line lib/conf refused: said, and the boot goes on with the others. */
static void config_refused(void *user, const char *name, unsigned line, const char *why)
{
	(void)user;
	if (line)
		log_error("%s:%u: %s, line ignored", name, line, why);
	else
		log_error("%s: %s", name, why);
}

void config_parse_ini(struct init_config *c, const char *text, const char *name)
{
	c->n_errors += conf_parse_ini(text, name, config_entry, config_refused, c);
}

int config_load_file(struct init_config *c, const char *path)
{
	unsigned errors = conf_load_file(path, config_entry, config_refused, c);

	c->n_errors += errors;
	return errors ? -EINVAL : 0;
}

void config_parse_cmdline(struct init_config *c, const char *cmdline)
{
	char word[CONF_CMDLINE_MAX];
	const char *p = cmdline;

	/* The kernel's own ip= first (nfsroot.rst), so that porthole.net.*
	 * overrides it. The kernel does not act on it: CONFIG_IP_PNP is off in
	 * Debian's kernel. */
	while (conf_cmdline_next(&p, word, sizeof(word))) {
		if (strcmp(word, "--") == 0)
			break;
		if (strncmp(word, "ip=", 3) == 0)
			config_set(c, "net.ip", word + 3, "kernel command line");
	}
	conf_parse_cmdline(cmdline, config_entry, c);
}

void config_dump(const struct init_config *c, int fd)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char value[CONFIG_MODULES_MAX * CONFIG_NAME_MAX];

		keys[i].format(c, value, sizeof(value));
		dprintf(fd, "%-14s = %-30s # %s (%s)\n", keys[i].name, value, keys[i].doc,
			c->origin[i]);
	}
	net_config_dump(&c->net, fd);
	storage_dump(&c->storage, fd);
}
