/* The boot's timeline as a fixed table (boot-log.h); marks that do not fit
 * are counted, and nothing here fails or allocates. The reply built from it
 * is control.c's. */
#include "boot-log.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

static const char *const kind_names[] = {
	[BOOT_LOG_KERNEL] = "kernel",
	[BOOT_LOG_STEP] = "step",
	[BOOT_LOG_SERVICE] = "service",
};

/* PID 1's own, valid from its first instruction: no step open yet */
static struct boot_log init_log = { .open_step = -1 };

const char *boot_log_kind_name(enum boot_log_kind kind)
{
	return kind < ARRAY_SIZE(kind_names) && kind_names[kind] ? kind_names[kind] : "?";
}

void boot_log_reset(struct boot_log *bl)
{
	memset(bl, 0, sizeof(*bl));
	bl->open_step = -1;
}

static struct boot_log_entry *add(struct boot_log *bl, enum boot_log_kind kind, const char *name,
				  uint64_t start)
{
	struct boot_log_entry *e;

	if (bl->n == BOOT_LOG_MAX) {
		bl->dropped++;
		return NULL;
	}
	e = &bl->e[bl->n++];
	memset(e, 0, sizeof(*e));
	/* names are init's own or a service file's (SERVICE_NAME_MAX, shorter) */
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->kind = kind;
	e->start_ns = start;
	e->runs = 1;
	return e;
}

static struct boot_log_entry *find(struct boot_log *bl, enum boot_log_kind kind, const char *name)
{
	char cut[BOOT_LOG_NAME_MAX];

	/* as add() stored it */
	snprintf(cut, sizeof(cut), "%s", name);
	for (size_t i = 0; i < bl->n; i++)
		if (bl->e[i].kind == kind && strcmp(bl->e[i].name, cut) == 0)
			return &bl->e[i];
	return NULL;
}

void boot_log_kernel_at(struct boot_log *bl, uint64_t init_start_ns)
{
	struct boot_log_entry *e = find(bl, BOOT_LOG_KERNEL, "kernel");

	if (!e)
		e = add(bl, BOOT_LOG_KERNEL, "kernel", 0);
	if (e)
		e->end_ns = init_start_ns;
}

void boot_log_step_end_at(struct boot_log *bl, uint64_t now)
{
	if (bl->open_step < 0)
		return;
	/* an end of 0 means "running": a step that took no time ends at 1 ns */
	bl->e[bl->open_step].end_ns =
		now > bl->e[bl->open_step].start_ns ? now : bl->e[bl->open_step].start_ns + 1;
	bl->open_step = -1;
}

void boot_log_step_begin_at(struct boot_log *bl, const char *name, uint64_t now)
{
	struct boot_log_entry *e;

	boot_log_step_end_at(bl, now);
	e = add(bl, BOOT_LOG_STEP, name, now);
	if (e)
		bl->open_step = (int)(e - bl->e);
}

void boot_log_service_start_at(struct boot_log *bl, const char *name, uint64_t now)
{
	struct boot_log_entry *e = find(bl, BOOT_LOG_SERVICE, name);

	if (!e) {
		add(bl, BOOT_LOG_SERVICE, name, now);
		return;
	}
	/* the first start stays; a restart runs it again */
	e->runs++;
	e->end_ns = 0;
}

void boot_log_service_ready_at(struct boot_log *bl, const char *name, uint64_t now)
{
	struct boot_log_entry *e = find(bl, BOOT_LOG_SERVICE, name);

	if (e && !e->ready_ns)
		e->ready_ns = now > e->start_ns ? now : e->start_ns;
}

void boot_log_service_exit_at(struct boot_log *bl, const char *name, uint64_t now)
{
	struct boot_log_entry *e = find(bl, BOOT_LOG_SERVICE, name);

	if (e)
		e->end_ns = now > e->start_ns ? now : e->start_ns + 1;
}

const struct boot_log *boot_log_get(void)
{
	return &init_log;
}

void boot_log_begin(uint64_t init_start_mono_ns, bool kernel)
{
	uint64_t boot = now_boot_ns(), mono = now_mono_ns();
	uint64_t since = mono > init_start_mono_ns ? mono - init_start_mono_ns : 0;
	/* the two clocks differ by the time suspended: none before init */
	uint64_t start = boot > since ? boot - since : 0;

	if (kernel)
		boot_log_kernel_at(&init_log, start);
	boot_log_step_begin_at(&init_log, "early", start);
}

void boot_log_step_begin(const char *name)
{
	boot_log_step_begin_at(&init_log, name, now_boot_ns());
}

void boot_log_step_end(void)
{
	boot_log_step_end_at(&init_log, now_boot_ns());
}

void boot_log_service_start(const char *name)
{
	boot_log_service_start_at(&init_log, name, now_boot_ns());
}

void boot_log_service_ready(const char *name)
{
	boot_log_service_ready_at(&init_log, name, now_boot_ns());
}

void boot_log_service_exit(const char *name)
{
	boot_log_service_exit_at(&init_log, name, now_boot_ns());
}
