/* porthole-health: the VM's state in one answer (uptime, boot id, load,
 * memory, PSI pressure, disk use of /, the data disk, /run and /tmp,
 * services and their cgroups' memory) and an overall status with the reasons
 * for it. Reads /proc, statvfs(3) and the services' cgroup files, and asks
 * init for its services (initctl.c: bounded to 2 s, microseconds when init
 * answers). */
#include "cmd-health.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent.h"
#include "cmd-fs.h"
#include "cmd-shell.h"
#include "cmd-json.h"
#include "cmd-services.h"
#include "initctl.h"
#include "procinfo.h"
#include "command.h"
#include "transport.h"
#include "util.h"
#include "worker.h"

#ifndef PORTHOLE_VERSION
#define PORTHOLE_VERSION "0"
#endif

#define PROC_FILE_MAX 16384
/* Thresholds of "degraded": what leaves the VM about to fail (the OOM
 * killer, ENOSPC in dockerd) rather than merely busy. */
#define MEMORY_AVAILABLE_MIN_PCT 5.0
#define DISK_USED_MAX_PCT 95
/* A service's cgroup "at its limit": its working set (memory.current less
 * inactive_file, what the kubelet calls the working set: the inactive page
 * cache is what reclaim drops first) at this share of memory.max. */
#define CGROUP_WORKING_SET_MAX_PCT 90
/* the container engine, whose readiness porthole-health reports */
#define ENGINE_SERVICE "dockerd"

static const char *const pressure_resources[] = { "cpu", "memory", "io" };

/* The services' OOM counters as last seen, for "rose lately": the agent's
 * one piece of state between two porthole-health calls. */
static struct health_oom_table oom_table;
static pthread_mutex_t oom_table_lock = PTHREAD_MUTEX_INITIALIZER;

/* {"cpu": {"some_avg10", "full_avg10"}, "memory": ..., "io": ...}; a resource
 * whose file cannot be read (a kernel without CONFIG_PSI, or booted with
 * psi=0) is left out, and "pressure" with them all. full_avg10 is absent
 * for cpu on kernels before 5.13, which only had "some". */
static int add_pressure(json_t *res)
{
	json_t *pressure = json_object();

	if (!pressure)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(pressure_resources); i++) {
		_cleanup_free_ char *text = NULL;
		char path[64];
		double some, full;
		json_t *o;

		snprintf(path, sizeof(path), "/proc/pressure/%s", pressure_resources[i]);
		if (read_file(path, PROC_FILE_MAX, &text, NULL) < 0)
			continue;
		some = procinfo_psi_avg10(text, "some");
		full = procinfo_psi_avg10(text, "full");
		if (some < 0)
			continue;
		o = json_object();
		if (!o || cmd_json_set(pressure, pressure_resources[i], o) < 0 ||
		    cmd_json_set(o, "some_avg10", json_real(some)) < 0 ||
		    (full >= 0 && cmd_json_set(o, "full_avg10", json_real(full)) < 0)) {
			json_decref(pressure);
			return -ENOMEM;
		}
	}
	if (json_object_size(pressure) == 0) {
		json_decref(pressure);
		return 0;
	}
	return cmd_json_set(res, "pressure", pressure);
}

/* Whether PATH is the root of a mount: statx(2)'s STATX_ATTR_MOUNT_ROOT
 * (Linux 5.8), else a device different from its parent's. */
static bool is_mount_point(const char *path)
{
	struct statx sx;
	struct stat st, parent;
	char up[PATH_MAX];

	if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) < 0)
		return false;
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
	if ((size_t)snprintf(up, sizeof(up), "%s/..", path) >= sizeof(up) || stat(path, &st) < 0 ||
	    stat(up, &parent) < 0)
		return false;
	return st.st_dev != parent.st_dev || st.st_ino == parent.st_ino;
}

int health_disk_used_percent(unsigned long long used, unsigned long long avail)
{
	/* df(1)'s Use%: used over used + available (the blocks reserved for
	 * root are not available to dockerd either), rounded up, so that a
	 * disk with a block in use is not 0% and a full one is 100% */
	if (used + avail == 0)
		return 0;
	return (int)((used * 100 + used + avail - 1) / (used + avail));
}

/* One entry of "disks", with the one figure of use (used_percent) that the
 * reason and every client show; REASONS gets a line when it is nearly full. */
