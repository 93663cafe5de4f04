/* porthole-services, porthole-service-restart and porthole-logs: init's
 * services as the host sees them. init owns the processes and their logs;
 * the agent asks it over its control socket (initctl.c), checks each reply
 * member for its type and passes it on. The kernel's log is the exception:
 * the agent reads /dev/kmsg itself (kmsg.c). The commands' calls to init
 * run on the agent's workers (worker.c): a hung init costs the caller
 * INITCTL_TIMEOUT_MS, and the host's other clients nothing. */
#include "cmd-services.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "cmd-json.h"
#include "command.h"
#include "initctl.h"
#include "kmsg.h"
#include "util.h"
#include "walltime.h"
#include "worker.h"

/* init's names are shorter (SERVICE_NAME_MAX); this keeps a request within
 * init's line limit whatever the host sends */
#define NAME_ARG_MAX 255
#define KERNEL_SERVICE "kernel"

enum vtype {
	V_STRING,
	V_INT,
	V_NUMBER,
	V_BOOL,
	V_STRINGS, /* an array of strings */
	V_EXIT, /* {"status": INT} or {"signal": INT} */
	V_ARRAY, /* checked by the caller */
};

enum {
	F_REQUIRED = 1 << 0,
	F_NULL = 1 << 1, /* null is a value */
};

struct field {
	const char *name;
	enum vtype type;
	unsigned flags;
};

static const struct field service_fields[] = {
	{ "name", V_STRING, F_REQUIRED },  { "description", V_STRING, 0 },
	{ "state", V_STRING, F_REQUIRED }, { "pid", V_INT, F_NULL },
	{ "since", V_NUMBER, F_NULL },	   { "restarts", V_INT, 0 },
	{ "last_exit", V_EXIT, F_NULL },   { "ready", V_BOOL, 0 },
	{ "ready_ms", V_INT, F_NULL },	   { "cgroup", V_STRING, F_NULL },
	{ "memory_bytes", V_INT, F_NULL }, { "cpu_usec", V_INT, F_NULL },
	{ "oom_kills", V_INT, F_NULL },	   { "requires", V_STRINGS, 0 },
	{ "after", V_STRINGS, 0 },	   { NULL, 0, 0 },
};

static const struct field line_fields[] = {
	{ "time", V_NUMBER, F_REQUIRED },
	{ "stream", V_STRING, F_REQUIRED },
	{ "text", V_STRING, F_REQUIRED },
	{ NULL, 0, 0 },
};

static const struct field event_fields[] = {
	{ "seq", V_INT, F_REQUIRED },	     { "time", V_NUMBER, F_REQUIRED },
	{ "service", V_STRING, F_REQUIRED }, { "type", V_STRING, F_REQUIRED },
	{ "detail", V_STRING, F_NULL },	     { NULL, 0, 0 },
};

static const char *const type_names[] = {
	[V_STRING] = "a string",
	[V_INT] = "an integer",
	[V_NUMBER] = "a number",
	[V_BOOL] = "a boolean",
	[V_STRINGS] = "an array of strings",
	[V_EXIT] = "{\"status\": N} or {\"signal\": N}",
	[V_ARRAY] = "an array",
};

