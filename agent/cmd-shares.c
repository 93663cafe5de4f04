/* porthole-mount, porthole-unmount and porthole-mounts: the host's shared
 * folders (virtiofs and 9p) at run time. Resolving and mounting is
 * lib/sharemount.c's; this file checks arguments and answers, and reports
 * each share's health without letting a hung one block the agent. Mounting,
 * unmounting and the health probe's wait run on the agent's workers
 * (worker.c): a share whose host side is dying can hold the first two in
 * the kernel for as long as it likes, the last for STATFS_WAIT_MS. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cmd-json.h"
#include "command.h"
#include "log.h"
#include "sharemount.h"
#include "util.h"
#include "worker.h"

#define MOUNTINFO_MAX (2 << 20)
#define SHARES_LIST_MAX 64
/* statfs(2) on a share whose host side hangs (virtiofsd stopped, a 9p
 * server gone) blocks in the kernel: each runs in its own thread, and the
 * answer waits this long for all of them at most */
#define STATFS_WAIT_MS 1000
/* threads still stuck in a hung share's statfs: beyond this, no new one
 * starts and such a share is reported stale at once */
#define STUCK_MAX 16

static atomic_int stuck;

/* Mounts and unmounts outstanding on the workers, at most: stuck ones on a
 * dead share keep the other workers free for trims and calls to init. */
#define SHARE_JOBS_MAX 2
static unsigned share_jobs;

/* What a mount or unmount job needs, copied from the agent and the
 * request: a job touches nothing of the loop's. */
struct share_ctx {
	char roots[SHARE_ROOTS_MAX][SHARE_PATH_MAX];
	size_t n_roots;
	struct share_request req; /* porthole-mount's */
	bool lazy; /* porthole-unmount's */
};

static struct share_ctx *share_ctx_new(const struct agent *a, struct cmd_error *err)
{
	struct share_ctx *c;

	if (share_jobs >= SHARE_JOBS_MAX) {
		cmd_fail(err,
			 "%u mounts or unmounts are still outstanding (a share whose host side "
			 "stopped answering?): try again later",
			 share_jobs);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		cmd_fail(err, "out of memory");
		return NULL;
	}
	memcpy(c->roots, a->cfg.share_roots, sizeof(c->roots));
	c->n_roots = a->cfg.n_share_roots;
	share_jobs++;
	return c;
}

/* The arguments as the dispatcher checked them (types), into a request. */
static int request_from_args(json_t *args, struct share_request *req, struct cmd_error *err)
{
	const char *tag = json_string_value(json_object_get(args, "tag"));
	const char *target = json_string_value(json_object_get(args, "target"));
	const char *type = json_string_value(json_object_get(args, "type"));
	json_t *ro = json_object_get(args, "readonly"), *opts = json_object_get(args, "options");
	const char *key;
	json_t *v;

	memset(req, 0, sizeof(*req));
	if (!tag[0] || strlen(tag) >= sizeof(req->tag))
		return cmd_fail(err, "Parameter 'tag' must be 1 to %zu bytes",
				sizeof(req->tag) - 1);
	snprintf(req->tag, sizeof(req->tag), "%s", tag);
	if (strlen(target) >= sizeof(req->target))
		return cmd_fail(err, "Parameter 'target' is longer than %zu bytes",
				sizeof(req->target) - 1);
	snprintf(req->target, sizeof(req->target), "%s", target);
	if (type && share_type_parse(type, &req->type) < 0)
		return cmd_fail(err, "Parameter 'type' must be \"virtiofs\" or \"9p\", not \"%s\"",
				type);
	req->readonly = ro && json_is_true(ro);
	json_object_foreach(opts, key, v)
	{
		char buf[64], why[SHARE_WHY_MAX];
		int n;

		if (req->n_options == SHARE_OPTIONS_MAX)
			return cmd_fail(err, "Parameter 'options': at most %d", SHARE_OPTIONS_MAX);
		if (json_is_string(v))
			n = snprintf(buf, sizeof(buf), "%s=%s", key, json_string_value(v));
		else if (json_is_integer(v))
			n = snprintf(buf, sizeof(buf), "%s=%lld", key,
				     (long long)json_integer_value(v));
		else if (json_is_true(v))
			n = snprintf(buf, sizeof(buf), "%s", key);
		else
			return cmd_fail(err,
					"Parameter 'options': %s must be a string, an integer "
					"or true",
					key);
		if (n < 0 || (size_t)n >= sizeof(buf) || strchr(buf, ','))
			return cmd_fail(err, "Parameter 'options': %s is too long or has a comma",
					key);
		if (req->type != SHARE_AUTO &&
		    share_option_check(req->type, buf, why, sizeof(why)) < 0)
			return cmd_fail(err, "%s", why);
		snprintf(req->options[req->n_options++], sizeof(req->options[0]), "%s", buf);
	}
	return 0;
}

