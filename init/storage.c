/* The data disk and the boot shares. Every step logs what it did or why it
 * could not; none stops the boot: without a data disk the VM runs on its
 * tmpfs root, a share that cannot be mounted is just missing. */
#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "modules.h"
#include "tool.h"
#include "util.h"

#define DEFAULT_TAG "porthole-data"
/* fs/ext4/ext4.h, not in the uapi headers: online resize to a block count,
 * what resize2fs does on a mounted ext4 */
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, __u64)
#define EXT_MAGIC 0xEF53
#define BUSYBOX "/bin/busybox"
#define BLANK_CHECK_BYTES (64 * 1024)
#define MKFS_TIMEOUT_S 120
#define FSCK_TIMEOUT_S 600
/* grow only when the device has this much more than the file system: a
 * partial last block group is not worth a resize at every boot */
#define GROW_MIN_BYTES (1 << 20)

static const char (*const default_roots)[SHARE_PATH_MAX] = (const char[][SHARE_PATH_MAX]){
	"/mnt", "/host", "/Users", "/home"
};
#define DEFAULT_ROOTS_N 4

void storage_defaults(struct storage_config *s)
{
	memset(s, 0, sizeof(*s));
	s->disk[0] = (struct disk_way){ DISK_BY_SERIAL, DEFAULT_TAG };
	s->disk[1] = (struct disk_way){ DISK_BY_LABEL, DEFAULT_TAG };
	s->n_disk = 2;
	snprintf(s->data_mount, sizeof(s->data_mount), "/var/lib");
}

static int parse_disk(struct storage_config *s, const char *v)
{
	struct disk_way w = { DISK_BY_NONE, "" };
	const char *colon = strchr(v, ':');

	if (strcmp(v, "none") == 0) {
		s->n_disk = 0;
		return 0;
	}
	if (strcmp(v, "auto") == 0) {
		s->disk[0] = (struct disk_way){ DISK_BY_SERIAL, DEFAULT_TAG };
		s->disk[1] = (struct disk_way){ DISK_BY_LABEL, DEFAULT_TAG };
		s->n_disk = 2;
		return 0;
	}
	if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(w.value) ||
	    strcspn(colon + 1, "/ \t") != strlen(colon + 1))
		return -EINVAL;
	if (strncmp(v, "serial:", 7) == 0)
		w.by = DISK_BY_SERIAL;
	else if (strncmp(v, "label:", 6) == 0)
		w.by = DISK_BY_LABEL;
	else
		return -EINVAL;
	snprintf(w.value, sizeof(w.value), "%s", colon + 1);
	s->disk[0] = w;
	s->n_disk = 1;
	return 0;
}

static int add_share(struct storage_config *s, const char *spec)
{
	char why[SHARE_WHY_MAX];

	if (s->n_shares == STORAGE_SHARES_MAX)
		return -E2BIG;
	if (share_spec_parse(spec, &s->shares[s->n_shares], why, sizeof(why)) < 0) {
		log_error("share %s", why);
		return -EINVAL;
	}
	s->n_shares++;
	return 0;
}

int storage_config_set(struct storage_config *s, const char *key, const char *value, bool append,
		       const char **expected)
{
	if (strcmp(key, "data_disk") == 0) {
		*expected = "serial:NAME, label:NAME, auto or none";
		return append ? -EINVAL : parse_disk(s, value);
	}
	if (strcmp(key, "data_mount") == 0) {
		char clean[SHARE_PATH_MAX];

		*expected = "an absolute directory other than /";
		if (append || share_path_clean(value, clean, sizeof(clean)) < 0 ||
		    strcmp(clean, "/") == 0)
			return -EINVAL;
		snprintf(s->data_mount, sizeof(s->data_mount), "%s", clean);
		return 0;
	}
	/* share: one TAG:TARGET[:OPTIONS], each occurrence adds one (the
	 * kernel command line's porthole.share= may come several times);
	 * shares: a list, separated by spaces, continued on indented lines */
	if (strcmp(key, "share") == 0 || strcmp(key, "shares") == 0) {
		struct storage_config tmp = *s;

		*expected = "TAG:TARGET[:OPTIONS], at most 16 shares";
		if (strcmp(key, "shares") == 0 && !append)
			tmp.n_shares = 0;
		for (const char *p = value; *p;) {
			char spec[SHARE_PATH_MAX * 2];
			size_t len;

			p += strspn(p, " \t");
			len = strcspn(p, " \t");
			if (!len)
				break;
			if (len >= sizeof(spec) || (strcmp(key, "share") == 0 && p != value))
				return -EINVAL;
			memcpy(spec, p, len);
			spec[len] = '\0';
			if (add_share(&tmp, spec) < 0)
				return -EINVAL;
			p += len;
		}
		*s = tmp;
		return 0;
	}
	return -ENOENT;
}

