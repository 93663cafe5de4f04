/* Running an external program from PID 1 (mke2fs, e2fsck): fork and execve,
 * its output captured line by line into init's log, bounded in time and in
 * what is logged. What to run and what its status means is the caller's. */
#pragma once

#define TOOL_OUTPUT_MAX (16 * 1024) /* bytes of output logged, the rest counted */

/* Runs ARGV (ARGV[0] an absolute path) with init's base environment
 * (launch.h) and LANG=C.UTF-8, stdin /dev/null, stdout and stderr into the log as "NAME: line".
 * Kills it after TIMEOUT_S. Returns its exit status (0-255), 128+N when killed by signal N, or
 * -errno: -ENOENT not there, -ETIMEDOUT killed for taking too long. */
int tool_run(char *const argv[], unsigned timeout_s);
