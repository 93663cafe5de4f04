/* libFuzzer target: the agent's configuration (agent/options.c), as
 * options_load reads it: init.conf's [agent] section (a file, here a
 * memfd, through lib/conf and inih, continuation lines included) and the
 * kernel command line's porthole.agent.* words. The first byte picks. A
 * configuration is always one the agent can run with: every list within
 * its bound, every path terminated and absolute (or empty where empty
 * means none), and sizes and counts not 0 where 0 means nothing works. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent.h"
#include "log.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool terminated(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

static void check(const struct agent_config *c)
{
	if (c->n_vsock_cids > AGENT_CIDS_MAX || c->n_unix_uids > AGENT_UIDS_MAX ||
	    c->n_allow_rpcs > AGENT_RPCS_MAX || c->n_block_rpcs > AGENT_RPCS_MAX ||
	    c->n_share_roots > SHARE_ROOTS_MAX)
		abort();
	if (!terminated(c->unix_path, sizeof(c->unix_path)) ||
	    !terminated(c->serial_dir, sizeof(c->serial_dir)) ||
	    !terminated(c->data_mount, sizeof(c->data_mount)) ||
	    !terminated(c->init_socket, sizeof(c->init_socket)))
		abort();
	if ((c->unix_path[0] && c->unix_path[0] != '/') || c->data_mount[0] != '/' ||
	    (c->init_socket[0] && c->init_socket[0] != '/'))
		abort();
	for (size_t i = 0; i < c->n_allow_rpcs; i++)
		if (!terminated(c->allow_rpcs[i], sizeof(c->allow_rpcs[i])))
			abort();
	for (size_t i = 0; i < c->n_block_rpcs; i++)
		if (!terminated(c->block_rpcs[i], sizeof(c->block_rpcs[i])))
			abort();
	for (size_t i = 0; i < c->n_share_roots; i++)
		if (!terminated(c->share_roots[i], sizeof(c->share_roots[i])) ||
		    c->share_roots[i][0] != '/')
			abort();
	if (!c->max_request || !c->max_clients)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct agent_config c;
	char *text;

	if (size < 1 || size > 64 * 1024)
		return 0;
	if (fd < 0) {
		log_set_level(LOG_LEVEL_EMERG);
		fd = memfd_create("init.conf", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	options_defaults(&c);
	if (data[0] & 1) {
		if (ftruncate(fd, 0) < 0 ||
		    pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
			abort();
		options_load(&c, path, NULL);
	} else {
		text = strndup((const char *)data + 1, size - 1);
		if (!text)
			return 0;
		/* no file: the command line alone */
		options_load(&c, "/nonexistent/init.conf", text);
		free(text);
	}
	check(&c);
	return 0;
}
