/* The agent's workers: a fixed set of threads taking jobs from one bounded
 * queue, and an eventfd on the loop through which each finished job comes
 * back, in the order it finished, to have its DONE called on the loop's
 * thread. The jobs' nodes are allocated with the workers, so that a submit
 * with room cannot fail; one mutex guards the lists and the counts. */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "dispatch.h"
#include "log.h"
#include "util.h"

struct job {
	struct job *next;
	worker_run_fn run;
	worker_done_fn done;
	void *data;
};

struct list {
	struct job *head, *tail;
};

struct worker {
	struct job *nodes; /* JOBS_MAX of them, allocated up front */
	struct list spare; /* the nodes not in use */
	pthread_mutex_t lock;
	pthread_cond_t wake; /* a job queued, or stopping */
	pthread_cond_t idle; /* a job finished: worker_free waits on it */
	struct list queued, finished;
	size_t outstanding; /* queued + running + finished, not yet delivered */
	size_t jobs_max;
	unsigned running;
	unsigned threads; /* started and not yet ended */
	bool stopping;
	bool abandoned; /* worker_free gave up: the last thread frees */
	int efd;
	struct loop *loop;
};

static void list_push(struct list *l, struct job *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct job *list_pop(struct list *l)
{
	struct job *j = l->head;

	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
	}
	return j;
}

static void worker_destroy(struct worker *w)
{
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->idle);
	if (w->efd >= 0)
		close(w->efd);
	free(w->nodes);
	free(w);
}

static void *thread_main(void *arg)
{
	struct worker *w = arg;
	bool last;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct job *j;

		while (!w->stopping && !w->queued.head)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stopping)
			break;
		j = list_pop(&w->queued);
		w->running++;
		pthread_mutex_unlock(&w->lock);

		j->run(j->data);

		pthread_mutex_lock(&w->lock);
		w->running--;
		if (w->abandoned) {
			/* no loop to deliver to any more: only free */
			w->outstanding--;
			pthread_mutex_unlock(&w->lock);
			j->done(j->data, -ESHUTDOWN);
			pthread_mutex_lock(&w->lock);
			list_push(&w->spare, j);
		} else {
			uint64_t one = 1;

			list_push(&w->finished, j);
			/* an eventfd's counter only saturates at 2^64-2: the
			 * write cannot fail for want of room */
			if (write(w->efd, &one, sizeof(one)) < 0)
				log_warn_errno(-errno, "worker: eventfd write, ignoring");
		}
		pthread_cond_broadcast(&w->idle);
	}
	last = --w->threads == 0 && w->abandoned;
	pthread_cond_broadcast(&w->idle);
	pthread_mutex_unlock(&w->lock);
	if (last)
		worker_destroy(w);
	return NULL;
}

/* On the loop: every finished job's DONE, in the order they finished. */
static void on_finished(struct loop *l, int fd, uint32_t events, void *data)
{
	struct worker *w = data;
	uint64_t n;
	struct list done;

	(void)l, (void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn_errno(-errno, "worker: eventfd read, ignoring");
	pthread_mutex_lock(&w->lock);
	done = w->finished;
	w->finished = (struct list){ 0 };
	pthread_mutex_unlock(&w->lock);
	for (struct job *j = done.head, *next; j; j = next) {
		next = j->next;
		j->done(j->data, 0);
		pthread_mutex_lock(&w->lock);
		list_push(&w->spare, j);
		w->outstanding--;
		pthread_mutex_unlock(&w->lock);
	}
}

int worker_new(struct loop *l, unsigned threads, unsigned jobs_max, struct worker **ret)
{
	struct worker *w;
	pthread_attr_t attr;
	sigset_t all, old;
	int r = 0;

	if (threads < 1 || threads > WORKER_THREADS || jobs_max < 1)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->idle, NULL);
	w->jobs_max = jobs_max;
	w->loop = l;
	w->nodes = calloc(jobs_max, sizeof(*w->nodes));
	for (size_t i = 0; w->nodes && i < jobs_max; i++)
		list_push(&w->spare, &w->nodes[i]);
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!w->nodes || w->efd < 0) {
		r = w->nodes ? -errno : -ENOMEM;
		worker_destroy(w);
		return r;
	}
	r = loop_add_fd(l, w->efd, EPOLLIN, on_finished, w);
	if (r < 0) {
		worker_destroy(w);
		return r;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
	/* the threads take no signal: the loop's signalfds read them all */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned i = 0; i < threads; i++) {
		pthread_t t;

		pthread_mutex_lock(&w->lock);
		r = -pthread_create(&t, &attr, thread_main, w);
		if (r == 0)
			w->threads++;
		pthread_mutex_unlock(&w->lock);
		if (r < 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r < 0) {
		worker_free(w, 0);
		return r;
	}
	*ret = w;
	return 0;
}

