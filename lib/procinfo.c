/* Parsing of /proc/meminfo, /proc/pressure and cgroup v2's flat keyed
 * files, for whoever read them (procinfo.h). */
#include "procinfo.h"

#include <stdio.h>
#include <string.h>

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