static enum cmd_result mount_work(json_t *args, void *ctx, json_t **result, struct cmd_error *err)
{
	struct share_ctx *c = ctx;
	struct share_request *req = &c->req;
	char why[SHARE_WHY_MAX] = "";
	bool already = false;
	int r;

	(void)args;
	r = share_mount("/sys", (const char(*)[SHARE_PATH_MAX])c->roots, c->n_roots, req, &already,
			why, sizeof(why));
	if (r < 0)
		return cmd_fail(err, "%s", why);
	*result = json_pack("{s:s,s:s,s:s,s:b,s:b}", "tag", req->tag, "type",
			    share_type_name(req->type), "target", req->target, "readonly",
			    req->readonly, "already", already);
	return *result ? 0 : cmd_fail(err, "out of memory");
}

static void mount_after(void *ctx, json_t *result, const struct cmd_error *err)
{
	struct share_ctx *c = ctx;

	share_jobs--;
	if (err)
		return;
	log_info("mounted %s (%s) on %s%s%s", c->req.tag, share_type_name(c->req.type),
		 c->req.target, c->req.readonly ? ", read-only" : "",
		 json_is_true(json_object_get(result, "already")) ? " (already)" : "");
}

static enum cmd_result mount_share(struct agent *a, json_t *args, json_t **result,
				   struct cmd_error *err)
{
	struct share_request req;
	struct share_ctx *c;

	if (request_from_args(args, &req, err) < 0)
		return -1;
	c = share_ctx_new(a, err);
	if (!c)
		return -1;
	c->req = req;
	return worker_cmd(a, "porthole-mount", mount_work, mount_after, args, c, result, err);
}

static enum cmd_result unmount_work(json_t *args, void *ctx, json_t **result, struct cmd_error *err)
{
	struct share_ctx *c = ctx;
	const char *target = json_string_value(json_object_get(args, "target"));
	char why[SHARE_WHY_MAX], type[32], source[SHARE_PATH_MAX], clean[SHARE_PATH_MAX];
	_cleanup_free_ char *mountinfo = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	r = share_resolve((const char(*)[SHARE_PATH_MAX])c->roots, c->n_roots, target, false, &fd,
			  why, sizeof(why));
	if (r < 0)
		return cmd_fail(err, "%s", why);
	share_path_clean(target, clean, sizeof(clean));
	r = read_file("/proc/self/mountinfo", MOUNTINFO_MAX, &mountinfo, NULL);
	if (r < 0)
		return cmd_fail_errno(err, r, "read /proc/self/mountinfo");
	if (!share_mount_at(mountinfo, clean, type, sizeof(type), source, sizeof(source), NULL))
		return cmd_fail(err, "%s: nothing is mounted there", clean);
	if (strcmp(type, "virtiofs") != 0 && strcmp(type, "9p") != 0)
		return cmd_fail(err, "%s: %s (%s) is not a share", clean, source, type);
	/* by path, not through the fd's /proc/self/fd magic link: an open fd
	 * on the mount keeps it busy (umount2(2) EBUSY). The path was just
	 * walked without symlinks, and UMOUNT_NOFOLLOW keeps its last
	 * component from becoming one meanwhile. */
	close(fd);
	fd = -1;
	if (umount2(clean, UMOUNT_NOFOLLOW | (c->lazy ? MNT_DETACH : 0)) < 0) {
		if (errno == EBUSY)
			return cmd_fail(err,
					"target %s is busy: in use in the guest (lazy: true "
					"detaches it now and unmounts when no longer used)",
					clean);
		return cmd_fail_errno(err, -errno, "unmount %s", clean);
	}
	/* read back from mountinfo: need not be UTF-8 */
	*result = json_pack("{s:o,s:o,s:o}", "target", utf8_json_string(clean), "tag",
			    utf8_json_string(source), "type", utf8_json_string(type));
	return *result ? 0 : cmd_fail(err, "out of memory");
}

