/* The agent's workers: a few threads and a bounded queue that run what can
 * block (FITRIM, init's control socket, a mount on a dying share) off the
 * event loop, and hand each result back to the loop through an eventfd.
 * What the jobs do is their callers'; replies stay dispatch.c's
 * (cmd_async_take, cmd_async_finish). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "command.h"
#include "loop.h"

/* The jobs wait (on a disk, on init, on the host's file server) rather than
 * compute: 4 threads let a trim, a call to init and two stuck share
 * operations be outstanding at once without one holding up the others,
 * and each costs only its stack while idle. */
#define WORKER_THREADS 4
/* Jobs queued, running or finished and not yet delivered, at most: past
 * it a request is refused ("busy"), never queued without bound. */
#define WORKER_JOBS_MAX 32
#define WORKER_STACK_SIZE (256 << 10)

struct worker;

/* RUN is called on a worker thread with DATA: it must not touch the
 * loop's state (connections, timers, the agent), only what DATA owns.
 * DONE is called on the loop's thread afterwards with STATUS 0; with
 * -ECANCELED from worker_free's caller (the loop's thread, the loop no
 * longer running) for a job that never ran or was not delivered; with
 * -ESHUTDOWN from the worker thread itself for a job that was still running
 * when worker_free gave up waiting: then DONE only frees what DATA owns. */
typedef void (*worker_run_fn)(void *data);
typedef void (*worker_done_fn)(void *data, int status);

/* Starts THREADS threads (1 to WORKER_THREADS) taking at most JOBS_MAX
 * jobs, delivering on L (an eventfd registered with it). */
int worker_new(struct loop *l, unsigned threads, unsigned jobs_max, struct worker **ret);
/* Stops: jobs not started are cancelled, running ones are waited for
 * TIMEOUT_MS at most (their RUN cannot be interrupted: a FITRIM or a
 * statfs on a dead share ends when the kernel lets it); those still
 * running then are left to finish on their own and free what they hold
 * (DONE with -ESHUTDOWN), so stopping takes TIMEOUT_MS at most. Finished
 * jobs not yet delivered are cancelled. Removes the eventfd from the loop.
 * Returns how many jobs were left running. NULL is fine. */
unsigned worker_free(struct worker *w, int timeout_ms);

/* How many more jobs worker_submit takes now: only the loop's thread
 * submits, so this many submits in a row cannot fail. */
size_t worker_room(const struct worker *w);
/* Queues a job: -EBUSY when JOBS_MAX are outstanding, -ESHUTDOWN once
 * stopping; nothing else (the jobs' nodes are allocated up front). DONE
 * is not called on failure. */
int worker_submit(struct worker *w, worker_run_fn run, worker_done_fn done, void *data);

/* The agent's workers, started on first use (WORKER_THREADS threads,
 * WORKER_JOBS_MAX jobs) on A's loop; NULL when they cannot be started
 * (logged once). */
struct worker *worker_of(struct agent *a);

/* A command's blocking part: like a cmd_handler, but run on a worker
 * thread, so it gets no agent: ARGS is a copy that is its own, CTX what
 * the handler packed for it (config copied from the agent). */
typedef enum cmd_result (*worker_cmd_fn)(json_t *args, void *ctx, json_t **result,
					 struct cmd_error *err);
/* Called on the loop once for every worker_cmd, before the reply is sent
 * (to log what was done, to count what is outstanding): RESULT is NULL
 * when ERR is set (FN failed, or was never run). Not called when the
 * agent stops with the command outstanding. May be NULL. */
typedef void (*worker_cmd_after_fn)(void *ctx, json_t *result, const struct cmd_error *err);

/* Runs FN off the loop and answers the request being handled with what it
 * returns, later, in order (the connection reads nothing more until then):
 * returns CMD_LATER. When the request came from no connection (tests) it
 * runs FN here and returns its result. CTX (malloc'd or NULL) is freed with
 * free() afterwards, in every case. When the workers are busy
 * (WORKER_JOBS_MAX outstanding) the request fails with that said, and FN
 * is not run. */
enum cmd_result worker_cmd(struct agent *a, const char *name, worker_cmd_fn fn,
			   worker_cmd_after_fn after, json_t *args, void *ctx, json_t **result,
			   struct cmd_error *err);
