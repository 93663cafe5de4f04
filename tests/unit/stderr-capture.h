/* For unit tests of init's modules: what a call logs (init's log goes to
 * stderr), caught in a temporary file and read back into a buffer.
 * Include after cmocka.h. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct stderr_capture {
	int fd, saved;
};

static inline void stderr_capture_start(struct stderr_capture *c)
{
	char path[] = "/tmp/test-stderr.XXXXXX";

	c->fd = mkstemp(path);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->fd >= 0 && c->saved >= 0);
	unlink(path);
	dup2(c->fd, STDERR_FILENO);
}

/* Puts stderr back; BUF gets what was written, NUL-terminated. */
static inline void stderr_capture_stop(struct stderr_capture *c, char *buf, size_t size)
{
	ssize_t n;

	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	n = pread(c->fd, buf, size - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(c->fd);
}