static void unmount_after(void *ctx, json_t *result, const struct cmd_error *err)
{
	struct share_ctx *c = ctx;

	share_jobs--;
	if (err)
		return;
	log_info("unmounted %s (%s %s)%s", json_string_value(json_object_get(result, "target")),
		 json_string_value(json_object_get(result, "tag")),
		 json_string_value(json_object_get(result, "type")), c->lazy ? ", lazily" : "");
}

static enum cmd_result unmount_share(struct agent *a, json_t *args, json_t **result,
				     struct cmd_error *err)
{
	struct share_ctx *c = share_ctx_new(a, err);

	if (!c)
		return -1;
	c->lazy = json_is_true(json_object_get(args, "lazy"));
	return worker_cmd(a, "porthole-unmount", unmount_work, unmount_after, args, c, result, err);
}

/* One statfs, shared by the answer and its thread: whoever lets go last
 * frees it. */
struct probe {
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	int refs;
	bool done;
	int error; /* errno of statvfs, 0 */
	struct statvfs sv;
	char path[SHARE_PATH_MAX];
};

static void probe_put(struct probe *p)
{
	bool last;

	pthread_mutex_lock(&p->lock);
	last = --p->refs == 0;
	pthread_mutex_unlock(&p->lock);
	if (last) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->done_cond);
		free(p);
	}
}

static void *probe_run(void *data)
{
	struct probe *p = data;
	struct statvfs sv;
	int e = 0;

	atomic_fetch_add(&stuck, 1);
	if (statvfs(p->path, &sv) < 0)
		e = errno;
	atomic_fetch_sub(&stuck, 1);
	pthread_mutex_lock(&p->lock);
	p->sv = sv;
	p->error = e;
	p->done = true;
	pthread_cond_signal(&p->done_cond);
	pthread_mutex_unlock(&p->lock);
	probe_put(p);
	return NULL;
}

static struct probe *probe_start(const char *path)
{
	struct probe *p = calloc(1, sizeof(*p));
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int r;

	if (!p)
		return NULL;
	if (atomic_load(&stuck) >= STUCK_MAX) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->done_cond, NULL);
	p->refs = 2;
	snprintf(p->path, sizeof(p->path), "%s", path);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	/* the thread takes no signal: the loop's signalfd reads them all */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&t, &attr, probe_run, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		p->refs = 1;
		probe_put(p);
		return NULL;
	}
	return p;
}

/* Waits for P until DEADLINE (CLOCK_REALTIME, the condvar's default clock). */
static bool probe_wait(struct probe *p, const struct timespec *deadline)
{
	bool done;

	pthread_mutex_lock(&p->lock);
	while (!p->done)
		if (pthread_cond_timedwait(&p->done_cond, &p->lock, deadline) == ETIMEDOUT)
			break;
	done = p->done;
	pthread_mutex_unlock(&p->lock);
	return done;
}

struct share_entry {
	char target[SHARE_PATH_MAX];
	char type[16];
	char tag[SHARE_TAG_MAX];
	char options[512];
};

/* The virtiofs and 9p mounts of MOUNTINFO, at most MAX. */
static size_t list_shares(char *mountinfo, struct share_entry *list, size_t max)
{
	size_t n = 0;

	for (char *line = mountinfo, *next; line && *line && n < max; line = next) {
		char *f[6], *save = NULL, *sep, *type, *src, *super;
		int k = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		for (char *t = strtok_r(line, " ", &save); t && k < 6;
		     t = strtok_r(NULL, " ", &save))
			f[k++] = t;
		type = strtok_r(sep + 3, " ", &save);
		src = type ? strtok_r(NULL, " ", &save) : NULL;
		super = src ? strtok_r(NULL, " ", &save) : NULL;
		if (k < 6 || !src || (strcmp(type, "virtiofs") != 0 && strcmp(type, "9p") != 0))
			continue;
		/* mountinfo's \ooo escapes are left: the paths porthole makes
		 * have none, and they are shown as the kernel shows them */
		snprintf(list[n].target, sizeof(list[n].target), "%s", f[4]);
		snprintf(list[n].type, sizeof(list[n].type), "%s", type);
		snprintf(list[n].tag, sizeof(list[n].tag), "%s", src);
		snprintf(list[n].options, sizeof(list[n].options), "%s%s%s", f[5], super ? "," : "",
			 super ? super : "");
		n++;
	}
	return n;
}

