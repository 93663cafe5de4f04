/* What the host's unit tests (test-host-*.c) share: a scripted guest agent
 * on a unix socket, stdout and stderr caught for what a command prints, and
 * a CLI command run against the scripted agent as porthole runs it. Static
 * inline, as stderr-capture.h: each test takes what it uses. Include after
 * cmocka.h. */
#pragma once

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"

/* ---- a scripted agent ---- */

/* Accepts one connection and runs STEPS: wait until the bytes received since
 * the previous step's EXPECT contain this one's ("" for none), then write
 * SEND (with "%ID%" replaced by the id of the last guest-sync-delimited
 * seen), or close when SEND is NULL. */
struct step {
	const char *expect;
	const char *send;
	size_t send_len; /* 0: strlen(send) */
};

/* What a step sends first on every connection: qemu-ga's answer to the
 * client's resync (the 0xFF's error, then the sync reply after a 0xFF). */
#define STEP_SYNC                                                                                        \
	{                                                                                                \
		"guest-sync-delimited",                                                                  \
			"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray " \
			"'\\\\uFFFD'\"}}\n\xff{\"return\": %ID%}\n",                                     \
			0                                                                                \
	}

struct peer {
	char dir[64];
	char path[108];
	char address[120]; /* unix:PATH */
	int listen_fd;
	const struct step *steps;
	size_t n_steps;
	char got[65536];
	size_t got_len;
	size_t matched; /* where the last step's EXPECT ended */
	pthread_t thread;
};

static inline bool peer_wait_for(struct peer *p, int fd, const char *expect)
{
	for (;;) {
		const char *at = memmem(p->got + p->matched, p->got_len - p->matched, expect,
					strlen(expect));
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (at) {
			p->matched = (size_t)(at - p->got) + strlen(expect);
			return true;
		}
		if (poll(&pfd, 1, 5000) <= 0 || p->got_len == sizeof(p->got))
			return false;
		n = read(fd, p->got + p->got_len, sizeof(p->got) - p->got_len);
		if (n <= 0)
			return false;
		p->got_len += (size_t)n;
	}
}

static inline void *peer_run(void *arg)
{
	struct peer *p = arg;
	char sync_id[32] = "0";
	int fd = accept(p->listen_fd, NULL, NULL);

	if (fd < 0)
		return NULL;
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct step *s = &p->steps[i];
		char buf[4096], *at;
		size_t len;

		if (!peer_wait_for(p, fd, s->expect))
			break;
		/* the last sync id seen so far */
		for (const char *q = p->got; (q = memmem(q, p->got_len - (size_t)(q - p->got),
							 "\"arguments\":{\"id\":", 18));
		     q += 18)
			snprintf(sync_id, sizeof(sync_id), "%.*s",
				 (int)strspn(q + 18, "0123456789"), q + 18);
		if (!s->send)
			break;
		len = s->send_len ? s->send_len : strlen(s->send);
		at = memmem(s->send, len, "%ID%", 4);
		if (at) {
			snprintf(buf, sizeof(buf), "%.*s%s%.*s", (int)(at - s->send), s->send,
				 sync_id, (int)(len - (size_t)(at - s->send) - 4), at + 4);
			if (write(fd, buf, strlen(buf)) < 0)
				break;
		} else if (write(fd, s->send, len) < 0) {
			break;
		}
	}
	close(fd);
	return NULL;
}

static inline void peer_start(struct peer *p, const struct step *steps, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/test-host.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->path, sizeof(p->path), "%s/agent.sock", p->dir);
	snprintf(p->address, sizeof(p->address), "unix:%s", p->path);
	strcpy(sa.sun_path, p->path);
	p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(p->listen_fd >= 0);
	assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(p->listen_fd, 1), 0);
	p->steps = steps;
	p->n_steps = n;
	assert_int_equal(pthread_create(&p->thread, NULL, peer_run, p), 0);
}

/* Waits for the peer to finish its steps (or a step to wait 5 s in vain);
 * P->GOT then holds everything the client sent. */
