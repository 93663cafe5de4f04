/* Service files: /etc/porthole/services/NAME.conf read into a struct
 * service_spec, every value checked, and a directory of them read in order.
 * The dependencies across services are service-graph.c's; starting,
 * stopping and watching them is the supervisor's. */
#include "service-conf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "backoff.h"
#include "conf.h"
#include "log.h"
#include "service-seccomp.h"
#include "util.h"

/* The longest duration a key takes, in seconds. */
#define SECONDS_MAX 86400
/* A directory holding more *.conf files than this is not read further. */
#define DIR_FILES_MAX 1024
/* pids.max cannot usefully exceed the kernel's PID_MAX_LIMIT. */
#define PIDS_MAX_LIMIT 4194304

struct parse_state {
	struct service_spec *spec;
	const char *file;
	char *err;
	size_t err_size;
	bool failed;
	unsigned fail_line;

	unsigned line; /* of the key being read */
	const char *name; /* the key without its section */
	/* the earliest line lib/conf refused, and why: inih reports its syntax
	 * error only at the end, so they may come out of order */
	unsigned bad_line;
	bool bad_text; /* refused as a whole (line 0) */
	char bad_why[128];
	unsigned key_line[32]; /* per entry of keys[]: where it was first given */
	unsigned rlimit_line[16];

	/* the strings argv and env point into, grown while reading; argv and
	 * env hold offsets until the end, since the buffer may move */
	char *buf;
	size_t buf_len, buf_size;
	size_t argv_off[SERVICE_ARGS_MAX];
	size_t n_argv;
	size_t env_off[SERVICE_ENV_MAX];
	size_t n_env;

	bool user_gid_known; /* the user's primary group, from /etc/passwd */
	gid_t user_gid;
	enum { CAPS_UNSET, CAPS_ALL, CAPS_NONE, CAPS_LIST } caps_mode;
	/* seccomp: whether indented lines may go on with names */
	enum { SECCOMP_WORDS_NONE, SECCOMP_WORDS_LIST, SECCOMP_WORDS_DONE } seccomp_words;
};

static int bad(struct parse_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Keeps the first error only: it is the one to fix first, and the ones after
 * it may be its consequences. */
static int bad(struct parse_state *st, const char *fmt, ...)
{
	char what[SERVICE_ERROR_MAX];
	va_list ap;

	if (st->failed)
		return -EINVAL;
	st->failed = true;
	st->fail_line = st->line;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (st->err_size == 0)
		return -EINVAL;
	if (st->line)
		snprintf(st->err, st->err_size, "%s:%u: %s", st->file, st->line, what);
	else
		snprintf(st->err, st->err_size, "%s: %s", st->file, what);
	return -EINVAL;
}

static bool service_name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= SERVICE_NAME_MAX)
		return false;
	if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    !strchr("._-", s[i]))
			return false;
	return true;
}

