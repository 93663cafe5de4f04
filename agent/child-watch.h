/* The exits of the children a command started, from both places they come:
 * the agent's own children (the loop's SIGCHLD, loop.h) and its launcher's
 * (launcher.h), given to one function. guest-exec (cmd-exec.c) and
 * porthole-shell (cmd-shell.c) each keep one. */
#pragma once

#include "launcher.h"
#include "loop.h"

struct child_watch {
	struct loop *loop;
	struct launcher *launcher; /* NULL: the agent forks its children itself */
	loop_child_fn fn;
	void *data;
};

/* Asks FN(LOOP, pid, status, DATA) about each child that exits, the
 * LAUNCHER's (when not NULL) as the loop's, until child_watch_stop. W must
 * stay where it is meanwhile. 0, or -errno with nothing watched. */
int child_watch_start(struct child_watch *w, struct loop *loop, struct launcher *launcher,
		      loop_child_fn fn, void *data);
void child_watch_stop(struct child_watch *w);
