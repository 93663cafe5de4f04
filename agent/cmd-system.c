/* guest-get-osinfo, guest-get-host-name, guest-get-timezone, guest-get-load and
 * guest-get-users: what the system says about itself, read from uname(2),
 * os-release(5), the time zone database, /proc/loadavg and utmp(5). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>

#include "agent.h"
#include "cmd-json.h"
#include "command.h"
#include "util.h"

#define OS_RELEASE_MAX (64 * 1024)
#define OS_RELEASE_VALUE_MAX 1024
/* utmp holds a record per login and logout since boot: bound the scan */
#define UTMP_RECORDS_MAX 16384
#define USERS_MAX 256

static int oom(struct cmd_error *err)
{
	return cmd_fail(err, "out of memory");
}

/* os-release(5) keys and qemu-ga's member names, in the schema's order. */
static const struct {
	const char *key;
	const char *member;
} os_release_keys[] = {
	{ "ID", "id" },
	{ "NAME", "name" },
	{ "PRETTY_NAME", "pretty-name" },
	{ "VERSION", "version" },
	{ "VERSION_ID", "version-id" },
	{ "VARIANT", "variant" },
	{ "VARIANT_ID", "variant-id" },
};

/* Undoes the shell quoting os-release(5) allows ("...", '...', backslash
 * escapes), as qemu-ga's g_shell_unquote does, from V (up to END) into OUT.
 * -EINVAL for an unterminated quote or a value longer than OUT. */
static int shell_unquote(const char *v, const char *end, char *out, size_t size)
{
	char quote = 0;
	size_t n = 0;

	for (; v < end; v++) {
		char c = *v;

		if (quote == '\'') {
			if (c == '\'') {
				quote = 0;
				continue;
			}
		} else if (quote == '"') {
			if (c == '"') {
				quote = 0;
				continue;
			}
			/* inside double quotes a backslash escapes only $ ` " \ */
			if (c == '\\' && v + 1 < end && strchr("$`\"\\", v[1]))
				c = *++v;
		} else if (c == '"' || c == '\'') {
			quote = c;
			continue;
		} else if (c == '\\' && v + 1 < end) {
			c = *++v;
		}
		if (n + 1 >= size)
			return -EINVAL;
		out[n++] = c;
	}
	if (quote)
		return -EINVAL;
	out[n] = '\0';
	return 0;
}

/* Adds the os-release members found in TEXT to RES; the last assignment of a
 * key wins, as when the shell sources the file. */