static bool env_name_valid(const char *s, size_t len)
{
	if (len == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static bool path_valid(const char *s)
{
	return s[0] == '/' && strlen(s) < SERVICE_PATH_MAX;
}

/* Digits only: no sign, no blanks, no base prefix. */
static int parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Bytes with an optional K, M, G or T (powers of 1024), or "max". */
static int parse_bytes(const char *s, int64_t *ret)
{
	static const char suffixes[] = "KMGT";
	uint64_t v = 0, mult = 1;
	const char *p = s;

	if (strcmp(s, "max") == 0) {
		*ret = CG_MAX;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > ((uint64_t)INT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p) {
		const char *suffix = strchr(suffixes, toupper((unsigned char)*p));

		if (!suffix || p[1])
			return -EINVAL;
		for (const char *q = suffixes; q <= suffix; q++)
			mult *= 1024;
	}
	if (v > (uint64_t)INT64_MAX / mult)
		return -ERANGE;
	*ret = (int64_t)(v * mult);
	return 0;
}

/* Makes room for N more bytes in the string buffer. */
static int buf_reserve(struct parse_state *st, size_t n)
{
	size_t size = st->buf_size ? st->buf_size : 256;
	char *p;

	if (st->buf_len + n <= st->buf_size)
		return 0;
	while (size < st->buf_len + n)
		size *= 2;
	p = realloc(st->buf, size);
	if (!p)
		return bad(st, "out of memory");
	st->buf = p;
	st->buf_size = size;
	return 0;
}

static size_t buf_add(struct parse_state *st, const char *s, size_t len)
{
	size_t off = st->buf_len;

	/* the caller reserved len + 1 */
	memcpy(st->buf + off, s, len);
	st->buf[off + len] = '\0';
	st->buf_len += len + 1;
	return off;
}

/* [service] keys. Each returns 0, or what bad() returns. */

static int p_description(struct parse_state *st, const char *v)
{
	struct service_spec *s = st->spec;

	if (strlen(v) >= sizeof(s->description))
		return bad(st, "%s: longer than %zu characters", st->name,
			   sizeof(s->description) - 1);
	snprintf(s->description, sizeof(s->description), "%s", v);
	return 0;
}

/* Splits V into words, as a shell would without its expansions: blanks
 * separate words; '...' keeps everything up to the next '; "..." groups,
 * and a backslash anywhere outside '...' takes the next character as it is. */
static int p_command(struct parse_state *st, const char *v)
{
	const char *p = v;
	int r;

	/* a word takes at most its characters and a NUL */
	r = buf_reserve(st, strlen(v) + 1);
	if (r < 0)
		return r;
	for (;;) {
		size_t off = st->buf_len;
		char quote = 0;

		p += strspn(p, " \t");
		if (!*p)
			return 0;
		if (st->n_argv == SERVICE_ARGS_MAX)
			return bad(st, "%s: more than %d words", st->name, SERVICE_ARGS_MAX);
		while (*p && (quote || (*p != ' ' && *p != '\t'))) {
			char c = *p++;

			if (quote == '\'') {
				if (c == '\'')
					quote = 0;
				else
					st->buf[st->buf_len++] = c;
			} else if (c == '\\') {
				if (!*p)
					return bad(st,
						   "%s: ends in a backslash (a backslash takes the "
						   "next character as it is: \\\\ for one)",
						   st->name);
				st->buf[st->buf_len++] = *p++;
			} else if (quote == '"') {
				if (c == '"')
					quote = 0;
				else
					st->buf[st->buf_len++] = c;
			} else if (c == '"' || c == '\'') {
				quote = c;
			} else {
				st->buf[st->buf_len++] = c;
			}
		}
		if (quote)
			return bad(st,
				   "%s: a %c quote is not closed (words are split at blanks; "
				   "\"...\" and '...' group words)",
				   st->name, quote);
		st->buf[st->buf_len++] = '\0';
		st->argv_off[st->n_argv++] = off;
	}
}

static int p_environment(struct parse_state *st, const char *v)
{
	const char *eq = strchr(v, '=');
	size_t name_len = eq ? (size_t)(eq - v) : 0;
	int r;

	if (!eq || !env_name_valid(v, name_len))
		return bad(st,
			   "%s: \"%s\" is not NAME=VALUE (NAME of letters, digits and _, not "
			   "starting with a digit)",
			   st->name, v);
	for (size_t i = 0; i < st->n_env; i++) {
		const char *e = st->buf + st->env_off[i];

		if (strncmp(e, v, name_len + 1) == 0)
			return bad(st, "%s: %.*s is given twice", st->name, (int)name_len, v);
	}
	if (st->n_env == SERVICE_ENV_MAX)
		return bad(st, "%s: more than %d variables", st->name, SERVICE_ENV_MAX);
	r = buf_reserve(st, strlen(v) + 1);
	if (r < 0)
		return r;
	st->env_off[st->n_env++] = buf_add(st, v, strlen(v));
	return 0;
}

static int p_directory(struct parse_state *st, const char *v)
{
	if (!path_valid(v))
		return bad(st, "%s: \"%s\" is not an absolute path of at most %d bytes", st->name,
			   v, SERVICE_PATH_MAX - 1);
	snprintf(st->spec->directory, sizeof(st->spec->directory), "%s", v);
	return 0;
}

static int p_user(struct parse_state *st, const char *v)
{
	struct service_spec *s = st->spec;
	struct passwd *pw;
	uint64_t n;

	if (parse_u64(v, &n) == 0) {
		/* (uid_t)-1 means "no change" to setresuid(2) */
		if (n >= UINT32_MAX)
			return bad(st, "%s: %s is not a user id (0 to %u)", st->name, v,
				   UINT32_MAX - 1);
		s->uid = (uid_t)n;
		pw = getpwuid(s->uid);
	} else {
		pw = getpwnam(v);
		if (!pw)
			return bad(st, "%s: no user \"%s\" in /etc/passwd (a user name or number)",
				   st->name, v);
		s->uid = pw->pw_uid;
	}
	s->has_user = true;
	st->user_gid_known = pw != NULL;
	if (pw)
		st->user_gid = pw->pw_gid;
	return 0;
}

static int p_group(struct parse_state *st, const char *v)
{
	struct service_spec *s = st->spec;
	struct group *gr;
	uint64_t n;

	if (parse_u64(v, &n) == 0) {
		if (n >= UINT32_MAX)
			return bad(st, "%s: %s is not a group id (0 to %u)", st->name, v,
				   UINT32_MAX - 1);
		s->gid = (gid_t)n;
	} else {
		gr = getgrnam(v);
		if (!gr)
			return bad(st, "%s: no group \"%s\" in /etc/group (a group name or number)",
				   st->name, v);
		s->gid = gr->gr_gid;
	}
	s->has_group = true;
	return 0;
}

static int add_deps(struct parse_state *st, const char *v, char (*deps)[SERVICE_NAME_MAX],
		    size_t *n)
{
	char words[SERVICE_DEPS_MAX][SERVICE_NAME_MAX];
	size_t n_words;

	if (conf_split(v, words[0], sizeof(words[0]), SERVICE_DEPS_MAX - *n, &n_words) < 0)
		return bad(st,
			   "%s: at most %d services in all, each a name of at most %d "
			   "characters",
			   st->name, SERVICE_DEPS_MAX, SERVICE_NAME_MAX - 1);
	for (size_t i = 0; i < n_words; i++) {
		bool dup = false;

		if (!service_name_valid(words[i]))
			return bad(st,
				   "%s: \"%s\" is not a service name (a-z, 0-9, '.', '_' and '-', "
				   "at most %d characters)",
				   st->name, words[i], SERVICE_NAME_MAX - 1);
		if (strcmp(words[i], st->spec->name) == 0)
			return bad(st, "%s: \"%s\" is this service itself", st->name, words[i]);
		for (size_t j = 0; j < *n; j++)
			dup |= strcmp(deps[j], words[i]) == 0;
		if (!dup)
			memcpy(deps[(*n)++], words[i], SERVICE_NAME_MAX);
	}
	return 0;
}

static int p_after(struct parse_state *st, const char *v)
{
	return add_deps(st, v, st->spec->after, &st->spec->n_after);
}

static int p_requires(struct parse_state *st, const char *v)
{
	return add_deps(st, v, st->spec->requires, &st->spec->n_requires);
}

static int p_ready(struct parse_state *st, const char *v)
{
	struct service_spec *s = st->spec;
	const char *arg;

	if (strcmp(v, "none") == 0) {
		s->ready = READY_NONE;
	} else if (strcmp(v, "notify") == 0) {
		s->ready = READY_NOTIFY;
		s->ready_fd = 3;
	} else if (strncmp(v, "notify:", 7) == 0) {
		uint64_t fd;

		/* 0, 1 and 2 are the service's standard input and output */
		if (parse_u64(v + 7, &fd) < 0 || fd < 3 || fd > 1023)
			return bad(st, "%s: \"%s\": the descriptor is a number from 3 to 1023",
				   st->name, v + 7);
		s->ready = READY_NOTIFY;
		s->ready_fd = (int)fd;
	} else if (strncmp(v, "socket:", 7) == 0 || strncmp(v, "file:", 5) == 0) {
		bool socket = v[0] == 's';

		arg = v + (socket ? 7 : 5);
		if (!path_valid(arg))
			return bad(st, "%s: \"%s\" is not an absolute path of at most %d bytes",
				   st->name, arg, SERVICE_PATH_MAX - 1);
		s->ready = socket ? READY_SOCKET : READY_FILE;
		snprintf(s->ready_path, sizeof(s->ready_path), "%s", arg);
	} else if (strncmp(v, "http:", 5) == 0) {
		const char *colon = strchr(v + 5, ':');
		size_t sock_len = colon ? (size_t)(colon - (v + 5)) : 0;
		const char *path = colon ? colon + 1 : "";

		arg = v + 5;
		if (!colon || arg[0] != '/' || sock_len >= SERVICE_PATH_MAX)
			return bad(st,
				   "%s: \"%s\" is not http:SOCKET:PATH (SOCKET an absolute path of "
				   "at most %d bytes)",
				   st->name, v, SERVICE_PATH_MAX - 1);
		if (path[0] != '/' || strlen(path) >= sizeof(s->ready_http_path))
			return bad(st,
				   "%s: \"%s\" is not an HTTP path (starting with /, at most %zu "
				   "bytes)",
				   st->name, path, sizeof(s->ready_http_path) - 1);
		/* it goes into a request line: no blanks or control characters */
		for (const char *q = path; *q; q++)
			if (*q <= ' ' || *q == 0x7f)
				return bad(st,
					   "%s: the HTTP path \"%s\" holds a blank or a control "
					   "character",
					   st->name, path);
		s->ready = READY_HTTP;
		snprintf(s->ready_path, sizeof(s->ready_path), "%.*s", (int)sock_len, arg);
		snprintf(s->ready_http_path, sizeof(s->ready_http_path), "%s", path);
	} else {
		return bad(st,
			   "%s: \"%s\" is not one of none, notify, notify:FD, socket:PATH, "
			   "file:PATH, http:SOCKET:PATH",
			   st->name, v);
	}
	return 0;
}

static int p_ready_timeout(struct parse_state *st, const char *v)
{
	if (parse_seconds_ms(v, 0, SECONDS_MAX * MSEC_PER_SEC, &st->spec->ready_timeout_ms) < 0)
		return bad(st,
			   "%s: \"%s\" is not seconds from 0 to %d (to the millisecond: 0.5; 0 "
			   "waits for ever)",
			   st->name, v, SECONDS_MAX);
	return 0;
}

static int p_restart(struct parse_state *st, const char *v)
{
	if (strcmp(v, "always") == 0)
		st->spec->restart = RESTART_ALWAYS;
	else if (strcmp(v, "on-failure") == 0)
		st->spec->restart = RESTART_ON_FAILURE;
	else if (strcmp(v, "never") == 0)
		st->spec->restart = RESTART_NEVER;
	else
		return bad(st, "%s: \"%s\" is not one of always, on-failure, never", st->name, v);
	return 0;
}

/* A zero delay would let a crashing service with no crash limit spin. */
static int p_restart_delay(struct parse_state *st, const char *v)
{
	if (parse_seconds_ms(v, 10, 3600 * MSEC_PER_SEC, &st->spec->restart_delay_ms) < 0)
		return bad(st, "%s: \"%s\" is not seconds from 0.01 to 3600", st->name, v);
	return 0;
}

static int p_restart_delay_max(struct parse_state *st, const char *v)
{
	if (parse_seconds_ms(v, 10, 3600 * MSEC_PER_SEC, &st->spec->restart_delay_max_ms) < 0)
		return bad(st, "%s: \"%s\" is not seconds from 0.01 to 3600", st->name, v);
	return 0;
}

static int p_crash_limit(struct parse_state *st, const char *v)
{
	uint64_t n;

	if (parse_u64(v, &n) < 0 || n > 1000)
		return bad(st, "%s: \"%s\" is not a number from 0 to 1000 (0: no limit)", st->name,
			   v);
	st->spec->crash_limit = (unsigned)n;
	return 0;
}

static int p_crash_window(struct parse_state *st, const char *v)
{
	if (parse_seconds_ms(v, 1000, SECONDS_MAX * MSEC_PER_SEC, &st->spec->crash_window_ms) < 0)
		return bad(st, "%s: \"%s\" is not seconds from 1 to %d", st->name, v, SECONDS_MAX);
	return 0;
}

static int signal_from_string(const char *v)
{
	const char *s = strncasecmp(v, "SIG", 3) == 0 ? v + 3 : v;
	uint64_t n;

	if (parse_u64(v, &n) == 0)
		return n >= 1 && n < _NSIG ? (int)n : -EINVAL;
	/* sigabbrev_np(3) knows the names ("TERM"), not the real-time signals */
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *abbrev = sigabbrev_np(sig);

		if (abbrev && strcasecmp(abbrev, s) == 0)
			return sig;
	}
	return -EINVAL;
}

static int p_stop_signal(struct parse_state *st, const char *v)
{
	int sig = signal_from_string(v);

	if (sig < 0)
		return bad(st,
			   "%s: \"%s\" is not a signal (a name such as TERM, SIGINT or QUIT, or a "
			   "number from 1 to %d)",
			   st->name, v, _NSIG - 1);
	st->spec->stop_signal = sig;
	return 0;
}

static int p_stop_timeout(struct parse_state *st, const char *v)
{
	if (parse_seconds_ms(v, 0, 3600 * MSEC_PER_SEC, &st->spec->stop_timeout_ms) < 0)
		return bad(st, "%s: \"%s\" is not seconds from 0 to 3600", st->name, v);
	return 0;
}

static int p_oom_score_adj(struct parse_state *st, const char *v)
{
	int64_t n;

	if (parse_int64(v, -1000, 1000, &n) < 0)
		return bad(st, "%s: \"%s\" is not a number from -1000 to 1000", st->name, v);
	st->spec->oom_score_adj = (int)n;
	st->spec->has_oom_score_adj = true;
	return 0;
}

static int p_output(struct parse_state *st, const char *v)
{
	if (strcmp(v, "log") == 0)
		st->spec->output = OUTPUT_LOG;
	else if (strcmp(v, "console") == 0)
		st->spec->output = OUTPUT_CONSOLE;
	else if (strcmp(v, "null") == 0)
		st->spec->output = OUTPUT_NULL;
	else
		return bad(st, "%s: \"%s\" is not one of log, console, null", st->name, v);
	return 0;
}

static int p_wait(struct parse_state *st, const char *v)
{
	if (strcmp(v, "ready") == 0)
		st->spec->wait_started = false;
	else if (strcmp(v, "started") == 0)
		st->spec->wait_started = true;
	else
		return bad(st, "%s: \"%s\" is not one of ready, started", st->name, v);
	return 0;
}

static int p_kill_mode(struct parse_state *st, const char *v)
{
	if (strcmp(v, "cgroup") == 0)
		st->spec->kill_process_only = false;
	else if (strcmp(v, "process") == 0)
		st->spec->kill_process_only = true;
	else
		return bad(st, "%s: \"%s\" is not one of cgroup, process", st->name, v);
	return 0;
}

/* "all", "none", "cap_a cap_b ...", or "all -cap_a -cap_b ...": the words
 * may go on over indented lines, so the state is kept between calls. */
static int p_capabilities(struct parse_state *st, const char *v)
{
	static const char usage[] =
		"(all, none, capability names, or all followed by -names to leave out)";
	struct service_spec *s = st->spec;
	const char *p = v;

	for (;;) {
		char word[64];
		size_t len;
		cap_value_t cap;
		bool minus;

		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
		if (len == 0)
			return 0;
		if (len >= sizeof(word))
			return bad(st, "%s: \"%.*s\" is not a capability", st->name, (int)len, p);
		memcpy(word, p, len);
		word[len] = '\0';
		p += len;
		if (strcmp(word, "all") == 0) {
			if (st->caps_mode != CAPS_UNSET)
				return bad(st, "%s: \"all\" comes first, alone %s", st->name,
					   usage);
			st->caps_mode = CAPS_ALL;
			s->has_caps = false;
			s->caps = UINT64_MAX;
			continue;
		}
		if (strcmp(word, "none") == 0) {
			if (st->caps_mode != CAPS_UNSET)
				return bad(st, "%s: \"none\" stands alone %s", st->name, usage);
			st->caps_mode = CAPS_NONE;
			s->has_caps = true;
			s->caps = 0;
			continue;
		}
		minus = word[0] == '-';
		if (cap_from_name(word + minus, &cap) < 0 || cap < 0 || cap >= 64)
			return bad(st,
				   "%s: \"%s\" is not a capability (a name from capabilities(7), "
				   "such as cap_net_admin)",
				   st->name, word + minus);
		if (minus != (st->caps_mode == CAPS_ALL) || st->caps_mode == CAPS_NONE)
			return bad(st, "%s: \"%s\" %s %s", st->name, word,
				   minus ? "follows only \"all\"" : "cannot follow all or none",
				   usage);
		s->has_caps = true;
		if (minus) {
			s->caps &= ~(UINT64_C(1) << cap);
		} else {
			st->caps_mode = CAPS_LIST;
			s->caps |= UINT64_C(1) << cap;
		}
	}
}

/* One name of a seccomp list: @PROFILE first in a deny list, -NAME after
 * it (the profile's calls left out), or a system call's name. */
static int seccomp_word(struct parse_state *st, const char *word)
{
	static const char usage[] = "(PROFILE, none, allow: NAME..., or deny: [@PROFILE "
				    "[-NAME...]] NAME...)";
	struct service_seccomp *sc = &st->spec->seccomp;
	bool minus = word[0] == '-';
	int nr;

	if (word[0] == '@') {
		int profile = service_seccomp_profile_find(word + 1);

		if (profile < 0)
			return bad(st, "%s: \"%s\" is not a profile (%s)", st->name, word + 1,
				   service_seccomp_profile_names());
		if (sc->mode != SECCOMP_DENY || sc->profile >= 0 || sc->n_calls || sc->n_except)
			return bad(st, "%s: \"%s\" comes first, in a deny list only %s", st->name,
				   word, usage);
		sc->profile = profile;
		return 0;
	}
	nr = service_seccomp_resolve(word + minus);
	if (nr == -ENOENT)
		return bad(st,
			   "%s: \"%s\" is not a system call (a name from syscalls(2), as "
			   "libseccomp knows it: mount, not sys_mount or a number)",
			   st->name, word + minus);
	if (nr < 0)
		return bad(st, "%s: \"%s\" is not a system call on %s", st->name, word + minus,
			   service_seccomp_arch());
	if (minus) {
		if (sc->profile < 0 || sc->n_calls)
			return bad(st, "%s: \"%s\" follows only a profile %s", st->name, word,
				   usage);
		if (!service_seccomp_profile_has(sc->profile, nr))
			return bad(st, "%s: \"%s\" is not in the profile %s", st->name, word + 1,
				   service_seccomp_profile_name(sc->profile));
		for (size_t i = 0; i < sc->n_except; i++)
			if (sc->except[i] == nr)
				return 0;
		if (sc->n_except == SERVICE_SECCOMP_EXCEPT_MAX)
			return bad(st, "%s: more than %d calls left out of the profile", st->name,
				   SERVICE_SECCOMP_EXCEPT_MAX);
		sc->except[sc->n_except++] = nr;
		return 0;
	}
	for (size_t i = 0; i < sc->n_calls; i++)
		if (sc->calls[i] == nr)
			return 0;
	if (sc->n_calls == SERVICE_SECCOMP_MAX)
		return bad(st, "%s: more than %d system calls", st->name, SERVICE_SECCOMP_MAX);
	sc->calls[sc->n_calls++] = nr;
	return 0;
}

/* "PROFILE", "none", "allow: NAME...", "deny: [@PROFILE [-NAME...]] NAME...":
 * the names may go on over indented lines. */
static int p_seccomp(struct parse_state *st, const char *v)
{
	struct service_seccomp *sc = &st->spec->seccomp;
	const char *p = v;

	if (st->seccomp_words == SECCOMP_WORDS_NONE) {
		size_t len = strcspn(p, " \t,:");

		if (p[len] == ':' && ((len == 5 && strncmp(p, "allow", 5) == 0) ||
				      (len == 4 && strncmp(p, "deny", 4) == 0))) {
			sc->mode = p[0] == 'a' ? SECCOMP_ALLOW : SECCOMP_DENY;
			st->seccomp_words = SECCOMP_WORDS_LIST;
			p += len + 1;
		} else {
			char word[32];
			int profile;

			st->seccomp_words = SECCOMP_WORDS_DONE;
			if (p[len + strspn(p + len, " \t,")] != '\0' || len >= sizeof(word))
				return bad(st,
					   "%s: \"%s\" is not a profile (%s) or none, nor allow: "
					   "or deny: and system call names",
					   st->name, v, service_seccomp_profile_names());
			memcpy(word, p, len);
			word[len] = '\0';
			if (strcmp(word, "none") == 0) {
				sc->said_none = true;
				return 0;
			}
			profile = service_seccomp_profile_find(word);
			if (profile < 0)
				return bad(st,
					   "%s: \"%s\" is not a profile (%s) or none, nor allow: "
					   "or deny: and system call names",
					   st->name, v, service_seccomp_profile_names());
			sc->mode = SECCOMP_DENY;
			sc->profile = profile;
			return 0;
		}
	} else if (st->seccomp_words == SECCOMP_WORDS_DONE) {
		return bad(
			st,
			"%s: a profile or none stands alone (deny: @PROFILE NAME... adds to one)",
			st->name);
	}
	for (;;) {
		char word[64];
		size_t len;
		int r;

		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
		if (len == 0)
			return 0;
		if (len >= sizeof(word))
			return bad(st, "%s: \"%.*s\" is not a system call", st->name, (int)len, p);
		memcpy(word, p, len);
		word[len] = '\0';
		p += len;
		r = seccomp_word(st, word);
		if (r < 0)
			return r;
	}
}

static int p_seccomp_action(struct parse_state *st, const char *v)
{
	struct service_seccomp *sc = &st->spec->seccomp;

	if (strcmp(v, "eperm") == 0)
		sc->action = SECCOMP_ACTION_EPERM;
	else if (strcmp(v, "kill") == 0)
		sc->action = SECCOMP_ACTION_KILL;
	else if (strcmp(v, "log") == 0)
		sc->action = SECCOMP_ACTION_LOG;
	else
		return bad(st, "%s: \"%s\" is not one of eperm, kill, log", st->name, v);
	return 0;
}

static int p_no_new_privs(struct parse_state *st, const char *v)
{
	if (parse_bool(v, &st->spec->no_new_privs) < 0)
		return bad(st, "%s: \"%s\" is not yes or no (also true/false, on/off, 1/0)",
			   st->name, v);
	return 0;
}

static int p_enabled(struct parse_state *st, const char *v)
{
	if (parse_bool(v, &st->spec->enabled) < 0)
		return bad(st, "%s: \"%s\" is not yes or no (also true/false, on/off, 1/0)",
			   st->name, v);
	return 0;
}

/* [cgroup] */

static int p_memory(struct parse_state *st, const char *v)
{
	int64_t n;

	if (parse_bytes(v, &n) < 0)
		return bad(st,
			   "%s: \"%s\" is not bytes (a number with K, M, G or T for powers of "
			   "1024: 512M) or max",
			   st->name, v);
	if (strcmp(st->name, "memory_max") == 0)
		st->spec->memory_max = n;
	else
		st->spec->memory_high = n;
	return 0;
}

static int p_cpu_weight(struct parse_state *st, const char *v)
{
	uint64_t n;

	if (parse_u64(v, &n) < 0 || n < 1 || n > 10000)
		return bad(st, "%s: \"%s\" is not a number from 1 to 10000 (100 is the default)",
			   st->name, v);
	st->spec->cpu_weight = (int)n;
	return 0;
}

static int p_pids_max(struct parse_state *st, const char *v)
{
	uint64_t n;

	if (strcmp(v, "max") == 0) {
		st->spec->pids_max = CG_MAX;
		return 0;
	}
	if (parse_u64(v, &n) < 0 || n < 1 || n > PIDS_MAX_LIMIT)
		return bad(st, "%s: \"%s\" is not a number from 1 to %d, or max", st->name, v,
			   PIDS_MAX_LIMIT);
	st->spec->pids_max = (int64_t)n;
	return 0;
}

static int p_delegate(struct parse_state *st, const char *v)
{
	if (parse_bool(v, &st->spec->delegate) < 0)
		return bad(st, "%s: \"%s\" is not yes or no (also true/false, on/off, 1/0)",
			   st->name, v);
	return 0;
}

enum {
	KEY_LIST = 1, /* goes on over indented lines */
	KEY_REPEAT = 2, /* may be given again; each adds to it */
};

struct key {
	const char *name; /* section.name */
	int (*parse)(struct parse_state *st, const char *value);
	unsigned flags;
};

static const struct key keys[] = {
	{ "service.description", p_description, 0 },
	{ "service.command", p_command, KEY_LIST },
	{ "service.environment", p_environment, KEY_LIST | KEY_REPEAT },
	{ "service.directory", p_directory, 0 },
	{ "service.user", p_user, 0 },
	{ "service.group", p_group, 0 },
	{ "service.after", p_after, KEY_LIST | KEY_REPEAT },
	{ "service.requires", p_requires, KEY_LIST | KEY_REPEAT },
	{ "service.wait", p_wait, 0 },
	{ "service.ready", p_ready, 0 },
	{ "service.ready_timeout", p_ready_timeout, 0 },
	{ "service.restart", p_restart, 0 },
	{ "service.restart_delay", p_restart_delay, 0 },
	{ "service.restart_delay_max", p_restart_delay_max, 0 },
	{ "service.crash_limit", p_crash_limit, 0 },
	{ "service.crash_window", p_crash_window, 0 },
	{ "service.stop_signal", p_stop_signal, 0 },
	{ "service.stop_timeout", p_stop_timeout, 0 },
	{ "service.oom_score_adj", p_oom_score_adj, 0 },
	{ "service.output", p_output, 0 },
	{ "service.kill_mode", p_kill_mode, 0 },
	{ "service.capabilities", p_capabilities, KEY_LIST },
	{ "service.seccomp", p_seccomp, KEY_LIST },
	{ "service.seccomp_action", p_seccomp_action, 0 },
	{ "service.no_new_privs", p_no_new_privs, 0 },
	{ "service.enabled", p_enabled, 0 },
	{ "cgroup.memory_max", p_memory, 0 },
	{ "cgroup.memory_high", p_memory, 0 },
	{ "cgroup.cpu_weight", p_cpu_weight, 0 },
	{ "cgroup.pids_max", p_pids_max, 0 },
	{ "cgroup.delegate", p_delegate, 0 },
};

_Static_assert(ARRAY_SIZE(keys) <= ARRAY_SIZE(((struct parse_state *)0)->key_line),
	       "key_line[] too small for the key table");

/* [limits]: setrlimit(2)'s resources, by their names without RLIMIT_. */
static const struct {
	const char *name;
	int resource;
} rlimits[] = {
	{ "as", RLIMIT_AS },
	{ "core", RLIMIT_CORE },
	{ "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA },
	{ "fsize", RLIMIT_FSIZE },
	{ "locks", RLIMIT_LOCKS },
	{ "memlock", RLIMIT_MEMLOCK },
	{ "msgqueue", RLIMIT_MSGQUEUE },
	{ "nice", RLIMIT_NICE },
	{ "nofile", RLIMIT_NOFILE },
	{ "nproc", RLIMIT_NPROC },
	{ "rss", RLIMIT_RSS },
	{ "rtprio", RLIMIT_RTPRIO },
	{ "rttime", RLIMIT_RTTIME },
	{ "sigpending", RLIMIT_SIGPENDING },
	{ "stack", RLIMIT_STACK },
};

_Static_assert(ARRAY_SIZE(rlimits) <= ARRAY_SIZE(((struct service_spec *)0)->rlimits),
	       "rlimits[] of struct service_spec too small for the table");
_Static_assert(ARRAY_SIZE(rlimits) <= ARRAY_SIZE(((struct parse_state *)0)->rlimit_line),
	       "rlimit_line[] too small for the table");

static int parse_rlim(const char *s, size_t len, rlim_t *ret)
{
	char word[32];
	uint64_t n;

	if (len >= sizeof(word))
		return -EINVAL;
	memcpy(word, s, len);
	word[len] = '\0';
	if (strcmp(word, "infinity") == 0 || strcmp(word, "unlimited") == 0) {
		*ret = RLIM_INFINITY;
		return 0;
	}
	if (parse_u64(word, &n) < 0 || n >= (uint64_t)RLIM_INFINITY)
		return -EINVAL;
	*ret = (rlim_t)n;
	return 0;
}

static int p_rlimit(struct parse_state *st, const char *v)
{
	struct service_spec *s = st->spec;
	const char *colon = strchr(v, ':');
	struct rlimit lim;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rlimits); i++)
		if (strcmp(rlimits[i].name, st->name) == 0)
			break;
	if (i == ARRAY_SIZE(rlimits))
		return bad(st,
			   "unknown limit \"%s\" in [limits] (as, core, cpu, data, fsize, locks, "
			   "memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, "
			   "sigpending, stack)",
			   st->name);
	if (st->rlimit_line[i])
		return bad(st, "%s: given twice (first on line %u)", st->name, st->rlimit_line[i]);
	st->rlimit_line[i] = st->line;
	if (parse_rlim(v, colon ? (size_t)(colon - v) : strlen(v), &lim.rlim_cur) < 0 ||
	    parse_rlim(colon ? colon + 1 : v, strlen(colon ? colon + 1 : v), &lim.rlim_max) < 0)
		return bad(st,
			   "%s: \"%s\" is not a limit (a number or infinity, or SOFT:HARD for "
			   "two)",
			   st->name, v);
	if (lim.rlim_cur > lim.rlim_max)
		return bad(st, "%s: \"%s\": the soft limit is above the hard one", st->name, v);
	s->rlimits[s->n_rlimits].resource = rlimits[i].resource;
	s->rlimits[s->n_rlimits].lim = lim;
	s->n_rlimits++;
	return 0;
}

/* The line number at the end of inih's "name:line". */
static unsigned where_line(const char *where)
{
	const char *colon = strrchr(where, ':');

	return colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
}

static void on_key(void *user, const char *key, const char *value, const char *where,
		   bool continuation)
{
	struct parse_state *st = user;
	const char *dot = strchr(key, '.');
	size_t i;

	if (st->failed)
		return;
	st->line = where_line(where);
	if (!dot) {
		st->name = key;
		bad(st, "%s: not in a section (keys go under [service], [limits] or [cgroup])",
		    key);
		return;
	}
	st->name = dot + 1;
	if (strncmp(key, "limits.", 7) == 0) {
		if (continuation)
			bad(st, "%s: takes one value, not more on an indented line", st->name);
		else
			p_rlimit(st, value);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcmp(keys[i].name, key) == 0)
			break;
	if (i == ARRAY_SIZE(keys)) {
		if (strncmp(key, "service.", 8) == 0)
			bad(st,
			    "unknown key \"%s\" in [service] (the keys are in docs/services.md)",
			    st->name);
		else if (strncmp(key, "cgroup.", 7) == 0)
			bad(st,
			    "unknown key \"%s\" in [cgroup] (memory_max, memory_high, cpu_weight, "
			    "pids_max, delegate)",
			    st->name);
		else
			bad(st, "unknown section [%.*s] (sections: [service], [limits], [cgroup])",
			    (int)(dot - key), key);
		return;
	}
	if (continuation && !(keys[i].flags & KEY_LIST)) {
		bad(st, "%s: takes one value, not more on an indented line", st->name);
		return;
	}
	if (!continuation && st->key_line[i] && !(keys[i].flags & KEY_REPEAT)) {
		bad(st, "%s: given twice (first on line %u)", st->name, st->key_line[i]);
		return;
	}
	if (!st->key_line[i])
		st->key_line[i] = st->line;
	keys[i].parse(st, value);
}

static unsigned key_line(const struct parse_state *st,
			 int (*parse)(struct parse_state *st, const char *value))
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].parse == parse)
			return st->key_line[i];
	return 0;
}

