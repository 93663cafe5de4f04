/* What the VM holds and giving it back: porthole-memory reads /proc/meminfo,
 * PSI, the balloon's state and each service's cgroup; porthole-memory-reclaim
 * asks the services' cgroups and the root to shrink through memory.reclaim
 * (Linux 5.19) and, when full, drops the caches and compacts, so that free
 * page reporting (virtio_balloon) hands whole free blocks back to the host;
 * porthole-memory-target sets memory.high on the engine's cgroup. A timer
 * every agent.memory_check_interval takes a sample for memory-policy.c,
 * which decides; the reclaiming itself runs on a worker (worker.h), never on
 * the loop. What memory-policy.c decides is this file's only state besides a
 * short history. */
#include "cmd-memory.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd-json.h"
#include "command.h"
#include "log.h"
#include "memory-policy.h"
#include "procinfo.h"
#include "util.h"
#include "worker.h"

#define MEMINFO_MAX 16384
/* service cgroups reported and reclaimed, at most (init's own limit on
 * services is lower) */
#define MEM_CGROUPS_MAX 64
#define MEM_HISTORY_MAX 16
/* memory.reclaim is asked for less than this in a cgroup: not worth a write */
#define MEM_RECLAIM_MIN (1 << 20)
/* porthole-memory-target's lowest memory.high for the engine: below it,
 * dockerd itself would be throttled to a crawl */
#define MEM_TARGET_MIN (64ll << 20)
/* VIRTIO_BALLOON_F_REPORTING (the virtio spec, 5.5.3): a character per
 * feature bit in the device's sysfs "features" */
#define BALLOON_F_REPORTING 5

static char proc_root[64] = "/proc";
static char cgroup_root[64] = "/sys/fs/cgroup";

void memory_set_roots(const char *proc, const char *cgroup)
{
	snprintf(proc_root, sizeof(proc_root), "%s", proc);
	snprintf(cgroup_root, sizeof(cgroup_root), "%s", cgroup);
}

struct meminfo {
	int64_t total, available, free, page_cache, shmem, anon, slab_reclaimable,
		slab_unreclaimable;
};

/* Returns 0, or -errno when /proc/meminfo cannot be read or lacks MemTotal. */
static int meminfo_read(struct meminfo *m)
{
	_cleanup_free_ char *text = NULL;
	char path[96];
	int64_t cached, buffers;
	int r;

	snprintf(path, sizeof(path), "%s/meminfo", proc_root);
	r = read_file(path, MEMINFO_MAX, &text, NULL);
	if (r < 0)
		return r;
	m->total = procinfo_meminfo(text, "MemTotal");
	m->available = procinfo_meminfo(text, "MemAvailable");
	m->free = procinfo_meminfo(text, "MemFree");
	m->shmem = procinfo_meminfo(text, "Shmem");
	m->anon = procinfo_meminfo(text, "AnonPages");
	m->slab_reclaimable = procinfo_meminfo(text, "SReclaimable");
	m->slab_unreclaimable = procinfo_meminfo(text, "SUnreclaim");
	cached = procinfo_meminfo(text, "Cached");
	buffers = procinfo_meminfo(text, "Buffers");
	/* Cached counts tmpfs and shared memory, which no reclaim frees
	 * without swap: the page cache that can go is the rest */
	m->page_cache = (cached > 0 ? cached : 0) + (buffers > 0 ? buffers : 0) -
			(m->shmem > 0 ? m->shmem : 0);
	if (m->page_cache < 0)
		m->page_cache = 0;
	return m->total > 0 ? 0 : -EBADMSG;
}

struct mem_cgroup {
	char name[64];
	int64_t current, anon, file, kernel, shmem, high, max;
};

static int cgroup_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mem_cgroup *)a)->name, ((const struct mem_cgroup *)b)->name);
}

/* cgroup_root/porthole[/NAME]; NAME is a directory entry or a checked
 * service name, shorter than 64 bytes: it fits */
static void services_dir(char *buf, size_t size, const char *name)
{
	if ((size_t)snprintf(buf, size, "%s/porthole%s%.63s", cgroup_root, name ? "/" : "",
			     name ? name : "") >= size)
		buf[0] = '\0';
}