void storage_dump(const struct storage_config *s, int fd)
{
	dprintf(fd, "%-14s = ", "data_disk");
	if (s->n_disk == 0)
		dprintf(fd, "none");
	for (size_t i = 0; i < s->n_disk; i++)
		dprintf(fd, "%s%s:%s", i ? ", then " : "",
			s->disk[i].by == DISK_BY_SERIAL ? "serial" : "label", s->disk[i].value);
	dprintf(fd, "\n%-14s = %s\n", "data_mount", s->data_mount);
	for (size_t i = 0; i < s->n_shares; i++) {
		const struct share_request *r = &s->shares[i];

		dprintf(fd, "%-14s = %s:%s:type=%s%s", "share", r->tag, r->target,
			share_type_name(r->type), r->readonly ? ",ro" : "");
		for (size_t o = 0; o < r->n_options; o++)
			dprintf(fd, ",%s", r->options[o]);
		dprintf(fd, "\n");
	}
}

static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static unsigned long long le32(const unsigned char *p)
{
	return (unsigned long long)le16(p) | (unsigned long long)le16(p + 2) << 16;
}

bool storage_ext_super(const unsigned char *buf, size_t len, char *label, size_t label_size,
		       unsigned long long *ret_bytes)
{
	/* the superblock: 1024 bytes at offset 1024 (fs/ext4/ext4.h struct
	 * ext4_super_block): blocks_count_lo at 4, log_block_size at 24, magic
	 * at 56, feature_incompat at 96, volume_name[16] at 120,
	 * blocks_count_hi at 0x150 when INCOMPAT_64BIT (0x80) */
	const unsigned char *sb = buf + 1024;
	unsigned long long blocks;
	unsigned log_bs;

	if (len < 2048 || le16(sb + 56) != EXT_MAGIC)
		return false;
	log_bs = (unsigned)le32(sb + 24);
	if (log_bs > 6)
		return false;
	blocks = le32(sb + 4);
	if (le32(sb + 96) & 0x80)
		blocks |= le32(sb + 0x150) << 32;
	if (label) {
		size_t n = strnlen((const char *)sb + 120, 16);

		snprintf(label, label_size, "%.*s", (int)n, (const char *)sb + 120);
	}
	if (ret_bytes)
		*ret_bytes = blocks * (1024ull << log_bs);
	return true;
}

/* A sysfs attribute's first line. */
static int sysfs_line(const char *path, char *buf, size_t size)
{
	_cleanup_free_ char *text = NULL;
	int r = read_file(path, 4096, &text, NULL);

	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = '\0';
	snprintf(buf, size, "%s", text);
	return 0;
}

/* The whole disk (no partitions: the image is one file system) that WAY
 * names; its /dev path in DEV. */
static bool find_disk(const struct disk_way *way, char *dev, size_t size)
{
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char path[300], value[128] = "";
		unsigned char head[2048];

		if (de->d_name[0] == '.' || strncmp(de->d_name, "loop", 4) == 0 ||
		    strncmp(de->d_name, "ram", 3) == 0 || strncmp(de->d_name, "zram", 4) == 0)
			continue;
		if (way->by == DISK_BY_SERIAL) {
			snprintf(path, sizeof(path), "/sys/block/%s/serial", de->d_name);
			if (sysfs_line(path, value, sizeof(value)) < 0) {
				snprintf(path, sizeof(path), "/sys/block/%s/device/serial",
					 de->d_name);
				sysfs_line(path, value, sizeof(value));
			}
		} else {
			snprintf(path, sizeof(path), "/dev/%s", de->d_name);
			if (read_head_of(path, head, sizeof(head)) == (int)sizeof(head))
				storage_ext_super(head, sizeof(head), value, sizeof(value), NULL);
		}
		if (strcmp(value, way->value) == 0 &&
		    (size_t)snprintf(dev, size, "/dev/%s", de->d_name) < size)
			found = true;
	}
	closedir(d);
	return found;
}

/* The tool NAME from e2fsprogs: busybox's applets of the same name make
 * and check ext2 only, with other options. */
static int e2fsprogs(const char *name, char *path, size_t size)
{
	static const char *const dirs[] = { "/sbin", "/usr/sbin" };

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char buf[64];
		_cleanup_free_ char *real = NULL;

		snprintf(buf, sizeof(buf), "%s/%s", dirs[i], name);
		real = realpath(buf, NULL);
		if (!real || strstr(real, "busybox") || access(real, X_OK) < 0)
			continue;
		snprintf(path, size, "%s", real);
		return 0;
	}
	return -ENOENT;
}