static int add_disk(json_t *disks, json_t *reasons, const char *path, bool check_mount)
{
	json_t *d = json_object();
	struct statvfs sv;
	unsigned long long total, used, avail;
	int pct, inodes_pct;

	if (!d || cmd_json_append(disks, d) < 0 ||
	    cmd_json_set(d, "path", utf8_json_string(path)) < 0)
		return -ENOMEM;
	/* No data disk is a way to run (a throw-away VM), not a fault: said,
	 * but the status stays ok (docs/protocol.md, porthole-health); a disk
	 * init found and could not mount is a fault, with init's reason. */
	if (check_mount && !is_mount_point(path)) {
		int r;

		if (cmd_json_set(d, "mounted", json_false()) < 0)
			return -ENOMEM;
		r = health_judge_data_disk(HEALTH_DATA_DISK_ERROR, d, reasons);
		if (r != 0)
			return r < 0 ? r : 0;
		return cmd_json_set(d, "note", json_string("no data disk: data on tmpfs")) < 0
			       ? -ENOMEM
			       : 0;
	}
	if (statvfs(path, &sv) < 0)
		return cmd_json_set(d, "mounted", json_false());
	total = (unsigned long long)sv.f_blocks * sv.f_frsize;
	used = (unsigned long long)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	pct = health_disk_used_percent(used, avail);
	/* a tmpfs whose inodes ran out is as full as one whose blocks did:
	 * open(O_CREAT) fails with ENOSPC either way */
	inodes_pct = health_disk_used_percent(sv.f_files - sv.f_ffree, sv.f_favail);
	if (cmd_json_set(d, "mounted", json_true()) < 0 ||
	    cmd_json_set(d, "total_bytes", json_integer((json_int_t)total)) < 0 ||
	    cmd_json_set(d, "used_bytes", json_integer((json_int_t)used)) < 0 ||
	    cmd_json_set(d, "available_bytes", json_integer((json_int_t)avail)) < 0 ||
	    cmd_json_set(d, "used_percent", json_integer(pct)) < 0)
		return -ENOMEM;
	if (pct > DISK_USED_MAX_PCT) {
		char why[PATH_MAX + 64];

		snprintf(why, sizeof(why), "disk %s: %d%% used, %llu MiB available", path, pct,
			 avail >> 20);
		return cmd_json_append(reasons, utf8_json_string(why));
	}
	if (sv.f_files > 0 && inodes_pct > DISK_USED_MAX_PCT) {
		char why[PATH_MAX + 64];

		snprintf(why, sizeof(why), "disk %s: %d%% of its inodes used, %llu free", path,
			 inodes_pct, (unsigned long long)sv.f_favail);
		return cmd_json_append(reasons, utf8_json_string(why));
	}
	return 0;
}

/* The data disk's last trim (cmd-fs.c: periodic, after the engine's
 * deletes, or the host's), on its entry when it is mounted: null before
 * the first. What the host's sparse file got back, and when. */
static int add_last_trim(json_t *disk)
{
	const struct fs_trim_record *t = fs_trim_last();
	json_t *o;

	if (!json_is_true(json_object_get(disk, "mounted")))
		return 0;
	if (!t)
		return cmd_json_set(disk, "last_trim", json_null());
	o = json_pack("{s:I,s:I,s:I,s:s}", "time_ns", (json_int_t)t->time_ns, "trimmed_bytes",
		      (json_int_t)t->trimmed_bytes, "duration_ms",
		      (json_int_t)(t->duration_ns / NSEC_PER_MSEC), "reason",
		      fs_trim_reason_name(t->reason));
	if (o && t->error && cmd_json_set(o, "error", json_string(strerror(-t->error))) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	return cmd_json_set(disk, "last_trim", o);
}

int health_judge_data_disk(const char *path, json_t *disk, json_t *reasons)
{
	_cleanup_free_ char *line = NULL;
	char why[600];
	size_t len = 0;

	/* bounded: init writes one line of at most 384 bytes */
	if (read_file(path, 512, &line, &len) < 0 || len == 0)
		return 0;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	snprintf(why, sizeof(why), "data disk not mounted: %s", line);
	if (cmd_json_set(disk, "note", utf8_json_string(why)) < 0 ||
	    cmd_json_append(reasons, utf8_json_string(why)) < 0)
		return -ENOMEM;
	return 1;
}

/* /run and /tmp when each is a file system of its own (init mounts both as
 * tmpfs): a full /run stops sockets and pid files from being made, a full
 * /tmp stops whatever writes there. Otherwise they are on / or the data
 * disk, already listed. */
static int add_tmpfs_disks(json_t *disks, json_t *reasons)
{
	static const char *const paths[] = { "/run", "/tmp" };

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (is_mount_point(paths[i]) && add_disk(disks, reasons, paths[i], false) < 0)
			return -ENOMEM;
	return 0;
}

static struct health_oom_seen *oom_seen_slot(struct health_oom_table *t, const char *name)
{
	struct health_oom_seen *free_slot = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(t->seen); i++) {
		if (t->seen[i].name[0] && strcmp(t->seen[i].name, name) == 0)
			return &t->seen[i];
		if (!t->seen[i].name[0] && !free_slot)
			free_slot = &t->seen[i];
	}
	return free_slot;
}