static void spec_defaults(struct service_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->enabled = true;
	s->ready = READY_NONE;
	s->ready_fd = 3;
	s->ready_timeout_ms = 90 * MSEC_PER_SEC;
	s->restart = RESTART_ON_FAILURE;
	s->restart_delay_ms = BACKOFF_FIRST_MS;
	s->restart_delay_max_ms = BACKOFF_MAX_MS;
	s->crash_limit = 5;
	s->crash_window_ms = 60 * MSEC_PER_SEC;
	s->stop_signal = SIGTERM;
	s->stop_timeout_ms = 10 * MSEC_PER_SEC;
	s->output = OUTPUT_LOG;
	s->memory_max = CG_UNSET;
	s->memory_high = CG_UNSET;
	s->pids_max = CG_UNSET;
	s->seccomp.profile = -1;
}

/* seccomp's list, its action and no_new_privs, once all three are read. */
static void check_seccomp(struct parse_state *st)
{
	struct service_spec *s = st->spec;
	const struct service_seccomp *sc = &s->seccomp;

	if (sc->mode != SECCOMP_OFF && sc->profile < 0 && sc->n_calls == 0) {
		st->line = key_line(st, p_seccomp);
		bad(st, "seccomp: no system call named (allow: NAME... or deny: NAME...)");
		return;
	}
	if (sc->mode == SECCOMP_OFF && key_line(st, p_seccomp_action)) {
		st->line = key_line(st, p_seccomp_action);
		bad(st, "seccomp_action: without a seccomp filter to act on");
		return;
	}
	if (!key_line(st, p_no_new_privs)) {
		/* a filter comes with no_new_privs, as libseccomp's does */
		s->no_new_privs = sc->mode != SECCOMP_OFF;
	} else if (sc->mode != SECCOMP_OFF && !s->no_new_privs && s->has_user && s->uid != 0) {
		/* without no_new_privs the kernel takes a filter from a process
		 * with CAP_SYS_ADMIN only, and a user other than root has none
		 * (seccomp(2)) */
		st->line = key_line(st, p_no_new_privs);
		bad(st,
		    "no_new_privs: no, with seccomp, needs the service to run as root (user %u "
		    "cannot load a filter without it)",
		    (unsigned)s->uid);
	}
}