static bool all_zero(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

static unsigned long long device_bytes(const char *dev)
{
	char path[300], line[64];
	int64_t sectors;

	snprintf(path, sizeof(path), "/sys/class/block/%s/size", strrchr(dev, '/') + 1);
	if (sysfs_line(path, line, sizeof(line)) < 0 ||
	    parse_int64(line, 0, INT64_MAX, &sectors) < 0)
		return 0;
	return (unsigned long long)sectors *
	       512; /* the block layer's unit, whatever the device's */
}

static int make_fs(const char *dev, const char *label)
{
	char mkfs[64];
	int r;

	if (e2fsprogs("mke2fs", mkfs, sizeof(mkfs)) < 0) {
		/* busybox's mke2fs makes ext2 (no journal, no resize inode),
		 * which the ext4 driver mounts: better than data on tmpfs */
		if (access(BUSYBOX, X_OK) < 0)
			return log_error_errno(-ENOENT,
					       "%s is blank, but there is no mke2fs in the "
					       "image: not formatted",
					       dev);
		log_warn("%s is blank; mke2fs (e2fsprogs) is not in the image: making ext2 with "
			 "busybox's, label %s",
			 dev, label);
		r = tool_run((char *const[]){ (char *)BUSYBOX, "mke2fs", "-F", "-b", "4096", "-L",
					      (char *)label, (char *)dev, NULL },
			     MKFS_TIMEOUT_S);
		if (r != 0)
			return log_error_errno(r < 0 ? r : -EIO, "mke2fs %s: failed (status %d)",
					       dev, r);
		return 0;
	}
	log_info("%s is blank: making an ext4 file system, label %s", dev, label);
	/* -F: a whole disk without partitions is what is wanted; the lazy
	 * inits leave zeroing the inode tables to the kernel, after boot */
	r = tool_run((char *const[]){ mkfs, "-F", "-q", "-t", "ext4", "-L", (char *)label, "-E",
				      "lazy_itable_init=1,lazy_journal_init=1", (char *)dev, NULL },
		     MKFS_TIMEOUT_S);
	if (r != 0)
		return log_error_errno(r < 0 ? r : -EIO, "mke2fs %s: failed (status %d)", dev, r);
	return 0;
}

/* What init could not do with a data disk it found, for porthole-health
 * (docs/protocol.md): a disk that fails its check, or holds something
 * else, must not look like a VM run without one, whose data on tmpfs is a
 * choice. One line, rewritten at each boot's failure (/run is new at each
 * boot, so a good boot leaves none). */
#define DATA_DISK_ERROR_PATH "/run/porthole/data-disk.error"

static void disk_record(const char *line, size_t len)
{
	int r = mkdir_p("/run/porthole", 0755);

	if (r == 0)
		r = write_file_atomic(DATA_DISK_ERROR_PATH, line, len, 0644);
	if (r < 0)
		log_warn_errno(r, "write %s, ignoring", DATA_DISK_ERROR_PATH);
}

/* Logs "FMT: strerror(ERR)" as log_error_errno does, records it in
 * DATA_DISK_ERROR_PATH and returns ERR. */
static int disk_failed(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int disk_failed(int err, const char *fmt, ...)
{
	char msg[256], line[384];
	va_list ap;
	int n;

	if (err > 0)
		err = -err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line), "%s: %s\n", msg, strerror(-err));
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	log_error("%.*s", n - 1, line);
	disk_record(line, (size_t)n);
	return err;
}

/* e2fsck -p: fsck(8)'s exit codes, 1 and 2 corrected, 4 and up not. */
static int check_fs(const char *dev)
{
	char fsck[64];
	int r;

	if (e2fsprogs("e2fsck", fsck, sizeof(fsck)) < 0) {
		log_warn("%s: e2fsck (e2fsprogs) is not in the image: not checked", dev);
		return 0;
	}
	r = tool_run((char *const[]){ fsck, "-p", (char *)dev, NULL }, FSCK_TIMEOUT_S);
	if (r == 0)
		log_info("e2fsck %s: clean", dev);
	else if (r == 1 || r == 2)
		log_warn("e2fsck %s: errors corrected (status %d)", dev, r);
	else
		return disk_failed(r < 0 ? r : -EUCLEAN,
				   "e2fsck %s: errors left (status %d): not mounted", dev, r);
	return 0;
}

/* Grows the mounted file system to the device: the kernel's online resize
 * (Documentation/filesystems/ext4/ and resize2fs(8): a mounted ext4 grows
 * online), which needs no fsck first. */