/* Whether the OOM counters rose within HEALTH_OOM_RECENT_NS, remembering
 * them in T: the first sight of a service is its baseline (after the agent
 * restarts, earlier kills are init's oom_kills figure). */
static struct health_oom_seen *oom_recent(struct health_oom_table *t, const char *name,
					  int64_t ooms, int64_t kills, uint64_t now_ns)
{
	struct health_oom_seen *seen = oom_seen_slot(t, name);

	if (!seen || (ooms < 0 && kills < 0))
		return NULL;
	if (!seen->name[0]) {
		snprintf(seen->name, sizeof(seen->name), "%s", name);
		seen->ooms = ooms;
		seen->kills = kills;
		return NULL;
	}
	if (ooms > seen->ooms || kills > seen->kills) {
		/* a rise after a quiet spell starts the count again */
		if (!seen->last_rise_ns || now_ns - seen->last_rise_ns > HEALTH_OOM_RECENT_NS)
			seen->rise_kills = 0;
		seen->rise_kills += kills > seen->kills ? kills - seen->kills : 0;
		seen->last_rise_ns = now_ns;
		seen->ooms = ooms;
		seen->kills = kills;
	}
	if (!seen->last_rise_ns || now_ns - seen->last_rise_ns > HEALTH_OOM_RECENT_NS)
		return NULL;
	return seen;
}

int health_judge_cgroup(struct health_oom_table *t, const char *name, const char *dir,
			uint64_t now_ns, json_t *reasons)
{
	int64_t max = procinfo_cgroup_number(dir, "memory.max");
	int64_t cur = procinfo_cgroup_number(dir, "memory.current");
	/* the kernel's OOM events: "oom" when reclaim failed at the limit,
	 * "oom_kill" for each process it killed (cgroup-v2.rst, memory.events;
	 * hierarchical: the service's containers count too) */
	int64_t ooms = procinfo_cgroup_keyed(dir, "memory.events", "oom");
	int64_t kills = procinfo_cgroup_keyed(dir, "memory.events", "oom_kill");
	struct health_oom_seen *seen;
	char why[256];
	int n = 0;

	if (cur < 0 || strlen(name) >= sizeof(t->seen[0].name))
		return 0; /* no memory controller here, or a name init would not give */
	/* the counters are followed whatever the use now: a service that stays
	 * at its limit while the killer works shows both reasons */
	seen = oom_recent(t, name, ooms, kills, now_ns);
	/* what reclaim cannot drop: near the limit, the next allocation stalls
	 * in reclaim or ends in the OOM killer */
	if (max > 0) {
		int64_t inactive_file = procinfo_cgroup_keyed(dir, "memory.stat", "inactive_file");
		int64_t ws = cur - (inactive_file > 0 ? inactive_file : 0);

		if (ws < 0)
			ws = 0;
		if ((double)ws * 100.0 >= (double)max * CGROUP_WORKING_SET_MAX_PCT) {
			snprintf(why, sizeof(why),
				 "service %s: memory at its limit, %lld of %lld MiB in use "
				 "(memory.max)",
				 name, (long long)(ws >> 20), (long long)(max >> 20));
			if (cmd_json_append(reasons, utf8_json_string(why)) < 0)
				return -ENOMEM;
			n++;
		}
	}
	/* An OOM kill is over in an instant: it is a reason for a while after
	 * the counter rose. */
	if (seen) {
		snprintf(why, sizeof(why),
			 "service %s: out of memory in its cgroup %llu s ago, %lld process(es) "
			 "killed (memory.events)",
			 name, (unsigned long long)((now_ns - seen->last_rise_ns) / NSEC_PER_SEC),
			 (long long)seen->rise_kills);
		if (cmd_json_append(reasons, utf8_json_string(why)) < 0)
			return -ENOMEM;
		n++;
	}
	return n;
}

