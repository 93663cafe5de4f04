/* lib/sharemount.c: paths, share specs and options, the tags read from a
 * sysfs tree, the allowed-roots check on a real directory tree with
 * symbolic links, and the mount table lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sharemount.h"
#include "tmptree.h"
#include "util.h"
#include "probe.h"

static char tmp[256];

/* Why the tree cannot be one share_resolve trusts; "" when it is. */
static char untrusted[256];

/* share_resolve walks only through directories that root owns and no one
 * else may write, / included: /tmp (1777) is not one. The tree goes where
 * such a chain leads, when this machine has one and the test runs as root. */
static const char *trusted_base(void)
{
	static const char *const candidates[] = { "/run", "/var/lib", "/root" };

	if (geteuid() != 0) {
		snprintf(untrusted, sizeof(untrusted), "not root: the tree cannot be root's");
		return "/tmp";
	}
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		char p[256];
		struct stat st;
		bool ok = true;

		snprintf(p, sizeof(p), "%s", candidates[i]);
		for (char *slash = p + strlen(p); ok; slash = strrchr(p, '/')) {
			*slash = '\0';
			ok = stat(p[0] ? p : "/", &st) == 0 && st.st_uid == 0 &&
			     !(st.st_mode & (S_IWGRP | S_IWOTH));
			if (!p[0])
				break;
		}
		if (ok && access(candidates[i], W_OK) == 0 && stat(candidates[i], &st) == 0 &&
		    st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH))) {
			untrusted[0] = '\0';
			return candidates[i];
		}
	}
	snprintf(untrusted, sizeof(untrusted),
		 "none of /run, /var/lib, /root is reached through root-only directories here");
	return "/tmp";
}

static void path_in(char *buf, size_t size, const char *rel)
{
	assert_true((size_t)snprintf(buf, size, "%s/%s", tmp, rel) < size);
}