static void grow_fs(const char *dev, const char *mnt, unsigned long long fs_bytes,
		    unsigned block_size)
{
	unsigned long long dev_b = device_bytes(dev);
	__u64 blocks;
	_cleanup_close_ int fd = -1;

	if (!dev_b || dev_b < fs_bytes + GROW_MIN_BYTES || !block_size)
		return;
	blocks = dev_b / block_size;
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, EXT4_IOC_RESIZE_FS, &blocks) < 0) {
		log_error_errno(-errno, "grow %s from %llu to %llu MiB, ignoring", dev,
				fs_bytes >> 20, dev_b >> 20);
		return;
	}
	log_info("grew %s from %llu to %llu MiB", dev, fs_bytes >> 20,
		 (unsigned long long)(blocks * block_size) >> 20);
}

int storage_setup_data_disk(const struct storage_config *s)
{
	static const char ext4[][64] = { "ext4" };
	char dev[64] = "", label[32] = "";
	const struct disk_way *way = NULL;
	_cleanup_free_ unsigned char *head = NULL;
	unsigned long long fs_bytes = 0;
	int r;

	if (s->n_disk == 0) {
		log_info("data_disk = none: data on tmpfs");
		return -ENODEV;
	}
	for (size_t i = 0; i < s->n_disk && !dev[0]; i++)
		if (find_disk(&s->disk[i], dev, sizeof(dev)))
			way = &s->disk[i];
	if (!way) {
		log_info("no data disk (%s:%s%s): data on tmpfs",
			 s->disk[0].by == DISK_BY_SERIAL ? "serial" : "label", s->disk[0].value,
			 s->n_disk > 1 ? " or label" : "");
		return -ENODEV;
	}
	log_info("data disk %s (%s %s)", dev, way->by == DISK_BY_SERIAL ? "serial" : "label",
		 way->value);
	head = malloc(BLANK_CHECK_BYTES);
	if (!head)
		return -ENOMEM;
	r = read_head_of(dev, head, BLANK_CHECK_BYTES);
	if (r < 2048)
		return disk_failed(r < 0 ? r : -EIO, "read %s: data on tmpfs", dev);
	if (!storage_ext_super(head, (size_t)r, label, sizeof(label), &fs_bytes)) {
		/* only a disk with nothing on it is formatted: anything else
		 * may be someone's data */
		if (!all_zero(head, (size_t)r))
			return disk_failed(-EMEDIUMTYPE,
					   "%s holds something other than ext4, left alone: "
					   "data on tmpfs",
					   dev);
		r = make_fs(dev, way->by == DISK_BY_LABEL ? way->value : DEFAULT_TAG);
		if (r < 0) {
			char line[128];
			int n = snprintf(line, sizeof(line), "mke2fs %s: failed: data on tmpfs\n",
					 dev);

			/* make_fs said why */
			disk_record(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
			return r;
		}
		if (read_head_of(dev, head, 2048) != 2048 ||
		    !storage_ext_super(head, 2048, label, sizeof(label), &fs_bytes))
			return disk_failed(-EIO, "%s: no file system after mke2fs", dev);
	} else {
		r = check_fs(dev);
		if (r < 0)
			return r;
	}
	modules_load(ext4, 1);
	r = mkdir_p(s->data_mount, 0755);
	if (r < 0)
		return disk_failed(r, "create %s", s->data_mount);
	/* errors=remount-ro: a failing disk stops writes, not the VM */
	if (mount(dev, s->data_mount, "ext4", MS_NOATIME, "errors=remount-ro") < 0)
		return disk_failed(-errno, "mount %s on %s (ext4): data on tmpfs", dev,
				   s->data_mount);
	log_info("mounted %s on %s (ext4, %llu MiB)", dev, s->data_mount, fs_bytes >> 20);
	grow_fs(dev, s->data_mount, fs_bytes, 1024u << le32(head + 1024 + 24));
	return 0;
}

int storage_mount_shares(const struct storage_config *s)
{
	int failed = 0;

	for (size_t i = 0; i < s->n_shares; i++) {
		struct share_request req = s->shares[i];
		char why[SHARE_WHY_MAX] = "";
		bool already;

		if (share_mount("/sys", default_roots, DEFAULT_ROOTS_N, &req, &already, why,
				sizeof(why)) < 0) {
			log_error("share %s on %s: %s", s->shares[i].tag, s->shares[i].target, why);
			failed++;
			continue;
		}
		log_info("share %s (%s) mounted on %s%s", req.tag, share_type_name(req.type),
			 req.target, req.readonly ? ", read-only" : "");
	}
	return failed;
}
