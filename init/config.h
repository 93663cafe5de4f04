/* init's configuration: defaults, then /etc/porthole/init.conf, then the
 * kernel command line's porthole.* keys. Owns parsing and validation; what a
 * value means is left to the module that uses it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "net-config.h"
#include "storage.h"

#define CONFIG_PATH "/etc/porthole/init.conf"
#define AGENT_PATH "/usr/libexec/porthole/porthole-agent"
#define CONFIG_MODULES_MAX 128
#define CONFIG_NAME_MAX 64
#define CONFIG_CMDLINE_MAX 4096

enum shell_mode {
	SHELL_NONE,
	SHELL_CONSOLE,
};

struct init_config {
	enum log_level log_level;
	char hostname[CONFIG_NAME_MAX + 1];
	char modules[CONFIG_MODULES_MAX][CONFIG_NAME_MAX];
	size_t n_modules;
	bool modalias; /* load what the devices' modalias ask for (coldplug.c) */
	unsigned module_threads; /* modules loaded at once at boot; 0: one per CPU */
	bool rescue;
	enum shell_mode shell;
	unsigned stop_timeout_s;
	uint64_t rlimit_nofile;
	bool root_tmpfs;
	char root_disk[CONFIG_NAME_MAX + 1]; /* the root disk's serial, "" for none */
	bool agent; /* start porthole-agent (until services come) */
	struct net_config net; /* the [net] keys and ip= (net-config.c) */
	struct storage_config storage; /* data_disk, data_mount, shares (storage.c) */
	/* Where each key's value came from, for --check ("init.conf:3"). */
	char origin[16][48];

	/* Counts of what was wrong, for tests and --check's exit status. */
	unsigned n_warnings;
	unsigned n_errors;
};

void config_defaults(struct init_config *c);

/* Applies one key. WHERE names the source for messages ("init.conf:3",
 * "kernel command line"). Unknown keys warn, bad values log an error and
 * leave the value as it was; both are counted, neither fails. */
void config_set(struct init_config *c, const char *key, const char *value, const char *where);

/* An indented line continues the previous key's list (inih hands it over as
 * the same key again): the modules are added to those already there. */
void config_append(struct init_config *c, const char *key, const char *value, const char *where);

/* Parses an INI text (sections name key prefixes: [agent] port=1 is agent.port;
 * keys before any section, or in [init], are init's own). NAME is used in
 * messages. Syntax errors are logged and counted. */
void config_parse_ini(struct init_config *c, const char *text, const char *name);
/* Reads PATH if it exists; a missing file is not an error. */
int config_load_file(struct init_config *c, const char *path);

/* Applies the porthole.* words of a kernel command line (quotes as the
 * kernel's parser handles them; words after "--" are not the kernel's). */
void config_parse_cmdline(struct init_config *c, const char *cmdline);

/* Prints the effective configuration with each key's origin. */
void config_dump(const struct init_config *c, int fd);