static int add_memory(json_t *res, json_t *reasons)
{
	_cleanup_free_ char *text = NULL;
	long long total, avail, free_;

	/* without /proc/meminfo there is nothing to judge: no member, no reason */
	if (read_file("/proc/meminfo", PROC_FILE_MAX, &text, NULL) < 0)
		return 0;
	total = procinfo_meminfo(text, "MemTotal");
	avail = procinfo_meminfo(text, "MemAvailable");
	free_ = procinfo_meminfo(text, "MemFree");
	if (total <= 0 || avail < 0 || free_ < 0)
		return 0;
	if (cmd_json_set(res, "memory",
			 json_pack("{s:I,s:I,s:I}", "total_bytes", (json_int_t)total,
				   "available_bytes", (json_int_t)avail, "free_bytes",
				   (json_int_t)free_)) < 0)
		return -ENOMEM;
	if (100.0 * (double)avail / (double)total < MEMORY_AVAILABLE_MIN_PCT) {
		char why[128];

		snprintf(why, sizeof(why), "memory: %.1f%% available (%lld of %lld MiB)",
			 100.0 * (double)avail / (double)total, avail >> 20, total >> 20);
		return cmd_json_append(reasons, json_string(why));
	}
	return 0;
}

static int add_load(json_t *res)
{
	_cleanup_free_ char *text = NULL;
	double l[3];

	if (read_file("/proc/loadavg", 256, &text, NULL) < 0 ||
	    sscanf(text, "%lf %lf %lf", &l[0], &l[1], &l[2]) != 3)
		return 0;
	return cmd_json_set(res, "load", json_pack("[f,f,f]", l[0], l[1], l[2]));
}

static int add_boot_id(json_t *res)
{
	_cleanup_free_ char *text = NULL;
	size_t len;

	if (read_file("/proc/sys/kernel/random/boot_id", 64, &text, &len) < 0)
		return 0;
	text[strcspn(text, "\n")] = '\0';
	return cmd_json_set(res, "boot_id", utf8_json_string(text));
}

const char *health_status_name(enum health_status s)
{
	return s == HEALTH_DEGRADED ? "degraded" : s == HEALTH_STARTING ? "starting" : "ok";
}

/* "exit status 1", "signal 9", or "" for a clean exit or none */
static void exit_str(json_t *last_exit, char *buf, size_t size)
{
	json_t *status = json_object_get(last_exit, "status");
	json_t *sig = json_object_get(last_exit, "signal");

	buf[0] = '\0';
	if (json_is_integer(status) && json_integer_value(status) != 0)
		snprintf(buf, size, "exit status %lld", (long long)json_integer_value(status));
	else if (json_is_integer(sig))
		snprintf(buf, size, "signal %lld", (long long)json_integer_value(sig));
}

/* What makes a service unhealthy; "" when nothing does. A service waiting
 * for its dependencies, starting for the first time, stopped after exit
 * status 0 (a one-shot job) or disabled is not a fault by itself: a failed
 * dependency shows as that dependency's reason. */
static void service_problem(json_t *svc, char *buf, size_t size)
{
	const char *state = json_string_value(json_object_get(svc, "state"));
	bool ready = json_is_true(json_object_get(svc, "ready"));
	bool was_ready = json_is_integer(json_object_get(svc, "ready_ms"));
	char how[64];

	exit_str(json_object_get(svc, "last_exit"), how, sizeof(how));
	buf[0] = '\0';
	if (!state)
		return;
	if (strcmp(state, "failed") == 0)
		snprintf(buf, size, "failed%s%s", *how ? ", last " : "", how);
	else if (strcmp(state, "backoff") == 0 && *how)
		snprintf(buf, size, "exited (%s), restart pending", how);
	else if (strcmp(state, "backoff") == 0)
		snprintf(buf, size, "exited, restart pending");
	else if (strcmp(state, "stopped") == 0 && *how)
		snprintf(buf, size, "stopped after %s", how);
	/* restarted (after a crash, or by request) and not ready again; a
	 * service stopping is on its way there, a clean stop is an end */
	else if (was_ready && !ready &&
		 (strcmp(state, "starting") == 0 || strcmp(state, "waiting") == 0))
		snprintf(buf, size, "was ready, is not now (%s)", state);
}

