/* porthole time [sync | watch]: the guest clock against the host's. `sync`
 * measures the offset from several guest-get-time round trips (timesync.c)
 * and corrects it with porthole-time-adjust, relative, so no time is lost
 * between measuring and setting; `watch` keeps the guest in step and syncs
 * at once after the host resumes from sleep or the guest's clock jumps. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cli.h"
#include "timesync.h"
#include "util.h"

#define SAMPLES_DEFAULT 8
#define SAMPLES_MAX 64
/* watch: how often the host's own clocks are looked at (a host that slept),
 * and how long one long poll of the guest's events lasts: the guest wakes
 * for that, and for the syncs, not every second */
#define WATCH_HOST_MS 1000
#define WATCH_POLL_MS 60000

/* N round trips of guest-get-time; returns an exit code. */
static int measure(struct cli *cli, int n, struct ts_estimate *ret)
{
	struct ts_sample s[SAMPLES_MAX];
	int r;

	for (int i = 0; i < n; i++) {
		json_t *result = NULL;

		s[i].rt0 = now_clock_ns(CLOCK_REALTIME);
		s[i].mono0 = now_clock_ns(CLOCK_MONOTONIC);
		r = cli_call(cli, "guest-get-time", NULL, &result);
		s[i].mono1 = now_clock_ns(CLOCK_MONOTONIC);
		s[i].rt1 = now_clock_ns(CLOCK_REALTIME);
		if (r != CLI_EXIT_OK)
			return r;
		if (!json_is_integer(result)) {
			json_decref(result);
			cli_error("guest-get-time on %s: the result is not an integer",
				  cli->address);
			return CLI_EXIT_CONNECT;
		}
		s[i].guest = json_integer_value(result);
		json_decref(result);
	}
	if (timesync_estimate(s, (size_t)n, ret) < 0) {
		cli_error("no usable sample: the host's clock moved during every round trip");
		return CLI_EXIT_CONNECT;
	}
	return CLI_EXIT_OK;
}

static void print_offset(const char *label, const struct ts_estimate *e)
{
	printf("%-8s %+.6f s (guest %s host, +/- %.6f s)\n", label,
	       (double)e->offset_ns / NSEC_PER_SEC, e->offset_ns >= 0 ? "ahead of" : "behind",
	       (double)e->bound_ns / NSEC_PER_SEC);
}

/* Whether the agent has NAME enabled (guest-info). */
static bool has_command(struct cli *cli, const char *name)
{
	json_t *result = NULL, *c;
	bool found = false;
	size_t i;

	if (cli_call(cli, "guest-info", NULL, &result) != CLI_EXIT_OK)
		return false;
	json_array_foreach(json_object_get(result, "supported_commands"), i, c)
	{
		const char *n = json_string_value(json_object_get(c, "name"));

		if (n && strcmp(n, name) == 0 && json_is_true(json_object_get(c, "enabled")))
			found = true;
	}
	json_decref(result);
	return found;
}

/* Corrects the offset E measured: porthole-time-adjust when the agent has it,
 * relative; else guest-set-time with the host's time plus half the round
 * trip (what qemu-ga offers: the request's own delay is then a guess). */
static int correct(struct cli *cli, const struct ts_estimate *e, const char *mode, bool rtc,
		   bool absolute, const char **applied)
{
	json_t *args, *result = NULL;
	int r;

	if (absolute || !has_command(cli, "porthole-time-adjust")) {
		args = json_pack("{s:I}", "time",
				 (json_int_t)(now_clock_ns(CLOCK_REALTIME) + e->rtt_ns / 2));
		r = args ? cli_call(cli, "guest-set-time", args, &result) : CLI_EXIT_CONNECT;
		json_decref(args);
		json_decref(result);
		*applied = "set (guest-set-time)";
		return r;
	}
	args = json_pack("{s:I,s:s,s:b}", "offset_ns", (json_int_t)-e->offset_ns, "mode", mode,
			 "rtc", rtc);
	if (!args)
		return CLI_EXIT_CONNECT;
	r = cli_call(cli, "porthole-time-adjust", args, &result);
	json_decref(args);
	if (r == CLI_EXIT_OK) {
		const char *a = json_string_value(json_object_get(result, "applied"));

		*applied = strcmp(a ? a : "", "slew") == 0 ? "slew" : "step";
		json_decref(result);
	}
	return r;
}

struct sync_opts {
	int samples;
	const char *mode;
	bool rtc;
	bool absolute; /* guest-set-time with the host's time, as qemu-ga offers */
	bool quiet;
};

