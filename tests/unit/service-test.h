/* For the unit tests of init's services: a fake world behind struct
 * service_ops (spawn hands out pids without forking, kill and kill_cgroup
 * are recorded, the clock is NOW_NS, which the test moves), and a real
 * supervisor loop for the modules that need one. Include after cmocka.h. */
#pragma once

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>

#include "service.h"
#include "supervise.h"
#include "util.h"

struct call {
	char what; /* 's' spawn, 'k' kill, 'c' kill_cgroup */
	char name[SERVICE_NAME_MAX];
	pid_t pid;
	int sig;
	bool whole;
};

static uint64_t now_ns;
static pid_t next_pid;
static int spawn_error; /* -errno the next spawns return; 0: they work */
static struct call calls[512];
static size_t n_calls;

static struct call *record(char what)
{
	assert_true(n_calls < ARRAY_SIZE(calls));
	memset(&calls[n_calls], 0, sizeof(calls[0]));
	calls[n_calls].what = what;
	return &calls[n_calls++];
}

static pid_t fake_spawn(struct services *s, struct service *sv, char *why, size_t why_size)
{
	struct call *c = record('s');

	(void)s;
	snprintf(c->name, sizeof(c->name), "%s", sv->spec.name);
	if (spawn_error) {
		snprintf(why, why_size, "%s: %s", sv->spec.argv[0], strerror(-spawn_error));
		return spawn_error;
	}
	c->pid = next_pid++;
	return c->pid;
}

static int fake_kill(pid_t pid, int sig)
{
	struct call *c = record('k');

	c->pid = pid;
	c->sig = sig;
	return 0;
}

static void fake_kill_cgroup(struct services *s, struct service *sv, bool whole)
{
	struct call *c = record('c');

	(void)s;
	snprintf(c->name, sizeof(c->name), "%s", sv->spec.name);
	c->pid = sv->pid;
	c->whole = whole;
}

static uint64_t fake_now(void)
{
	return now_ns;
}

static const struct service_ops fake_ops __attribute__((unused)) = {
	.spawn = fake_spawn,
	.kill = fake_kill,
	.kill_cgroup = fake_kill_cgroup,
	.now = fake_now,
};

/* Forgets the calls; pids from 1000, spawns that work, the clock at 1000 s. */
static inline void fake_reset(void)
{
	n_calls = 0;
	next_pid = 1000;
	spawn_error = 0;
	now_ns = 1000 * NSEC_PER_SEC;
}

/* SUP as init has it, but with only SIGCHLD (REAP) or no signal at all read
 * through its signalfd. */
static inline void test_loop_init(struct supervisor *sup, bool reap)
{
	sigset_t set;
	int sigfd;

	sigemptyset(&set);
	if (reap) {
		sigaddset(&set, SIGCHLD);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	assert_true(sigfd >= 0);
	assert_int_equal(supervise_init(sup, sigfd, true), 0);
}
