/* Kernel modules through libkmod, which reads modules.dep.bin,
 * modules.alias.bin and modules.softdep as modprobe does: names and aliases
 * (a device's modalias among them) resolved and loaded. Resolution is kept
 * apart from loading so that --check and the tests can show the order without
 * loading anything. Which aliases the devices announce is coldplug.c's. */
#include "modules.h"

#include <errno.h>
#include <libkmod.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parallel.h"
#include "util.h"

static void kmod_ctx_unrefp(struct kmod_ctx **ctx)
{
	if (*ctx)
		kmod_unref(*ctx);
}

static void kmod_list_unrefp(struct kmod_list **l)
{
	if (*l)
		kmod_module_unref_list(*l);
}

#define _cleanup_kmod_ctx_ __attribute__((cleanup(kmod_ctx_unrefp)))
#define _cleanup_kmod_list_ __attribute__((cleanup(kmod_list_unrefp)))

static bool resolved_has(const struct modules_resolved *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->names[i], name) == 0)
			return true;
	return false;
}

static int resolve_one(struct kmod_module *mod, struct modules_resolved *ret, int depth);

static int resolve_list(struct kmod_list *list, struct modules_resolved *ret, int depth)
{
	struct kmod_list *l;
	int r = 0;

	kmod_list_foreach (l, list) {
		struct kmod_module *m = kmod_module_get_module(l);
		int rr = resolve_one(m, ret, depth + 1);

		kmod_module_unref(m);
		if (rr < 0 && r == 0)
			r = rr;
	}
	return r;
}

static int resolve_one(struct kmod_module *mod, struct modules_resolved *ret, int depth)
{
	_cleanup_kmod_list_ struct kmod_list *pre = NULL, *post = NULL, *deps = NULL;
	const char *name = kmod_module_get_name(mod);
	int r;

	/* softdeps can form cycles (a pre b, b post a): the depth bounds them */
	if (depth > 16 || resolved_has(ret, name))
		return 0;
	if (kmod_module_get_initstate(mod) == KMOD_MODULE_BUILTIN) {
		ret->n_builtin++;
		return 0;
	}
	if (!kmod_module_get_path(mod)) {
		/* builtin modules without modules.builtin.bin also land here */
		log_error("module %s: not found in the module tree", name);
		return -ENOENT;
	}
	kmod_module_get_softdeps(mod, &pre, &post);
	r = resolve_list(pre, ret, depth);
	deps = kmod_module_get_dependencies(mod);
	/* modules.dep lists every module needed, innermost last: load it reversed */
	{
		struct kmod_list *l;
		struct kmod_module *stack[MODULES_RESOLVED_MAX];
		size_t n = 0;

		kmod_list_foreach (l, deps) {
			if (n < ARRAY_SIZE(stack))
				stack[n++] = kmod_module_get_module(l);
		}
		while (n-- > 0) {
			int rr = resolve_one(stack[n], ret, depth + 1);

			kmod_module_unref(stack[n]);
			if (rr < 0 && r == 0)
				r = rr;
		}
	}
	if (!resolved_has(ret, name)) {
		if (ret->n == MODULES_RESOLVED_MAX) {
			log_error("module %s: more than %d modules to load", name,
				  MODULES_RESOLVED_MAX);
			return -E2BIG;
		}
		snprintf(ret->names[ret->n++], MODULE_NAME_MAX, "%s", name);
	}
	{
		int rr = resolve_list(post, ret, depth);

		if (rr < 0 && r == 0)
			r = rr;
	}
	return r;
}

static int lookup(struct kmod_ctx *ctx, const char *name, struct kmod_list **ret)
{
	int r = kmod_module_new_from_lookup(ctx, name, ret);

	if (r < 0)
		return log_error_errno(r, "module %s: lookup", name);
	if (!*ret) {
		log_error("module %s: not found in the module tree", name);
		return -ENOENT;
	}
	return 0;
}

