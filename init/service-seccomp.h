/* A service's seccomp filter: the named profiles, system call names as
 * libseccomp knows them, and the BPF program built from a service file's
 * `seccomp` (struct service_seccomp, parsed by service-conf.c). The filter
 * is loaded by launch.c in the child, the last step before exec. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "service-conf.h"

struct sock_fprog;

/* The profile named NAME ("default"): its index, or -ENOENT. */
int service_seccomp_profile_find(const char *name);
const char *service_seccomp_profile_name(int profile);
/* Whether PROFILE's list has the call NR. */
bool service_seccomp_profile_has(int profile, int nr);
/* The profiles' names, for messages: "default". */
const char *service_seccomp_profile_names(void);

/* NAME's native system call number; -ENOENT when libseccomp knows no such
 * call, -EDOM when it is a call of another architecture only. */
int service_seccomp_resolve(const char *name);
/* This architecture, for messages: "x86_64". */
const char *service_seccomp_arch(void);

/* What a refused call of SC does, the default resolved, and its name. */
enum service_seccomp_action service_seccomp_action(const struct service_seccomp *sc);
const char *service_seccomp_action_name(enum service_seccomp_action action);

/* Builds SC's filter (SC->mode not SECCOMP_OFF) into RET, a program for
 * PR_SET_SECCOMP that needs nothing else allocated. On error returns
 * -errno and writes what failed into WHY. service_seccomp_release frees it. */
int service_seccomp_build(const struct service_seccomp *sc, struct sock_fprog *ret, char *why,
			  size_t why_size);
void service_seccomp_release(struct sock_fprog *prog);

/* SC as --check shows it, on one line without its newline:
 * "default (eperm)", "deny: @default -finit_module unshare (eperm)",
 * "allow: read write ... (kill)", "none". */
void service_seccomp_print(const struct service_seccomp *sc, FILE *out);
