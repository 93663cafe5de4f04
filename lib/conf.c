/* INI through inih, with line numbers, and the kernel command line by hand,
 * since its quoting rules are the kernel's own (lib/cmdline.c there). */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* inih gives the handler no line number unless built with INI_HANDLER_LINENO,
 * which Debian's is not; a reader that counts the lines it hands out does. */
struct ini_source {
	conf_fn fn;
	void *user;
	const char *name;
	const char *pos;
	unsigned line;
	unsigned errors;
	bool continuation; /* the line starts with white space */
	char last_key[CONF_KEY_MAX]; /* the key the previous entry was for */
	conf_error_fn on_error;
};

static void conf_refuse(struct ini_source *src, unsigned line, const char *why)
{
	src->errors++;
	if (src->on_error)
		src->on_error(src->user, src->name, line, why);
}

static char *conf_read_line(char *str, int num, void *stream)
{
	struct ini_source *src = stream;
	size_t len;

	if (!*src->pos || num < 3)
		return NULL;
	len = strcspn(src->pos, "\n");
	src->line++;
	src->continuation = src->pos[0] == ' ' || src->pos[0] == '\t';
	if (len > (size_t)num - 2) {
		char why[96];

		/* inih would cut the line and read the rest as another: refuse it
		 * whole, and hand inih a comment in its place. */
		snprintf(why, sizeof(why),
			 "line longer than %d bytes (a list can go on over indented lines)",
			 num - 2);
		conf_refuse(src, src->line, why);
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

static int conf_entry(void *user, const char *section, const char *name, const char *value)
{
	struct ini_source *src = user;
	char where[48], key[CONF_KEY_MAX];
	bool cont;

	snprintf(where, sizeof(where), "%s:%u", src->name, src->line);
	if (!name) /* a section header alone */
		return 1;
	if (!*section || strcmp(section, "init") == 0)
		snprintf(key, sizeof(key), "%s", name);
	else
		snprintf(key, sizeof(key), "%s.%s", section, name);
	/* inih reads an indented line after a key as more of that key's value,
	 * but as a key of its own where there is none before it in its
	 * section: only the first is a continuation */
	cont = src->continuation && strcmp(key, src->last_key) == 0;
	snprintf(src->last_key, sizeof(src->last_key), "%s", key);
	src->fn(src->user, key, value ? value : "", where, cont);
	return 1; /* keep going: one bad line must not hide the others */
}

static unsigned conf_parse(struct ini_source *src, const char *text)
{
	int r;

	src->pos = text;
	r = ini_parse_stream(conf_read_line, src, conf_entry, src);
	/* inih goes on after a bad line; it reports the first one. */
	if (r > 0)
		conf_refuse(src, (unsigned)r,
			    "syntax error (expected 'key = value' or '[section]')");
	else if (r < 0)
		conf_refuse(src, 0, "could not be parsed (out of memory)");
	return src->errors;
}

unsigned conf_parse_ini(const char *text, const char *name, conf_fn fn, conf_error_fn on_error,
			void *user)
{
	struct ini_source src = { .fn = fn, .user = user, .name = name, .on_error = on_error };

	return conf_parse(&src, text);
}

unsigned conf_load_file(const char *path, conf_fn fn, conf_error_fn on_error, void *user)
{
	_cleanup_free_ char *text = NULL;
	const char *base = strrchr(path, '/');
	char why[96];
	int r;

	r = read_file(path, CONF_FILE_MAX, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		if (r == -EFBIG)
			snprintf(why, sizeof(why), "larger than %d KiB, not read",
				 CONF_FILE_MAX / 1024);
		else
			snprintf(why, sizeof(why), "not read: %s", strerror(-r));
		if (on_error)
			on_error(user, path, 0, why);
		return 1;
	}
	return conf_parse_ini(text, base ? base + 1 : path, fn, on_error, user);
}

int conf_split(const char *v, char *out, size_t width, size_t max, size_t *ret_n)
{
	size_t n = 0;

	for (const char *p = v; *p;) {
		size_t len;

		p += strspn(p, " ,\t");
		len = strcspn(p, " ,\t");
		if (len == 0)
			break;
		if (n == max || len >= width)
			return -E2BIG;
		memcpy(out + n * width, p, len);
		out[n * width + len] = '\0';
		n++;
		p += len;
	}
	*ret_n = n;
	return 0;
}

bool conf_cmdline_next(const char **p, char *buf, size_t size)
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

void conf_parse_cmdline(const char *cmdline, conf_fn fn, void *user)
{
	static const char prefix[] = "porthole.";
	char word[CONF_CMDLINE_MAX];
	const char *p = cmdline;

	while (conf_cmdline_next(&p, word, sizeof(word))) {
		char *eq;

		if (strcmp(word, "--") == 0)
			break;
		if (strncmp(word, prefix, sizeof(prefix) - 1) != 0)
			continue;
		eq = strchr(word, '=');
		if (eq)
			*eq = '\0';
		/* A bare "porthole.rescue" means "porthole.rescue=1". */
		fn(user, word + sizeof(prefix) - 1, eq ? eq + 1 : "1", "kernel command line",
		   false);
	}
}
