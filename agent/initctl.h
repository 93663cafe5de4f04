/* The agent's side of init's control socket (docs/control.md): one JSON line
 * out, one line back, on a connection of its own. What the requests mean and
 * how their replies are checked is cmd-services.c's. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#define INITCTL_SOCKET_DEFAULT "/run/porthole/init.sock"
/* init's limit on a request line, the newline included */
#define INITCTL_REQUEST_MAX 4096
/* init's replies are at most 1 MiB; the slack is for its framing */
#define INITCTL_REPLY_MAX ((1 << 20) + (64 << 10))
/* The whole exchange's bound: a hung init costs the command that asked
 * this long (on a worker thread: the host's other requests nothing). */
#define INITCTL_TIMEOUT_MS 2000
#define INITCTL_WHY_MAX 512

/* Sends REQUEST to init's control socket at PATH and reads the reply, all
 * within TIMEOUT_MS. Returns 0 with *RET_REPLY set (a new reference: a JSON
 * object without "error"), or on failure, with WHY filled and *RET_REPLY
 * untouched:
 *   -EREMOTEIO  init answered {"error": TEXT}: WHY is TEXT as init wrote it;
 *   other -errno  init was not reached, or did not answer properly; WHY
 *     names the socket and what happened ("porthole-init's control socket
 *     /run/porthole/init.sock: Connection refused"). */
int initctl_call(const char *path, json_t *request, int timeout_ms, json_t **ret_reply, char *why,
		 size_t why_size);
