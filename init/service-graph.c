/* The dependency graph of the services: after and requires across the
 * service files, checked once they are all read (a requires naming no
 * service, a cycle), and the questions the supervisor asks of it. Reading
 * the files is service-conf.c's; acting on the order is service.c's. */
#include "service-graph.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

ssize_t service_graph_find(const struct service_spec *specs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(specs[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Disables each enabled service that requires one missing or disabled, until
 * none is left: disabling one can leave another's requirement unmet. */
static unsigned disable_unmet(struct service_spec *specs, size_t n)
{
	unsigned disabled = 0;
	bool again = true;

	while (again) {
		again = false;
		for (size_t i = 0; i < n; i++) {
			struct service_spec *s = &specs[i];

			for (size_t k = 0; s->enabled && k < s->n_requires; k++) {
				ssize_t j = service_graph_find(specs, n, s->requires[k]);

				if (j >= 0 && specs[j].enabled)
					continue;
				log_error("%s: %s requires %s, which %s; %s is disabled", s->file,
					  s->name, s->requires[k],
					  j < 0 ? "does not exist" : "is disabled", s->name);
				s->enabled = false;
				disabled++;
				again = true;
			}
		}
	}
	return disabled;
}

enum { WHITE, GREY, BLACK };

struct dfs {
	const struct service_spec *specs;
	size_t n;
	unsigned char *colour;
	size_t *stack;
	size_t depth;
};

/* Depth first through after and requires among the enabled services.
 * Returns the stack position where a cycle starts (the stack above it is the
 * cycle), or -1. The depth is at most n. */
static ssize_t dfs_visit(struct dfs *d, size_t i)
{
	const struct service_spec *s = &d->specs[i];

	d->colour[i] = GREY;
	d->stack[d->depth++] = i;
	for (size_t k = 0; k < s->n_after + s->n_requires; k++) {
		const char *dep = k < s->n_after ? s->after[k] : s->requires[k - s->n_after];
		ssize_t j = service_graph_find(d->specs, d->n, dep), r;

		if (j < 0 || !d->specs[j].enabled)
			continue;
		if (d->colour[j] == GREY) {
			for (size_t pos = 0; pos < d->depth; pos++)
				if (d->stack[pos] == (size_t)j)
					return (ssize_t)pos;
		}
		if (d->colour[j] == WHITE) {
			r = dfs_visit(d, (size_t)j);
			if (r >= 0)
				return r;
		}
	}
	d->depth--;
	d->colour[i] = BLACK;
	return -1;
}

/* Finds one cycle and disables the services on it. Returns how many. */
static unsigned disable_one_cycle(struct service_spec *specs, size_t n)
{
	struct dfs d = { .specs = specs, .n = n };
	unsigned disabled = 0;
	char *path = NULL;
	ssize_t start = -1;

	d.colour = calloc(n, 1);
	d.stack = calloc(n, sizeof(*d.stack));
	/* each name, " -> ", and the first name again at the end */
	path = malloc((n + 1) * (SERVICE_NAME_MAX + 4));
	if (!d.colour || !d.stack || !path) {
		log_error("services: out of memory, the dependency cycles are not checked");
		goto out;
	}
	for (size_t i = 0; i < n && start < 0; i++)
		if (specs[i].enabled && d.colour[i] == WHITE)
			start = dfs_visit(&d, i);
	if (start < 0)
		goto out;

	path[0] = '\0';
	for (size_t pos = (size_t)start; pos < d.depth; pos++) {
		strcat(path, specs[d.stack[pos]].name);
		strcat(path, " -> ");
	}
	strcat(path, specs[d.stack[start]].name);
	log_error("services: a dependency cycle through after and requires: %s; these services "
		  "are disabled",
		  path);
	for (size_t pos = (size_t)start; pos < d.depth; pos++) {
		specs[d.stack[pos]].enabled = false;
		disabled++;
	}
out:
	free(d.colour);
	free(d.stack);
	free(path);
	return disabled;
}

unsigned service_graph_check(struct service_spec *specs, size_t n)
{
	unsigned disabled = disable_unmet(specs, n), r;

	while ((r = disable_one_cycle(specs, n)) > 0)
		disabled += r + disable_unmet(specs, n);
	return disabled;
}

bool service_graph_depends(const struct service_spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_requires; i++)
		if (strcmp(s->requires[i], name) == 0)
			return true;
	for (size_t i = 0; i < s->n_after; i++)
		if (strcmp(s->after[i], name) == 0)
			return true;
	return false;
}
