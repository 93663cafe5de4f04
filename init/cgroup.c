/* cgroups v2 for services. The layout, after systemd's and for the same
 * reasons (cgroup-v2.rst, "no internal process" and delegation):
 *
 *   /sys/fs/cgroup/porthole/NAME            a service: its limits, its figures
 *   /sys/fs/cgroup/porthole/NAME/service    a delegated service's own process;
 *                                           it makes siblings (containers) itself
 */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "service-conf.h"
#include "util.h"

static int write_at(const char *dir, const char *file, const char *value)
{
	char path[CGROUP_PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return write_file(path, value);
}

/* Every controller DIR offers ("cpu io memory pids") enabled for its
 * children: all in one write, which the kernel applies at once (one write
 * per controller cost 16 writes at boot, 20-25 ms under TCG); when that
 * fails, one at a time, so that those that cannot be (a threaded one, a
 * busy one) are said by name and the rest still enabled. */
static int enable_controllers(const char *dir)
{
	char path[CGROUP_PATH_MAX + 64], all[1024], *tok, *save = NULL;
	_cleanup_free_ char *list = NULL;
	size_t len = 0;
	int r;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	r = read_file(path, 4096, &list, NULL);
	if (r < 0)
		return r;
	all[0] = '\0';
	for (tok = strtok_r(list, " \n", &save); tok && len < sizeof(all);
	     tok = strtok_r(NULL, " \n", &save))
		len += (size_t)snprintf(all + len, sizeof(all) - len, "%s+%s", len ? " " : "", tok);
	if (len == 0 || len >= sizeof(all))
		return len == 0 ? 0 : -E2BIG;
	if (write_at(dir, "cgroup.subtree_control", all) == 0)
		return 0;
	for (tok = strtok_r(all, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		r = write_at(dir, "cgroup.subtree_control", tok);
		if (r < 0)
			log_warn_errno(r, "cgroup: enable %s in %s", tok + 1, dir);
	}
	return 0;
}

int cgroup_setup(const char *root)
{
	char dir[CGROUP_PATH_MAX];
	int r;

	snprintf(dir, sizeof(dir), "%s/cgroup.procs", root);
	if (access(dir, F_OK) < 0)
		return log_warn_errno(-errno,
				      "cgroup: %s is not a cgroup2 mount: services run "
				      "without cgroups",
				      root);
	r = enable_controllers(root);
	if (r < 0)
		log_warn_errno(r, "cgroup: controllers of %s", root);
	snprintf(dir, sizeof(dir), "%s/%s", root, CGROUP_SERVICES);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "cgroup: mkdir %s", dir);
	enable_controllers(dir);
	return 0;
}

void cgroup_service_dir(const char *root, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s/%s", root, CGROUP_SERVICES, name);
}

static void limit(const char *dir, const char *file, int64_t v)
{
	char value[32];
	int r;

	if (v == CG_UNSET)
		return;
	if (v == CG_MAX)
		snprintf(value, sizeof(value), "max");
	else
		snprintf(value, sizeof(value), "%" PRId64, v);
	r = write_at(dir, file, value);
	if (r < 0)
		log_warn_errno(r, "cgroup: %s/%s = %s (is the controller enabled?)", dir, file,
			       value);
}

int cgroup_service_prepare(const char *root, const struct service_spec *spec, char *leaf,
			   size_t size)
{
	char dir[CGROUP_PATH_MAX];

	cgroup_service_dir(root, spec->name, dir, sizeof(dir));
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "cgroup: mkdir %s", dir);
	limit(dir, "memory.max", spec->memory_max);
	limit(dir, "memory.high", spec->memory_high);
	limit(dir, "pids.max", spec->pids_max);
	if (spec->cpu_weight)
		limit(dir, "cpu.weight", spec->cpu_weight);
	if (!spec->delegate) {
		snprintf(leaf, size, "%s", dir);
		return 0;
	}
	/* The process in a leaf of its own, so that NAME may enable
	 * controllers for the cgroups the service makes beside it. */
	snprintf(leaf, size, "%s/service", dir);
	if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
		return log_error_errno(-errno, "cgroup: mkdir %s", leaf);
	enable_controllers(dir);
	return 0;
}

static int kill_procs(const char *dir, unsigned depth)
{
	char path[CGROUP_PATH_MAX + 64];
	_cleanup_free_ char *procs = NULL;
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (read_file(path, 1 << 20, &procs, NULL) == 0)
		for (char *p = procs; *p;) {
			char *end;
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			if (pid > 1)
				kill((pid_t)pid, SIGKILL);
			p = end + (*end == '\n');
		}
	if (depth >= 8 || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			char sub[CGROUP_PATH_MAX + 256];

			snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
			kill_procs(sub, depth + 1);
		}
	closedir(d);
	return 0;
}

int cgroup_kill(const char *dir)
{
	int r = write_at(dir, "cgroup.kill", "1");

	if (r == -ENOENT) /* before Linux 5.14 */
		return kill_procs(dir, 0);
	return r;
}

/* KEY's number in DIR/FILE's "key value" lines; -1 when not there. */
static int64_t keyed(const char *dir, const char *file, const char *key)
{
	char path[CGROUP_PATH_MAX + 64];
	_cleanup_free_ char *text = NULL;
	size_t klen = strlen(key);

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_file(path, 64 * 1024, &text, NULL) < 0)
		return -1;
	for (char *line = text; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return strtoll(line + klen + 1, NULL, 10);
	return -1;
}

bool cgroup_populated(const char *dir)
{
	return keyed(dir, "cgroup.events", "populated") > 0;
}

int64_t cgroup_oom_kills(const char *dir)
{
	return keyed(dir, "memory.events", "oom_kill");
}

void cgroup_stats(const char *dir, struct cgroup_stats *st)
{
	char path[CGROUP_PATH_MAX + 64];
	_cleanup_free_ char *text = NULL;

	st->memory_bytes = -1;
	snprintf(path, sizeof(path), "%s/memory.current", dir);
	if (read_file(path, 64, &text, NULL) == 0)
		st->memory_bytes = strtoll(text, NULL, 10);
	st->cpu_usec = keyed(dir, "cpu.stat", "usage_usec");
	st->oom_kills = cgroup_oom_kills(dir);
}

int cgroup_join_self(const char *leaf)
{
	char path[CGROUP_PATH_MAX + 16];
	int fd, r = 0;

	/* no stdio, no malloc: this runs between fork and exec */
	if (strlen(leaf) + sizeof("/cgroup.procs") > sizeof(path))
		return -ENAMETOOLONG;
	strcpy(path, leaf);
	strcat(path, "/cgroup.procs");
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "0", 1) != 1)
		r = -errno;
	close(fd);
	return r;
}
