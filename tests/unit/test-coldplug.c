/* init/coldplug.c: the modalias walk against a fake sysfs tree in a temp
 * dir (aliases at several depths, duplicates, links not followed, entries
 * that cannot be read), the alias set's bound, and the uevent parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "coldplug.h"
#include "log.h"
#include "tmptree.h"

static char root[PATH_MAX];

static void put(const char *rel, const char *text)
{
	tmptree_put(root, rel, text);
}

static int setup(void **state)
{
	(void)state;
	tmptree_new(root, sizeof(root), "test-coldplug");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(tmptree_remove(root), 0);
	return 0;
}

static bool has(const struct coldplug_aliases *set, const char *alias)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i], alias) == 0)
			return true;
	return false;
}

static void test_aliases_at_every_depth_once(void **state)
{
	struct coldplug_aliases set = { 0 };

	(void)state;
	/* a PCI function, the virtio device below it, an input device deeper,
	 * two CPUs with the same alias; files beside modalias are not read */
	put("pci0000:00/0000:00:02.0/modalias",
	    "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00\n");
	put("pci0000:00/0000:00:02.0/vendor", "0x1af4\n");
	put("pci0000:00/0000:00:02.0/virtio0/modalias", "virtio:d00000001v00001AF4\n");
	put("LNXSYSTM:00/LNXPWRBN:00/modalias", "acpi:LNXPWRBN:\n");
	put("LNXSYSTM:00/LNXPWRBN:00/input/input0/modalias",
	    "input:b0019v0000p0001e0000-e0,1,k74,ramlsfw\n");
	put("system/cpu/cpu0/modalias", "cpu:type:x86,ven0000fam0006mod003F:feature:,0000\n");
	put("system/cpu/cpu1/modalias", "cpu:type:x86,ven0000fam0006mod003F:feature:,0000\n");
	put("virtual/net/lo/", NULL);
	/* power/ holds a device's PM attributes: not walked */
	put("pci0000:00/0000:00:02.0/power/modalias", "power:not-a-device");
	assert_int_equal(coldplug_scan(root, &set), 5);
	assert_false(has(&set, "power:not-a-device"));
	assert_int_equal(set.n, 5);
	assert_true(has(&set, "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00"));
	assert_true(has(&set, "virtio:d00000001v00001AF4"));
	assert_true(has(&set, "acpi:LNXPWRBN:"));
	assert_true(has(&set, "input:b0019v0000p0001e0000-e0,1,k74,ramlsfw"));
	assert_true(has(&set, "cpu:type:x86,ven0000fam0006mod003F:feature:,0000"));

	/* a second walk finds only what is new: the round's loop ends on it */
	assert_int_equal(coldplug_scan(root, &set), 0);
	put("pci0000:00/0000:00:02.0/virtio0/../virtio1/modalias", "virtio:d00000002v00001AF4");
	assert_int_equal(coldplug_scan(root, &set), 1);
	assert_string_equal(set.v[5], "virtio:d00000002v00001AF4");
	coldplug_aliases_free(&set);
}

static void test_links_not_followed(void **state)
{
	struct coldplug_aliases set = { 0 };
	char target[PATH_MAX + 16], link[PATH_MAX + 32];

	(void)state;
	/* sysfs's "subsystem" and "driver" links lead back up: a walk that
	 * followed them would loop or see outside the tree */
	put("outside/modalias", "platform:outside");
	put("tree/dev0/modalias", "platform:dev0");
	snprintf(target, sizeof(target), "%s/outside", root);
	snprintf(link, sizeof(link), "%s/tree/dev0/subsystem", root);
	assert_int_equal(symlink(target, link), 0);
	snprintf(target, sizeof(target), "%s/tree", root);
	snprintf(link, sizeof(link), "%s/tree/dev0/loop", root);
	assert_int_equal(symlink(target, link), 0);
	snprintf(link, sizeof(link), "%s/tree", root);
	assert_int_equal(coldplug_scan(link, &set), 1);
	assert_true(has(&set, "platform:dev0"));
	assert_false(has(&set, "platform:outside"));
	coldplug_aliases_free(&set);
}

