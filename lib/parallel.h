/* A fixed number of jobs run on a few threads: the caller's and at most
 * PARALLEL_THREADS_MAX - 1 more, made for the call and joined before it
 * returns. For short bursts of blocking work at boot (loading kernel
 * modules, whose probes wait on devices), not a standing pool. */
#pragma once

#include <stddef.h>

#define PARALLEL_THREADS_MAX 8

/* FN(ARG, WORKER, JOB): JOB in [0, n), each run once; WORKER in [0, threads)
 * is the thread running it, 0 the caller's, so that state kept per worker
 * needs no lock. */
typedef void (*parallel_fn)(void *arg, unsigned worker, size_t job);

/* Runs every job of N on at most THREADS threads (capped at N and at
 * PARALLEL_THREADS_MAX; 0 counts as 1), the caller's among them, and returns
 * when all have run. A thread that cannot be made leaves its share to the
 * others. Returns the number of threads that ran jobs. The caller's signal
 * mask is the threads' (init blocks every signal it handles). */
unsigned parallel_run(size_t n, unsigned threads, parallel_fn fn, void *arg);

/* The CPUs this process may run on (sched_getaffinity), at least 1. */
unsigned parallel_cpus(void);
