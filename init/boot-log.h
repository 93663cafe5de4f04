/* The boot's timeline: the kernel until init, init's steps, and each
 * service's start, ready and exit, in CLOCK_BOOTTIME ns (which counts from
 * the kernel's start). A fixed table that main.c's steps and service.c's
 * transitions fill; the control socket's "boot" request reads it
 * (control.c). It knows nothing of either. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* init's steps (about ten) and its services (SERVICES_MAX is 32) fit;
 * a mark past the last place is counted in "dropped", never stored. */
#define BOOT_LOG_MAX 64
#define BOOT_LOG_NAME_MAX 32

enum boot_log_kind {
	BOOT_LOG_KERNEL,
	BOOT_LOG_STEP,
	BOOT_LOG_SERVICE,
};

struct boot_log_entry {
	char name[BOOT_LOG_NAME_MAX];
	enum boot_log_kind kind;
	uint64_t start_ns; /* a service's first start */
	uint64_t ready_ns; /* a service's first ready; 0: not (yet), and for the rest */
	uint64_t end_ns; /* 0: still running; a service's last exit */
	unsigned runs; /* a service's starts: its restarts are runs - 1 */
};

struct boot_log {
	struct boot_log_entry e[BOOT_LOG_MAX];
	size_t n;
	int open_step; /* the step begun and not ended yet; -1 none */
	unsigned dropped; /* marks that found no place */
};

/* An empty timeline. */
void boot_log_reset(struct boot_log *bl);
/* The kernel's part: from 0 to INIT_START_NS, when init was started. */
void boot_log_kernel_at(struct boot_log *bl, uint64_t init_start_ns);
/* A step of init's begins at NOW (the one still open ends there). */
void boot_log_step_begin_at(struct boot_log *bl, const char *name, uint64_t now);
/* The open step ends at NOW; nothing when none is open. */
void boot_log_step_end_at(struct boot_log *bl, uint64_t now);
/* Service NAME was started (again), became ready, or exited at NOW. */
void boot_log_service_start_at(struct boot_log *bl, const char *name, uint64_t now);
void boot_log_service_ready_at(struct boot_log *bl, const char *name, uint64_t now);
void boot_log_service_exit_at(struct boot_log *bl, const char *name, uint64_t now);
const char *boot_log_kind_name(enum boot_log_kind kind);

/* init's own timeline, marked at now_boot_ns(): what main.c and service.c
 * call. A new step is one line: boot_log_step_begin("modules"). */
const struct boot_log *boot_log_get(void);
/* The timeline's beginning: the kernel's part until init's start (when
 * KERNEL: not in a sandbox), and step 1, "early", from there. INIT_START is
 * on CLOCK_MONOTONIC, taken at init's start before any re-exec (which is
 * then part of step 1); turned into the boot clock here. */
void boot_log_begin(uint64_t init_start_mono_ns, bool kernel);
void boot_log_step_begin(const char *name);
void boot_log_step_end(void);
void boot_log_service_start(const char *name);
void boot_log_service_ready(const char *name);
void boot_log_service_exit(const char *name);
