/* The modules the VM's devices ask for, found by their modalias: a walk of
 * /sys/devices at boot (udev's coldplug) and the kernel's "add" uevents after
 * it (hotplug). modules.c looks each alias up and loads what it names; this
 * file only finds the aliases.
 *
 * Why both: a walk sees what exists when it runs, and loading a module makes
 * new devices (virtio_pci makes the virtio devices whose aliases ask for
 * virtio_net, virtio_blk...; button makes the input device evdev serves), so
 * the walk is repeated until a round loads nothing, which leaves the boot's
 * later steps (the data disk, the network) their devices. A driver that
 * probes asynchronously, or a device plugged in later, is caught by the
 * uevent socket, opened before the first walk so that nothing falls between
 * the two; if the kernel drops uevents on it (ENOBUFS), the tree is walked
 * again. This is what udev and systemd do, without udev. */
#include "coldplug.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices.h"
#include "log.h"
#include "parallel.h"
#include "supervise.h"
#include "util.h"

/* Logged one by one up to this many per walk, then counted: a broken
 * driver's attribute repeated on every device must not flood the console. */
#define SCAN_BAD_LOGGED 3
/* Room for the uevents that queue while the boot goes on: a few hundred,
 * each some hundred bytes plus the kernel's own per-message cost. */
#define UEVENT_RCVBUF (1 << 20)
#define UEVENT_MSG_MAX 8192
/* uevents read in one boot round: more than a VM's boot makes */
#define UEVENT_BOOT_MAX 4096

int coldplug_aliases_add(struct coldplug_aliases *set, const char *alias)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i], alias) == 0)
			return 0;
	if (set->n == COLDPLUG_ALIASES_MAX) {
		set->n_dropped++;
		return -E2BIG;
	}
	set->v[set->n] = strdup(alias);
	if (!set->v[set->n])
		return -ENOMEM;
	set->n++;
	return 1;
}

void coldplug_aliases_free(struct coldplug_aliases *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i]);
	set->n = 0;
}

struct scan {
	struct coldplug_aliases *seen;
	char path[PATH_MAX]; /* the directory being read, for messages */
	size_t dirs;
	unsigned bad;
	int added;
	bool deep, capped;
	char alias[COLDPLUG_ALIAS_MAX + 2]; /* a page of text, its newline, NUL */
};

static void scan_bad(struct scan *sc, const char *name, int err, const char *what)
{
	if (sc->bad++ < SCAN_BAD_LOGGED)
		log_warn("%s/%s: %s%s, ignoring", sc->path, name, what ? what : strerror(-err),
			 sc->bad == SCAN_BAD_LOGGED ? " (further ones counted)" : "");
}

/* Reads the modalias file NAME in DFD into sc->alias: its length (0: empty),
 * or -errno. Never follows a link and never blocks (O_NONBLOCK: a FIFO in a
 * tree that is not sysfs returns at once). */
static int read_alias(struct scan *sc, int dfd, const char *name, const char **what)
{
	_cleanup_close_ int fd =
		openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	size_t len = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		*what = "not a regular file";
		return -EINVAL;
	}
	/* sysfs hands an attribute over in one read; a loop for other trees,
	 * bounded by the buffer: room for the longest alias and its newline,
	 * so that a longer one shows as such */
	while (len < sizeof(sc->alias) - 1) {
		ssize_t n = read(fd, sc->alias + len, sizeof(sc->alias) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	while (len && (sc->alias[len - 1] == '\n' || sc->alias[len - 1] == ' '))
		len--;
	if (len > COLDPLUG_ALIAS_MAX) {
		*what = "longer than a page";
		return -E2BIG;
	}
	sc->alias[len] = '\0';
	/* an alias is printable: anything else is not one, and goes nowhere
	 * near the log or libkmod */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)sc->alias[i] < 0x20 || (unsigned char)sc->alias[i] >= 0x7f) {
			*what = "not printable text";
			return -EINVAL;
		}
	return (int)len;
}

static void scan_alias(struct scan *sc, int dfd, const char *name)
{
	const char *what = NULL;
	int r = read_alias(sc, dfd, name, &what);

	if (r < 0) {
		scan_bad(sc, name, r, what);
		return;
	}
	if (r == 0)
		return;
	r = coldplug_aliases_add(sc->seen, sc->alias);
	if (r == -ENOMEM)
		scan_bad(sc, name, r, NULL);
	else if (r > 0)
		sc->added++;
}

/* Reads the directory DFD (taken over) at DEPTH; sc->path names it. Only
 * real directories are entered: sysfs's links (subsystem, driver, device,
 * firmware_node) lead back up the tree and would loop. */
