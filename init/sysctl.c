/* sysctl.conf: "key = value" lines, '#' and ';' comments, '-' before a key
 * whose failure is not an error (sysctl.d(5)); a value for a module that is
 * not loaded (net.bridge.*) is the usual case for that. */
#include "sysctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define SYSCTL_FILE_MAX (64 * 1024)

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int sysctl_parse_line(const char *line, char key[SYSCTL_KEY_MAX], char value[SYSCTL_VALUE_MAX],
		      bool *ignore_failure)
{
	char buf[SYSCTL_KEY_MAX + SYSCTL_VALUE_MAX + 8], *k, *v, *eq;

	if (strlen(line) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", line);
	k = trim(buf);
	if (*k == '\0' || *k == '#' || *k == ';')
		return 1;
	eq = strchr(k, '=');
	if (!eq)
		return -EINVAL;
	*eq = '\0';
	v = trim(eq + 1);
	k = trim(k);
	*ignore_failure = *k == '-';
	if (*k == '-')
		k++;
	if (*k == '\0' || strlen(k) >= SYSCTL_KEY_MAX || strlen(v) >= SYSCTL_VALUE_MAX)
		return -EINVAL;
	snprintf(key, SYSCTL_KEY_MAX, "%s", k);
	snprintf(value, SYSCTL_VALUE_MAX, "%s", v);
	return 0;
}

int sysctl_path(const char *key, char *buf, size_t size)
{
	size_t sep = strcspn(key, "./");
	bool slashes = key[sep] == '/';
	size_t n;

	if (*key == '\0' || *key == '.' || *key == '/' || strstr(key, ".."))
		return -EINVAL;
	for (const char *p = key; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-/:@+", *p))
			return -EINVAL;
	n = (size_t)snprintf(buf, size, "/proc/sys/%s", key);
	if (n >= size)
		return -ENAMETOOLONG;
	/* sysctl.d(5): when the first separator is '/', dots stay (they are
	 * part of names like eth0.100); else dots are the separators */
	if (!slashes)
		for (char *p = buf + 10; *p; p++)
			if (*p == '.')
				*p = '/';
	return 0;
}

int sysctl_write(const char *key, const char *value)
{
	char path[SYSCTL_KEY_MAX + 16], v[SYSCTL_VALUE_MAX + 2];
	int r = sysctl_path(key, path, sizeof(path));

	if (r < 0)
		return r;
	snprintf(v, sizeof(v), "%s\n", value);
	return write_file(path, v);
}

unsigned sysctl_apply_file(const char *path, bool sandbox)
{
	_cleanup_free_ char *text = NULL;
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	unsigned failed = 0, line_no = 0, applied = 0;
	char *p, *save = NULL;
	int r;

	r = read_file(path, SYSCTL_FILE_MAX, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		log_error_errno(r, "%s", path);
		return 1;
	}
	for (p = text; p && *p; p = save) {
		char key[SYSCTL_KEY_MAX], value[SYSCTL_VALUE_MAX];
		char *nl = strchr(p, '\n');
		bool quiet = false;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		line_no++;
		r = sysctl_parse_line(p, key, value, &quiet);
		if (r == 1)
			continue;
		if (r < 0) {
			log_error("%s:%u: not 'key = value', ignoring", name, line_no);
			failed++;
			continue;
		}
		/* in a sandbox only the network namespace is init's own */
		if (sandbox && strncmp(key, "net.", 4) != 0 && strncmp(key, "net/", 4) != 0) {
			log_debug("%s:%u: %s: not set in a sandbox (the host's)", name, line_no,
				  key);
			continue;
		}
		r = sysctl_write(key, value);
		if (r < 0 && quiet) {
			log_debug("%s:%u: %s = %s: %s, ignoring ('-')", name, line_no, key, value,
				  strerror(-r));
		} else if (r < 0) {
			log_error("%s:%u: %s = %s: %s", name, line_no, key, value, strerror(-r));
			failed++;
		} else {
			applied++;
		}
	}
	log_debug("%s: %u set, %u failed", name, applied, failed);
	return failed;
}