static void make_file(const char *rel, const void *data, size_t len)
{
	char p[512];
	int fd;

	path_in(p, sizeof(p), rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void make_dir(const char *rel)
{
	char p[512];

	path_in(p, sizeof(p), rel);
	assert_int_equal(mkdir_p(p, 0755), 0);
}

static bool exists(const char *rel)
{
	char p[512];

	path_in(p, sizeof(p), rel);
	return access(p, F_OK) == 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/test-sharemount.XXXXXX", trusted_base());
	assert_non_null(mkdtemp(tmp));
	return 0;
}

static int teardown(void **state)
{

	(void)state;
	return tmptree_remove(tmp);
}

static void test_path_clean(void **state)
{
	char out[SHARE_PATH_MAX];

	(void)state;
	assert_int_equal(share_path_clean("/mnt//data/", out, sizeof(out)), 0);
	assert_string_equal(out, "/mnt/data");
	assert_int_equal(share_path_clean("/", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(share_path_clean("mnt/data", out, sizeof(out)), -EINVAL);
	assert_int_equal(share_path_clean("/mnt/../etc", out, sizeof(out)), -EINVAL);
	assert_int_equal(share_path_clean("/mnt/./x", out, sizeof(out)), -EINVAL);
	assert_int_equal(share_path_clean("/mnt/..x", out, sizeof(out)), 0);
	assert_int_equal(share_path_clean("/aaaaaaaaaa", out, 8), -ENAMETOOLONG);
}

static void test_spec_and_options(void **state)
{
	struct share_request r;
	char why[SHARE_WHY_MAX];

	(void)state;
	assert_int_equal(share_spec_parse("src:/mnt/src", &r, why, sizeof(why)), 0);
	assert_string_equal(r.tag, "src");
	assert_string_equal(r.target, "/mnt/src");
	assert_int_equal(r.type, SHARE_AUTO);
	assert_false(r.readonly);
	assert_int_equal(share_spec_parse("p9:/host/x:ro,type=9p,msize=262144,cache=loose", &r, why,
					  sizeof(why)),
			 0);
	assert_int_equal(r.type, SHARE_9P);
	assert_true(r.readonly);
	assert_int_equal(r.n_options, 2);
	assert_string_equal(r.options[0], "msize=262144");
	assert_int_equal(share_spec_parse("nocolon", &r, why, sizeof(why)), -EINVAL);
	assert_int_equal(share_spec_parse(":/mnt/x", &r, why, sizeof(why)), -EINVAL);
	assert_int_equal(share_spec_parse("t:", &r, why, sizeof(why)), -EINVAL);
	assert_int_equal(share_spec_parse("t:/mnt/x:type=nfs", &r, why, sizeof(why)), -EINVAL);
	assert_int_equal(
		share_spec_parse("t:/mnt/x:type=virtiofs,msize=8192", &r, why, sizeof(why)),
		-EINVAL);
	assert_non_null(strstr(why, "msize"));

	assert_int_equal(share_option_check(SHARE_9P, "msize=4096", why, sizeof(why)), 0);
	assert_int_equal(share_option_check(SHARE_9P, "msize=100", why, sizeof(why)), -EINVAL);
	assert_int_equal(share_option_check(SHARE_9P, "cache=mmap", why, sizeof(why)), 0);
	assert_int_equal(share_option_check(SHARE_9P, "cache=bogus", why, sizeof(why)), -EINVAL);
	assert_int_equal(share_option_check(SHARE_9P, "trans=tcp", why, sizeof(why)), -EINVAL);
	assert_int_equal(share_option_check(SHARE_VIRTIOFS, "dax", why, sizeof(why)), 0);
	assert_int_equal(share_option_check(SHARE_VIRTIOFS, "dax=always", why, sizeof(why)), 0);
	assert_int_equal(share_option_check(SHARE_VIRTIOFS, "dax=maybe", why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(share_option_check(SHARE_VIRTIOFS, "cache=loose", why, sizeof(why)),
			 -EINVAL);
}

/* What reaches fsconfig(2): 9p's transport always, porthole's defaults
 * unless the share sets its own, the share's options as given; virtiofs
 * gets only its own. */
static void test_mount_options(void **state)
{
	struct share_request r;
	char opts[SHARE_MOUNT_OPTIONS_MAX][64], why[SHARE_WHY_MAX];
	size_t n;

	(void)state;
	assert_int_equal(share_spec_parse("p9:/mnt/x:type=9p", &r, why, sizeof(why)), 0);
	n = share_mount_options(&r, opts, SHARE_MOUNT_OPTIONS_MAX);
	assert_int_equal(n, 4);
	assert_string_equal(opts[0], "trans=virtio");
	assert_string_equal(opts[1], "version=9p2000.L");
	assert_string_equal(opts[2], "msize=" SHARE_9P_MSIZE_DEFAULT);
	assert_string_equal(opts[3], "cache=" SHARE_9P_CACHE_DEFAULT);
	/* the defaults are themselves valid options */
	assert_int_equal(share_option_check(SHARE_9P, opts[2], why, sizeof(why)), 0);
	assert_int_equal(share_option_check(SHARE_9P, opts[3], why, sizeof(why)), 0);

	/* the share's own replace the defaults, and come last */
	assert_int_equal(share_spec_parse("p9:/mnt/x:type=9p,cache=loose,msize=131072", &r, why,
					  sizeof(why)),
			 0);
	n = share_mount_options(&r, opts, SHARE_MOUNT_OPTIONS_MAX);
	assert_int_equal(n, 4);
	assert_string_equal(opts[0], "trans=virtio");
	assert_string_equal(opts[1], "version=9p2000.L");
	assert_string_equal(opts[2], "cache=loose");
	assert_string_equal(opts[3], "msize=131072");
	/* one set, the other default */
	assert_int_equal(share_spec_parse("p9:/mnt/x:type=9p,cache=none", &r, why, sizeof(why)), 0);
	n = share_mount_options(&r, opts, SHARE_MOUNT_OPTIONS_MAX);
	assert_int_equal(n, 4);
	assert_string_equal(opts[2], "msize=" SHARE_9P_MSIZE_DEFAULT);
	assert_string_equal(opts[3], "cache=none");
	/* a key that merely starts like a default's is not it */
	r.n_options = 0;
	snprintf(r.options[r.n_options++], sizeof(r.options[0]), "cachex=1");
	n = share_mount_options(&r, opts, SHARE_MOUNT_OPTIONS_MAX);
	assert_int_equal(n, 5);
	assert_string_equal(opts[3], "cache=" SHARE_9P_CACHE_DEFAULT);

	/* virtiofs: nothing of 9p's */
	assert_int_equal(share_spec_parse("v:/mnt/x:type=virtiofs", &r, why, sizeof(why)), 0);
	assert_int_equal(share_mount_options(&r, opts, SHARE_MOUNT_OPTIONS_MAX), 0);
	assert_int_equal(share_spec_parse("v:/mnt/x:type=virtiofs,dax", &r, why, sizeof(why)), 0);
	assert_int_equal(share_mount_options(&r, opts, SHARE_MOUNT_OPTIONS_MAX), 1);
	assert_string_equal(opts[0], "dax");

	/* bounded by MAX */
	assert_int_equal(share_spec_parse("p9:/mnt/x:type=9p", &r, why, sizeof(why)), 0);
	assert_int_equal(share_mount_options(&r, opts, 2), 2);
}

static void test_tags(void **state)
{
	char tags[SHARE_TAGS_MAX][SHARE_TAG_MAX], sysfs[300];

	(void)state;
	make_dir("sys/fs/virtiofs/0");
	make_dir("sys/fs/virtiofs/1");
	make_file("sys/fs/virtiofs/0/tag", "home\n", 5);
	make_file("sys/fs/virtiofs/1/tag", "work\n", 5);
	make_dir("sys/bus/virtio/drivers/9pnet_virtio/virtio3");
	/* 9pnet_virtio shows the tag with its NUL and no newline */
	make_file("sys/bus/virtio/drivers/9pnet_virtio/virtio3/mount_tag", "src\0", 4);
	make_file("sys/bus/virtio/drivers/9pnet_virtio/bind", "", 0);
	path_in(sysfs, sizeof(sysfs), "sys");

	size_t n = share_tags(sysfs, SHARE_VIRTIOFS, tags, SHARE_TAGS_MAX);
	assert_int_equal(n, 2);
	assert_true((strcmp(tags[0], "home") == 0 && strcmp(tags[1], "work") == 0) ||
		    (strcmp(tags[1], "home") == 0 && strcmp(tags[0], "work") == 0));
	assert_int_equal(share_tags(sysfs, SHARE_9P, tags, SHARE_TAGS_MAX), 1);
	assert_string_equal(tags[0], "src");
	assert_int_equal(share_tags(sysfs, SHARE_VIRTIOFS, tags, 1), 1);
	assert_int_equal(share_tags("/nonexistent", SHARE_9P, tags, SHARE_TAGS_MAX), 0);
}

static void test_resolve(void **state)
{
	char roots[2][SHARE_PATH_MAX], target[400], why[SHARE_WHY_MAX], out[300], link[300];
	int fd = -1;
	struct stat st;

	(void)state;
	if (untrusted[0]) {
		print_message("# SKIP %s\n", untrusted);
		skip();
	}
	PROBE_SKIP_UNLESS(probe_openat2());
	make_dir("r");
	make_dir("out");
	path_in(roots[0], sizeof(roots[0]), "r");
	path_in(roots[1], sizeof(roots[1]), "missing-root");

	/* created below the root, and the fd is that directory */
	snprintf(target, sizeof(target), "%s/a//b/", roots[0]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 2, target, true, &fd,
				       why, sizeof(why)),
			 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);
	assert_true(exists("r/a/b"));

	/* a root that does not exist yet is created, like /host */
	snprintf(target, sizeof(target), "%s/x", roots[1]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 2, target, true, &fd,
				       why, sizeof(why)),
			 0);
	close(fd);
	assert_true(exists("missing-root/x"));

	/* a symlink out of the roots: refused, and nothing made beyond it */
	path_in(out, sizeof(out), "out");
	path_in(link, sizeof(link), "r/evil");
	assert_int_equal(symlink(out, link), 0);
	snprintf(target, sizeof(target), "%s/evil/x", roots[0]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 2, target, true, &fd,
				       why, sizeof(why)),
			 -ELOOP);
	assert_non_null(strstr(why, "symbolic link"));
	assert_non_null(strstr(why, "/r/evil"));
	assert_false(exists("out/x"));
	/* the symlink itself as the target */
	snprintf(target, sizeof(target), "%s/evil", roots[0]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 2, target, true, &fd,
				       why, sizeof(why)),
			 -ELOOP);
	/* a symlink inside the root that stays inside: still refused */
	path_in(link, sizeof(link), "r/inner");
	assert_int_equal(symlink("a", link), 0);
	snprintf(target, sizeof(target), "%s/inner/b", roots[0]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 2, target, true, &fd,
				       why, sizeof(why)),
			 -ELOOP);

	/* outside the roots: a sibling, a name that only starts like a root */
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 2, out, true, &fd, why,
				       sizeof(why)),
			 -EXDEV);
	assert_non_null(strstr(why, "outside the allowed roots"));
	snprintf(target, sizeof(target), "%sx/y", roots[0]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 2, target, true, &fd,
				       why, sizeof(why)),
			 -EXDEV);
	snprintf(target, sizeof(target), "%s/../out", roots[0]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 2, target, true, &fd,
				       why, sizeof(why)),
			 -EINVAL);
	/* not created when not asked */
	snprintf(target, sizeof(target), "%s/new", roots[0]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 2, target, false, &fd,
				       why, sizeof(why)),
			 -ENOENT);
	assert_false(exists("r/new"));
	/* a root that is itself a symlink is refused too */
	path_in(link, sizeof(link), "linkroot");
	assert_int_equal(symlink(roots[0], link), 0);
	path_in(roots[1], sizeof(roots[1]), "linkroot");
	snprintf(target, sizeof(target), "%s/a", link);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 2, target, true, &fd,
				       why, sizeof(why)),
			 -ELOOP);
}