static void scan_dir(struct scan *sc, int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	size_t plen = strlen(sc->path);

	if (!d) {
		scan_bad(sc, ".", -errno, NULL);
		close(dfd);
		return;
	}
	while (!sc->capped && (de = readdir(d))) {
		const char *name = de->d_name;
		unsigned char type = de->d_type;
		int fd;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
		}
		if (type != DT_DIR) {
			if (strcmp(name, "modalias") == 0)
				scan_alias(sc, dirfd(d), name);
			continue;
		}
		/* every device's power/ is its runtime PM attributes, never a
		 * device (a child cannot take the group's name): 40% of the
		 * directories of a small VM's /sys/devices */
		if (strcmp(name, "power") == 0)
			continue;
		if (depth >= COLDPLUG_DEPTH_MAX) {
			sc->deep = true;
			continue;
		}
		if (sc->dirs >= COLDPLUG_DIRS_MAX) {
			sc->capped = true;
			break;
		}
		sc->dirs++;
		if (plen + 1 + strlen(name) >= sizeof(sc->path)) {
			scan_bad(sc, name, -ENAMETOOLONG, NULL);
			continue;
		}
		fd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			scan_bad(sc, name, -errno, NULL);
			continue;
		}
		sc->path[plen] = '/';
		strcpy(sc->path + plen + 1, name);
		scan_dir(sc, fd, depth + 1);
		sc->path[plen] = '\0';
	}
	closedir(d);
}

int coldplug_scan(const char *root, struct coldplug_aliases *seen)
{
	struct scan *sc = calloc(1, sizeof(*sc));
	int fd, r;

	if (!sc)
		return log_error_errno(-ENOMEM, "walk %s", root);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(sc);
		return log_error_errno(r, "walk %s", root);
	}
	sc->seen = seen;
	snprintf(sc->path, sizeof(sc->path), "%s", root);
	scan_dir(sc, fd, 0);
	if (sc->bad > SCAN_BAD_LOGGED)
		log_warn("%s: %u modalias entries could not be read, ignoring", root, sc->bad);
	if (sc->deep)
		log_warn("%s: directories more than %d deep not walked", root, COLDPLUG_DEPTH_MAX);
	if (sc->capped)
		log_warn("%s: walk stopped after %d directories", root, COLDPLUG_DIRS_MAX);
	r = sc->added;
	free(sc);
	return r;
}

const char *coldplug_uevent_modalias(const char *buf, size_t len, uint64_t *ret_seqnum)
{
	const char *alias = NULL;
	bool add = false;

	*ret_seqnum = 0;
	/* "ACTION@DEVPATH\0KEY=VALUE\0...": every string ends within LEN, or
	 * the last is ignored */
	for (const char *p = buf; p < buf + len;) {
		const char *end = memchr(p, '\0', (size_t)(buf + len - p));

		if (!end)
			break;
		if (strcmp(p, "ACTION=add") == 0)
			add = true;
		else if (strncmp(p, "MODALIAS=", 9) == 0 && p[9])
			alias = p + 9;
		else if (strncmp(p, "SEQNUM=", 7) == 0)
			*ret_seqnum = strtoull(p + 7, NULL, 10);
		p = end + 1;
	}
	return add ? alias : NULL;
}

/* The kernel's uevent sequence number now; 0 when it cannot be read. */
static uint64_t uevent_seqnum(void)
{
	char buf[32];
	_cleanup_close_ int fd = open("/sys/kernel/uevent_seqnum", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoull(buf, NULL, 10);
}

/* Remembers NAME, loaded for ALIAS: in the boot's list while it lasts, in
 * the log one by one after (HOTPLUG). */
static void note_loaded(struct coldplug *c, const char *name, const char *alias, bool hotplug)
{
	if (hotplug) {
		log_info("module %s loaded for %s", name, alias);
		c->n_loaded++;
		return;
	}
	if (c->n_loaded < COLDPLUG_NAMES_MAX)
		snprintf(c->loaded[c->n_loaded], MODULE_NAME_MAX, "%s", name);
	c->n_loaded++;
}

/* Adds a job for NAME unless one is there or JOBS is full (MAX is sized
 * so that it never is: four a device's alias, one a configured name). */
static void add_job(struct modules_job *jobs, size_t *n, size_t max, const char *name,
		    const char *why)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(jobs[i].name, name) == 0)
			return;
	if (*n == max)
		return;
	snprintf(jobs[*n].name, sizeof(jobs[*n].name), "%s", name);
	jobs[*n].why = why;
	jobs[*n].r = 0;
	(*n)++;
}

/* One round: what the N ALIASES and the N_NAMES configured NAMES ask for,
 * each module once, loaded side by side on the boot's threads (one thread
 * after it: a hotplugged device comes alone). Returns the number of modules
 * loaded; the configured names that failed are added to C->n_names_failed. */