unsigned worker_free(struct worker *w, int timeout_ms)
{
	struct timespec deadline;
	struct list cancelled, finished;
	unsigned left;

	if (!w)
		return 0;
	loop_del_fd(w->loop, w->efd);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / MSEC_PER_SEC;
	deadline.tv_nsec += (long)(timeout_ms % MSEC_PER_SEC) * (long)NSEC_PER_MSEC;
	if (deadline.tv_nsec >= (long)NSEC_PER_SEC) {
		deadline.tv_sec++;
		deadline.tv_nsec -= (long)NSEC_PER_SEC;
	}
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	cancelled = w->queued;
	w->queued = (struct list){ 0 };
	pthread_cond_broadcast(&w->wake);
	/* the condvar's clock is CLOCK_REALTIME, its default */
	while (w->running > 0 || w->threads > 0)
		if (pthread_cond_timedwait(&w->idle, &w->lock, &deadline) == ETIMEDOUT)
			break;
	finished = w->finished;
	w->finished = (struct list){ 0 };
	left = w->running;
	/* threads still in a job: the last one to end frees W */
	if (w->threads > 0)
		w->abandoned = true;
	pthread_mutex_unlock(&w->lock);
	if (left)
		log_warn("worker: %u job(s) still running after %d ms, left to end on their own",
			 left, timeout_ms);
	/* the nodes stay W's: only the jobs' own data is let go here */
	for (struct job *j = cancelled.head; j; j = j->next)
		j->done(j->data, -ECANCELED);
	for (struct job *j = finished.head; j; j = j->next)
		j->done(j->data, -ECANCELED);
	/* abandoned was decided under the lock: read it back under it too */
	pthread_mutex_lock(&w->lock);
	if (!w->abandoned) {
		pthread_mutex_unlock(&w->lock);
		worker_destroy(w);
		return left;
	}
	pthread_mutex_unlock(&w->lock);
	return left;
}

size_t worker_room(const struct worker *w)
{
	struct worker *mw = (struct worker *)w;
	size_t room;

	pthread_mutex_lock(&mw->lock);
	room = w->stopping || w->outstanding >= w->jobs_max ? 0 : w->jobs_max - w->outstanding;
	pthread_mutex_unlock(&mw->lock);
	return room;
}

int worker_submit(struct worker *w, worker_run_fn run, worker_done_fn done, void *data)
{
	struct job *j;
	int r = 0;

	pthread_mutex_lock(&w->lock);
	if (w->stopping)
		r = -ESHUTDOWN;
	else if (w->outstanding >= w->jobs_max || !(j = list_pop(&w->spare)))
		r = -EBUSY;
	if (r == 0) {
		*j = (struct job){ NULL, run, done, data };
		list_push(&w->queued, j);
		w->outstanding++;
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

struct worker *worker_of(struct agent *a)
{
	int r;

	if (a->worker)
		return a->worker;
	if (!a->loop)
		return NULL;
	r = worker_new(a->loop, WORKER_THREADS, WORKER_JOBS_MAX, (struct worker **)&a->worker);
	if (r < 0) {
		log_error_errno(r, "worker threads");
		return NULL;
	}
	return a->worker;
}

/* A command's job: what FN gets and gives, and whom to answer. */
struct cmd_job {
	worker_cmd_fn fn;
	worker_cmd_after_fn after;
	json_t *args;
	void *ctx;
	struct cmd_async *pending;
	enum cmd_result r;
	json_t *result;
	struct cmd_error err;
};

static void cmd_job_free(struct cmd_job *j)
{
	json_decref(j->result);
	json_decref(j->args);
	free(j->ctx);
	free(j);
}

static void cmd_job_run(void *data)
{
	struct cmd_job *j = data;

	j->r = j->fn(j->args, j->ctx, &j->result, &j->err);
	if (j->r != CMD_OK) {
		json_decref(j->result);
		j->result = NULL;
	}
}

static void cmd_job_done(void *data, int status)
{
	struct cmd_job *j = data;
	bool failed = j->r != CMD_OK;

	if (status == -ESHUTDOWN) {
		/* a worker thread, the loop gone: the owed reply is dropped
		 * with the connection it was for */
		cmd_job_free(j);
		return;
	}
	if (status < 0) {
		failed = true;
		cmd_fail(&j->err, "the agent is stopping: the command was given up");
	} else if (j->after) {
		j->after(j->ctx, j->result, failed ? &j->err : NULL);
	}
	cmd_async_finish(j->pending, failed ? NULL : j->result, failed ? &j->err : NULL);
	j->result = NULL; /* stolen by cmd_async_finish */
	cmd_job_free(j);
}

enum cmd_result worker_cmd(struct agent *a, const char *name, worker_cmd_fn fn,
			   worker_cmd_after_fn after, json_t *args, void *ctx, json_t **result,
			   struct cmd_error *err)
{
	struct worker *w = a->loop ? worker_of(a) : NULL;
	struct cmd_job *j;
	enum cmd_result r;

	if (w && worker_room(w) == 0) {
		cmd_fail(err,
			 "%s: the agent is busy: %d slow commands (trim, mount, a call to init) "
			 "are outstanding; try again later",
			 name, WORKER_JOBS_MAX);
		goto refused;
	}
	j = calloc(1, sizeof(*j));
	if (j)
		j->args = json_deep_copy(args);
	if (!j || !j->args) {
		free(j);
		cmd_fail(err, "out of memory");
		goto refused;
	}
	*j = (struct cmd_job){ fn, after, j->args, ctx, NULL, CMD_FAILED, NULL, { 0 } };
	/* last: once taken, the reply is owed and must go later */
	j->pending = w ? cmd_async_take() : NULL;
	if (!j->pending) {
		/* no connection to answer later on (a test), or no workers:
		 * the work is done here, on the loop, as it was before them */
		r = fn(j->args, ctx, result, err);
		if (after)
			after(ctx, r == CMD_OK ? *result : NULL, r == CMD_OK ? NULL : err);
		cmd_job_free(j);
		return r;
	}
	/* room was checked, the nodes are allocated and only this thread
	 * submits: this cannot fail */
	if (worker_submit(w, cmd_job_run, cmd_job_done, j) < 0) {
		log_error("%s: the workers refused a job they had room for", name);
		abort();
	}
	return CMD_LATER;

refused:
	if (after)
		after(ctx, NULL, err);
	free(ctx);
	return CMD_FAILED;
}
