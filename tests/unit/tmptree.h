/* tests/unit/tmptree.h: a unit test's scratch tree under /tmp (a fake sysfs,
 * a configuration directory): made with a name of the test's, filled a file
 * at a time, and removed whole, without a shell, links not followed. Include
 * after cmocka.h. */
#ifndef PORTHOLE_TEST_TMPTREE_H
#define PORTHOLE_TEST_TMPTREE_H

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Makes /tmp/NAME.XXXXXX into ROOT (SIZE bytes). */
static inline void tmptree_new(char *root, size_t size, const char *name)
{
	snprintf(root, size, "/tmp/%s.XXXXXX", name);
	assert_non_null(mkdtemp(root));
}

/* ROOT/REL with TEXT, and the directories along the way; with TEXT NULL,
 * only the directories (REL's last part included). */
static inline void tmptree_put(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) < sizeof(path));
	for (char *slash = strchr(path + strlen(root) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		(void)mkdir(path, 0755);
		*slash = '/';
	}
	if (!text) {
		(void)mkdir(path, 0755);
		return;
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static inline int tmptree_remove_one(const char *path, const struct stat *st, int flag,
				     struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes ROOT and everything in it: 0, or -1 with errno. */
static inline int tmptree_remove(const char *root)
{
	return nftw(root, tmptree_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
