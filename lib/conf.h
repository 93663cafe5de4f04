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
 * line"; CONTINUATION is set for an indented line that continues the list of
 * the key just before it (as inih reads it), never for a section's first. */
typedef void (*conf_fn)(void *user, const char *key, const char *value, const char *where,
			bool continuation);

/* Called for each line refused (a syntax error, a line too long): NAME as
 * given to the parser, its LINE (0 when the text as a whole was refused: out
 * of memory, a file not read) and what was wrong. lib/ logs nothing: the
 * caller says it in its own words, or keeps the first (docs/errors.md).
 * inih reports its syntax error only once it has read everything, so lines
 * may come out of order. */
typedef void (*conf_error_fn)(void *user, const char *name, unsigned line, const char *why);

/* Parses INI TEXT; NAME is used in WHERE and for ON_ERROR (NULL: refused
 * lines are only counted). Returns the number of lines refused. */
unsigned conf_parse_ini(const char *text, const char *name, conf_fn fn, conf_error_fn on_error,
			void *user);

/* Reads PATH (at most CONF_FILE_MAX bytes) and parses it. A missing file is
 * 0 errors; a file that cannot be read, or is too large, counts as one and
 * goes to ON_ERROR with line 0 and NAME the path. */
unsigned conf_load_file(const char *path, conf_fn fn, conf_error_fn on_error, void *user);

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