int modules_resolve(const char *dir, const char (*names)[64], size_t n,
		    struct modules_resolved *ret)
{
	_cleanup_kmod_ctx_ struct kmod_ctx *ctx = kmod_new(dir, NULL);
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	if (!ctx)
		return log_error_errno(-ENOMEM, "libkmod context for %s", dir ? dir : "modules");
	for (size_t i = 0; i < n; i++) {
		_cleanup_kmod_list_ struct kmod_list *list = NULL;
		int rr = lookup(ctx, names[i], &list);

		if (rr == 0)
			rr = resolve_list(list, ret, 0);
		if (rr < 0 && r == 0)
			r = rr;
	}
	return r;
}

static void log_kmod(void *data, int priority, const char *file, int line, const char *fn,
		     const char *format, va_list args) __attribute__((format(printf, 6, 0)));

static void log_kmod(void *data, int priority, const char *file, int line, const char *fn,
		     const char *format, va_list args)
{
	char buf[512];
	size_t len;

	(void)data, (void)file, (void)line, (void)fn;
	vsnprintf(buf, sizeof(buf), format, args);
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	log_msg(priority <= 3 ? LOG_LEVEL_ERROR : LOG_LEVEL_DEBUG, "libkmod: %s", buf);
}

/* One libkmod context for the whole boot and for hotplug after it: its
 * indexes are read (mmap'd) once, not once per alias. A libkmod context is
 * not thread-safe: modules_load_jobs' other threads each get one of their
 * own (WORKERS, made at their first use and kept for the next round). */
struct modules_ctx {
	struct kmod_ctx *kmod;
	char *dir, *config_dir; /* as given to modules_open, for WORKERS */
	struct kmod_ctx *workers[PARALLEL_THREADS_MAX];
};

static struct kmod_ctx *kmod_open(const char *dir, const char *config_dir)
{
	/* NULL: modprobe's own (/etc/modprobe.d, /run/modprobe.d,
	 * /lib/modprobe.d); an empty list reads none */
	const char *const paths[] = { config_dir, NULL };
	struct kmod_ctx *ctx = kmod_new(dir, dir || config_dir ? paths : NULL);
	int r;

	if (!ctx) {
		log_error_errno(-ENOMEM, "libkmod context for %s", dir ? dir : "modules");
		return NULL;
	}
	kmod_set_log_fn(ctx, log_kmod, NULL);
	/* Loads the indexes once instead of for every lookup; without them
	 * (no modules.dep.bin) libkmod falls back to the text files, slower */
	r = kmod_load_resources(ctx);
	if (r < 0)
		log_warn_errno(r, "module indexes of %s, reading the text files instead",
			       dir ? dir : "the running kernel");
	return ctx;
}