int health_judge_services(json_t *services, json_t *reasons, json_t **ret_engine)
{
	enum health_status st = HEALTH_OK;
	json_t *svc, *engine = NULL;
	size_t i;

	json_array_foreach(services, i, svc)
	{
		const char *name = json_string_value(json_object_get(svc, "name"));
		char problem[160], why[256];

		if (!name)
			continue;
		service_problem(svc, problem, sizeof(problem));
		if (*problem) {
			snprintf(why, sizeof(why), "service %s: %s", name, problem);
			if (cmd_json_append(reasons, utf8_json_string(why)) < 0)
				goto oom;
			st = HEALTH_DEGRADED;
		}
		if (strcmp(name, ENGINE_SERVICE) == 0 && !engine) {
			json_t *ready_ms = json_object_get(svc, "ready_ms");
			bool ready = json_is_true(json_object_get(svc, "ready"));

			engine = json_pack("{s:s,s:b,s:O}", "service", name, "ready", ready,
					   "ready_ms",
					   json_is_integer(ready_ms) ? ready_ms : json_null());
			if (!engine)
				goto oom;
			/* not ready, never was in this boot: still coming up */
			if (!ready && !json_is_integer(ready_ms) && !*problem) {
				snprintf(why, sizeof(why), "engine: %s is not ready yet (%s)", name,
					 json_string_value(json_object_get(svc, "state")));
				if (cmd_json_append(reasons, utf8_json_string(why)) < 0)
					goto oom;
				if (st == HEALTH_OK)
					st = HEALTH_STARTING;
			}
		}
	}
	*ret_engine = engine;
	return (int)st;
oom:
	json_decref(engine);
	return -ENOMEM;
}

/* The services for porthole-health: init's, the fields a summary needs; or,
 * when init does not answer, the agent alone and why. */
static int add_services(const char *init_socket, json_t *res, json_t *reasons,
			enum health_status *st)
{
	static const char *const summary[] = { "name",	"state",    "pid",
					       "ready", "restarts", "oom_kills" };
	char why[INITCTL_WHY_MAX], note[INITCTL_WHY_MAX + 64];
	json_t *list = NULL, *out, *svc, *engine = NULL;
	size_t i;
	int r;

	r = cmd_services_list(init_socket, &list, why, sizeof(why));
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		snprintf(note, sizeof(note), "%s: only the agent is listed", why);
		return cmd_json_set(res, "services",
				    json_pack("[{s:s,s:s,s:i}]", "name", "porthole-agent", "state",
					      "running", "pid", (int)getpid())) < 0 ||
				       cmd_json_set(res, "services_error", utf8_json_string(note)) <
					       0
			       ? -ENOMEM
			       : 0;
	}
	r = health_judge_services(list, reasons, &engine);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	if ((enum health_status)r > *st)
		*st = (enum health_status)r;
	/* each service's cgroup, named by init relative to the cgroup root */
	json_array_foreach(list, i, svc)
	{
		const char *name = json_string_value(json_object_get(svc, "name"));
		const char *cg = json_string_value(json_object_get(svc, "cgroup"));
		char dir[PATH_MAX];

		if (!name || !cg || cg[0] != '/' || strstr(cg, "/..") ||
		    (size_t)snprintf(dir, sizeof(dir), "%s%s", HEALTH_CGROUP_ROOT, cg) >=
			    sizeof(dir))
			continue;
		/* two health requests may be on two workers at once */
		pthread_mutex_lock(&oom_table_lock);
		r = health_judge_cgroup(&oom_table, name, dir, now_mono_ns(), reasons);
		pthread_mutex_unlock(&oom_table_lock);
		if (r < 0) {
			json_decref(list);
			json_decref(engine);
			return r;
		}
		if (r > 0)
			*st = HEALTH_DEGRADED;
	}
	out = json_array();
	json_array_foreach(list, i, svc)
	{
		json_t *o = json_object();

		if (cmd_json_append(out, o) < 0)
			goto oom;
		for (size_t k = 0; k < ARRAY_SIZE(summary); k++) {
			json_t *v = json_object_get(svc, summary[k]);

			if (v && json_object_set(o, summary[k], v) < 0)
				goto oom;
		}
	}
	json_decref(list);
	if (cmd_json_set(res, "services", out) < 0)
		goto oom_engine;
	return engine ? cmd_json_set(res, "engine", engine) : 0;
