/* Figures out of the kernel's text files: /proc/meminfo's "Key: N kB"
 * lines, /proc/pressure's avg10, and cgroup v2's files (one value, or flat
 * keyed "key value" lines: memory.stat, cpu.stat). The parsers take text;
 * the cgroup helpers read the file too (bounded), and never log. */
#pragma once

#include <stdint.h>

/* /proc/meminfo's KEY, in bytes; -1 if absent. */
long long procinfo_meminfo(const char *text, const char *key);
/* The avg10 of a /proc/pressure file's "some ..." or "full ..." line
 * (Documentation/accounting/psi.rst); -1 if absent. */
double procinfo_psi_avg10(const char *text, const char *kind);
/* A flat keyed file's KEY (Documentation/admin-guide/cgroup-v2.rst,
 * "Format"); -1 if absent or not a number. */
long long procinfo_keyed(const char *text, const char *key);

/* A number read from DIR/FILE, a cgroup's one-value file (memory.current,
 * memory.max, memory.high), where "max" (no limit) is -1; -ENOENT and the
 * like when it cannot be read, -EBADMSG when it holds something else. */
int64_t procinfo_cgroup_number(const char *dir, const char *file);
/* KEY's value in DIR/FILE, a flat keyed file (memory.stat, memory.events,
 * cpu.stat); -1 when absent or unreadable. */
int64_t procinfo_cgroup_keyed(const char *dir, const char *file, const char *key);