static int load_round(struct coldplug *c, char *const *aliases, size_t n, const char (*names)[64],
		      size_t n_names, bool hotplug)
{
	/* a device's alias names a few modules at most (modalias' own bound) */
	size_t max = n_names + 4 * n, n_jobs = 0;
	_cleanup_free_ struct modules_job *jobs = NULL;
	size_t before = c->n_loaded;

	if (max == 0)
		return 0;
	jobs = calloc(max, sizeof(*jobs));
	if (!jobs) {
		log_error_errno(-ENOMEM, "modalias: %zu modules to load", max);
		return 0;
	}
	for (size_t i = 0; i < n_names; i++)
		add_job(jobs, &n_jobs, max, names[i], NULL);
	for (size_t i = 0; i < n; i++) {
		char found[4][MODULE_NAME_MAX];
		/* a lookup failure was logged with the alias */
		int k = modules_lookup_alias(c->mods, aliases[i], found, ARRAY_SIZE(found));

		if (k > (int)ARRAY_SIZE(found))
			log_warn("modalias %s: %d modules match, the first %zu loaded", aliases[i],
				 k, ARRAY_SIZE(found));
		for (int j = 0; j < k && j < (int)ARRAY_SIZE(found); j++)
			add_job(jobs, &n_jobs, max, found[j], aliases[i]);
	}
	(void)modules_load_jobs(c->mods, jobs, n_jobs, hotplug ? 1 : c->threads);
	for (size_t i = 0; i < n_jobs; i++) {
		/* a failure was logged with the module's name */
		if (!jobs[i].why) {
			if (jobs[i].r < 0)
				c->n_names_failed++;
		} else if (jobs[i].r > 0) {
			note_loaded(c, jobs[i].name, jobs[i].why, hotplug);
		}
	}
	return (int)(c->n_loaded - before);
}

/* One walk, and the modules for the aliases it found new (with the
 * configured NAMES, at the boot's first). The uevent sequence number is
 * taken before the walk: any device the kernel announced up to it existed
 * before the walk began, so the walk saw it (or it is gone). */
static int walk_and_load(struct coldplug *c, const char (*names)[64], size_t n_names, bool hotplug)
{
	size_t from = c->seen.n;
	uint64_t seqnum = uevent_seqnum(), t0 = now_mono_ns(), t1;
	int loaded;
	int r = coldplug_scan(c->root, &c->seen);

	if (r < 0) {
		/* the configured modules are loaded all the same */
		(void)load_round(c, NULL, 0, names, n_names, hotplug);
		return r;
	}
	c->seqnum = seqnum;
	t1 = now_mono_ns();
	loaded = load_round(c, c->seen.v + from, c->seen.n - from, names, n_names, hotplug);
	log_debug("modalias: walk of %s: %d new aliases in %llu ms, %d modules loaded in %llu ms",
		  c->root, r, (unsigned long long)((t1 - t0) / NSEC_PER_MSEC), loaded,
		  (unsigned long long)((now_mono_ns() - t1) / NSEC_PER_MSEC));
	return loaded;
}

/* One uevent: its length, 0 when it is not the kernel's (anyone may send to
 * the group: only a sender with port id 0 is the kernel), or -errno. */
static ssize_t uevent_recv(int fd, char *buf, size_t size)
{
	struct sockaddr_nl from = { 0 };
	struct iovec iov = { buf, size };
	struct msghdr msg = {
		.msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1
	};
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

	if (n < 0)
		return -errno;
	if (msg.msg_namelen != sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0 ||
	    (msg.msg_flags & MSG_TRUNC))
		return 0;
	return n;
}

/* Reads at most MAX queued uevents and loads what the "add" ones' aliases
 * ask for. Up to the last walk's sequence number the walk saw the device;
 * after it, at boot (HOTPLUG false) each alias once, since the boot loads
 * what an alias names the first time; after boot every alias is looked up
 * again, so that a driver removed by hand comes back with its device.
 * Returns the number of modules loaded, or -ENOBUFS when the kernel
 * dropped uevents (the caller walks again). */