oom:
	json_decref(list);
	json_decref(out);
oom_engine:
	json_decref(engine);
	return -ENOMEM;
}

/* What porthole-health's job gets: the reply built on the loop so far (the
 * resources, and the agent's own figures, which are the loop's), and init's
 * socket: asking init for its services blocks (up to initctl's bound), so
 * that and the judging of their cgroups run on a worker. */
struct health_job {
	char init_socket[108];
	json_t *res, *reasons, *agent;
	enum health_status st;
};

static enum cmd_result health_work(json_t *args, void *ctx, json_t **result, struct cmd_error *err)
{
	struct health_job *j = ctx;

	json_t *agent = j->agent;

	(void)args;
	if (add_services(j->init_socket, j->res, j->reasons, &j->st) < 0)
		return cmd_fail(err, "out of memory");
	j->agent = NULL; /* cmd_json_set takes it, set or not */
	if (cmd_json_set(j->res, "agent", agent) < 0 ||
	    cmd_json_set(j->res, "status", json_string(health_status_name(j->st))) < 0)
		return cmd_fail(err, "out of memory");
	*result = j->res;
	j->res = NULL;
	return CMD_OK;
}

/* On the loop, answered or not: what the job did not hand over. */
static void health_after(void *ctx, json_t *result, const struct cmd_error *err)
{
	struct health_job *j = ctx;

	(void)result, (void)err;
	json_decref(j->res);
	json_decref(j->reasons);
	json_decref(j->agent);
	j->res = j->reasons = j->agent = NULL;
}

static enum cmd_result health(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
{
	json_t *disks = json_array();
	struct health_job *j = calloc(1, sizeof(*j));
	uint64_t now = now_mono_ns();

	if (!j || !disks)
		goto oom;
	j->res = json_object();
	j->reasons = json_array();
	j->st = HEALTH_OK;
	snprintf(j->init_socket, sizeof(j->init_socket), "%s", a->cfg.init_socket);
	if (!j->res || !j->reasons)
		goto oom;
	/* members in the documented order; status and reasons are filled last */
	if (cmd_json_set(j->res, "status", json_string("ok")) < 0 ||
	    cmd_json_set(j->res, "reasons", json_incref(j->reasons)) < 0 ||
	    cmd_json_set(j->res, "uptime_ns", json_integer((json_int_t)now_boot_ns())) < 0 ||
	    add_boot_id(j->res) < 0 || add_load(j->res) < 0 || add_memory(j->res, j->reasons) < 0 ||
	    add_pressure(j->res) < 0 || cmd_json_set(j->res, "disks", json_incref(disks)) < 0 ||
	    add_disk(disks, j->reasons, "/", false) < 0 ||
	    (a->cfg.data_mount[0] && strcmp(a->cfg.data_mount, "/") != 0 &&
	     (add_disk(disks, j->reasons, a->cfg.data_mount, true) < 0 ||
	      add_last_trim(json_array_get(disks, json_array_size(disks) - 1)) < 0)) ||
	    add_tmpfs_disks(disks, j->reasons) < 0)
		goto oom;
	json_decref(disks);
	disks = NULL;
	/* the resources' reasons so far degrade; the services' judge themselves */
	if (json_array_size(j->reasons) > 0)
		j->st = HEALTH_DEGRADED;
	j->agent = json_pack("{s:s,s:i,s:I,s:{s:i,s:i,s:I,s:I},s:{s:i,s:i,s:I}}", "version",
			     PORTHOLE_VERSION, "protocol", AGENT_VERSION_PROTOCOL, "uptime_ns",
			     (json_int_t)(now - a->start_mono_ns), "clients", "open",
			     (int)transport_clients(), "max", (int)a->cfg.max_clients, "refused",
			     (json_int_t)transport_refused(), "refused_peers",
			     (json_int_t)transport_refused_peers(), "sessions", "open",
			     (int)shell_sessions_open(a), "max", SHELL_SESSIONS_MAX, "refused",
			     (json_int_t)shell_sessions_refused(a));
	if (!j->agent)
		goto oom;
	return worker_cmd(a, "porthole-health", health_work, health_after, args, j, result, err);
oom:
	json_decref(disks);
	if (j)
		health_after(j, NULL, NULL);
	free(j);
	return cmd_fail(err, "out of memory");
}

const struct command cmd_health_table[] = {
	{ "porthole-health", health, { { 0 } }, CMD_QUIET },
	{ 0 },
};