/* Every directory above a target must be root's and writable by no one else
 * (a world-writable / once let nobody make /Users and have a share mounted
 * in a directory nobody owned); directories it creates are 0755 whatever
 * the umask (the agent's is 077). */
static void test_resolve_trusts_only_root_dirs(void **state)
{
	char roots[1][SHARE_PATH_MAX], target[400], why[SHARE_WHY_MAX], p[400];
	struct stat st;
	mode_t old;
	int fd = -1;

	(void)state;
	if (untrusted[0]) {
		print_message("# SKIP %s\n", untrusted);
		skip();
	}
	PROBE_SKIP_UNLESS(probe_openat2());
	make_dir("r");
	path_in(roots[0], sizeof(roots[0]), "r");

	/* made 0755 under umask 077 */
	old = umask(077);
	snprintf(target, sizeof(target), "%s/made/deeper", roots[0]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 1, target, true, &fd,
				       why, sizeof(why)),
			 0);
	umask(old);
	close(fd);
	path_in(p, sizeof(p), "r/made");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	path_in(p, sizeof(p), "r/made/deeper");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	/* a directory on the way that another user owns */
	make_dir("r/theirs");
	path_in(p, sizeof(p), "r/theirs");
	assert_int_equal(chown(p, 65534, 65534), 0);
	snprintf(target, sizeof(target), "%s/theirs/x", roots[0]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 1, target, true, &fd,
				       why, sizeof(why)),
			 -EPERM);
	assert_non_null(strstr(why, "/r/theirs is owned by uid 65534, not root"));
	assert_false(exists("r/theirs/x"));
	/* ...its own mount point may be theirs: it is not a way through */
	snprintf(target, sizeof(target), "%s/theirs", roots[0]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 1, target, true, &fd,
				       why, sizeof(why)),
			 0);
	close(fd);

	/* world-writable, sticky or not, and group-writable */
	make_dir("r/open");
	path_in(p, sizeof(p), "r/open");
	for (size_t i = 0; i < 3; i++) {
		static const mode_t modes[] = { 01777, 0777, 0775 };
		static const char *const says[] = { "writable by everyone (mode 1777)",
						    "writable by everyone (mode 0777)",
						    "writable by its group (mode 0775)" };

		assert_int_equal(chmod(p, modes[i]), 0);
		snprintf(target, sizeof(target), "%s/open/x", roots[0]);
		assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 1, target,
					       true, &fd, why, sizeof(why)),
				 -EPERM);
		if (!strstr(why, says[i]))
			fail_msg("mode %o: '%s' does not say '%s'", modes[i], why, says[i]);
	}
	assert_false(exists("r/open/x"));
	/* the root itself, writable by everyone: nothing below it */
	assert_int_equal(chmod(roots[0], 01777), 0);
	snprintf(target, sizeof(target), "%s/made", roots[0]);
	assert_int_equal(share_resolve((const char(*)[SHARE_PATH_MAX])roots, 1, target, false, &fd,
				       why, sizeof(why)),
			 -EPERM);
	assert_int_equal(chmod(roots[0], 0755), 0);
}

