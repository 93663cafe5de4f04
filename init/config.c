/* init's configuration: a table of keys, each with a parser that validates its
 * value. INI files are read with inih; the kernel command line by hand, since
 * its quoting rules are the kernel's own (lib/cmdline.c in the kernel). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

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

static void fmt_root_tmpfs(const struct init_config *c, char *buf, size_t size)
{
	snprintf(buf, size, "%d", c->root_tmpfs);
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
	if (!config_hostname_valid(v))
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
	size_t n = 0;

	*expected = "module names separated by spaces or commas, at most 128";
	for (const char *p = v; *p;) {
		size_t len;

		p += strspn(p, " ,\t");
		len = strcspn(p, " ,\t");
		if (len == 0)
			break;
		if (!module_name_valid(p, len) || n == CONFIG_MODULES_MAX)
			return -EINVAL;
		memcpy(names[n], p, len);
		names[n][len] = '\0';
		/* '-' and '_' are the same in module names (kmod's rule). */
		for (char *q = names[n]; *q; q++)
			if (*q == '-')
				*q = '_';
		n++;
		p += len;
	}
	memcpy(c->modules, names, sizeof(names[0]) * n);
	c->n_modules = n;
	return 0;
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
	{ "modules", parse_modules, fmt_modules, "kernel modules to load at boot" },
	{ "rescue", parse_rescue, fmt_rescue, "open a shell on the console when boot fails" },
	{ "shell", parse_shell, fmt_shell, "a shell on the console" },
	{ "stop_timeout", parse_stop_timeout, fmt_stop_timeout,
	  "seconds between TERM and KILL at shutdown" },
	{ "rlimit_nofile", parse_nofile, fmt_nofile,
	  "open files limit for everything init starts" },
	{ "root_tmpfs", parse_root_tmpfs, fmt_root_tmpfs, "move an initramfs root onto a tmpfs" },
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
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		snprintf(c->origin[i], sizeof(c->origin[i]), "default");
}

bool config_hostname_valid(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > CONFIG_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)ch) && ch != '-')
			return false;
		if (ch == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[len - 1] != '-';
}

void config_set(struct init_config *c, const char *key, const char *value, const char *where)
{
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

/* inih gives the handler no line number unless built with INI_HANDLER_LINENO,
 * which Debian's is not; a reader that counts the lines it hands out does. */
struct ini_source {
	struct init_config *config;
	const char *name;
	const char *pos;
	unsigned line;
	bool continuation; /* the line starts with white space */
};

static char *config_ini_read_line(char *str, int num, void *stream)
{
	struct ini_source *src = stream;
	size_t len;

	if (!*src->pos || num < 3)
		return NULL;
	len = strcspn(src->pos, "\n");
	src->line++;
	src->continuation = src->pos[0] == ' ' || src->pos[0] == '\t';
	if (len > (size_t)num - 2) {
		/* inih would cut the line and read the rest as another: refuse it
		 * whole, and hand inih a comment in its place. */
		log_error("%s:%u: line longer than %d bytes, ignored (a list can go on over "
			  "indented lines)",
			  src->name, src->line, num - 2);
		src->config->n_errors++;
		snprintf(str, (size_t)num, ";\n");
	} else {
		memcpy(str, src->pos, len);
		str[len] = '\n';
		str[len + 1] = '\0';
	}
	src->pos += len;
	if (*src->pos == '\n')
		src->pos++;
	return str;
}

static int config_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct ini_source *src = user;
	char where[48], key[2 * CONFIG_NAME_MAX + 2];

	snprintf(where, sizeof(where), "%s:%u", src->name, src->line);
	if (!name) /* a section header alone */
		return 1;
	if (!*section || strcmp(section, "init") == 0)
		snprintf(key, sizeof(key), "%s", name);
	else
		snprintf(key, sizeof(key), "%s.%s", section, name);
	if (src->continuation)
		config_append(src->config, key, value ? value : "", where);
	else
		config_set(src->config, key, value ? value : "", where);
	return 1; /* keep going: one bad line must not hide the others */
}

void config_parse_ini(struct init_config *c, const char *text, const char *name)
{
	struct ini_source src = { .config = c, .name = name, .pos = text, .line = 0 };
	int r;

	r = ini_parse_stream(config_ini_read_line, &src, config_ini_entry, &src);
	if (r > 0) {
		/* inih stops at nothing; it reports the first line it could not parse. */
		log_error("%s:%d: syntax error (expected 'key = value' or '[section]'), "
			  "line ignored",
			  name, r);
		c->n_errors++;
	} else if (r < 0) {
		log_error("%s: could not be parsed (out of memory)", name);
		c->n_errors++;
	}
}

int config_load_file(struct init_config *c, const char *path)
{
	_cleanup_free_ char *text = NULL;
	const char *base = strrchr(path, '/');
	int r;

	r = read_file(path, CONFIG_FILE_MAX, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (r == -EFBIG) {
		log_error("%s: larger than %d KiB, not read", path, CONFIG_FILE_MAX / 1024);
		c->n_errors++;
		return r;
	}
	if (r < 0) {
		c->n_errors++;
		return log_error_errno(r, "read %s", path);
	}
	config_parse_ini(c, text, base ? base + 1 : path);
	return 0;
}

bool config_cmdline_next(const char **p, char *buf, size_t size)
{
	const char *s = *p;
	bool quoted = false;
	size_t n = 0;

	while (*s && isspace((unsigned char)*s))
		s++;
	if (!*s)
		return false;
	/* The kernel's next_arg(): a '"' toggles quoting anywhere in a word and is
	 * dropped; whitespace ends the word only outside quotes. */
	for (; *s; s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (!quoted && isspace((unsigned char)*s))
			break;
		if (n + 1 < size)
			buf[n++] = *s;
	}
	buf[n] = '\0';
	*p = s;
	return true;
}

void config_parse_cmdline(struct init_config *c, const char *cmdline)
{
	static const char prefix[] = "porthole.";
	char word[CONFIG_CMDLINE_MAX];
	const char *p = cmdline;

	while (config_cmdline_next(&p, word, sizeof(word))) {
		char *eq;

		if (strcmp(word, "--") == 0)
			break;
		if (strncmp(word, prefix, sizeof(prefix) - 1) != 0)
			continue;
		eq = strchr(word, '=');
		if (eq)
			*eq = '\0';
		/* A bare "porthole.rescue" means "porthole.rescue=1". */
		config_set(c, word + sizeof(prefix) - 1, eq ? eq + 1 : "1", "kernel command line");
	}
}

void config_dump(const struct init_config *c, int fd)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char value[CONFIG_MODULES_MAX * CONFIG_NAME_MAX];

		keys[i].format(c, value, sizeof(value));
		dprintf(fd, "%-14s = %-30s # %s (%s)\n", keys[i].name, value, keys[i].doc,
			c->origin[i]);
	}
}