static int protof(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int protof(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(why, size, "porthole-init's reply: ");

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < size)
		vsnprintf(why + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

static bool type_ok(enum vtype t, json_t *v)
{
	size_t i;
	json_t *e;

	switch (t) {
	case V_STRING:
		return json_is_string(v);
	case V_INT:
		return json_is_integer(v);
	case V_NUMBER:
		return json_is_number(v);
	case V_BOOL:
		return json_is_boolean(v);
	case V_ARRAY:
		return json_is_array(v);
	case V_STRINGS:
		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, e) if (!json_is_string(e)) return false;
		return true;
	case V_EXIT:
		return json_is_object(v) && json_object_size(v) == 1 &&
		       (json_is_integer(json_object_get(v, "status")) ||
			json_is_integer(json_object_get(v, "signal")));
	}
	return false;
}

/* The members of SRC that FIELDS knows, checked, into a new object. WHERE
 * names SRC in messages ("services[2]"). */
static int copy_fields(json_t *src, const struct field *fields, const char *where, json_t **ret,
		       char *why, size_t why_size)
{
	json_t *dst;

	if (!json_is_object(src))
		return protof(why, why_size, "%s: expected an object", where);
	dst = json_object();
	if (!dst)
		return -ENOMEM;
	for (const struct field *f = fields; f->name; f++) {
		json_t *v = json_object_get(src, f->name);

		if (!v) {
			if (!(f->flags & F_REQUIRED))
				continue;
			json_decref(dst);
			return protof(why, why_size, "%s: no \"%s\"", where, f->name);
		}
		if (json_is_null(v) ? !(f->flags & F_NULL) : !type_ok(f->type, v)) {
			json_decref(dst);
			return protof(why, why_size, "%s.%s: expected %s%s", where, f->name,
				      type_names[f->type], f->flags & F_NULL ? " or null" : "");
		}
		if (json_object_set(dst, f->name, v) < 0) {
			json_decref(dst);
			return -ENOMEM;
		}
	}
	*ret = dst;
	return 0;
}

/* Each element of the array MEMBER of REPLY, through FIELDS. */
static int copy_array(json_t *reply, const char *member, const struct field *fields, json_t **ret,
		      char *why, size_t why_size)
{
	json_t *src = json_object_get(reply, member), *dst, *e;
	size_t i;

	if (!json_is_array(src))
		return protof(why, why_size, "\"%s\": expected an array", member);
	dst = json_array();
	if (!dst)
		return -ENOMEM;
	json_array_foreach(src, i, e)
	{
		char where[64];
		json_t *o = NULL;
		int r;

		snprintf(where, sizeof(where), "%s[%zu]", member, i);
		r = copy_fields(e, fields, where, &o, why, why_size);
		if (r < 0 || cmd_json_append(dst, o) < 0) {
			json_decref(dst);
			return r < 0 ? r : -ENOMEM;
		}
	}
	*ret = dst;
	return 0;
}

int cmd_services_from_init(json_t *reply, json_t **ret, char *why, size_t why_size)
{
	return copy_array(reply, "services", service_fields, ret, why, why_size);
}

int logs_from_init(json_t *reply, json_t **ret, char *why, size_t why_size)
{
	json_t *dropped = json_object_get(reply, "dropped"), *lines = NULL;
	int r;

	r = copy_array(reply, "lines", line_fields, &lines, why, why_size);
	if (r < 0)
		return r;
	if (!json_is_integer(dropped) || json_integer_value(dropped) < 0) {
		json_decref(lines);
		return protof(why, why_size, "\"dropped\": expected an integer, 0 or more");
	}
	*ret = json_pack("{s:o,s:O}", "lines", lines, "dropped", dropped);
	return *ret ? 0 : -ENOMEM;
}

int events_from_init(json_t *reply, json_t **ret_events, int64_t *ret_next, char *why,
		     size_t why_size)
{
	json_t *next = json_object_get(reply, "next"), *events = NULL;
	int r;

	if (!json_is_integer(next) || json_integer_value(next) < 0)
		return protof(why, why_size, "\"next\": expected an integer, 0 or more");
	r = copy_array(reply, "events", event_fields, &events, why, why_size);
	if (r < 0)
		return r;
	*ret_events = events;
	*ret_next = json_integer_value(next);
	return 0;
}

/* One request to init's socket at SOCKET; the reply in *RET. */
static int ask(const char *socket, json_t *req, json_t **ret, char *why, size_t why_size)
{
	int r;

	if (!req)
		return -ENOMEM;
	r = initctl_call(socket, req, INITCTL_TIMEOUT_MS, ret, why, why_size);
	json_decref(req);
	return r;
}

static int services_list(const char *socket, json_t **ret, char *why, size_t why_size)
{
	json_t *reply = NULL;
	int r = ask(socket, json_pack("{s:s}", "op", "services"), &reply, why, why_size);

	if (r < 0)
		return r;
	r = cmd_services_from_init(reply, ret, why, why_size);
	json_decref(reply);
	return r;
}

int cmd_services_list(const char *init_socket, json_t **ret, char *why, size_t why_size)
{
	return services_list(init_socket, ret, why, why_size);
}

int cmd_services_events(const char *init_socket, int64_t after, json_t **ret_events,
			int64_t *ret_next, char *why, size_t why_size)
{
	json_t *reply = NULL;
	int r = ask(init_socket, json_pack("{s:s,s:I}", "op", "events", "after", (json_int_t)after),
		    &reply, why, why_size);

	if (r < 0)
		return r;
	r = events_from_init(reply, ret_events, ret_next, why, why_size);
	json_decref(reply);
	return r;
}

static int fail_why(struct cmd_error *err, int r, const char *why)
{
	return r == -ENOMEM ? cmd_fail(err, "out of memory") : cmd_fail(err, "%s", why);
}

/* What a job that calls init gets: the socket's path, copied from the
 * agent's configuration (a job touches nothing of the loop's). */
static char *socket_ctx(const struct agent *a)
{
	return strdup(a->cfg.init_socket);
}

static enum cmd_result services_work(json_t *args, void *ctx, json_t **result,
				     struct cmd_error *err)
{
	char why[INITCTL_WHY_MAX];
	int r;

	(void)args;
	r = services_list(ctx, result, why, sizeof(why));
	return r < 0 ? fail_why(err, r, why) : 0;
}

/* strdup's failure is worker_cmd's NULL context: a job that needs one
 * says so */
static enum cmd_result ask_later(struct agent *a, const char *name, worker_cmd_fn fn, json_t *args,
				 json_t **result, struct cmd_error *err)
{
	char *ctx = socket_ctx(a);

	if (!ctx)
		return cmd_fail(err, "out of memory");
	return worker_cmd(a, name, fn, NULL, args, ctx, result, err);
}

static enum cmd_result services(struct agent *a, json_t *args, json_t **result,
				struct cmd_error *err)
{
	return ask_later(a, "porthole-services", services_work, args, result, err);
}

static int check_name(const char *param, const char *name, struct cmd_error *err)
{
	if (!*name || strlen(name) > NAME_ARG_MAX)
		return cmd_fail(err, "Parameter '%s' must be 1 to %d bytes", param, NAME_ARG_MAX);
	return 0;
}

static enum cmd_result restart_work(json_t *args, void *ctx, json_t **result, struct cmd_error *err)
{
	const char *name = json_string_value(json_object_get(args, "name"));
	char why[INITCTL_WHY_MAX];
	json_t *reply = NULL;
	int r;

	r = ask(ctx, json_pack("{s:s,s:s}", "op", "restart", "name", name), &reply, why,
		sizeof(why));
	if (r < 0)
		return fail_why(err, r, why);
	r = json_is_true(json_object_get(reply, "ok"));
	json_decref(reply);
	if (!r)
		return cmd_fail(err, "porthole-init's reply: \"ok\": expected true");
	*result = NULL;
	return 0;
}

static enum cmd_result restart(struct agent *a, json_t *args, json_t **result,
			       struct cmd_error *err)
{
	if (check_name("name", json_string_value(json_object_get(args, "name")), err) < 0)
		return -1;
	return ask_later(a, "porthole-service-restart", restart_work, args, result, err);
}

int cmd_services_kernel_log(int fd, int64_t lines, double since, json_t **ret, char *why,
			    size_t why_size)
{
	struct kmsg_ring ring;
	json_t *arr;
	int r;

	r = kmsg_ring_init(&ring, (size_t)lines, SERVICES_KERNEL_BYTES_MAX);
	if (r < 0) {
		snprintf(why, why_size, "out of memory");
		return r;
	}
	r = kmsg_read(fd, since, kmsg_realtime_minus_mono(), &ring);
	if (r < 0) {
		snprintf(why, why_size, "read %s: %s", KMSG_PATH, strerror(-r));
		kmsg_ring_free(&ring);
		return r;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < ring.n; i++) {
		const struct kmsg_line *l = kmsg_ring_get(&ring, i);

		/* the kernel escapes bytes outside printable ASCII as \xNN,
		 * but text written to /dev/kmsg by a process need not be UTF-8 */
		if (cmd_json_append(arr, json_pack("{s:f,s:s,s:i,s:o}", "time", l->time, "stream",
						   "kernel", "level", l->level, "text",
						   utf8_json_stringn(l->text, l->len))) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	*ret = arr ? json_pack("{s:o,s:I}", "lines", arr, "dropped", (json_int_t)ring.lost) : NULL;
	kmsg_ring_free(&ring);
	if (!*ret) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static enum cmd_result logs_work(json_t *args, void *ctx, json_t **result, struct cmd_error *err)
{
	const char *name = json_string_value(json_object_get(args, "service"));
	json_t *jlines = json_object_get(args, "lines"), *jsince = json_object_get(args, "since");
	int64_t lines = jlines ? json_integer_value(jlines) : SERVICES_LOG_LINES_DEFAULT;
	char why[INITCTL_WHY_MAX];
	json_t *req, *reply = NULL;
	int r;

	req = json_pack("{s:s,s:s,s:I}", "op", "logs", "name", name, "lines", (json_int_t)lines);
	if (req && jsince &&
	    json_object_set_new(req, "since", json_real(json_number_value(jsince))) < 0) {
		json_decref(req);
		req = NULL;
	}
	r = ask(ctx, req, &reply, why, sizeof(why));
	if (r < 0)
		return fail_why(err, r, why);
	r = logs_from_init(reply, result, why, sizeof(why));
	json_decref(reply);
	return r < 0 ? fail_why(err, r, why) : 0;
}

static enum cmd_result logs(struct agent *a, json_t *args, json_t **result, struct cmd_error *err)
{
	const char *name = json_string_value(json_object_get(args, "service"));
	json_t *jlines = json_object_get(args, "lines"), *jsince = json_object_get(args, "since");
	int64_t lines = jlines ? json_integer_value(jlines) : SERVICES_LOG_LINES_DEFAULT;
	double since = jsince ? json_number_value(jsince) : 0;
	char why[INITCTL_WHY_MAX];
	int r;

	if (check_name("service", name, err) < 0)
		return -1;
	if (lines < 1 || lines > SERVICES_LOG_LINES_MAX)
		return cmd_fail(err, "Parameter 'lines' must be 1 to %d", SERVICES_LOG_LINES_MAX);
	if (!(since >= 0) || since > WALLTIME_QUERY_MAX_S)
		return cmd_fail(err,
				"Parameter 'since' must be seconds since the epoch, from 0 to %lld "
				"(9999-12-31)",
				WALLTIME_QUERY_MAX_S);
	if (strcmp(name, KERNEL_SERVICE) == 0) {
		_cleanup_close_ int fd = open(KMSG_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

		if (fd < 0)
			return cmd_fail_errno(err, -errno, "open %s", KMSG_PATH);
		/* /dev/kmsg is read without blocking, from the kernel's
		 * memory: it stays in the loop */
		r = cmd_services_kernel_log(fd, lines, since, result, why, sizeof(why));
		return r < 0 ? fail_why(err, r, why) : 0;
	}
	return ask_later(a, "porthole-logs", logs_work, args, result, err);
}

const struct command cmd_services_table[] = {
	{ "porthole-services", services, { { 0 } }, CMD_QUIET },
	{ "porthole-service-restart", restart, { { "name", ARG_STRING, true } }, 0 },
	{ "porthole-logs",
	  logs,
	  { { "service", ARG_STRING, true },
	    { "lines", ARG_INT, false },
	    { "since", ARG_NUMBER, false } },
	  0 },
	{ 0 },
};
