/* Reading porthole's configuration texts, shared by init and the agent:
 * INI files through inih with line numbers, and the kernel command line's
 * porthole.* words. What the keys mean is left to the caller. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CONF_FILE_MAX (256 * 1024)
#define CONF_CMDLINE_MAX 4096
#define CONF_KEY_MAX 130

/* Called for each key: KEY is "name" for keys before any section or in
 * [init], "section.name" otherwise; WHERE is "file:line" or "kernel command
 * line"; CONTINUATION is set for an indented line that continues KEY's list. */
typedef void (*conf_fn)(void *user, const char *key, const char *value, const char *where,
			bool continuation);

/* Parses INI TEXT; NAME is used in messages. Returns the number of lines
 * that were refused (syntax errors, over-long lines), each logged. */
unsigned conf_parse_ini(const char *text, const char *name, conf_fn fn, void *user);
/* The same, logging nothing: for a caller that refuses the whole text on
 * its first bad line. That line's number goes to *RET_LINE (0 when none was
 * refused, or for "out of memory") and what was wrong with it to WHY. */
unsigned conf_parse_ini_quiet(const char *text, const char *name, conf_fn fn, void *user,
			      unsigned *ret_line, char *why, size_t why_size);

/* Reads PATH (at most CONF_FILE_MAX bytes) and parses it. A missing file is
 * 0 errors; other failures are logged and count as one. */
unsigned conf_load_file(const char *path, conf_fn fn, void *user);

/* Calls FN for each "porthole.KEY=VALUE" word of CMDLINE ("porthole.KEY"
 * alone is "1"); stops at "--". */
void conf_parse_cmdline(const char *cmdline, conf_fn fn, void *user);

/* Splits a list value at spaces, tabs and commas into at most MAX words,
 * each stored in OUT at WIDTH bytes from the last (char out[MAX][WIDTH]).
 * -E2BIG when there are more than MAX words or one is WIDTH bytes or longer;
 * then RET_N is untouched (OUT may hold part of the words). */
int conf_split(const char *v, char *out, size_t width, size_t max, size_t *ret_n);

/* Splits the next word of a kernel command line starting at *p, as the
 * kernel's next_arg() does; false at the end. Truncated to SIZE. */
bool conf_cmdline_next(const char **p, char *buf, size_t size);
