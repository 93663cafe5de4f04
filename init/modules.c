/* Kernel modules through libkmod, which reads modules.dep.bin and
 * modules.softdep as modprobe does. Resolution is kept apart from loading so
 * that --check and the tests can show the order without loading anything. */
#include "modules.h"

#include <errno.h>
#include <libkmod.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
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

int modules_load(const char (*names)[64], size_t n)
{
	_cleanup_kmod_ctx_ struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	int failed = 0;

	if (!ctx)
		return log_error_errno(-ENOMEM, "libkmod context");
	kmod_set_log_fn(ctx, log_kmod, NULL);
	/* Loads the indexes once instead of for every lookup. */
	kmod_load_resources(ctx);
	for (size_t i = 0; i < n; i++) {
		_cleanup_kmod_list_ struct kmod_list *list = NULL;
		struct kmod_list *l;

		if (lookup(ctx, names[i], &list) < 0) {
			failed++;
			continue;
		}
		kmod_list_foreach (l, list) {
			struct kmod_module *m = kmod_module_get_module(l);
			/* probe_insert_module resolves dependencies and softdeps itself
			 * and returns 0 for a module already loaded or built in. */
			int r = kmod_module_probe_insert_module(m, 0, NULL, NULL, NULL, NULL);

			if (r < 0) {
				log_error_errno(r, "load module %s", kmod_module_get_name(m));
				failed++;
			} else {
				log_debug("module %s loaded", kmod_module_get_name(m));
			}
			kmod_module_unref(m);
		}
	}
	return failed;
}