static inline void peer_stop(struct peer *p)
{
	pthread_join(p->thread, NULL);
	close(p->listen_fd);
	unlink(p->path);
	rmdir(p->dir);
}

/* Whether the client sent TEXT. */
static inline bool peer_got(const struct peer *p, const char *text)
{
	return memmem(p->got, p->got_len, text, strlen(text)) != NULL;
}

/* ---- what a command prints ---- */

struct output {
	int out, err; /* the temporary files */
	int saved_out, saved_err;
};

static inline int output_tmpfile(void)
{
	char path[] = "/tmp/test-host-output.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static inline void output_start(struct output *o)
{
	fflush(stdout);
	fflush(stderr);
	o->out = output_tmpfile();
	o->err = output_tmpfile();
	o->saved_out = dup(STDOUT_FILENO);
	o->saved_err = dup(STDERR_FILENO);
	assert_true(o->saved_out >= 0 && o->saved_err >= 0);
	dup2(o->out, STDOUT_FILENO);
	dup2(o->err, STDERR_FILENO);
}

static inline void output_read(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* Puts stdout and stderr back; OUT and ERR get what was written to each. */
static inline void output_stop(struct output *o, char *out, size_t out_size, char *err,
			       size_t err_size)
{
	fflush(stdout);
	fflush(stderr);
	dup2(o->saved_out, STDOUT_FILENO);
	dup2(o->saved_err, STDERR_FILENO);
	close(o->saved_out);
	close(o->saved_err);
	output_read(o->out, out, out_size);
	output_read(o->err, err, err_size);
}

/* ---- a CLI command against the scripted agent ---- */

typedef int (*cli_command_fn)(struct cli *cli, int argc, char **argv);

/* What porthole [--json] ARGV... printed and returned, with the agent
 * answering STEPS (STEP_SYNC first). */
struct cli_run {
	int code;
	char out[16384];
	char err[4096];
	struct peer peer;
};

static inline void cli_run(struct cli_run *r, cli_command_fn fn, bool json,
			   const struct step *steps, size_t n_steps, const char *const *argv)
{
	struct cli cli = { .json = json, .timeout_ms = 5000 };
	char *args[32];
	struct output o;
	bool connected;
	int argc = 0;

	while (argv[argc]) {
		assert_true(argc < 31);
		args[argc] = (char *)argv[argc];
		argc++;
	}
	args[argc] = NULL;
	peer_start(&r->peer, steps, n_steps);
	cli.address = r->peer.address;
	output_start(&o);
	r->code = fn(&cli, argc, args);
	connected = cli.c != NULL;
	client_close(cli.c);
	output_stop(&o, r->out, sizeof(r->out), r->err, sizeof(r->err));
	/* a command that never connected leaves the peer waiting: release it */
	if (!connected) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strcpy(sa.sun_path, r->peer.path);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			shutdown(fd, SHUT_RDWR);
		if (fd >= 0)
			close(fd);
	}
	peer_stop(&r->peer);
}

/* Group setup and teardown for the tests that run commands: *STATE is a
 * struct cli_run, on the heap (it holds all the peer received). */
static inline int cli_run_setup(void **state)
{
	*state = calloc(1, sizeof(struct cli_run));
	return *state ? 0 : -1;
}

static inline int cli_run_teardown(void **state)
{
	free(*state);
	return 0;
}

/* Runs FN with ARGV (NULL: just NAME), the agent answering the request NAME
 * with REPLY. */
static inline void cli_ask(struct cli_run *r, cli_command_fn fn, bool json, const char *name,
			   const char *reply, const char *const *argv)
{
	const char *const just_name[] = { name, NULL };
	char expect[96];
	const struct step steps[] = {
		STEP_SYNC,
		{ expect, reply, 0 },
	};

	snprintf(expect, sizeof(expect), "\"execute\":\"%s\"", name);
	cli_run(r, fn, json, steps, 2, argv ? argv : just_name);
}