/* What no single line can say: checked once the whole file is read. */
static void check_whole(struct parse_state *st)
{
	struct service_spec *s = st->spec;

	st->line = key_line(st, p_command);
	if (!st->line) {
		bad(st, "no command (command = /absolute/path and its arguments, under "
			"[service])");
		return;
	}
	st->name = "command";
	if (st->n_argv == 0) {
		bad(st, "command: empty");
		return;
	}
	if (!path_valid(st->buf + st->argv_off[0])) {
		bad(st, "command: \"%s\" is not an absolute path of at most %d bytes",
		    st->buf + st->argv_off[0], SERVICE_PATH_MAX - 1);
		return;
	}
	if (key_line(st, p_restart_delay_max)) {
		st->line = key_line(st, p_restart_delay_max);
		if (s->restart_delay_max_ms < s->restart_delay_ms) {
			bad(st, "restart_delay_max: below restart_delay (%u.%03u s)",
			    s->restart_delay_ms / 1000, s->restart_delay_ms % 1000);
			return;
		}
	} else if (s->restart_delay_max_ms < s->restart_delay_ms) {
		s->restart_delay_max_ms = s->restart_delay_ms;
	}
	if (s->has_user && !s->has_group) {
		st->line = key_line(st, p_user);
		if (!st->user_gid_known) {
			bad(st,
			    "user: %u is not in /etc/passwd, so its group is not known (give "
			    "group too)",
			    (unsigned)s->uid);
			return;
		}
		s->gid = st->user_gid;
	}
	check_seccomp(st);
}

