/* Logging shared by init, agent and host tools: levels, one line per message,
 * "component: level: message" (no level word for info: "component: message").
 * Where the lines go is chosen once by the program (stderr, or /dev/kmsg
 * inside the VM); formatting is left to the callers. */
#pragma once

#include <errno.h>
#include <stdarg.h>

enum log_level {
	LOG_LEVEL_EMERG = 0,
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARN = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

enum log_target {
	LOG_TARGET_STDERR,
	LOG_TARGET_KMSG,
};

/* The component named in every line ("porthole-init"). */
void log_setup(const char *component);
/* Lines above this level are dropped. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Opens /dev/kmsg and sends lines there; falls back to stderr when it cannot. */
int log_set_target(enum log_target target);
/* Where lines go now: a process forked to do other work (the agent's shell
 * sessions), which closes what it inherited, opens the same sink again. */
enum log_target log_get_target(void);
/* "error" -> LOG_LEVEL_ERROR; -EINVAL for an unknown name. */
int log_level_from_string(const char *s);
const char *log_level_to_string(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Logs at LEVEL with ": strerror(-err)" appended and returns err (negative),
 * so that "return log_error_errno(r, ...)" logs once, where the error is handled. */
int log_errno(enum log_level level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_emerg(...) log_msg(LOG_LEVEL_EMERG, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_error_errno(err, ...) log_errno(LOG_LEVEL_ERROR, (err), __VA_ARGS__)
#define log_warn_errno(err, ...) log_errno(LOG_LEVEL_WARN, (err), __VA_ARGS__)
#define log_debug_errno(err, ...) log_errno(LOG_LEVEL_DEBUG, (err), __VA_ARGS__)
