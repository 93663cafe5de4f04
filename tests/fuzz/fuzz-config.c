/* libFuzzer target: init.conf (INI through inih and porthole's reader) and
 * the kernel command line, the two texts init reads at boot, and the
 * mountinfo parser. The first byte picks the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "mount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct init_config c;
	bool skip[64];
	char *text;

	if (size < 1 || size > 256 * 1024)
		return 0;
	log_set_level(LOG_LEVEL_EMERG);
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	config_defaults(&c);
	switch (data[0] % 3) {
	case 0:
		config_parse_ini(&c, text, "fuzz.conf");
		break;
	case 1:
		config_parse_cmdline(&c, text);
		break;
	default:
		mount_plan(mount_table, mount_table_size, text, skip);
		break;
	}
	/* whatever the input, the result is a valid configuration */
	if (c.n_modules > CONFIG_MODULES_MAX || !dnsconf_hostname_valid(c.hostname) ||
	    c.stop_timeout_s > 300)
		abort();
	free(text);
	return 0;
}
