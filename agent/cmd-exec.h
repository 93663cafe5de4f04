/* guest-exec's state outside the command table: what the agent calls when it
 * stops, and the program lookup that porthole-shell shares. */
#pragma once

#include <stddef.h>

#define EXEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct agent;

/* The file PATH names, into RET (SIZE bytes): PATH itself when it has a
 * '/', else the first executable regular file of that name in the PATH of
 * ENVP (NULL: none), else of the agent's environment, else in
 * EXEC_DEFAULT_PATH, as qemu-ga's g_spawn looks. -ENOENT, -EACCES (found,
 * not executable), -ENAMETOOLONG. */
int exec_resolve(const char *path, const char *const *envp, char *ret, size_t size);

/* Closes the pipes of the processes guest-exec started, forgets them and
 * frees a->exec (the processes themselves run on; init reaps them once the
 * agent is gone). Safe when guest-exec was never called. */
void cmd_exec_free(struct agent *a);
