/* child-watch.h: one watcher on the loop and on the launcher. */
#include "child-watch.h"

/* The launcher's report of an exit, as the loop's reaping would give it. */
static bool from_launcher(pid_t pid, int status, void *data)
{
	struct child_watch *w = data;

	return w->fn(w->loop, pid, status, w->data);
}

int child_watch_start(struct child_watch *w, struct loop *loop, struct launcher *launcher,
		      loop_child_fn fn, void *data)
{
	int r;

	*w = (struct child_watch){ .loop = loop, .launcher = launcher, .fn = fn, .data = data };
	r = loop_watch_children(loop, fn, data);
	if (r == 0 && launcher) {
		r = launcher_watch(launcher, from_launcher, w);
		if (r < 0)
			loop_unwatch_children(loop, fn, data);
	}
	return r;
}

void child_watch_stop(struct child_watch *w)
{
	loop_unwatch_children(w->loop, w->fn, w->data);
	if (w->launcher)
		launcher_unwatch(w->launcher, from_launcher, w);
}