static void test_bad_entries_skipped(void **state)
{
	struct coldplug_aliases set = { 0 };
	char path[PATH_MAX + 32], *big;

	(void)state;
	put("good/modalias", "virtio:d00000003v00001AF4\n");
	/* a modalias that is a link (not followed), a FIFO (would block a
	 * reader without O_NONBLOCK), a directory (walked, not read), empty,
	 * longer than a page, with a control character */
	put("link/", NULL);
	snprintf(path, sizeof(path), "%s/link/modalias", root);
	assert_int_equal(symlink("../good/modalias", path), 0);
	put("fifo/", NULL);
	snprintf(path, sizeof(path), "%s/fifo/modalias", root);
	assert_int_equal(mkfifo(path, 0644), 0);
	put("dir/modalias/inner/modalias", "virtio:d00000004v00001AF4");
	put("empty/modalias", "\n");
	big = malloc(COLDPLUG_ALIAS_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', COLDPLUG_ALIAS_MAX + 1);
	big[COLDPLUG_ALIAS_MAX + 1] = '\0';
	put("big/modalias", big);
	free(big);
	put("ctrl/modalias", "virtio:\x1b[2Jd5");
	/* root reads a mode-000 file all the same; without CAP_DAC_OVERRIDE
	 * this one is unreadable too */
	put("noperm/modalias", "virtio:d00000006v00001AF4");
	snprintf(path, sizeof(path), "%s/noperm/modalias", root);
	assert_int_equal(chmod(path, 0), 0);

	assert_true(coldplug_scan(root, &set) >= 2);
	assert_true(has(&set, "virtio:d00000003v00001AF4"));
	assert_true(has(&set, "virtio:d00000004v00001AF4"));
	for (size_t i = 0; i < set.n; i++) {
		assert_true(strlen(set.v[i]) > 0);
		assert_true(strlen(set.v[i]) <= COLDPLUG_ALIAS_MAX);
		assert_null(strchr(set.v[i], '\x1b'));
	}
	/* only the link's alias came from the good one: counted once */
	assert_true(set.n == 2 || (set.n == 3 && has(&set, "virtio:d00000006v00001AF4")));
	coldplug_aliases_free(&set);
}

static void test_alias_exactly_a_page(void **state)
{
	struct coldplug_aliases set = { 0 };
	char *page = malloc(COLDPLUG_ALIAS_MAX + 2);

	(void)state;
	assert_non_null(page);
	/* a page of text and its newline: the longest sysfs can give */
	memset(page, 'b', COLDPLUG_ALIAS_MAX);
	page[COLDPLUG_ALIAS_MAX] = '\n';
	page[COLDPLUG_ALIAS_MAX + 1] = '\0';
	put("page/modalias", page);
	assert_int_equal(coldplug_scan(root, &set), 1);
	assert_int_equal(strlen(set.v[0]), COLDPLUG_ALIAS_MAX);
	free(page);
	coldplug_aliases_free(&set);
}

static void test_missing_root(void **state)
{
	struct coldplug_aliases set = { 0 };
	char path[PATH_MAX + 16];

	(void)state;
	snprintf(path, sizeof(path), "%s/nowhere", root);
	assert_int_equal(coldplug_scan(path, &set), -ENOENT);
	assert_int_equal(set.n, 0);
}

static void test_depth_bounded(void **state)
{
	struct coldplug_aliases set = { 0 };
	char rel[PATH_MAX];
	size_t len = 0;

	(void)state;
	/* an alias just within the bound is found, one past it is not */
	for (int i = 0; i < COLDPLUG_DEPTH_MAX + 2; i++) {
		len += (size_t)snprintf(rel + len, sizeof(rel) - len, "d/");
		if (i == COLDPLUG_DEPTH_MAX - 1) {
			char file[PATH_MAX + 16];

			snprintf(file, sizeof(file), "%smodalias", rel);
			put(file, "deep:within");
		}
		if (i == COLDPLUG_DEPTH_MAX) {
			char file[PATH_MAX + 16];

			snprintf(file, sizeof(file), "%smodalias", rel);
			put(file, "deep:past");
		}
	}
	assert_int_equal(coldplug_scan(root, &set), 1);
	assert_true(has(&set, "deep:within"));
	assert_false(has(&set, "deep:past"));
	coldplug_aliases_free(&set);
}

static void test_set_bounded(void **state)
{
	struct coldplug_aliases *set = calloc(1, sizeof(*set));
	char alias[32];

	(void)state;
	assert_non_null(set);
	for (int i = 0; i < COLDPLUG_ALIASES_MAX; i++) {
		snprintf(alias, sizeof(alias), "a:%d", i);
		assert_int_equal(coldplug_aliases_add(set, alias), 1);
	}
	assert_int_equal(coldplug_aliases_add(set, "a:0"), 0);
	assert_int_equal(coldplug_aliases_add(set, "a:new"), -E2BIG);
	assert_int_equal(set->n, COLDPLUG_ALIASES_MAX);
	assert_int_equal(set->n_dropped, 1);
	coldplug_aliases_free(set);
	free(set);
}

static void test_uevent_modalias(void **state)
{
	static const char add[] =
		"add@/devices/pci0000:00/0000:00:05.0/virtio3\0"
		"ACTION=add\0DEVPATH=/devices/pci0000:00/0000:00:05.0/virtio3\0"
		"SUBSYSTEM=virtio\0MODALIAS=virtio:d00000001v00001AF4\0SEQNUM=812";
	static const char bind[] = "bind@/devices/x\0ACTION=bind\0MODALIAS=virtio:d1\0";
	static const char none[] = "add@/devices/virtual/net/lo\0ACTION=add\0SUBSYSTEM=net\0";
	static const char empty[] = "add@/x\0ACTION=add\0MODALIAS=\0";
	/* the last string without its NUL (a message cut short): not read */
	static const char cut[] = { 'A', 'C', 'T', 'I', 'O', 'N', '=', 'a', 'd', 'd', '\0',
				    'M', 'O', 'D', 'A', 'L', 'I', 'A', 'S', '=', 'x' };
	const char *a;
	uint64_t seq;

	(void)state;
	/* a message ends with its last string's NUL: sizeof counts the
	 * literal's own, sizeof - 1 leaves it out where "\0" ends it already */
	a = coldplug_uevent_modalias(add, sizeof(add), &seq);
	assert_non_null(a);
	assert_string_equal(a, "virtio:d00000001v00001AF4");
	assert_int_equal(seq, 812);
	assert_null(coldplug_uevent_modalias(bind, sizeof(bind) - 1, &seq));
	assert_null(coldplug_uevent_modalias(none, sizeof(none) - 1, &seq));
	assert_null(coldplug_uevent_modalias(empty, sizeof(empty) - 1, &seq));
	assert_null(coldplug_uevent_modalias(cut, sizeof(cut), &seq));
	assert_int_equal(seq, 0);
	/* SEQNUM= cut off: the alias stands, its number is unknown */
	a = coldplug_uevent_modalias(add, sizeof(add) - sizeof("SEQNUM=812"), &seq);
	assert_non_null(a);
	assert_int_equal(seq, 0);
	assert_null(coldplug_uevent_modalias(add, 0, &seq));
}

/* a thread per CPU for the boot's rounds, one at least, a few at most */
static void test_threads(void **state)
{
	(void)state;
	assert_int_equal(coldplug_threads(0), 1);
	assert_int_equal(coldplug_threads(1), 1);
	assert_int_equal(coldplug_threads(2), 2);
	assert_int_equal(coldplug_threads(COLDPLUG_THREADS_MAX), COLDPLUG_THREADS_MAX);
	assert_int_equal(coldplug_threads(256), COLDPLUG_THREADS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_aliases_at_every_depth_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_not_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_entries_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_exactly_a_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth_bounded, setup, teardown),
		cmocka_unit_test(test_set_bounded),
		cmocka_unit_test(test_uevent_modalias),
		cmocka_unit_test(test_threads),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