static int do_sync(struct cli *cli, const struct sync_opts *o, struct ts_estimate *before,
		   struct ts_estimate *after)
{
	const char *applied = "none";
	int r;

	r = measure(cli, o->samples, before);
	if (r != CLI_EXIT_OK)
		return r;
	r = correct(cli, before, o->mode, o->rtc, o->absolute, &applied);
	if (r != CLI_EXIT_OK)
		return r;
	r = measure(cli, o->samples, after);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		printf("{\"before_ns\": %" PRId64 ", \"before_bound_ns\": %" PRId64
		       ", \"applied\": \"%s\", \"after_ns\": %" PRId64
		       ", \"after_bound_ns\": %" PRId64 "}\n",
		       before->offset_ns, before->bound_ns, applied, after->offset_ns,
		       after->bound_ns);
	} else if (!o->quiet) {
		print_offset("before:", before);
		printf("applied: %s of %+.6f s\n", applied,
		       (double)-before->offset_ns / NSEC_PER_SEC);
		print_offset("after:", after);
		if (strcmp(applied, "slew") == 0)
			printf("(a slew is worked off at 0.5 ms a second: 'after' still shows what is "
			       "left)\n");
	}
	return CLI_EXIT_OK;
}

static const struct option time_longs[] = {
	{ "samples", required_argument, NULL, 'n' },
	{ "mode", required_argument, NULL, 'm' },
	{ "rtc", no_argument, NULL, 'r' },
	{ "interval", required_argument, NULL, 'i' },
	{ "count", required_argument, NULL, 'c' },
	{ "set", no_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 },
};
const struct cli_options cli_time_options = { "", time_longs };

