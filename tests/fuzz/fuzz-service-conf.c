/* libFuzzer target: service files (/etc/porthole/services/NAME.conf), and
 * the dependency check across several. The first byte picks: even, one
 * file; odd, up to four files separated by a form feed line ("\n\f\n"),
 * named a, b, c and d, then checked together. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "service-conf.h"
#include "service-graph.h"

#define FILES_MAX 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool name_known(const struct service_spec *specs, size_t n, const char *name, bool *enabled)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(specs[i].name, name) == 0) {
			*enabled = specs[i].enabled;
			return true;
		}
	return false;
}

/* Whatever the input, a spec that parsed holds what the header promises. */
static void check_spec(const struct service_spec *s)
{
	size_t n;

	if (!s->argv[0] || s->argv[0][0] != '/' || !s->strings)
		abort();
	for (n = 0; s->argv[n]; n++)
		if (n >= SERVICE_ARGS_MAX)
			abort();
	for (n = 0; s->env[n]; n++)
		if (n >= SERVICE_ENV_MAX || !strchr(s->env[n], '=') || s->env[n][0] == '=')
			abort();
	if (s->n_after > SERVICE_DEPS_MAX || s->n_requires > SERVICE_DEPS_MAX || s->n_rlimits > 16)
		abort();
	if (s->directory[0] && s->directory[0] != '/')
		abort();
	if (s->restart_delay_max_ms < s->restart_delay_ms || s->restart_delay_ms == 0)
		abort();
	if (s->cpu_weight < 0 || s->cpu_weight > 10000)
		abort();
	if (s->ready == READY_NOTIFY && s->ready_fd < 3)
		abort();
	for (size_t i = 0; i < s->n_rlimits; i++)
		if (s->rlimits[i].lim.rlim_cur > s->rlimits[i].lim.rlim_max)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[FILES_MAX] = { "a", "b", "c", "d" };
	struct service_spec specs[FILES_MAX];
	char err[SERVICE_ERROR_MAX];
	size_t n_files = 0, n = 0;
	char *text, *p;

	if (size < 1 || size > 256 * 1024)
		return 0;
	log_set_level(LOG_LEVEL_EMERG);
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';

	for (p = text; p && n_files < (data[0] % 2 ? FILES_MAX : 1); n_files++) {
		char *next = data[0] % 2 ? strstr(p, "\n\f\n") : NULL;

		if (next) {
			*next = '\0';
			next += 3;
		}
		if (service_conf_parse(p, "/etc/porthole/services/x.conf", names[n_files],
				       &specs[n], err, sizeof(err)) == 0) {
			check_spec(&specs[n]);
			n++;
		} else if (strncmp(err, "/etc/porthole/services/x.conf", 29) != 0 ||
			   specs[n].strings || specs[n].argv[0]) {
			/* an error names the file, and nothing is kept */
			abort();
		}
		p = next;
	}

	service_graph_check(specs, n);
	/* no enabled service is left requiring one missing or disabled */
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; specs[i].enabled && k < specs[i].n_requires; k++) {
			bool enabled = false;

			if (!name_known(specs, n, specs[i].requires[k], &enabled) || !enabled)
				abort();
		}
	}
	for (size_t i = 0; i < n; i++)
		service_spec_free(&specs[i]);
	free(text);
	return 0;
}
