/* porthole-loadgen: drives any endpoint of the guest agent protocol with N
 * requests of one command, sequential or pipelined, on one or more
 * connections, and prints throughput, latency, the server's CPU and memory
 * cost, and every reply that answered no request or one twice. With
 * --reconnect it rides out the server going away (kill -9 under load).
 * The protocol itself is the client library's business. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "util.h"

#define N_MAX 10000000u
#define WINDOW_MAX 1024u
#define CONNECTIONS_MAX 256u
/* reconnections per connection, at most: a server that keeps dying ends the run */
#define RECONNECTS_MAX 1000u
#define RECONNECT_PAUSE_MS 50

struct opts {
	const char *address;
	const char *command;
	json_t *args;
	uint64_t n;
	unsigned window;
	unsigned connections;
	int server_pid;
	bool json;
	bool reconnect;
	/* guest-sync without --args: each request carries its own token, which
	 * the reply must echo (a reply to another request shows) */
	bool echo;
	int timeout_ms;
};

/* guest-sync's tokens: unique in the run, across connections and reconnects */
static _Atomic uint64_t next_token = 1000000;

/* One connection's share of the run, filled by its thread. */
struct conn_run {
	pthread_t thread;
	const struct opts *o;
	pthread_barrier_t *start;
	uint64_t n; /* requests to make */
	uint64_t *lat; /* latency of each reply received, ns */
	uint64_t done; /* replies received */
	uint64_t errors; /* of which guest errors */
	uint64_t duplicates; /* replies to a request already answered */
	uint64_t mismatches; /* replies to no request in flight, or echoing another's token */
	uint64_t lost; /* requests in flight when the connection went: never answered */
	uint64_t reconnects;
	uint64_t t_first; /* when the first request was sent */
	uint64_t t_served; /* when the first reply came */
	uint64_t t_last; /* when the last reply came */
	bool failed;
	char error[600];
};

struct server_stats {
	bool ok;
	uint64_t cpu_ticks; /* utime + stime, all threads */
	uint64_t rss_kib;
};

static void usage(FILE *f)
{
	fputs("Usage: porthole-loadgen --connect ADDRESS --command NAME [--args JSON] -n N\n"
	      "                        [--pipeline W] [--connections C] [--server-pid PID]\n"
	      "                        [--timeout S] [--reconnect] [--json]\n"
	      "Sends N requests of NAME to a guest agent (porthole-agent, qemu-ga) and prints\n"
	      "one line: requests/s, p50/p99/max latency and, with --server-pid, the server's\n"
	      "CPU time per request and RSS before and after; then the replies that answered\n"
	      "a request twice (dup) or answered none in flight (mismatch). guest-sync\n"
	      "without --args sends each request a token of its own and checks the echo.\n"
	      "  --connect ADDRESS   unix:PATH, vsock:CID:PORT or hvsock:PATH:PORT\n"
	      "  --pipeline W        keep W requests in flight on each connection (default 1)\n"
	      "  --connections C     C connections at once, N shared among them (default 1)\n"
	      "  --timeout S         bound of every connect and reply wait (default 10)\n"
	      "  --reconnect         when the connection fails, connect again (within the\n"
	      "                      timeout) and go on; requests in flight then are lost\n"
	      "  --server-pid PID    the server, for its CPU time and RSS\n"
	      "  --json              the line as a JSON object\n"
	      "  -h, --help          this text\n"
	      "Exit status: 0 every request answered (or, with --reconnect, lost with its\n"
	      "connection) once and by its own reply, 1 otherwise, 2 usage.\n",
	      f);
}

static void fmt_ns(uint64_t ns, char *buf, size_t size)
{
	if (ns < 10000)
		snprintf(buf, size, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000)
		snprintf(buf, size, "%.0fus", (double)ns / 1e3);
	else if (ns < NSEC_PER_SEC)
		snprintf(buf, size, "%.1fms", (double)ns / NSEC_PER_MSEC);
	else
		snprintf(buf, size, "%.2fs", (double)ns / NSEC_PER_SEC);
}

/* utime and stime (fields 14 and 15 of /proc/PID/stat, proc(5)), counted
 * after the ")" that ends the command name, which may itself hold spaces. */