/* A line lib/conf refused: the earliest is kept, for service_conf_parse's
 * one first error. */
static void on_refused(void *user, const char *name, unsigned line, const char *why)
{
	struct parse_state *st = user;

	(void)name;
	if (line == 0 && !st->bad_line) {
		st->bad_text = true;
		snprintf(st->bad_why, sizeof(st->bad_why), "%s", why);
	} else if (line && (!st->bad_line || line < st->bad_line)) {
		st->bad_line = line;
		snprintf(st->bad_why, sizeof(st->bad_why), "%s", why);
	}
}

int service_conf_parse(const char *text, const char *file, const char *name,
		       struct service_spec *spec, char *err, size_t err_size)
{
	struct parse_state st = { .spec = spec, .file = file, .err = err, .err_size = err_size };

	spec_defaults(spec);
	if (err_size)
		err[0] = '\0';
	if (strlen(file) >= sizeof(spec->file)) {
		bad(&st, "the path is longer than %zu bytes", sizeof(spec->file) - 1);
		goto fail;
	}
	snprintf(spec->file, sizeof(spec->file), "%s", file);
	if (!service_name_valid(name)) {
		bad(&st,
		    "\"%s\" is not a service name (a-z and 0-9 first, then also '.', '_' and '-', "
		    "at most %d characters)",
		    name, SERVICE_NAME_MAX - 1);
		goto fail;
	}
	if (strcmp(name, "kernel") == 0) {
		/* porthole-logs' name for the kernel's log */
		bad(&st, "\"kernel\" is reserved: porthole logs kernel is the kernel's log");
		goto fail;
	}
	snprintf(spec->name, sizeof(spec->name), "%s", name);