/* The services' cgroups (init makes one per service under porthole/) that
 * have the memory controller, by name, into OUT; returns how many. */
static size_t cgroups_read(struct mem_cgroup *out, size_t max)
{
	char dir[PATH_MAX];
	struct dirent *d;
	size_t n = 0;
	DIR *dp;

	services_dir(dir, sizeof(dir), NULL);
	dp = opendir(dir);
	if (!dp)
		return 0;
	while (n < max && (d = readdir(dp))) {
		struct mem_cgroup *c = &out[n];
		char sub[PATH_MAX], stat[PATH_MAX];
		char *text = NULL;

		if (d->d_name[0] == '.' || d->d_type != DT_DIR ||
		    strlen(d->d_name) >= sizeof(c->name))
			continue;
		services_dir(sub, sizeof(sub), d->d_name);
		c->current = procinfo_cgroup_number(sub, "memory.current");
		if (c->current < 0)
			continue;
		snprintf(c->name, sizeof(c->name), "%s", d->d_name);
		/* memory.stat once, its four lines from the one text: the
		 * report is polled, and runs on the loop */
		c->anon = c->file = c->kernel = c->shmem = -1;
		if ((size_t)snprintf(stat, sizeof(stat), "%s/memory.stat", sub) < sizeof(stat) &&
		    read_file(stat, MEMINFO_MAX, &text, NULL) == 0) {
			c->anon = procinfo_keyed(text, "anon");
			c->file = procinfo_keyed(text, "file");
			c->kernel = procinfo_keyed(text, "kernel");
			c->shmem = procinfo_keyed(text, "shmem");
			free(text);
			text = NULL;
		}
		c->high = procinfo_cgroup_number(sub, "memory.high");
		c->max = procinfo_cgroup_number(sub, "memory.max");
		n++;
	}
	closedir(dp);
	qsort(out, n, sizeof(*out), cgroup_cmp);
	return n;
}