int modules_open(const char *dir, const char *config_dir, struct modules_ctx **ret)
{
	struct modules_ctx *m = calloc(1, sizeof(*m));

	if (!m)
		return log_error_errno(-ENOMEM, "libkmod context");
	if ((dir && !(m->dir = strdup(dir))) ||
	    (config_dir && !(m->config_dir = strdup(config_dir)))) {
		modules_close(m);
		return log_error_errno(-ENOMEM, "libkmod context");
	}
	m->kmod = kmod_open(dir, config_dir);
	if (!m->kmod) {
		modules_close(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

void modules_close(struct modules_ctx *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(m->workers); i++)
		if (m->workers[i])
			kmod_unref(m->workers[i]);
	if (m->kmod)
		kmod_unref(m->kmod);
	free(m->dir);
	free(m->config_dir);
	free(m);
}

static int load_one(struct kmod_ctx *ctx, const char *name);

int modules_load_list(struct modules_ctx *m, const char (*names)[64], size_t n)
{
	int failed = 0;

	/* as modprobe NAME: by name or alias, no blacklist; each failure
	 * logged by load_one */
	for (size_t i = 0; i < n; i++) {
		int r = load_one(m->kmod, names[i]);

		if (r < 0)
			failed++;
		else
			log_debug("module %s %s", names[i], r > 0 ? "loaded" : "there already");
	}
	return failed;
}

int modules_load(const char (*names)[64], size_t n)
{
	struct modules_ctx *m;
	int r = modules_open(NULL, NULL, &m);

	if (r < 0)
		return r;
	r = modules_load_list(m, names, n);
	modules_close(m);
	return r;
}

/* The modules ALIAS names, the blacklist applied as modprobe applies it to
 * aliases (modprobe.d's "blacklist NAME", the command line's
 * modprobe.blacklist=): a blacklisted driver is never loaded for a device. */
static int lookup_alias(struct kmod_ctx *ctx, const char *alias, struct kmod_list **ret)
{
	_cleanup_kmod_list_ struct kmod_list *list = NULL;
	int r = kmod_module_new_from_lookup(ctx, alias, &list);

	*ret = NULL;
	if (r < 0)
		return log_error_errno(r, "modalias %s: lookup", alias);
	if (!list)
		return 0;
	r = kmod_module_apply_filter(ctx, KMOD_FILTER_BLACKLIST, list, ret);
	if (r < 0)
		return log_error_errno(r, "modalias %s: blacklist", alias);
	return 0;
}

int modules_lookup_alias(struct modules_ctx *m, const char *alias, char (*ret)[MODULE_NAME_MAX],
			 size_t max)
{
	_cleanup_kmod_list_ struct kmod_list *list = NULL;
	struct kmod_list *l;
	int n = 0;
	int r = lookup_alias(m->kmod, alias, &list);

	if (r < 0)
		return r;
	kmod_list_foreach (l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		if ((size_t)n < max)
			snprintf(ret[n], MODULE_NAME_MAX, "%s", kmod_module_get_name(mod));
		n++;
		kmod_module_unref(mod);
	}
	return n;
}

/* Loads NAME (a module's name, found for a device or configured) with its
 * dependencies: 1 when this call loaded it, 0 when it was there already
 * (loaded, built in, or being loaded by another thread, which the kernel
 * answers with -EEXIST once it is done), -errno when it failed (logged). */
static int load_one(struct kmod_ctx *ctx, const char *name)
{
	_cleanup_kmod_list_ struct kmod_list *list = NULL;
	struct kmod_list *l;
	int r = lookup(ctx, name, &list), ret = 0;

	if (r < 0)
		return r;
	kmod_list_foreach (l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		/* BUILTIN, LIVE, COMING: there already (-ENOENT: not loaded).
		 * Asked first, so that only what this call loaded is counted */
		if (kmod_module_get_initstate(mod) < 0) {
			r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
			if (r < 0) {
				log_error_errno(r, "load module %s", kmod_module_get_name(mod));
				ret = r;
			} else if (ret == 0) {
				ret = 1;
			}
		}
		kmod_module_unref(mod);
	}
	return ret;
}

struct jobs_run {
	struct modules_ctx *m;
	struct modules_job *jobs;
};

static void run_job(void *arg, unsigned worker, size_t i)
{
	struct jobs_run *run = arg;
	struct modules_ctx *m = run->m;
	struct modules_job *job = &run->jobs[i];
	struct kmod_ctx *ctx = m->kmod;

	if (worker > 0) {
		if (!m->workers[worker])
			m->workers[worker] = kmod_open(m->dir, m->config_dir);
		ctx = m->workers[worker];
	}
	job->r = ctx ? load_one(ctx, job->name) : -ENOMEM;
	if (job->r > 0)
		log_debug("module %s loaded%s%s", job->name, job->why ? " for " : "",
			  job->why ? job->why : "");
}

unsigned modules_load_jobs(struct modules_ctx *m, struct modules_job *jobs, size_t n,
			   unsigned threads)
{
	struct jobs_run run = { m, jobs };

	return parallel_run(n, threads, run_job, &run);
}