	/* "service": a short name, so that inih's "name:line" is never cut */
	conf_parse_ini(text, "service", on_key, on_refused, &st);
	if (st.bad_line && (!st.failed || st.bad_line < st.fail_line)) {
		st.failed = false;
		st.line = st.bad_line;
		bad(&st, "%s", st.bad_why);
	} else if (st.bad_text && !st.failed) {
		bad(&st, "%s", st.bad_why);
	}
	if (!st.failed)
		check_whole(&st);
	if (st.failed)
		goto fail;

	spec->strings = st.buf;
	for (size_t i = 0; i < st.n_argv; i++)
		spec->argv[i] = st.buf + st.argv_off[i];
	for (size_t i = 0; i < st.n_env; i++)
		spec->env[i] = st.buf + st.env_off[i];
	return 0;

fail:
	free(st.buf);
	memset(spec, 0, sizeof(*spec));
	return -EINVAL;
}

void service_spec_free(struct service_spec *spec)
{
	free(spec->strings);
	spec->strings = NULL;
	memset(spec->argv, 0, sizeof(spec->argv));
	memset(spec->env, 0, sizeof(spec->env));
}

static int cmp_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.conf names in DIR, sorted; NULL and 0 when there are none. */
static char **list_conf_files(DIR *d, const char *dir, size_t *ret_n)
{
	char **names = NULL;
	size_t n = 0, size = 0;
	struct dirent *de;

	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *copy;

		/* hidden files are an editor's or a package manager's */
		if (len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0 || de->d_name[0] == '.')
			continue;
		if (n == DIR_FILES_MAX) {
			log_error("%s: more than %d *.conf files, the rest not read", dir,
				  DIR_FILES_MAX);
			break;
		}
		if (n == size) {
			char **p = realloc(names, (size ? size * 2 : 16) * sizeof(*names));

			if (!p)
				break;
			names = p;
			size = size ? size * 2 : 16;
		}
		copy = strdup(de->d_name);
		if (!copy)
			break;
		names[n++] = copy;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_strings);
	*ret_n = n;
	return names;
}