/* -1 ("max") and errors as null: no limit, or none known */
static json_t *limit_json(int64_t v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static json_t *bytes_json(int64_t v)
{
	return json_integer(v > 0 ? v : 0);
}

/* Asks DIR's cgroup to give back BYTES (memory.reclaim: the kernel's own
 * reclaim, least recently used first). -EAGAIN, it could not find as much,
 * is not a failure: what it found is gone. Returns 0 or -errno. */
static int reclaim_write(const char *dir, uint64_t bytes)
{
	char path[PATH_MAX], num[32];
	_cleanup_close_ int fd = -1;
	int len;

	if ((size_t)snprintf(path, sizeof(path), "%s/memory.reclaim", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(num, sizeof(num), "%llu", (unsigned long long)bytes);
	if (write(fd, num, (size_t)len) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static int proc_write(const char *name, const char *value)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/sys/vm/%s", proc_root, name);
	return write_file(path, value);
}

/* One reclaim, on a worker: BYTES > 0 is the policy's gentle step (from
 * the root cgroup down, the kernel choosing where); else every service's
 * cgroup gives back its page cache (FULL: all it can), then the root the
 * page cache left, and FULL drops the clean caches and slab and compacts,
 * so that free page reporting finds whole blocks to give the host. */
struct reclaim_job {
	bool full;
	uint64_t bytes;
	const char *reason; /* static: "request", "idle", "busy" */
	/* out */
	struct meminfo before, after;
	uint64_t duration_ms;
	json_t *cgroups; /* [{name, before_bytes, after_bytes}] */
	int r; /* the first failure, -errno; the rest went on */
	char failed[160]; /* what it was */
};

static void job_fail(struct reclaim_job *j, int r, const char *what)
{
	if (j->r < 0)
		return;
	j->r = r;
	snprintf(j->failed, sizeof(j->failed), "%s", what);
}

static void reclaim_do(struct reclaim_job *j)
{
	/* on the worker's stack (15 KiB of its 256): two reclaims, one asked
	 * for and the policy's, may run at once */
	struct mem_cgroup before[MEM_CGROUPS_MAX], after[MEM_CGROUPS_MAX];
	uint64_t start = now_mono_ns();
	size_t n, m;
	int r;

	if (meminfo_read(&j->before) < 0)
		memset(&j->before, 0, sizeof(j->before));
	n = cgroups_read(before, MEM_CGROUPS_MAX);
	if (j->bytes) {
		r = reclaim_write(cgroup_root, j->bytes);
		if (r < 0)
			job_fail(j, r, "memory.reclaim of the root cgroup");
	} else {
		struct meminfo now;

		for (size_t i = 0; i < n; i++) {
			int64_t want = j->full ? before[i].current : before[i].file;
			char dir[PATH_MAX];

			if (want < MEM_RECLAIM_MIN)
				continue;
			services_dir(dir, sizeof(dir), before[i].name);
			r = reclaim_write(dir, (uint64_t)want);
			if (r < 0)
				job_fail(j, r, "memory.reclaim of a service's cgroup");
		}
		/* the page cache of no service (the console's shell, the
		 * kernel's own reads) is the root's */
		if (meminfo_read(&now) == 0 && now.page_cache >= MEM_RECLAIM_MIN) {
			r = reclaim_write(cgroup_root, (uint64_t)now.page_cache);
			/* a kernel whose root cgroup has no memory.reclaim: the
			 * full reclaim's drop_caches does it */
			if (r < 0 && r != -ENOENT)
				job_fail(j, r, "memory.reclaim of the root cgroup");
		}
		if (j->full) {
			/* 3: the page cache and the reclaimable slab (dentries,
			 * inodes): Documentation/admin-guide/sysctl/vm.rst */
			r = proc_write("drop_caches", "3");
			if (r < 0)
				job_fail(j, r, "vm.drop_caches");
			r = proc_write("compact_memory", "1");
			if (r < 0)
				job_fail(j, r, "vm.compact_memory");
		}
	}
	if (meminfo_read(&j->after) < 0)
		memset(&j->after, 0, sizeof(j->after));
	m = cgroups_read(after, MEM_CGROUPS_MAX);
	j->cgroups = json_array();
	for (size_t i = 0; j->cgroups && i < n; i++) {
		int64_t now_bytes = -1;

		for (size_t k = 0; k < m; k++)
			if (strcmp(after[k].name, before[i].name) == 0)
				now_bytes = after[k].current;
		if (now_bytes < 0)
			continue; /* gone meanwhile */
		if (cmd_json_append(j->cgroups,
				    json_pack("{s:o,s:I,s:I}", "name",
					      utf8_json_string(before[i].name), "before_bytes",
					      (json_int_t)before[i].current, "after_bytes",
					      (json_int_t)now_bytes)) < 0) {
			json_decref(j->cgroups);
			j->cgroups = NULL;
		}
	}
	j->duration_ms = (now_mono_ns() - start) / 1000000;
}

/* Memory the guest has free now and had not before: what free page
 * reporting can hand back to the host. */
static int64_t job_freed(const struct reclaim_job *j)
{
	int64_t d = j->after.free - j->before.free;

	return d > 0 ? d : 0;
}

/* The module's state: on the loop's thread only. */
static struct {
	struct agent *agent;
	struct mem_policy_config cfg;
	struct mem_policy policy;
	struct mem_decision last; /* the last sample's */
	char self_cgroup[PATH_MAX]; /* the agent's own cgroup's directory, or "" */
	bool sampled;
	bool auto_running;
	struct {
		int64_t time_ns;
		const char *reason;
		bool full;
		int64_t freed;
		uint64_t duration_ms;
	} history[MEM_HISTORY_MAX];
	size_t history_start, history_n;
	uint64_t count;
	int64_t freed_total;
} st;

static void history_add(const char *reason, bool full, int64_t freed, uint64_t duration_ms)
{
	size_t i = (st.history_start + st.history_n) % MEM_HISTORY_MAX;

	if (st.history_n == MEM_HISTORY_MAX)
		st.history_start = (st.history_start + 1) % MEM_HISTORY_MAX;
	else
		st.history_n++;
	st.history[i].time_ns = now_clock_ns(CLOCK_REALTIME);
	st.history[i].reason = reason;
	st.history[i].full = full;
	st.history[i].freed = freed;
	st.history[i].duration_ms = duration_ms;
	st.count++;
	st.freed_total += freed;
}

static json_t *reclaim_state_json(const struct agent *a)
{
	json_t *hist = json_array();
	json_t *o;

	for (size_t k = 0; hist && k < st.history_n; k++) {
		size_t i = (st.history_start + k) % MEM_HISTORY_MAX;

		if (cmd_json_append(hist, json_pack("{s:I,s:s,s:b,s:I,s:I}", "time_ns",
						    (json_int_t)st.history[i].time_ns, "reason",
						    st.history[i].reason, "full",
						    st.history[i].full, "freed_bytes",
						    (json_int_t)st.history[i].freed, "duration_ms",
						    (json_int_t)st.history[i].duration_ms)) < 0) {
			json_decref(hist);
			return NULL;
		}
	}
	if (!hist)
		return NULL;
	o = json_pack("{s:b,s:b,s:I,s:I,s:I,s:o}", "auto", a->cfg.memory_reclaim && !a->sandbox,
		      "idle", st.sampled && st.last.idle, "idle_for_s",
		      (json_int_t)(st.sampled ? st.last.idle_for_ms / 1000 : 0), "count",
		      (json_int_t)st.count, "freed_bytes", (json_int_t)st.freed_total, "history",
		      hist);
	return o;
}

/* The balloon as the guest sees it: bound to virtio_balloon, whether free
 * page reporting was negotiated, and the pages the host has inflated it by
 * (/proc/vmstat, CONFIG_MEMORY_BALLOON). */
static json_t *balloon_json(void)
{
	static const char drv[] = "/sys/bus/virtio/drivers/virtio_balloon";
	_cleanup_free_ char *vmstat = NULL;
	bool present = false, reporting = false;
	int64_t inflated = 0;
	struct dirent *d;
	char path[PATH_MAX];
	DIR *dp = opendir(drv);

	while (dp && (d = readdir(dp))) {
		_cleanup_free_ char *features = NULL;
		size_t len = 0;

		if (strncmp(d->d_name, "virtio", 6) != 0)
			continue;
		present = true;
		snprintf(path, sizeof(path), "%s/%s/features", drv, d->d_name);
		if (read_file(path, 256, &features, &len) == 0 && len > BALLOON_F_REPORTING &&
		    features[BALLOON_F_REPORTING] == '1')
			reporting = true;
	}
	if (dp)
		closedir(dp);
	snprintf(path, sizeof(path), "%s/vmstat", proc_root);
	if (read_file(path, MEMINFO_MAX, &vmstat, NULL) == 0) {
		long long in = procinfo_keyed(vmstat, "balloon_inflate");
		long long out = procinfo_keyed(vmstat, "balloon_deflate");

		if (in > out)
			inflated = (in - out) * sysconf(_SC_PAGESIZE);
	}
	return json_pack("{s:b,s:b,s:I}", "present", present, "free_page_reporting", reporting,
			 "inflated_bytes", (json_int_t)inflated);
}

static json_t *pressure_json(void)
{
	_cleanup_free_ char *text = NULL;
	char path[96];
	double some, full;

	snprintf(path, sizeof(path), "%s/pressure/memory", proc_root);
	if (read_file(path, 4096, &text, NULL) < 0)
		return NULL;
	some = procinfo_psi_avg10(text, "some");
	full = procinfo_psi_avg10(text, "full");
	if (some < 0 || full < 0)
		return NULL;
	return json_pack("{s:f,s:f}", "some_avg10", some, "full_avg10", full);
}

static enum cmd_result memory_report(struct agent *a, json_t *args, json_t **result,
				     struct cmd_error *err)
{
	static struct mem_cgroup cgs[MEM_CGROUPS_MAX];
	struct meminfo m;
	json_t *res, *list, *pressure;
	size_t n;
	int r;

	(void)args;
	r = meminfo_read(&m);
	if (r < 0)
		return cmd_fail_errno(err, r, "reading %s/meminfo", proc_root);
	res = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "total_bytes", (json_int_t)m.total,
			"available_bytes", (json_int_t)(m.available > 0 ? m.available : 0),
			"free_bytes", (json_int_t)(m.free > 0 ? m.free : 0), "page_cache_bytes",
			(json_int_t)m.page_cache, "shmem_bytes",
			(json_int_t)(m.shmem > 0 ? m.shmem : 0), "anon_bytes",
			(json_int_t)(m.anon > 0 ? m.anon : 0), "slab_reclaimable_bytes",
			(json_int_t)(m.slab_reclaimable > 0 ? m.slab_reclaimable : 0),
			"slab_unreclaimable_bytes",
			(json_int_t)(m.slab_unreclaimable > 0 ? m.slab_unreclaimable : 0));
	list = json_array();
	n = cgroups_read(cgs, MEM_CGROUPS_MAX);
	for (size_t i = 0; list && i < n; i++)
		if (cmd_json_append(list, json_pack("{s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "name",
						    utf8_json_string(cgs[i].name), "current_bytes",
						    (json_int_t)cgs[i].current, "anon_bytes",
						    bytes_json(cgs[i].anon), "file_bytes",
						    bytes_json(cgs[i].file), "kernel_bytes",
						    bytes_json(cgs[i].kernel), "shmem_bytes",
						    bytes_json(cgs[i].shmem), "high_bytes",
						    limit_json(cgs[i].high), "max_bytes",
						    limit_json(cgs[i].max))) < 0) {
			json_decref(list);
			list = NULL;
		}
	pressure = pressure_json();
	if (!res || cmd_json_set(res, "cgroups", list) < 0 ||
	    cmd_json_set(res, "balloon", balloon_json()) < 0 ||
	    cmd_json_set(res, "reclaim", reclaim_state_json(a)) < 0 ||
	    (pressure && cmd_json_set(res, "pressure", pressure) < 0)) {
		json_decref(res);
		return cmd_fail(err, "out of memory");
	}
	*result = res;
	return CMD_OK;
}

static json_t *job_result(const struct reclaim_job *j)
{
	return json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:O}", "full", j->full, "freed_bytes",
			 (json_int_t)job_freed(j), "page_cache_before_bytes",
			 (json_int_t)j->before.page_cache, "page_cache_after_bytes",
			 (json_int_t)j->after.page_cache, "available_before_bytes",
			 (json_int_t)j->before.available, "available_after_bytes",
			 (json_int_t)j->after.available, "duration_ms", (json_int_t)j->duration_ms,
			 "cgroups", j->cgroups);
}

static enum cmd_result reclaim_cmd_work(json_t *args, void *ctx, json_t **result,
					struct cmd_error *err)
{
	struct reclaim_job j = { .full = json_is_true(json_object_get(args, "full")),
				 .reason = "request" };

	(void)ctx;
	reclaim_do(&j);
	if (!j.cgroups)
		return cmd_fail(err, "out of memory");
	/* a failure that freed nothing is the answer; one among others that
	 * worked is in the log */
	if (j.r < 0 && job_freed(&j) == 0) {
		json_decref(j.cgroups);
		return cmd_fail_errno(err, j.r, "%s", j.failed);
	}
	if (j.r < 0)
		log_warn_errno(j.r, "porthole-memory-reclaim: %s", j.failed);
	*result = job_result(&j);
	json_decref(j.cgroups);
	return *result ? CMD_OK : cmd_fail(err, "out of memory");
}

static void reclaim_cmd_after(void *ctx, json_t *result, const struct cmd_error *err)
{
	bool full;

	(void)ctx, (void)err;
	if (!result)
		return;
	full = json_is_true(json_object_get(result, "full"));
	history_add("request", full, json_integer_value(json_object_get(result, "freed_bytes")),
		    (uint64_t)json_integer_value(json_object_get(result, "duration_ms")));
	if (full)
		mem_policy_note_full(&st.policy, (uint64_t)json_integer_value(json_object_get(
							 result, "page_cache_after_bytes")));
}

static enum cmd_result memory_reclaim(struct agent *a, json_t *args, json_t **result,
				      struct cmd_error *err)
{
	if (a->sandbox)
		return cmd_fail(err, "the agent is not in its VM (a sandbox on the host): the "
				     "host's memory is not its to reclaim");
	return worker_cmd(a, "porthole-memory-reclaim", reclaim_cmd_work, reclaim_cmd_after, args,
			  NULL, result, err);
}

static enum cmd_result memory_target(struct agent *a, json_t *args, json_t **result,
				     struct cmd_error *err)
{
	json_int_t v = json_integer_value(json_object_get(args, "engine_high_bytes"));
	char dir[PATH_MAX], path[PATH_MAX], num[32];
	int r;

	if (v != 0 && v < MEM_TARGET_MIN)
		return cmd_fail(err,
				"engine_high_bytes: %lld is too low (at least %lld, 64 MiB, or 0 "
				"for no limit)",
				(long long)v, (long long)MEM_TARGET_MIN);
	if (!a->cfg.memory_engine[0])
		return cmd_fail(err, "no engine: agent.memory_engine is empty");
	services_dir(dir, sizeof(dir), a->cfg.memory_engine);
	if (access(dir, F_OK) < 0)
		return cmd_fail(err,
				"the engine's cgroup %s does not exist (is the %s service "
				"running?)",
				dir, a->cfg.memory_engine);
	if ((size_t)snprintf(path, sizeof(path), "%s/memory.high", dir) >= sizeof(path))
		return cmd_fail(err, "the engine's cgroup path is too long");
	if (v)
		snprintf(num, sizeof(num), "%lld", (long long)v);
	else
		snprintf(num, sizeof(num), "max");
	r = write_file(path, num);
	if (r < 0)
		return cmd_fail_errno(err, r, "writing %s to %s", num, path);
	log_info("memory.high of %s set to %s", a->cfg.memory_engine, num);
	*result = json_pack("{s:s,s:o}", "service", a->cfg.memory_engine, "high_bytes",
			    limit_json(procinfo_cgroup_number(dir, "memory.high")));
	return *result ? CMD_OK : cmd_fail(err, "out of memory");
}

/* The policy's reclaim, on a worker; its result comes back to the loop. */
static void auto_run(void *data)
{
	reclaim_do(data);
}

static void auto_done(void *data, int status)
{
	struct reclaim_job *j = data;

	if (status == 0) {
		int64_t freed = job_freed(j);

		st.auto_running = false;
		history_add(j->reason, j->full, freed, j->duration_ms);
		if (j->r < 0)
			log_warn_errno(j->r, "memory: %s", j->failed);
		/* a gentle step every check while busy: not worth a line each */
		if (j->full)
			log_info("memory: idle, gave back %lld MiB in %llu ms (page cache %lld "
				 "MiB, was %lld MiB)",
				 (long long)(freed >> 20), (unsigned long long)j->duration_ms,
				 (long long)(j->after.page_cache >> 20),
				 (long long)(j->before.page_cache >> 20));
		else
			log_debug("memory: %s, gave back %lld KiB in %llu ms", j->reason,
				  (long long)(freed >> 10), (unsigned long long)j->duration_ms);
	}
	/* -ESHUTDOWN: the worker's thread, the loop gone: only free */
	json_decref(j->cgroups);
	free(j);
}

/* The CPU that makes the VM busy: the whole system's (the root cgroup's
 * cpu.stat counts every process and kernel thread: containers, a build in
 * porthole shell, the console's) less the agent's own cgroup's, whose
 * reclaiming must not count as work, or an idle VM would reclaim again
 * after each reclaim. Where the root has no cpu.stat, the engine's cgroup's;
 * 0 without either. */
static uint64_t busy_cpu_usec(const struct agent *a)
{
	int64_t all = procinfo_cgroup_keyed(cgroup_root, "cpu.stat", "usage_usec");
	char dir[PATH_MAX];

	if (all >= 0) {
		int64_t self = st.self_cgroup[0] ? procinfo_cgroup_keyed(st.self_cgroup, "cpu.stat",
									 "usage_usec")
						 : -1;

		return (uint64_t)(self >= 0 && self <= all ? all - self : all);
	}
	if (!a->cfg.memory_engine[0])
		return 0;
	services_dir(dir, sizeof(dir), a->cfg.memory_engine);
	all = procinfo_cgroup_keyed(dir, "cpu.stat", "usage_usec");
	return all > 0 ? (uint64_t)all : 0;
}

/* "0::/porthole/porthole-agent" in /proc/self/cgroup (cgroup v2's one
 * line): the directory, unless it is the root (an agent started by hand). */
static void find_self_cgroup(void)
{
	_cleanup_free_ char *text = NULL;
	char path[96];
	const char *rel;

	st.self_cgroup[0] = '\0';
	snprintf(path, sizeof(path), "%s/self/cgroup", proc_root);
	if (read_file(path, 4096, &text, NULL) < 0 || strncmp(text, "0::/", 4) != 0)
		return;
	rel = text + 3;
	text[3 + strcspn(rel, "\n")] = '\0';
	if (strcmp(rel, "/") != 0 && !strstr(rel, "/..") &&
	    (size_t)snprintf(st.self_cgroup, sizeof(st.self_cgroup), "%s%s", cgroup_root, rel) >=
		    sizeof(st.self_cgroup))
		st.self_cgroup[0] = '\0';
}

static void memory_tick(struct loop *l, void *data)
{
	struct agent *a = data;
	struct mem_sample s = { 0 };
	struct meminfo m;
	struct reclaim_job *j;
	struct worker *w;

	loop_timer(l, (uint64_t)a->cfg.memory_check_interval_s * 1000, memory_tick, a);
	if (meminfo_read(&m) < 0)
		return;
	s.now_ms = now_mono_ns() / 1000000;
	s.cpu_usec = busy_cpu_usec(a);
	s.last_request_ms = a->last_request_mono_ns / 1000000;
	s.total_bytes = (uint64_t)m.total;
	s.page_cache_bytes = (uint64_t)m.page_cache;
	st.last = mem_policy_step(&st.policy, &st.cfg, &s);
	st.sampled = true;
	if (st.last.action == MEM_NONE || st.auto_running)
		return;
	w = worker_of(a);
	j = calloc(1, sizeof(*j));
	if (!w || !j) {
		free(j);
		return;
	}
	j->full = st.last.action == MEM_FULL;
	j->bytes = st.last.action == MEM_GENTLE ? st.last.bytes : 0;
	j->reason = j->full ? "idle" : "busy";
	if (worker_submit(w, auto_run, auto_done, j) < 0) {
		free(j);
		return; /* the workers are busy: the next check tries again */
	}
	st.auto_running = true;
}

/* Free page reporting hands the host free blocks of 2^order pages, 2 MiB
 * (pageblock_order) unless told: on a guest whose free memory is scattered
 * after a build, smaller blocks give back much more (measured: QEMU's RSS
 * 1.25 times its idle size after a 1 GiB workload at order 9, 1.09 at 5).
 * The driver sets an order of its own when it registers on kernels before
 * the parameter was honoured there (the command line's
 * page_reporting.page_reporting_order can be lost): set here, after init
 * loaded virtio_balloon, it holds on every kernel. The cost is
 * docs/memory.md's. */
static void set_report_order(unsigned order)
{
	static const char param[] = "/sys/module/page_reporting/parameters/page_reporting_order";
	char num[16];
	int r;

	if (!order || access(param, F_OK) < 0)
		return;
	snprintf(num, sizeof(num), "%u", order);
	r = write_file(param, num);
	if (r < 0)
		log_warn_errno(r, "memory: setting %s to %s", param, num);
	else
		log_info("memory: free page reporting in blocks of %u KiB", 4u << order);
}

void memory_start(struct agent *a)
{
	st.agent = a;
	mem_policy_config_defaults(&st.cfg, (uint64_t)a->cfg.memory_idle_after_s * 1000);
	if (a->sandbox)
		return;
	set_report_order(a->cfg.memory_report_order);
	if (!a->cfg.memory_reclaim)
		return;
	find_self_cgroup();
	loop_timer(a->loop, (uint64_t)a->cfg.memory_check_interval_s * 1000, memory_tick, a);
}

const struct command cmd_memory_table[] = {
	{ "porthole-memory", memory_report, { { 0 } }, CMD_QUIET },
	{ "porthole-memory-reclaim", memory_reclaim, { { "full", ARG_BOOL, false } }, 0 },
	{ "porthole-memory-target", memory_target, { { "engine_high_bytes", ARG_INT, true } }, 0 },
	{ 0 },
};
