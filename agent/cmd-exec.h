/* guest-exec's state outside the command table: what the agent calls when it
 * stops. */
#pragma once

struct agent;

/* Closes the pipes of the processes guest-exec started, forgets them and
 * frees a->exec (the processes themselves run on; init reaps them once the
 * agent is gone). Safe when guest-exec was never called. */
void cmd_exec_free(struct agent *a);
