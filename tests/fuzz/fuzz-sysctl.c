/* libFuzzer target: /etc/porthole/sysctl.conf (init/sysctl.c), a file the
 * image's builder writes and init applies to /proc/sys at boot. The input
 * is the file; each line goes through sysctl_parse_line as
 * sysctl_apply_file splits them, and each key through sysctl_path, not
 * sysctl_write: the host's /proc/sys is not the fuzzer's to change. A line
 * is a comment, refused, or a key and value that fit; a key's path never
 * leaves /proc/sys (no ".." component, whatever the dots become). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sysctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *key)
{
	char path[SYSCTL_KEY_MAX + 16];
	const char *c;

	if (sysctl_path(key, path, sizeof(path)) < 0)
		return;
	if (strncmp(path, "/proc/sys/", 10) != 0)
		abort();
	for (c = path; c; c = strchr(c + 1, '/')) {
		size_t n = strcspn(c + 1, "/");

		if (n == 2 && c[1] == '.' && c[2] == '.')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *p, *save;

	/* sysctl_apply_file reads at most 64 KiB */
	if (size > 64 * 1024)
		return 0;
	log_set_level(LOG_LEVEL_EMERG);
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (p = text; p && *p; p = save) {
		char key[SYSCTL_KEY_MAX], value[SYSCTL_VALUE_MAX];
		char *nl = strchr(p, '\n');
		bool quiet = false;
		int r;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		r = sysctl_parse_line(p, key, value, &quiet);
		if (r != 0 && r != 1 && r != -22)
			abort();
		if (r != 0)
			continue;
		if (!key[0] || strlen(key) >= SYSCTL_KEY_MAX || strlen(value) >= SYSCTL_VALUE_MAX)
			abort();
		check_path(key);
	}
	free(text);
	return 0;
}
