/* The agent's poller (forward-watch.h). What the thread and the loop share
 * is under one mutex: the newest set, the lost flag, the stop flag and the
 * connection's fd (which the loop shuts down to end a long poll). */
#include "forward-watch.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static struct {
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	struct forward_port_set *latest; /* a new set, owned; NULL: none */
	bool lost; /* the agent went away after the latest set */
	bool stop;
	int fd; /* the connection in use; -1 */
	int wake; /* eventfd: the loop's */
	int stop_fd; /* eventfd: the thread's */
	struct client_addr agent;
	char agent_name[160];
	int timeout_ms;
} W = { .mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .wake = -1, .stop_fd = -1 };

/* One line on F, "porthole: forward: " first, whole: the loop writes too. */
static void note(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(FILE *f, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(f, "porthole: forward: %s\n", line);
	fflush(f);
}

static bool stopping(void)
{
	bool stop;

	pthread_mutex_lock(&W.mu);
	stop = W.stop;
	pthread_mutex_unlock(&W.mu);
	return stop;
}

static void wake_loop(void)
{
	uint64_t one = 1;

	(void)!write(W.wake, &one, sizeof(one)); /* an eventfd: never short, never full */
}

static void post(struct forward_port_set *set)
{
	pthread_mutex_lock(&W.mu);
	if (set) {
		free(W.latest);
		W.latest = set;
		W.lost = false;
	} else
		W.lost = true;
	pthread_mutex_unlock(&W.mu);
	wake_loop();
}

/* What the agent adds to a set ("error", "dropped"), said when it changes. */
static void note_extras(json_t *result)
{
	static char said_error[256];
	static json_int_t said_dropped;
	const char *error = json_string_value(json_object_get(result, "error"));
	json_int_t dropped = json_integer_value(json_object_get(result, "dropped"));

	if (error && strncmp(error, said_error, sizeof(said_error) - 1) != 0)
		note(stderr, "the guest could not read its ports: %.200s", error);
	snprintf(said_error, sizeof(said_error), "%s", error ? error : "");
	if (dropped > 0 && dropped != said_dropped)
		note(stderr,
		     "the guest has more listening sockets than it reports (%" PRId64 " left out)",
		     (int64_t)dropped);
	said_dropped = dropped;
}

/* Long polls on C until something fails: -errno, with ERR filled. */
static int poll_agent(struct client *c, bool *ret_answered, struct client_error *err)
{
	int64_t after = -1;

	for (;;) {
		struct forward_port_set *set;
		/* a new connection asks for the set at once ("after" -1, no wait) */
		json_t *args = json_pack("{s:I,s:i}", "after", (json_int_t)after, "timeout_ms",
					 after < 0 ? 0 : FORWARD_WATCH_POLL_MS);
		json_t *result = NULL;
		char why[160];
		int64_t gen;
		int r;

		if (!args)
			return client_fail(err, -ENOMEM, "out of memory");
		r = client_call_json(c, "porthole-ports", args,
				     FORWARD_WATCH_POLL_MS + W.timeout_ms, &result, err);
		json_decref(args);
		if (r < 0)
			return r;
		set = malloc(sizeof(*set));
		if (!set) {
			json_decref(result);
			return client_fail(err, -ENOMEM, "out of memory");
		}
		r = forward_ports_from_json(result, &gen, set, why, sizeof(why));
		if (r == 0)
			note_extras(result);
		json_decref(result);
		if (r < 0) {
			free(set);
			return client_fail(err, r, "porthole-ports answered what is not a set: %s",
					   why);
		}
		if (!*ret_answered)
			note(stdout, "following the guest's ports through %s", W.agent_name);
		*ret_answered = true;
		if (gen != after)
			post(set);
		else
			free(set); /* the long poll's time ran out: nothing new */
		after = gen;
	}
}

static void *poller(void *arg)
{
	unsigned backoff = FORWARD_WATCH_BACKOFF_FIRST_MS;
	char said[700] = "";

	(void)arg;
	while (!stopping()) {
		struct client_options o = { .connect_timeout_ms = W.timeout_ms };
		struct client_error err = { 0 };
		struct client *c = NULL;
		bool answered = false;
		char msg[700];
		int r = client_open_addr(&W.agent, &o, &c, &err);

		if (r == 0) {
			int fd;

			pthread_mutex_lock(&W.mu);
			fd = W.fd = W.stop ? -1 : client_fd(c);
			pthread_mutex_unlock(&W.mu);
			if (fd >= 0)
				r = poll_agent(c, &answered, &err);
			pthread_mutex_lock(&W.mu);
			W.fd = -1;
			pthread_mutex_unlock(&W.mu);
			client_close(c);
		}
		if (stopping())
			break;
		if (answered) {
			backoff = FORWARD_WATCH_BACKOFF_FIRST_MS;
			said[0] = 0;
		}
		post(NULL);
		if (r == -EREMOTEIO && strcmp(err.class, "CommandNotFound") == 0)
			snprintf(
				msg, sizeof(msg),
				"the agent at %s has no porthole-ports (older than this porthole?): "
				"the guest's ports are not followed (--port forwards fixed ones)",
				W.agent_name);
		else if (r == -EREMOTEIO)
			snprintf(msg, sizeof(msg), "the agent at %s: porthole-ports: %.300s (%s)",
				 W.agent_name, err.desc, err.class);
		else
			snprintf(msg, sizeof(msg), "the agent at %s: %.500s", W.agent_name,
				 err.desc[0] ? err.desc : strerror(-r));
		if (strcmp(msg, said) != 0)
			note(stderr, "%s; trying again (every %d s at most)", msg,
			     FORWARD_WATCH_BACKOFF_MAX_MS / 1000);
		snprintf(said, sizeof(said), "%s", msg);
		/* the wait, cut short by forward_watch_stop */
		(void)poll(&(struct pollfd){ .fd = W.stop_fd, .events = POLLIN }, 1, (int)backoff);
		backoff = backoff * 2 > FORWARD_WATCH_BACKOFF_MAX_MS ? FORWARD_WATCH_BACKOFF_MAX_MS
								     : backoff * 2;
	}
	return NULL;
}

int forward_watch_start(const struct client_addr *agent, int timeout_ms, int *ret_fd)
{
	W.agent = *agent;
	client_addr_format(agent, W.agent_name, sizeof(W.agent_name));
	W.timeout_ms = timeout_ms;
	W.wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	W.stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (W.wake < 0 || W.stop_fd < 0)
		return -errno;
	if (pthread_create(&W.thread, NULL, poller, NULL) != 0)
		return -EAGAIN;
	W.running = true;
	*ret_fd = W.wake;
	return 0;
}

void forward_watch_take(struct forward_port_set **ret_set, bool *ret_lost)
{
	uint64_t n;

	(void)!read(W.wake, &n, sizeof(n)); /* non-blocking: nothing there is fine */
	pthread_mutex_lock(&W.mu);
	*ret_set = W.latest;
	*ret_lost = W.lost;
	W.latest = NULL;
	W.lost = false;
	pthread_mutex_unlock(&W.mu);
}

void forward_watch_stop(void)
{
	struct timespec ts;
	uint64_t one = 1;

	if (!W.running)
		return;
	pthread_mutex_lock(&W.mu);
	W.stop = true;
	if (W.fd >= 0)
		(void)shutdown(W.fd, SHUT_RDWR);
	pthread_mutex_unlock(&W.mu);
	(void)!write(W.stop_fd, &one, sizeof(one));
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	if (pthread_timedjoin_np(W.thread, NULL, &ts) != 0)
		note(stderr, "the agent's connection did not end within 2 s: left to the exit");
	else {
		W.running = false;
		free(W.latest);
		W.latest = NULL;
	}
}
