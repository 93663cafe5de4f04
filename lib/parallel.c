/* Jobs on a few threads: each thread takes the next job number from one
 * atomic counter until none is left, so a slow job (a driver whose probe
 * waits on its device) holds up only its own thread. */
#include "parallel.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

struct run {
	size_t n;
	size_t next; /* the next job not yet taken: atomic */
	parallel_fn fn;
	void *arg;
};

struct worker {
	struct run *run;
	unsigned index;
	pthread_t thread;
	bool started;
};

static void take_jobs(struct run *run, unsigned index)
{
	for (;;) {
		size_t job = __atomic_fetch_add(&run->next, 1, __ATOMIC_RELAXED);

		if (job >= run->n)
			return;
		run->fn(run->arg, index, job);
	}
}

static void *worker_main(void *p)
{
	struct worker *w = p;

	take_jobs(w->run, w->index);
	return NULL;
}

unsigned parallel_run(size_t n, unsigned threads, parallel_fn fn, void *arg)
{
	struct run run = { .n = n, .next = 0, .fn = fn, .arg = arg };
	struct worker workers[PARALLEL_THREADS_MAX] = { 0 };
	unsigned used = 1;

	if (n == 0)
		return 0;
	if (threads > PARALLEL_THREADS_MAX)
		threads = PARALLEL_THREADS_MAX;
	if (threads > n)
		threads = (unsigned)n;
	/* worker 0 is the caller: the others start first, then it works too */
	for (unsigned i = 1; i < threads; i++) {
		workers[i].run = &run;
		workers[i].index = used;
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
			continue;
		workers[i].started = true;
		used++;
	}
	take_jobs(&run, 0);
	for (unsigned i = 1; i < threads; i++)
		if (workers[i].started)
			pthread_join(workers[i].thread, NULL);
	return used;
}

unsigned parallel_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? (unsigned)n : 1;
}