static int add_os_release(json_t *res, const char *text)
{
	for (size_t k = 0; k < ARRAY_SIZE(os_release_keys); k++) {
		const char *key = os_release_keys[k].key, *found = NULL, *found_end = NULL;
		size_t klen = strlen(key);
		char value[OS_RELEASE_VALUE_MAX];

		for (const char *line = text; line && *line;) {
			const char *eol = strchr(line, '\n');
			const char *end = eol ? eol : line + strlen(line);

			while (line < end && (*line == ' ' || *line == '\t'))
				line++;
			if ((size_t)(end - line) > klen && strncmp(line, key, klen) == 0 &&
			    line[klen] == '=') {
				found = line + klen + 1;
				found_end = end;
			}
			line = eol ? eol + 1 : NULL;
		}
		if (!found)
			continue;
		while (found_end > found &&
		       (found_end[-1] == ' ' || found_end[-1] == '\t' || found_end[-1] == '\r'))
			found_end--;
		/* a value that does not unquote is left out, as qemu-ga does */
		if (shell_unquote(found, found_end, value, sizeof(value)) < 0)
			continue;
		if (cmd_json_set(res, os_release_keys[k].member, utf8_json_string(value)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static enum cmd_result get_osinfo(struct agent *a, json_t *args, json_t **result,
				  struct cmd_error *err)
{
	_cleanup_free_ char *text = NULL;
	struct utsname u;
	json_t *res = json_object();

	(void)a, (void)args;
	if (!res)
		return oom(err);
	if (uname(&u) == 0 &&
	    (cmd_json_set(res, "kernel-release", utf8_json_string(u.release)) < 0 ||
	     cmd_json_set(res, "kernel-version", utf8_json_string(u.version)) < 0 ||
	     cmd_json_set(res, "machine", utf8_json_string(u.machine)) < 0))
		goto oom;
	/* os-release(5): /etc first, /usr/lib as the fallback; with neither,
	 * the os-release members are absent (the schema makes them optional) */
	if (read_file("/etc/os-release", OS_RELEASE_MAX, &text, NULL) < 0 &&
	    read_file("/usr/lib/os-release", OS_RELEASE_MAX, &text, NULL) < 0)
		text = NULL;
	if (text && add_os_release(res, text) < 0)
		goto oom;
	*result = res;
	return 0;
oom:
	json_decref(res);
	return oom(err);
}

static enum cmd_result get_host_name(struct agent *a, json_t *args, json_t **result,
				     struct cmd_error *err)
{
	char name[HOST_NAME_MAX + 1];

	(void)a, (void)args;
	/* gethostname(2) each time (qemu-ga avoids glib's cached name too);
	 * qemu-ga answers "localhost" when it fails */
	if (gethostname(name, sizeof(name)) < 0 || !name[0])
		snprintf(name, sizeof(name), "localhost");
	name[sizeof(name) - 1] = '\0';
	*result = json_object();
	if (!*result || cmd_json_set(*result, "host-name", utf8_json_string(name)) < 0) {
		json_decref(*result);
		*result = NULL;
		return oom(err);
	}
	return 0;
}

/* The zone's abbreviation now ("UTC", "CET", "EDT") and its offset east of
 * UTC in seconds, as qemu-ga reports them from glib's local time zone. */
static enum cmd_result get_timezone(struct agent *a, json_t *args, json_t **result,
				    struct cmd_error *err)
{
	time_t now = time(NULL);
	struct tm tm;
	json_t *res;

	(void)a, (void)args;
	/* tzset(3) rereads TZ and /etc/localtime; localtime_r alone may not */
	tzset();
	if (!localtime_r(&now, &tm))
		return cmd_fail_errno(err, errno, "Couldn't retrieve local timezone");
	res = json_object();
	if (!res)
		return oom(err);
	if ((tm.tm_zone && tm.tm_zone[0] &&
	     cmd_json_set(res, "zone", utf8_json_string(tm.tm_zone)) < 0) ||
	    cmd_json_set(res, "offset", json_integer(tm.tm_gmtoff)) < 0) {
		json_decref(res);
		return oom(err);
	}
	*result = res;
	return 0;
}

/* QEMU 10.0's GuestLoadAverage: load1m, load5m, load15m, from /proc/loadavg
 * (what getloadavg(3), qemu-ga's source, reads too). */
static enum cmd_result get_load(struct agent *a, json_t *args, json_t **result,
				struct cmd_error *err)
{
	_cleanup_free_ char *text = NULL;
	double l1, l5, l15;
	int r;

	(void)a, (void)args;
	r = read_file("/proc/loadavg", 256, &text, NULL);
	if (r < 0)
		return cmd_fail_errno(err, r, "cannot query load average: read /proc/loadavg");
	if (sscanf(text, "%lf %lf %lf", &l1, &l5, &l15) != 3)
		return cmd_fail(err, "cannot query load average: /proc/loadavg reads '%.*s'",
				utf8_prefix(text, 40), text);
	*result = json_pack("{s:f,s:f,s:f}", "load1m", l1, "load5m", l5, "load15m", l15);
	return *result ? 0 : oom(err);
}

/* utmpx(5) USER_PROCESS records, one entry per user with the earliest login,
 * as qemu-ga does; [] when no one is logged in (or there is no utmp). */
static enum cmd_result get_users(struct agent *a, json_t *args, json_t **result,
				 struct cmd_error *err)
{
	json_t *users = json_array();
	struct utmpx *ut;
	size_t records = 0;

	(void)a, (void)args;
	if (!users)
		return oom(err);
	setutxent();
	while (records++ < UTMP_RECORDS_MAX && (ut = getutxent())) {
		size_t len = strnlen(ut->ut_user, sizeof(ut->ut_user));
		double t = (double)ut->ut_tv.tv_sec + (double)ut->ut_tv.tv_usec / USEC_PER_SEC;
		json_t *user = NULL, *name;
		size_t i;

		if (ut->ut_type != USER_PROCESS || len == 0)
			continue;
		name = utf8_json_stringn(ut->ut_user, len);
		if (!name)
			goto oom;
		json_array_foreach(users, i, user)
		{
			if (json_equal(json_object_get(user, "user"), name))
				break;
			user = NULL;
		}
		if (user) {
			json_decref(name);
			if (t < json_real_value(json_object_get(user, "login-time")))
				json_object_set_new(user, "login-time", json_real(t));
			continue;
		}
		if (json_array_size(users) >= USERS_MAX) {
			json_decref(name);
			continue;
		}
		user = json_object();
		if (!user) {
			json_decref(name);
			goto oom;
		}
		if (cmd_json_set(user, "user", name) < 0 ||
		    cmd_json_set(user, "login-time", json_real(t)) < 0) {
			json_decref(user);
			goto oom;
		}
		if (cmd_json_append(users, user) < 0)
			goto oom;
	}
	endutxent();
	*result = users;
	return 0;
oom:
	endutxent();
	json_decref(users);
	return oom(err);
}

const struct command cmd_system_table[] = {
	{ "guest-get-osinfo", get_osinfo, { { 0 } }, 0 },
	{ "guest-get-host-name", get_host_name, { { 0 } }, 0 },
	{ "guest-get-timezone", get_timezone, { { 0 } }, 0 },
	{ "guest-get-load", get_load, { { 0 } }, 0 },
	{ "guest-get-users", get_users, { { 0 } }, 0 },
	{ 0 },
};
