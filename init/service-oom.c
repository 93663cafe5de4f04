/* OOM watching: one inotify fd for every service's memory.events (a value
 * change there is a modify event, cgroup-v2.rst), read from the loop. */
#include "service-oom.h"

#include <errno.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "util.h"

void service_oom_check(struct services *ss, struct service *sv)
{
	int64_t n;

	if (!ss->cgroups || !sv->cgroup[0])
		return;
	n = cgroup_oom_kills(sv->cgroup);
	if (n > sv->oom_seen) {
		log_warn("%s: %lld process(es) killed for running out of memory (%s/memory.events "
			 "oom_kill %lld)",
			 sv->spec.name, (long long)(n - sv->oom_seen), sv->cgroup, (long long)n);
		service_note(sv, "%lld process(es) OOM-killed", (long long)(n - sv->oom_seen));
		services_event(ss, sv, "oom_kill", "%lld killed, %lld in all",
			       (long long)(n - sv->oom_seen), (long long)n);
	}
	if (n >= 0)
		sv->oom_seen = n;
}

static void on_inotify(struct supervisor *s, int fd, uint32_t events, void *data)
{
	struct services *ss = data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)s;
	(void)events;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			for (size_t i = 0; i < ss->n; i++)
				if (ss->svc[i].oom_wd == ev->wd)
					service_oom_check(ss, &ss->svc[i]);
			p += sizeof(*ev) + ev->len;
		}
}

int service_oom_start(struct services *ss)
{
	int r;

	ss->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ss->inotify_fd < 0)
		return log_warn_errno(-errno, "services: inotify; OOM kills are not reported");
	r = supervise_watch(ss->sup, ss->inotify_fd, on_inotify, ss);
	if (r < 0) {
		close(ss->inotify_fd);
		ss->inotify_fd = -1;
		return log_warn_errno(r, "services: watch inotify; OOM kills are not reported");
	}
	return 0;
}

void service_oom_watch(struct services *ss, struct service *sv)
{
	char path[CGROUP_PATH_MAX + 32];

	if (ss->inotify_fd < 0 || sv->oom_wd >= 0 || !sv->leaf[0])
		return;
	snprintf(path, sizeof(path), "%s/memory.events", sv->cgroup);
	/* cgroup-v2.rst: a value change in memory.events is a modify event */
	sv->oom_wd = inotify_add_watch(ss->inotify_fd, path, IN_MODIFY);
	sv->oom_seen = cgroup_oom_kills(sv->cgroup);
	if (sv->oom_seen < 0)
		sv->oom_seen = 0;
}
