/* Figures out of the kernel's text files: /proc/meminfo's "Key: N kB"
 * lines, /proc/pressure's avg10, and the flat keyed files of cgroup v2
 * ("key value" lines: memory.stat, cpu.stat). Parsing only: the callers
 * read the files. */
#pragma once

/* /proc/meminfo's KEY, in bytes; -1 if absent. */
long long procinfo_meminfo(const char *text, const char *key);
/* The avg10 of a /proc/pressure file's "some ..." or "full ..." line
 * (Documentation/accounting/psi.rst); -1 if absent. */
double procinfo_psi_avg10(const char *text, const char *kind);
/* A flat keyed file's KEY (Documentation/admin-guide/cgroup-v2.rst,
 * "Format"); -1 if absent or not a number. */
long long procinfo_keyed(const char *text, const char *key);