static enum cmd_result mounts_work(json_t *args, void *ctx, json_t **result, struct cmd_error *err)
{
	_cleanup_free_ char *mountinfo = NULL;
	_cleanup_free_ struct share_entry *list = calloc(SHARES_LIST_MAX, sizeof(*list));
	struct probe *probes[SHARES_LIST_MAX] = { 0 };
	struct timespec deadline;
	json_t *arr = json_array();
	size_t n;
	int r;

	(void)args, (void)ctx;
	if (!list || !arr) {
		json_decref(arr);
		return cmd_fail(err, "out of memory");
	}
	r = read_file("/proc/self/mountinfo", MOUNTINFO_MAX, &mountinfo, NULL);
	if (r < 0) {
		json_decref(arr);
		return cmd_fail_errno(err, r, "read /proc/self/mountinfo");
	}
	n = list_shares(mountinfo, list, SHARES_LIST_MAX);
	for (size_t i = 0; i < n; i++)
		probes[i] = probe_start(list[i].target);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += (STATFS_WAIT_MS % MSEC_PER_SEC) * NSEC_PER_MSEC;
	deadline.tv_sec += STATFS_WAIT_MS / MSEC_PER_SEC + deadline.tv_nsec / NSEC_PER_SEC;
	deadline.tv_nsec %= NSEC_PER_SEC;
	for (size_t i = 0; i < n; i++) {
		struct share_entry *e = &list[i];
		json_t *o =
			json_pack("{s:o,s:o,s:o,s:o}", "tag", utf8_json_string(e->tag), "type",
				  utf8_json_string(e->type), "target", utf8_json_string(e->target),
				  "options", utf8_json_string(e->options));
		const char *health = "stale";

		if (probes[i] && probe_wait(probes[i], &deadline)) {
			struct statvfs *sv = &probes[i]->sv;

			health = probes[i]->error ? "error" : "ok";
			if (!probes[i]->error && o &&
			    cmd_json_set(o, "statfs",
					 json_pack("{s:I,s:I,s:I,s:I,s:I}", "block_size",
						   (json_int_t)sv->f_frsize, "total_bytes",
						   (json_int_t)(sv->f_blocks * sv->f_frsize),
						   "free_bytes",
						   (json_int_t)(sv->f_bfree * sv->f_frsize),
						   "available_bytes",
						   (json_int_t)(sv->f_bavail * sv->f_frsize),
						   "files", (json_int_t)sv->f_files)) < 0)
				o = NULL;
			if (probes[i]->error && o)
				cmd_json_set(o, "error",
					     utf8_json_string(strerror(probes[i]->error)));
		}
		if (o)
			cmd_json_set(o, "health", json_string(health));
		if (cmd_json_append(arr, o) < 0) {
			for (size_t j = i; j < n; j++)
				if (probes[j])
					probe_put(probes[j]);
			json_decref(arr);
			return cmd_fail(err, "out of memory");
		}
		if (probes[i])
			probe_put(probes[i]);
	}
	*result = json_pack("{s:o}", "mounts", arr);
	return *result ? 0 : cmd_fail(err, "out of memory");
}

/* The answer waits up to STATFS_WAIT_MS for a hung share's statfs: on a
 * worker, not in the loop. */
static enum cmd_result list_mounts(struct agent *a, json_t *args, json_t **result,
				   struct cmd_error *err)
{
	return worker_cmd(a, "porthole-mounts", mounts_work, NULL, args, NULL, result, err);
}

const struct command cmd_shares_table[] = {
	{ "porthole-mount",
	  mount_share,
	  { { "tag", ARG_STRING, true },
	    { "target", ARG_STRING, true },
	    { "type", ARG_STRING, false },
	    { "readonly", ARG_BOOL, false },
	    { "options", ARG_OBJECT, false } },
	  0 },
	{ "porthole-unmount",
	  unmount_share,
	  { { "target", ARG_STRING, true }, { "lazy", ARG_BOOL, false } },
	  0 },
	{ "porthole-mounts", list_mounts, { { 0 } }, 0 },
	{ 0 },
};