static int drain(struct coldplug *c, bool hotplug, int max)
{
	char buf[UEVENT_MSG_MAX];
	_cleanup_free_ char **pending = calloc((size_t)max, sizeof(*pending));
	size_t n = 0;
	bool lost = false;
	int loaded;

	if (!pending)
		return log_error_errno(-ENOMEM, "uevents: %d to read", max);
	for (int i = 0; i < max; i++) {
		ssize_t len = uevent_recv(c->ueventfd, buf, sizeof(buf));
		const char *alias;
		uint64_t seqnum;

		if (len == -ENOBUFS) {
			lost = true;
			continue;
		}
		if (len < 0)
			break;
		alias = coldplug_uevent_modalias(buf, (size_t)len, &seqnum);
		if (!alias || (seqnum && seqnum <= c->seqnum))
			continue;
		/* -E2BIG: the set is full, the alias is looked up all the same */
		if ((!hotplug || !seqnum) && coldplug_aliases_add(&c->seen, alias) == 0)
			continue;
		pending[n] = strdup(alias);
		if (pending[n])
			n++;
		else
			log_error_errno(-ENOMEM, "uevent: modalias %s", alias);
	}
	/* the batch's modules side by side: a round's devices came together */
	loaded = load_round(c, pending, n, NULL, 0, hotplug);
	for (size_t i = 0; i < n; i++)
		free(pending[i]);
	return lost ? -ENOBUFS : loaded;
}

unsigned coldplug_threads(unsigned cpus)
{
	if (cpus == 0)
		return 1;
	return cpus < COLDPLUG_THREADS_MAX ? cpus : COLDPLUG_THREADS_MAX;
}

int coldplug_boot(struct coldplug *c, struct modules_ctx *mods, const char *root,
		  const char (*names)[64], size_t n_names, unsigned threads)
{
	uint64_t t0 = now_mono_ns();
	char list[512];
	size_t len = 0;
	int r;

	c->mods = mods;
	c->root = root;
	c->threads = threads ? threads : coldplug_threads(parallel_cpus());
	c->ueventfd = devices_uevent_open();
	if (c->ueventfd < 0) {
		log_warn_errno(c->ueventfd,
			       "uevent socket: devices added after boot get no modules");
		c->ueventfd = -1;
	} else {
		int size = UEVENT_RCVBUF;

		/* FORCE: past rmem_max, as root may; without it the default
		 * size, and an overflow is a walk again */
		if (setsockopt(c->ueventfd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
			log_debug_errno(-errno, "uevent socket: SO_RCVBUFFORCE, ignoring");
	}
	/* One walk; then the devices that loading made, from their uevents:
	 * init_module(2) returns after the driver's probe, whose device_add()
	 * queued its uevent on the socket, so reading what is queued finds
	 * them all, for a fraction of a walk's cost (under TCG a walk of the
	 * minimal VM's 560 directories takes about 0.3 s). Without the socket,
	 * or when the kernel dropped uevents, another walk does it. Bounded:
	 * a driver whose devices keep asking for more is left to the loop. */
	r = walk_and_load(c, names, n_names, false);
	c->walks = 1;
	while (r > 0 && c->walks + c->drains < COLDPLUG_ROUNDS_MAX) {
		r = c->ueventfd >= 0 ? drain(c, false, UEVENT_BOOT_MAX) : -ENOBUFS;
		c->drains++;
		if (r == -ENOBUFS) {
			r = walk_and_load(c, NULL, 0, false);
			c->walks++;
		}
	}
	if (r > 0)
		log_warn("modalias: still loading after %d rounds; later devices come by uevent",
			 COLDPLUG_ROUNDS_MAX);
	if (c->seen.n_dropped)
		log_warn("modalias: %zu aliases past the first %d not looked up", c->seen.n_dropped,
			 COLDPLUG_ALIASES_MAX);
	list[0] = '\0';
	for (size_t i = 0; i < c->n_loaded && i < COLDPLUG_NAMES_MAX && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, " %s", c->loaded[i]);
	/* one line, also what tests and the boot bench read */
	if (c->n_names_failed)
		log_warn("%zu of the configured modules could not be loaded", c->n_names_failed);
	log_info(
		"modalias: %zu modules loaded for %zu device aliases and %zu configured (%u walks, "
		"%u uevent rounds, %u at once), %llu ms:%s",
		c->n_loaded, c->seen.n, n_names, c->walks, c->drains, c->threads,
		(unsigned long long)((now_mono_ns() - t0) / NSEC_PER_MSEC),
		c->n_loaded ? list : " none");
	return (int)c->n_loaded;
}

static void on_uevent(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct coldplug *c = data;

	(void)s;
	(void)fd;
	(void)events;
	/* a batch at a time: the loop comes back while more is queued */
	if (drain(c, true, 256) == -ENOBUFS) {
		log_warn("uevent socket: the kernel dropped uevents; walking %s again", c->root);
		(void)walk_and_load(c, NULL, 0, true);
	}
}

void coldplug_watch(struct coldplug *c, struct supervisor *s)
{
	int r;

	if (c->ueventfd < 0)
		return;
	r = supervise_watch(s, c->ueventfd, on_uevent, c);
	if (r < 0) {
		log_warn_errno(r, "watch the uevent socket: devices added later get no modules");
		close(c->ueventfd);
		c->ueventfd = -1;
	}
}
