/* Parsing of /proc/meminfo, /proc/pressure and cgroup v2's flat keyed
 * files, for whoever read them (procinfo.h). */
#include "procinfo.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* memory.stat is about 1.5 KiB on 6.1 */
#define CGROUP_FILE_MAX 8192

/* The next line after L, or NULL at the end. */
static const char *next_line(const char *l)
{
	const char *nl = strchr(l, '\n');

	return nl && nl[1] ? nl + 1 : NULL;
}

long long procinfo_meminfo(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *l = text; l && *l; l = next_line(l)) {
		long long kb;

		if (strncmp(l, key, klen) == 0 && l[klen] == ':' &&
		    sscanf(l + klen + 1, "%lld", &kb) == 1 && kb >= 0)
			return kb * 1024;
	}
	return -1;
}

double procinfo_psi_avg10(const char *text, const char *kind)
{
	size_t klen = strlen(kind);

	for (const char *l = text; l && *l; l = next_line(l)) {
		double v;

		if (strncmp(l, kind, klen) == 0 && l[klen] == ' ' &&
		    sscanf(l + klen, " avg10=%lf", &v) == 1)
			return v;
	}
	return -1;
}

long long procinfo_keyed(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *l = text; l && *l; l = next_line(l)) {
		long long v;

		if (strncmp(l, key, klen) == 0 && l[klen] == ' ' &&
		    sscanf(l + klen + 1, "%lld", &v) == 1 && v >= 0)
			return v;
	}
	return -1;
}

int64_t procinfo_cgroup_number(const char *dir, const char *file)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	int64_t v;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -ENAMETOOLONG;
	r = read_file(path, 64, &text, NULL);
	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = '\0';
	if (strcmp(text, "max") == 0)
		return -1;
	return parse_int64(text, 0, INT64_MAX, &v) < 0 ? -EBADMSG : v;
}

int64_t procinfo_cgroup_keyed(const char *dir, const char *file, const char *key)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path) ||
	    read_file(path, CGROUP_FILE_MAX, &text, NULL) < 0)
		return -1;
	return procinfo_keyed(text, key);
}