static void test_mount_at(void **state)
{
	static const char mi[] = "22 1 0:21 / / rw shared:1 - tmpfs tmpfs rw\n"
				 "30 22 0:40 / /mnt/src rw,nosuid,nodev - 9p src rw,trans=virtio\n"
				 "31 22 0:41 / /mnt/my\\040dir rw - virtiofs home rw\n"
				 "32 30 0:42 / /mnt/src ro,nosuid - virtiofs other rw\n"
				 "33 22 0:43 / /mnt/rover rw - virtiofs x ro\n";
	char type[32], source[64];
	bool ro = true;

	(void)state;
	assert_true(
		share_mount_at(mi, "/mnt/my dir", type, sizeof(type), source, sizeof(source), &ro));
	assert_string_equal(type, "virtiofs");
	assert_string_equal(source, "home");
	assert_false(ro);
	/* the last mount on a path is the one seen there */
	assert_true(
		share_mount_at(mi, "/mnt/src", type, sizeof(type), source, sizeof(source), &ro));
	assert_string_equal(source, "other");
	/* read-only is the mount's own option, not the super block's */
	assert_true(ro);
	assert_true(
		share_mount_at(mi, "/mnt/rover", type, sizeof(type), source, sizeof(source), &ro));
	assert_false(ro);
	assert_false(share_mount_at(mi, "/mnt", type, sizeof(type), source, sizeof(source), NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_clean),
		cmocka_unit_test(test_spec_and_options),
		cmocka_unit_test(test_mount_options),
		cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_trusts_only_root_dirs, setup,
						teardown),
		cmocka_unit_test(test_mount_at),
	};

	log_set_level(LOG_LEVEL_EMERG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