static int read_cpu_ticks(int pid, uint64_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	unsigned long long ut, st;
	char path[64];
	const char *p;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	r = read_file(path, 4096, &buf, NULL);
	if (r < 0)
		return r;
	p = strrchr(buf, ')');
	if (!p)
		return -EBADMSG;
	/* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -EBADMSG;
	*ret = ut + st;
	return 0;
}

static int read_rss_kib(int pid, uint64_t *ret)
{
	_cleanup_free_ char *buf = NULL;
	unsigned long long kib;
	char path[64];
	const char *p;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	r = read_file(path, 16384, &buf, NULL);
	if (r < 0)
		return r;
	p = strstr(buf, "\nVmRSS:");
	if (!p || sscanf(p + 7, " %llu kB", &kib) != 1)
		return -EBADMSG;
	*ret = kib;
	return 0;
}

static struct server_stats server_stats(int pid)
{
	struct server_stats s = { 0 };

	if (pid > 0)
		s.ok = read_cpu_ticks(pid, &s.cpu_ticks) >= 0 && read_rss_kib(pid, &s.rss_kib) >= 0;
	return s;
}

static void conn_fail(struct conn_run *cr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void conn_fail(struct conn_run *cr, const char *fmt, ...)
{
	va_list ap;

	cr->failed = true;
	va_start(ap, fmt);
	vsnprintf(cr->error, sizeof(cr->error), fmt, ap);
	va_end(ap);
}

/* Connects, retrying every RECONNECT_PAUSE_MS within the time-out when
 * reconnecting (the server may be restarting). */
static int conn_open(struct conn_run *cr, bool retry, struct client **ret)
{
	const struct opts *o = cr->o;
	struct client_options copt = { .connect_timeout_ms = o->timeout_ms };
	uint64_t deadline = now_mono_ns() + (uint64_t)o->timeout_ms * NSEC_PER_MSEC;
	struct client_error err;
	int r;

	for (;;) {
		r = client_open(o->address, &copt, ret, &err);
		if (r >= 0)
			return r;
		if (!retry || now_mono_ns() >= deadline) {
			conn_fail(cr, "%s%s", retry ? "reconnecting: " : "", err.desc);
			return r;
		}
		usleep(RECONNECT_PAUSE_MS * 1000);
	}
}

/* A request in flight: when it was sent and the token it carries. */
struct in_flight {
	uint64_t t_sent;
	uint64_t token;
};

/* Sends the connection's N requests keeping at most WINDOW in flight and
 * reads every reply before returning: closing with a reply unread would make
 * qemu-ga exit. Each reply must answer the oldest request in flight (the
 * agent answers in order): one answering an older one is a duplicate, any
 * other a mismatch, and both are counted. With --reconnect, a failed
 * connection's requests in flight are lost and the rest go on a new one. */
static void conn_run(struct conn_run *cr)
{
	const struct opts *o = cr->o;
	struct client_error err;
	struct client *c = NULL;
	/* this connection's ids are first_id + k, k counted from 0 on it */
	uint64_t sent = 0, answered = 0, first_id = 0;
	struct in_flight *fl;
	int r;

	fl = calloc(o->window, sizeof(*fl));
	if (!fl) {
		conn_fail(cr, "out of memory");
		return;
	}
	pthread_barrier_wait(cr->start);
	if (conn_open(cr, false, &c) < 0)
		goto out;
	while (cr->done + cr->lost < cr->n) {
		json_t *reply = NULL, *args = NULL, *ret;
		uint64_t id, now, k;

		/* Fill the window, then write the batch at once. */
		if (cr->done + cr->lost + (sent - answered) < cr->n &&
		    sent - answered < o->window) {
			now = now_mono_ns();
			if (!cr->t_first)
				cr->t_first = now;
			while (cr->done + cr->lost + (sent - answered) < cr->n &&
			       sent - answered < o->window) {
				struct in_flight *f = &fl[sent % o->window];

				f->token = o->echo ? atomic_fetch_add(&next_token, 1) : 0;
				args = o->echo ? json_pack("{s:I}", "id", (json_int_t)f->token)
					       : json_incref(o->args);
				r = client_queue(c, o->command, args, &id, &err);
				json_decref(args);
				if (r < 0)
					goto conn_error;
				if (!sent)
					first_id = id;
				f->t_sent = now;
				sent++;
			}
			r = client_flush(c, o->timeout_ms, &err);
			if (r < 0)
				goto conn_error;
		}
		r = client_recv(c, o->timeout_ms, &reply, &id, &err);
		if (r < 0)
			goto conn_error;
		now = now_mono_ns();
		k = id - first_id;
		if (id < first_id || k >= sent) {
			/* no request of this connection has that id */
			if (!cr->mismatches && !cr->failed)
				snprintf(cr->error, sizeof(cr->error),
					 "a reply with id %" PRIu64
					 ", none such in flight (%" PRIu64 " to %" PRIu64 ")",
					 id, first_id + answered, first_id + sent - 1);
			cr->mismatches++;
			json_decref(reply);
			continue;
		}
		if (k < answered) {
			if (!cr->duplicates && !cr->failed)
				snprintf(cr->error, sizeof(cr->error),
					 "a second reply to id %" PRIu64, id);
			cr->duplicates++;
			json_decref(reply);
			continue;
		}
		if (k > answered) {
			/* replies come in order: those skipped are lost, this one is
			 * out of its turn */
			if (!cr->mismatches && !cr->failed)
				snprintf(cr->error, sizeof(cr->error),
					 "reply with id %" PRIu64 ", expected %" PRIu64, id,
					 first_id + answered);
			cr->mismatches++;
			cr->lost += k - answered;
			answered = k;
		}
		if (client_reply_result(reply, &ret, &err) < 0) {
			if (!cr->errors && !cr->failed)
				snprintf(cr->error, sizeof(cr->error), "guest error (%s): %s",
					 err.class, err.desc);
			cr->errors++;
		} else if (o->echo && (!json_is_integer(ret) || (uint64_t)json_integer_value(ret) !=
									fl[k % o->window].token)) {
			if (!cr->mismatches && !cr->failed)
				snprintf(cr->error, sizeof(cr->error),
					 "the reply to id %" PRIu64 " echoes %" JSON_INTEGER_FORMAT
					 ", not its token %" PRIu64,
					 id, json_is_integer(ret) ? json_integer_value(ret) : -1,
					 fl[k % o->window].token);
			cr->mismatches++;
		}
		json_decref(reply);
		cr->lat[cr->done] = now - fl[k % o->window].t_sent;
		if (!cr->t_served)
			cr->t_served = now;
		cr->t_last = now;
		cr->done++;
		answered++;
		continue;
conn_error:
		if (!o->reconnect || cr->reconnects >= RECONNECTS_MAX ||
		    client_status(r) == CLIENT_PROTOCOL_ERROR ||
		    client_status(r) == CLIENT_TIMEOUT) {
			conn_fail(cr, "after %" PRIu64 " replies: %s", cr->done, err.desc);
			goto out;
		}
		/* the server went away: what was in flight is not answered */
		cr->lost += sent - answered;
		cr->reconnects++;
		client_close(c);
		c = NULL;
		sent = answered = first_id = 0;
		if (conn_open(cr, true, &c) < 0)
			goto out;
	}
out:
	client_close(c);
	free(fl);
}

static void *conn_thread(void *arg)
{
	conn_run(arg);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* How many connections were being served at the same moment, at most: the
 * largest overlap of the intervals from first to last reply. */
static unsigned max_overlap(const struct conn_run *runs, unsigned n)
{
	unsigned best = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned k = 0;

		if (!runs[i].done)
			continue;
		/* Count intervals that contain the start of interval i. */
		for (unsigned j = 0; j < n; j++)
			if (runs[j].done && runs[j].t_served <= runs[i].t_served &&
			    runs[j].t_last >= runs[i].t_served)
				k++;
		if (k > best)
			best = k;
	}
	return best;
}

static int run(const struct opts *o)
{
	struct conn_run *runs = calloc(o->connections, sizeof(*runs));
	uint64_t *all = NULL, total = 0, errors = 0, t0 = UINT64_MAX, t1 = 0;
	uint64_t dups = 0, mismatches = 0, lost = 0, reconnects = 0;
	unsigned failed = 0, conc;
	const char *first_error = NULL;
	struct server_stats before, after;
	pthread_barrier_t start;
	char mode[32], p50[16] = "-", p99[16] = "-", pmax[16] = "-", cpu[32] = "-";
	double rps = 0, cpu_us = -1;
	uint64_t q50 = 0, q99 = 0, qmax = 0;
	int ret = 0;

	if (!runs || pthread_barrier_init(&start, NULL, o->connections) != 0) {
		fprintf(stderr, "porthole-loadgen: out of memory\n");
		free(runs);
		return 1;
	}
	before = server_stats(o->server_pid);
	for (unsigned i = 0; i < o->connections; i++) {
		struct conn_run *cr = &runs[i];

		cr->o = o;
		cr->start = &start;
		cr->n = o->n / o->connections + (i < o->n % o->connections ? 1 : 0);
		cr->lat = calloc(cr->n ? cr->n : 1, sizeof(*cr->lat));
		if (!cr->lat || pthread_create(&cr->thread, NULL, conn_thread, cr) != 0) {
			fprintf(stderr, "porthole-loadgen: cannot start connection %u\n", i);
			exit(1);
		}
	}
	for (unsigned i = 0; i < o->connections; i++)
		pthread_join(runs[i].thread, NULL);
	after = server_stats(o->server_pid);
	pthread_barrier_destroy(&start);

	for (unsigned i = 0; i < o->connections; i++) {
		total += runs[i].done;
		errors += runs[i].errors;
		dups += runs[i].duplicates;
		mismatches += runs[i].mismatches;
		lost += runs[i].lost;
		reconnects += runs[i].reconnects;
		if (runs[i].failed)
			failed++;
		if ((runs[i].failed || runs[i].errors || runs[i].duplicates ||
		     runs[i].mismatches) &&
		    !first_error)
			first_error = runs[i].error;
		if (runs[i].done && runs[i].t_first < t0)
			t0 = runs[i].t_first;
		if (runs[i].t_last > t1)
			t1 = runs[i].t_last;
	}
	all = calloc(total ? total : 1, sizeof(*all));
	if (!all) {
		fprintf(stderr, "porthole-loadgen: out of memory\n");
		exit(1);
	}
	for (unsigned i = 0, k = 0; i < o->connections; i++) {
		memcpy(all + k, runs[i].lat, runs[i].done * sizeof(*all));
		k += (unsigned)runs[i].done;
	}
	if (total) {
		qsort(all, total, sizeof(*all), cmp_u64);
		q50 = all[(total - 1) * 50 / 100];
		q99 = all[(total - 1) * 99 / 100];
		qmax = all[total - 1];
		fmt_ns(q50, p50, sizeof(p50));
		fmt_ns(q99, p99, sizeof(p99));
		fmt_ns(qmax, pmax, sizeof(pmax));
		if (t1 > t0)
			rps = (double)total / ((double)(t1 - t0) / NSEC_PER_SEC);
	}
	conc = max_overlap(runs, o->connections);
	if (before.ok && after.ok && total) {
		/* Includes each connection's resync: one more request each. */
		cpu_us = (double)(after.cpu_ticks - before.cpu_ticks) * USEC_PER_SEC /
			 (double)sysconf(_SC_CLK_TCK) / (double)total;
		snprintf(cpu, sizeof(cpu), "%.1fus", cpu_us);
	}
	if (o->window > 1)
		snprintf(mode, sizeof(mode), "pipe=%u", o->window);
	else
		snprintf(mode, sizeof(mode), "seq");

	if (o->json) {
		json_t *j = json_pack(
			"{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I}",
			"command", o->command, "mode", o->window > 1 ? "pipeline" : "seq", "window",
			(json_int_t)o->window, "n", (json_int_t)o->n, "connections",
			(json_int_t)o->connections, "ok", (json_int_t)(total - errors), "errors",
			(json_int_t)errors, "failed_connections", (json_int_t)failed, "concurrent",
			(json_int_t)conc, "rps", rps, "p50_ns", (json_int_t)q50, "p99_ns",
			(json_int_t)q99, "max_ns", (json_int_t)qmax);
		char *s;

		if (cpu_us >= 0)
			json_object_set_new(j, "server_cpu_per_req_us", json_real(cpu_us));
		if (before.ok)
			json_object_set_new(j, "server_rss_kib_before",
					    json_integer((json_int_t)before.rss_kib));
		if (after.ok)
			json_object_set_new(j, "server_rss_kib_after",
					    json_integer((json_int_t)after.rss_kib));
		if (o->server_pid > 0 && !after.ok)
			json_object_set_new(j, "server_gone", json_true());
		json_object_set_new(j, "duplicates", json_integer((json_int_t)dups));
		json_object_set_new(j, "mismatches", json_integer((json_int_t)mismatches));
		json_object_set_new(j, "lost", json_integer((json_int_t)lost));
		json_object_set_new(j, "reconnects", json_integer((json_int_t)reconnects));
		if (first_error)
			json_object_set_new(j, "error", json_string(first_error));
		s = json_dumps(j, JSON_COMPACT);
		if (s)
			puts(s);
		free(s);
		json_decref(j);
	} else {
		printf("%s %s n=%" PRIu64 " c=%u: %.0f req/s p50 %s p99 %s max %s cpu/req %s",
		       o->command, mode, o->n, o->connections, rps, p50, p99, pmax, cpu);
		if (before.ok && after.ok)
			printf(" rss %" PRIu64 "->%" PRIu64 " KiB", before.rss_kib, after.rss_kib);
		else
			printf(" rss -");
		printf(" conc %u/%u errors %" PRIu64, conc, o->connections,
		       errors + (o->n - total - lost));
		printf(" dup %" PRIu64 " mismatch %" PRIu64, dups, mismatches);
		if (o->reconnect)
			printf(" lost %" PRIu64 " reconnects %" PRIu64, lost, reconnects);
		printf("\n");
		if (o->server_pid > 0 && before.ok && !after.ok)
			fprintf(stderr, "porthole-loadgen: server %d is gone\n", o->server_pid);
		if (first_error)
			fprintf(stderr,
				"porthole-loadgen: %u of %u connections failed, %" PRIu64
				" guest errors, %" PRIu64 " duplicate and %" PRIu64
				" mismatched replies; first: %s\n",
				failed, o->connections, errors, dups, mismatches, first_error);
	}
	fflush(stdout);
	/* lost requests are allowed only when reconnecting: the server's
	 * promise is "answered once or not at all" */
	if (failed || errors || dups || mismatches || total + (o->reconnect ? lost : 0) < o->n)
		ret = 1;
	for (unsigned i = 0; i < o->connections; i++)
		free(runs[i].lat);
	free(runs);
	free(all);
	return ret;
}

static int parse_count(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	int64_t v;

	if (*s < '0' || *s > '9' || parse_int64(s, (int64_t)min, (int64_t)max, &v) < 0)
		return -EINVAL;
	*ret = (uint64_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "connect", required_argument, NULL, 'c' },
		{ "command", required_argument, NULL, 'C' },
		{ "args", required_argument, NULL, 'a' },
		{ "pipeline", required_argument, NULL, 'w' },
		{ "connections", required_argument, NULL, 'k' },
		{ "server-pid", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "reconnect", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct opts o = { .n = 0, .window = 1, .connections = 1, .timeout_ms = 10000 };
	json_error_t jerr;
	uint64_t v;
	int c, r;

	while ((c = getopt_long(argc, argv, "n:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.address = optarg;
			break;
		case 'C':
			o.command = optarg;
			break;
		case 'a':
			json_decref(o.args);
			o.args = json_loads(optarg, 0, &jerr);
			if (!json_is_object(o.args)) {
				fprintf(stderr, "porthole-loadgen: --args: not a JSON object: %s\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			if (parse_count(optarg, 1, N_MAX, &o.n) < 0) {
				fprintf(stderr, "porthole-loadgen: -n: 1 to %u, not %s\n", N_MAX,
					optarg);
				return 2;
			}
			break;
		case 'w':
			if (parse_count(optarg, 1, WINDOW_MAX, &v) < 0) {
				fprintf(stderr, "porthole-loadgen: --pipeline: 1 to %u, not %s\n",
					WINDOW_MAX, optarg);
				return 2;
			}
			o.window = (unsigned)v;
			break;
		case 'k':
			if (parse_count(optarg, 1, CONNECTIONS_MAX, &v) < 0) {
				fprintf(stderr,
					"porthole-loadgen: --connections: 1 to %u, not %s\n",
					CONNECTIONS_MAX, optarg);
				return 2;
			}
			o.connections = (unsigned)v;
			break;
		case 'p':
			if (parse_count(optarg, 1, INT32_MAX, &v) < 0) {
				fprintf(stderr, "porthole-loadgen: --server-pid: not a pid: %s\n",
					optarg);
				return 2;
			}
			o.server_pid = (int)v;
			break;
		case 't': {
			unsigned ms;

			if (parse_seconds_ms(optarg, 1, 3600 * MSEC_PER_SEC, &ms) < 0) {
				fprintf(stderr,
					"porthole-loadgen: --timeout: seconds from 0.001 to 3600, "
					"not %s\n",
					optarg);
				return 2;
			}
			o.timeout_ms = (int)ms;
			break;
		}
		case 'j':
			o.json = true;
			break;
		case 'r':
			o.reconnect = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.address || !o.command || !o.n || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (o.connections > o.n)
		o.connections = (unsigned)o.n;
	o.echo = strcmp(o.command, "guest-sync") == 0 && !o.args;
	if (o.server_pid > 0 && !server_stats(o.server_pid).ok) {
		fprintf(stderr, "porthole-loadgen: cannot read /proc/%d/stat and status\n",
			o.server_pid);
		return 2;
	}
	r = run(&o);
	json_decref(o.args);
	return r;
}
