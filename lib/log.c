/* Logging: formats one line and writes it with a single write(2), so lines
 * from several processes never interleave. Owns the choice of sink only. */
#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static const char *log_component = "porthole";
static enum log_level log_max = LOG_LEVEL_INFO;
static int log_kmsg_fd = -1;

static const char *const level_names[] = {
	[LOG_LEVEL_EMERG] = "emerg", [LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",   [LOG_LEVEL_DEBUG] = "debug",
};

void log_setup(const char *component)
{
	log_component = component;
}

void log_set_level(enum log_level level)
{
	log_max = level;
}

enum log_level log_get_level(void)
{
	return log_max;
}

int log_set_target(enum log_target target)
{
	if (log_kmsg_fd >= 0) {
		close(log_kmsg_fd);
		log_kmsg_fd = -1;
	}
	if (target == LOG_TARGET_STDERR)
		return 0;
	log_kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	return log_kmsg_fd >= 0 ? 0 : -errno;
}

enum log_target log_get_target(void)
{
	return log_kmsg_fd >= 0 ? LOG_TARGET_KMSG : LOG_TARGET_STDERR;
}

int log_level_from_string(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (level_names[i] && strcmp(s, level_names[i]) == 0)
			return (int)i;
	if (strcmp(s, "warning") == 0)
		return LOG_LEVEL_WARN;
	if (strcmp(s, "err") == 0)
		return LOG_LEVEL_ERROR;
	return -EINVAL;
}

const char *log_level_to_string(enum log_level level)
{
	if ((size_t)level < sizeof(level_names) / sizeof(level_names[0]) && level_names[level])
		return level_names[level];
	return "?";
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved_errno = errno;
	size_t skip = 0;
	int n;

	if (level > log_max)
		return;

	if (log_kmsg_fd >= 0) {
		/* The kernel echoes kmsg records below the console log level to the
		 * console. Debug lines go in as info, so that porthole.log=debug shows
		 * them on a console whose level is the usual 7 (KERN_DEBUG hidden). */
		int prio = level == LOG_LEVEL_DEBUG ? LOG_LEVEL_INFO : level;
		n = snprintf(line, sizeof(line), "<%d>%s: ", prio, log_component);
	} else {
		n = snprintf(line, sizeof(line), "%s: ", log_component);
	}
	if (level != LOG_LEVEL_INFO && n >= 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: ", level_names[level]);
	if (n >= 0 && (size_t)n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof(line) - 1) {
		/* Truncated: mark it, keep the newline. */
		n = sizeof(line) - 2;
		memcpy(line + n - 3, "...", 3);
	}
	line[n++] = '\n';

	if (log_kmsg_fd >= 0) {
		if (write(log_kmsg_fd, line, (size_t)n) == n)
			goto out;
		skip = 3; /* the "<N>" priority is for the kernel only */
	}
	if (write(STDERR_FILENO, line + skip, (size_t)n - skip) < 0) {
		/* Nowhere left to report it. */
	}
out:
	errno = saved_errno;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

int log_errno(enum log_level level, int err, const char *fmt, ...)
{
	char buf[LOG_LINE_MAX / 2];
	va_list ap;

	if (err > 0)
		err = -err;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(level, "%s: %s", buf, strerror(-err));
	return err;
}