/* Reads one file into SPEC; logs why not. */
static int load_file(const char *dir, const char *fname, struct service_spec *spec)
{
	_cleanup_free_ char *text = NULL;
	char path[SERVICE_PATH_MAX], name[SERVICE_PATH_MAX], err[SERVICE_ERROR_MAX];
	struct stat stbuf;
	int n, r;

	n = snprintf(path, sizeof(path), "%s/%s", dir, fname);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		log_error("%s/%s: the path is longer than %zu bytes, not read", dir, fname,
			  sizeof(path) - 1);
		return -ENAMETOOLONG;
	}
	if (stat(path, &stbuf) < 0)
		return log_error_errno(-errno, "stat %s", path);
	if (!S_ISREG(stbuf.st_mode)) {
		log_warn("%s: not a regular file, ignored", path);
		return -EISDIR;
	}
	r = read_file(path, CONF_FILE_MAX, &text, NULL);
	if (r == -EFBIG) {
		log_error("%s: larger than %d KiB, not read", path, CONF_FILE_MAX / 1024);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "read %s", path);
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(fname) - 5), fname);
	r = service_conf_parse(text, path, name, spec, err, sizeof(err));
	if (r < 0) {
		log_error("%s; service %s not loaded", err, name);
		return r;
	}
	return 0;
}

size_t service_conf_load_dir(const char *dir, struct service_spec *specs, size_t max,
			     unsigned *ret_bad)
{
	char **names;
	size_t n_names, n = 0;
	unsigned n_bad = 0;
	DIR *d;

	if (ret_bad)
		*ret_bad = 0;
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			log_error_errno(-errno, "open %s", dir);
		return 0;
	}
	names = list_conf_files(d, dir, &n_names);
	closedir(d);
	for (size_t i = 0; i < n_names; i++) {
		int r;

		if (n == max) {
			log_error("%s: more than %zu services: %s and %zu file(s) after it ignored",
				  dir, max, names[i], n_names - i - 1);
			break;
		}
		r = load_file(dir, names[i], &specs[n]);
		if (r == 0)
			n++;
		else if (r != -EISDIR)
			n_bad++;
	}
	for (size_t i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	if (ret_bad)
		*ret_bad = n_bad;
	return n;
}