static int sync_args(const char *cmd, int argc, char **argv, struct sync_opts *o, double *interval,
		     long *count)
{
	unsigned interval_ms;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, cli_time_options.shorts, cli_time_options.longs,
				NULL)) != -1) {
		char *end;

		switch (c) {
		case 'n': {
			/* in range as a long before it is an int */
			long n = strtol(optarg, &end, 10);

			if (end == optarg || *end || n < 1 || n > SAMPLES_MAX)
				return cli_usage_error(cmd, "--samples: 1 to %d, not %s",
						       SAMPLES_MAX, optarg);
			o->samples = (int)n;
		} break;
		case 'm':
			if (strcmp(optarg, "auto") && strcmp(optarg, "step") &&
			    strcmp(optarg, "slew"))
				return cli_usage_error(cmd, "--mode: auto, step or slew, not %s",
						       optarg);
			o->mode = optarg;
			break;
		case 'r':
			o->rtc = true;
			break;
		case 's':
			o->absolute = true;
			break;
		case 'i':
			if (!interval ||
			    parse_seconds_ms(optarg, 100, CLI_TIMEOUT_MS_MAX, &interval_ms) < 0)
				return cli_usage_error(cmd,
						       "--interval: seconds from 0.1 to %u, not %s",
						       CLI_TIMEOUT_MS_MAX / 1000, optarg);
			*interval = interval_ms / 1000.0;
			break;
		case 'c':
			if (!count)
				return cli_usage_error(cmd, "unknown option");
			errno = 0;
			*count = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || *count < 1)
				return cli_usage_error(cmd, "--count: a positive number, not %s",
						       optarg);
			break;
		default:
			return cli_usage_error(cmd, "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return CLI_EXIT_OK;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The guest's clock events, long-polled on a connection of its own by a
 * thread, so that the watch can look at the host's clocks every second
 * without asking the guest anything: the thread writes a byte to FD when
 * an event is a reason to sync. On the heap: a thread that does not end in
 * time when the watch does (a connect under way, bounded) is left to free
 * it itself. */
struct event_watch {
	char *address;
	int64_t since;
	int fd;
	pthread_t thread;
	pthread_mutex_t mu; /* over the three below */
	struct client *c;
	bool stop, abandoned;
};

/* How long the thread's connect and resync may take. */
#define WATCH_CONNECT_MS 5000

static bool watch_stopping(struct event_watch *w)
{
	bool stopping;

	pthread_mutex_lock(&w->mu);
	stopping = w->stop;
	pthread_mutex_unlock(&w->mu);
	return stopping;
}

static void event_watch_free(struct event_watch *w)
{
	client_close(w->c);
	free(w->address);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* One long poll: 1 when an event is a reason to sync, 0 when none, -1 when
 * the connection failed (said on stderr unless the watch is ending). */
static int poll_events(struct event_watch *w)
{
	struct client_options o = { .connect_timeout_ms = WATCH_CONNECT_MS };
	struct client_error err = { 0 };
	json_t *args, *result = NULL, *ev;
	struct client *c;
	size_t n;
	int news = 0, r;

	pthread_mutex_lock(&w->mu);
	c = w->c;
	pthread_mutex_unlock(&w->mu);
	if (!c) {
		r = client_open(w->address, &o, &c, &err);
		if (r < 0)
			goto fail;
		pthread_mutex_lock(&w->mu);
		w->c = c;
		if (w->stop)
			(void)shutdown(client_fd(c), SHUT_RDWR);
		pthread_mutex_unlock(&w->mu);
	}
	args = json_pack("{s:I,s:i}", "since", (json_int_t)w->since, "timeout_ms", WATCH_POLL_MS);
	r = client_call_json(c, "porthole-events", args, WATCH_POLL_MS + 10000, &result, &err);
	json_decref(args);
	if (r < 0)
		goto fail;
	w->since = json_integer_value(json_object_get(result, "next"));
	json_array_foreach(json_object_get(result, "events"), n, ev)
	{
		const char *type = json_string_value(json_object_get(ev, "type"));

		/* our own corrections come back as "adjusted": not a reason */
		if (type && strcmp(type, "adjusted") != 0) {
			printf("guest: %s, %+.6f s\n", type,
			       (double)json_integer_value(json_object_get(ev, "jump_ns")) /
				       NSEC_PER_SEC);
			fflush(stdout);
			news = 1;
		}
	}
	json_decref(result);
	return news;
fail:
	/* the watch's end cuts the connection: not an error then */
	if (!watch_stopping(w))
		cli_error("time watch: the guest's events: %s",
			  err.desc[0] ? err.desc : strerror(-r));
	pthread_mutex_lock(&w->mu);
	w->c = NULL;
	pthread_mutex_unlock(&w->mu);
	client_close(c);
	return -1;
}

static void *watch_events(void *data)
{
	struct event_watch *w = data;
	unsigned backoff_s = 1;
	bool abandoned;

	while (!watch_stopping(w)) {
		int r = poll_events(w);

		/* a full pipe has a byte waiting already: nothing to do then */
		if (r > 0 && write(w->fd, "e", 1) < 0) {
		}
		if (r >= 0) {
			backoff_s = 1;
			continue;
		}
		/* the agent went (a reboot): a fresh connection after a pause that
		 * doubles up to half a minute */
		for (unsigned i = 0; i < backoff_s && !watch_stopping(w); i++)
			sleep(1);
		backoff_s = backoff_s < 30 ? backoff_s * 2 : 30;
	}
	pthread_mutex_lock(&w->mu);
	abandoned = w->abandoned;
	pthread_mutex_unlock(&w->mu);
	if (abandoned) {
		close(w->fd);
		event_watch_free(w);
	}
	return NULL;
}

/* Starts the thread when the agent has porthole-events (qemu-ga has not):
 * the watch, with its pipe's read end in *RET_FD; NULL without. */
static struct event_watch *event_watch_start(struct cli *cli, int *ret_fd)
{
	struct event_watch *w;
	json_t *result = NULL;
	int p[2];

	if (cli_call(cli, "porthole-events", NULL, &result) != CLI_EXIT_OK)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w) {
		json_decref(result);
		return NULL;
	}
	w->since = json_integer_value(json_object_get(result, "next"));
	json_decref(result);
	w->address = strdup(cli->address);
	if (!w->address || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(w->address);
		free(w);
		return NULL;
	}
	w->fd = p[1];
	pthread_mutex_init(&w->mu, NULL);
	if (pthread_create(&w->thread, NULL, watch_events, w) != 0) {
		close(p[0]);
		close(p[1]);
		event_watch_free(w);
		return NULL;
	}
	*ret_fd = p[0];
	return w;
}

/* Ends the thread: its long poll is cut by shutting its connection down; a
 * connect under way ends within WATCH_CONNECT_MS, and past a little more
 * the thread is left to end and free the watch by itself. */
static void event_watch_stop(struct event_watch *w, int fd)
{
	struct timespec deadline;

	pthread_mutex_lock(&w->mu);
	w->stop = true;
	if (w->c)
		(void)shutdown(client_fd(w->c), SHUT_RDWR);
	pthread_mutex_unlock(&w->mu);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += WATCH_CONNECT_MS / 1000 + 2;
	if (pthread_timedjoin_np(w->thread, NULL, &deadline) == 0) {
		close(fd);
		close(w->fd);
		event_watch_free(w);
		return;
	}
	/* the pipe stays open: the thread may still write to it */
	pthread_mutex_lock(&w->mu);
	w->abandoned = true;
	pthread_mutex_unlock(&w->mu);
	pthread_detach(w->thread);
}

static int time_watch(struct cli *cli, int argc, char **argv)
{
	struct sync_opts o = { .samples = SAMPLES_DEFAULT, .mode = "auto", .quiet = true };
	double interval = 10;
	long count = 0, syncs = 0;
	int64_t host_bm, next_sync = 0;
	struct event_watch *w;
	int events = -1;
	int r = sync_args("time", argc, argv, &o, &interval, &count);

	if (r != CLI_EXIT_OK)
		return r;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	r = cli_connect(cli);
	if (r != CLI_EXIT_OK)
		return r;
	/* only what happens from now on is a reason to sync */
	w = event_watch_start(cli, &events);
	host_bm = now_clock_ns(CLOCK_BOOTTIME) - now_clock_ns(CLOCK_MONOTONIC);
	while (!stop && (count == 0 || syncs < count)) {
		int64_t bm = now_clock_ns(CLOCK_BOOTTIME) - now_clock_ns(CLOCK_MONOTONIC);
		int64_t mono = now_clock_ns(CLOCK_MONOTONIC);
		bool now = mono >= next_sync;
		struct ts_estimate before, after;
		struct pollfd pfd = { .fd = events, .events = POLLIN };
		int64_t wait_ms;

		/* CLOCK_BOOTTIME counts the time the host slept, CLOCK_MONOTONIC not:
		 * the host has just resumed, and the guest (paused meanwhile) is behind */
		if (bm - host_bm > NSEC_PER_SEC) {
			printf("host: resumed after %.1f s asleep: syncing\n",
			       (double)(bm - host_bm) / NSEC_PER_SEC);
			now = true;
		}
		host_bm = bm;
		if (now) {
			r = do_sync(cli, &o, &before, &after);
			if (r != CLI_EXIT_OK)
				break;
			printf("sync: %+.6f s -> %+.6f s (+/- %.6f s)\n",
			       (double)before.offset_ns / NSEC_PER_SEC,
			       (double)after.offset_ns / NSEC_PER_SEC,
			       (double)after.bound_ns / NSEC_PER_SEC);
			fflush(stdout);
			syncs++;
			next_sync =
				now_clock_ns(CLOCK_MONOTONIC) + (int64_t)(interval * NSEC_PER_SEC);
			continue;
		}
		/* at most a second between looks at the host's own clocks, which
		 * costs the guest nothing; its events come through the pipe */
		wait_ms = (next_sync - mono) / NSEC_PER_MSEC + 1;
		if (wait_ms > WATCH_HOST_MS)
			wait_ms = WATCH_HOST_MS;
		if (poll(&pfd, events >= 0 ? 1 : 0, (int)wait_ms) > 0) {
			char b[16];

			while (read(events, b, sizeof(b)) > 0)
				;
			next_sync = 0;
		}
	}
	if (w)
		event_watch_stop(w, events);
	return r;
}

int cli_time(struct cli *cli, int argc, char **argv)
{
	struct sync_opts o = { .samples = SAMPLES_DEFAULT, .mode = "auto" };
	struct ts_estimate before, after;
	int r;

	if (argc >= 2 && strcmp(argv[1], "watch") == 0)
		return time_watch(cli, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "sync") == 0) {
		r = sync_args("time", argc - 1, argv + 1, &o, NULL, NULL);
		if (r != CLI_EXIT_OK)
			return r;
		r = cli_connect(cli);
		return r != CLI_EXIT_OK ? r : do_sync(cli, &o, &before, &after);
	}
	if (argc >= 2)
		return cli_usage_error("time", "unknown: time %s (time, time sync, time watch)",
				       argv[1]);
	r = measure(cli, SAMPLES_DEFAULT, &before);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json) {
		printf("{\"offset_ns\": %" PRId64 ", \"bound_ns\": %" PRId64 "}\n",
		       before.offset_ns, before.bound_ns);
		return CLI_EXIT_OK;
	}
	{
		char g[64], h[64];
		int64_t host = now_clock_ns(CLOCK_REALTIME);

		printf("guest:  %s\n", cli_time_str(host + before.offset_ns, true, g, sizeof(g)));
		printf("host:   %s\n", cli_time_str(host, true, h, sizeof(h)));
		print_offset("offset:", &before);
	}
	return CLI_EXIT_OK;
}
