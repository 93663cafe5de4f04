/* A small QMP client for the host tools: connects to QEMU's monitor socket
 * (scripts/run-vm's DIR/qmp.sock), reads the greeting, leaves capabilities
 * negotiation, and runs one command at a time, skipping the asynchronous
 * events QEMU sends in between. Every read is bounded in size and time.
 * What a command means (balloon, query-balloon) is the caller's. Errors
 * follow the client library's contract (client-error.h): >= 0 or -errno,
 * and a struct client_error with the message; -EREMOTEIO with QEMU's class
 * and desc when QEMU answered an error. */
#pragma once

#include <jansson.h>

#include "client-error.h"

/* The largest message accepted from QEMU: query-balloon's answer is 30
 * bytes, the greeting 150; query-qmp-schema, the largest there is, 200 KiB. */
#define QMP_MESSAGE_MAX (1024u * 1024)
/* Asynchronous events skipped while waiting for one command's answer: QEMU
 * sends a few (BALLOON_CHANGE, RTC_CHANGE); a stream of nothing else is
 * not a QMP server worth waiting on. */
#define QMP_EVENTS_MAX 1000

struct qmp;

/* Connects to the unix socket PATH and negotiates, all within TIMEOUT_MS. */
int qmp_open(const char *path, int timeout_ms, struct qmp **ret, struct client_error *err);
/* Runs COMMAND with ARGS (an object, or NULL; not stolen) and waits at most
 * TIMEOUT_MS for its answer; *RET holds a new reference to its "return". */
int qmp_execute(struct qmp *q, const char *command, json_t *args, int timeout_ms, json_t **ret,
		struct client_error *err);
void qmp_close(struct qmp *q);
