/* The dispatcher. Request envelope and error texts follow QEMU's
 * qapi/qmp-dispatch.c and its QObject input visitor, so that clients which
 * match on them (and people who search for them) find what they know. */
#include "dispatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "utf8.h"
#include "util.h"

#define COMMANDS_MAX 64
#define DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII | JSON_ENCODE_ANY)

/* The groups, in the order guest-info lists them. */
static const struct command *const tables[] = {
	cmd_sync_table,		 cmd_guest_time_table, cmd_system_table,
	cmd_guest_network_table, cmd_fs_table,	       cmd_power_table,
	cmd_exec_table,		 cmd_health_table,     cmd_porthole_network_table,
	cmd_clock_table,	 cmd_events_table,     cmd_shares_table,
	cmd_services_table,	 cmd_shell_table,      cmd_ports_table,
	cmd_memory_table,	 cmd_boot_table,
};

static struct dispatch_entry entries[COMMANDS_MAX];
static size_t n_entries;

static bool listed(const char (*list)[64], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

int dispatch_init(struct agent *a)
{
	const struct agent_config *c = &a->cfg;
	int unknown = 0;

	n_entries = 0;
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
		for (const struct command *cmd = tables[t]; cmd && cmd->name; cmd++) {
			struct dispatch_entry *e;

			if (n_entries == COMMANDS_MAX) {
				log_error("more than %d commands: %s and later left out",
					  COMMANDS_MAX, cmd->name);
				return -E2BIG;
			}
			e = &entries[n_entries++];
			e->cmd = cmd;
			e->enabled = !(cmd->flags & CMD_DISABLED_BY_DEFAULT) || c->exec_enabled;
			if (cmd->flags & CMD_NEEDS_SHELL)
				e->enabled = c->shell_enabled;
			/* qemu-ga's --allow-rpcs: only those; --block-rpcs: all but those */
			if (c->n_allow_rpcs && !listed(c->allow_rpcs, c->n_allow_rpcs, cmd->name))
				e->enabled = false;
			if (listed(c->block_rpcs, c->n_block_rpcs, cmd->name))
				e->enabled = false;
		}
	}
	for (size_t i = 0; i < c->n_allow_rpcs + c->n_block_rpcs; i++) {
		const char *name =
			i < c->n_allow_rpcs ? c->allow_rpcs[i] : c->block_rpcs[i - c->n_allow_rpcs];

		if (!dispatch_find(name)) {
			log_warn("%s-rpcs: no command '%s', ignoring",
				 i < c->n_allow_rpcs ? "allow" : "block", name);
			unknown++;
		}
	}
	return unknown;
}

const struct dispatch_entry *dispatch_commands(size_t *n)
{
	*n = n_entries;
	return entries;
}

const struct dispatch_entry *dispatch_find(const char *name)
{
	for (size_t i = 0; i < n_entries; i++)
		if (strcmp(entries[i].cmd->name, name) == 0)
			return &entries[i];
	return NULL;
}

static const char *type_name(enum arg_type t)
{
	static const char *const names[] = {
		[ARG_INT] = "integer",	      [ARG_NUMBER] = "number", [ARG_STRING] = "string",
		[ARG_BOOL] = "boolean",	      [ARG_ARRAY] = "array",   [ARG_OBJECT] = "object",
		[ARG_STRING_ARRAY] = "array", [ARG_ANY] = "any",
	};

	return names[t];
}

static bool type_ok(enum arg_type t, const json_t *v)
{
	switch (t) {
	case ARG_INT:
		return json_is_integer(v);
	case ARG_NUMBER:
		return json_is_number(v);
	case ARG_STRING:
		return json_is_string(v);
	case ARG_BOOL:
		return json_is_boolean(v);
	case ARG_ARRAY:
	case ARG_STRING_ARRAY:
		return json_is_array(v);
	case ARG_OBJECT:
		return json_is_object(v);
	case ARG_ANY:
		return true;
	}
	return false;
}

/* The QObject input visitor's messages: missing, wrong type, unexpected. */
static int check_args(const struct command *cmd, json_t *args, struct cmd_error *err)
{
	const char *key;
	json_t *v;

	for (size_t i = 0; i < CMD_ARGS_MAX && cmd->args[i].name; i++) {
		const struct arg_spec *spec = &cmd->args[i];

		v = json_object_get(args, spec->name);
		if (!v) {
			if (spec->required)
				return cmd_fail(err, "Parameter '%s' is missing", spec->name);
			continue;
		}
		/* A null is a value of no declared type, as QEMU's input visitor
		 * sees it: so no handler ever meets one. */
		if (json_is_null(v) || !type_ok(spec->type, v))
			return cmd_fail(err, "Invalid parameter type for '%s', expected: %s",
					spec->name, type_name(spec->type));
		if (spec->type == ARG_STRING_ARRAY) {
			size_t j;
			json_t *e;

			json_array_foreach(v, j, e)
			{
				if (!json_is_string(e))
					return cmd_fail(err,
							"Invalid parameter type for '%s[%zu]', "
							"expected: string",
							spec->name, j);
			}
		}
	}
	json_object_foreach(args, key, v)
	{
		bool known = false;

		for (size_t i = 0; i < CMD_ARGS_MAX && cmd->args[i].name; i++)
			if (strcmp(cmd->args[i].name, key) == 0)
				known = true;
		if (!known)
			return cmd_fail(err, "Parameter '%s' is unexpected", key);
	}
	return 0;
}

/* A reply being written: grown by doubling from RENDER_FIRST, which most
 * replies fit, within RENDER_MAX, four times the 4 MiB a client's output
 * holds (max_output): the transport says why it drops a reply that long,
 * where a failed render could only say "out of memory". */
#define RENDER_FIRST 256
#define RENDER_MAX (16u << 20)

struct render_buf {
	char *data;
	size_t len, cap;
};

/* json_dump_callback's sink, and the bytes around the values: 0; -1 over
 * RENDER_MAX or out of memory (jansson's convention for a callback). */
static int render_put(const char *s, size_t n, void *user)
{
	struct render_buf *b = user;

	if (n > RENDER_MAX - b->len ||
	    buf_reserve(&b->data, &b->cap, b->len + n, RENDER_FIRST, RENDER_MAX) < 0)
		return -1;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return 0;
}

static int render_value(struct render_buf *b, json_t *v)
{
	return json_dump_callback(v, render_put, b, DUMP_FLAGS);
}

/* The render's end: the newline that ends every reply, and a NUL for logs
 * and tests, not part of the length. */
static int render_end(struct render_buf *b, struct reply *out)
{
	if (render_put("\n", 2, b) < 0) {
		free(b->data);
		return -ENOMEM;
	}
	out->data = b->data;
	out->len = b->len - 1;
	return DISPATCH_REPLY;
}

/* Serialises REPLY (stolen) as QEMU does: ", " and ": " separators, members
 * in order, non-ASCII as \uXXXX, and the newline that ends every reply;
 * 0xFF first when DELIMITED. Once: jansson's dump is most of a small
 * request's cost, and measuring the length first would do it twice. */
static int render(json_t *reply, bool delimited, struct reply *out)
{
	struct render_buf b = { 0 };
	int r = (delimited ? render_put("\xff", 1, &b) : 0) || render_value(&b, reply);

	json_decref(reply);
	if (r) {
		free(b.data);
		return -ENOMEM;
	}
	return render_end(&b, out);
}

/* The reply of last resort, when not even an error reply can be built (out
 * of memory): the client still gets an answer, if without its id. */
static int fallback_reply(struct reply *out)
{
	static const char text[] = "{\"error\": {\"class\": \"GenericError\", \"desc\": "
				   "\"the agent could not build its reply: out of memory\"}}\n";

	out->data = strdup(text);
	if (!out->data)
		return -ENOMEM;
	out->len = sizeof(text) - 1;
	return DISPATCH_REPLY;
}

/* qemu-ga puts the id first in an error and last in a success. DESC need
 * not be valid UTF-8 (it may quote input or the system): it is made so. */
static int error_reply(const char *class, const char *desc, json_t *id, struct reply *out)
{
	json_t *reply = json_object(),
	       *error = json_pack("{s:s,s:o}", "class", class, "desc", utf8_json_string(desc));

	if (!reply || !error) {
		json_decref(reply);
		json_decref(error);
		return fallback_reply(out);
	}
	if (id)
		json_object_set(reply, "id", id);
	json_object_set_new(reply, "error", error);
	if (render(reply, false, out) < 0)
		return fallback_reply(out);
	return DISPATCH_REPLY;
}

int dispatch_error(const char *class, const char *desc, struct reply *out)
{
	return error_reply(class, desc, NULL, out);
}

/* Checks the envelope {"execute", "arguments"?, "id"?} as qmp_dispatch does. */
static int check_envelope(json_t *req, const char **name, json_t **args, struct cmd_error *err)
{
	const char *key;
	json_t *v, *exec;

	if (!json_is_object(req))
		return cmd_fail(err, "QMP input must be a JSON object");
	json_object_foreach(req, key, v)
	{
		if (strcmp(key, "execute") == 0) {
			if (!json_is_string(v))
				return cmd_fail(err, "QMP input member 'execute' must be a string");
		} else if (strcmp(key, "arguments") == 0) {
			if (!json_is_object(v))
				return cmd_fail(err,
						"QMP input member 'arguments' must be an object");
		} else if (strcmp(key, "id") != 0) {
			return cmd_fail(err, "QMP input member '%s' is unexpected", key);
		}
	}
	exec = json_object_get(req, "execute");
	if (!exec)
		return cmd_fail(err, "QMP input lacks member 'execute'");
	*name = json_string_value(exec);
	*args = json_object_get(req, "arguments");
	return 0;
}

struct cmd_async {
	uint64_t origin;
	json_t *id; /* the request's, or NULL */
	bool delimited;
};

/* Where a late reply goes: the transport says, at its start (it calls the
 * dispatcher; the dispatcher does not know it). */
static dispatch_deliver_fn deliver;

void dispatch_set_deliver(dispatch_deliver_fn fn)
{
	deliver = fn;
}

struct dispatch_upgrade {
	struct cmd_upgrade up;
	const char *name; /* the command's, which the errors name */
	json_t *id; /* the request's, or NULL */
};

/* The request being handled, for cmd_async_take and cmd_upgrade_take. */
static struct {
	uint64_t origin;
	const char *name;
	json_t *id;
	bool delimited;
	bool taken;
	struct dispatch_upgrade *upgrade;
} current;

/* Announced by the last DISPATCH_UPGRADE, until the transport takes it. */
static struct dispatch_upgrade *announced;

struct cmd_async *cmd_async_take(void)
{
	struct cmd_async *p;

	if (!current.origin)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->origin = current.origin;
	p->id = current.id ? json_incref(current.id) : NULL;
	p->delimited = current.delimited;
	current.taken = true;
	return p;
}

int cmd_upgrade_take(const struct cmd_upgrade *up)
{
	struct dispatch_upgrade *u;

	if (!current.origin)
		return -ENOTCONN;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->up = *up;
	u->name = current.name;
	u->id = current.id ? json_incref(current.id) : NULL;
	dispatch_upgrade_free(current.upgrade);
	current.upgrade = u;
	return 0;
}

struct dispatch_upgrade *dispatch_upgrade_take(void)
{
	struct dispatch_upgrade *u = announced;

	announced = NULL;
	return u;
}

int dispatch_upgrade_start(struct dispatch_upgrade *u, struct agent *a, int fd, const void *owed,
			   size_t owed_len, const void *sent, size_t sent_len, char *why,
			   size_t why_size)
{
	return u->up.start(a, u->up.data, fd, owed, owed_len, sent, sent_len, why, why_size);
}

void dispatch_upgrade_free(struct dispatch_upgrade *u)
{
	if (!u)
		return;
	if (u->up.free)
		u->up.free(u->up.data);
	json_decref(u->id);
	free(u);
}

/* {"return": RESULT (stolen; NULL means {}), "id": ID}; -ENOMEM when it
 * cannot be built. Written around the two values, the bytes jansson would
 * give for that object (tests/unit/test-agent-dispatch.c holds them to
 * qemu-ga's), without building it: the reply of a small request costs
 * about as much again as its parse when the object is made, dumped and
 * freed. */
static int success_render(json_t *result, json_t *id, bool delimited, struct reply *out)
{
	static const char head[] = "{\"return\": ", mid[] = ", \"id\": ";
	struct render_buf b = { 0 };
	int r = (delimited ? render_put("\xff", 1, &b) : 0) ||
		render_put(head, sizeof(head) - 1, &b) ||
		(result ? render_value(&b, result) : render_put("{}", 2, &b)) ||
		(id && (render_put(mid, sizeof(mid) - 1, &b) || render_value(&b, id))) ||
		render_put("}", 1, &b);

	json_decref(result);
	if (r) {
		free(b.data);
		return -ENOMEM;
	}
	return render_end(&b, out);
}

/* The success reply, or an error reply when it cannot be built. */
static int success_reply(json_t *result, json_t *id, bool delimited, struct reply *out)
{
	if (success_render(result, id, delimited, out) < 0)
		return error_reply("GenericError", "the reply could not be built: out of memory",
				   id, out);
	return DISPATCH_REPLY;
}

int dispatch_upgrade_error(struct dispatch_upgrade *u, const char *desc, struct reply *out)
{
	char text[sizeof(((struct cmd_error *)0)->desc)];

	snprintf(text, sizeof(text), "%s: %s", u->name, desc);
	return error_reply("GenericError", text, u->id, out);
}

void cmd_async_finish(struct cmd_async *p, json_t *result, const struct cmd_error *err)
{
	struct reply out = { 0 };
	int r;

	if (err) {
		json_decref(result);
		r = error_reply(err->class ? err->class : "GenericError", err->desc, p->id, &out);
	} else {
		r = success_reply(result, p->id, p->delimited, &out);
	}
	/* the connection is released even when there is nothing to send */
	if (deliver)
		deliver(p->origin, r == DISPATCH_REPLY ? &out : NULL);
	free(out.data);
	json_decref(p->id);
	free(p);
}

/* The arguments of every request that has none (dispatch_value_from). */
static json_t *no_args;

int dispatch_value(struct agent *a, const char *data, size_t len, struct reply *out)
{
	return dispatch_value_from(a, 0, data, len, out);
}

int dispatch_value_from(struct agent *a, uint64_t origin, const char *data, size_t len,
			struct reply *out)
{
	struct cmd_error err = { 0 };
	const struct dispatch_entry *e;
	json_error_t jerr;
	json_t *req, *args = NULL, *id, *result = NULL;
	const char *name = NULL;
	int r;

	req = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!req) {
		char desc[300];

		/* jansson's text may quote the input, cut: error_reply mends it */
		snprintf(desc, sizeof(desc), "JSON parse error, %s", jerr.text);
		return error_reply("GenericError", desc, NULL, out);
	}
	id = json_object_get(req, "id"); /* NULL for anything but an object */
	if (check_envelope(req, &name, &args, &err) < 0)
		goto fail;
	e = dispatch_find(name);
	if (!e) {
		cmd_fail(&err, "The command %s has not been found", name);
		err.class = "CommandNotFound";
		goto fail;
	}
	if (!e->enabled) {
		/* qemu-ga's words; porthole's own switch says where it is */
		if ((e->cmd->flags & CMD_NEEDS_SHELL) && !a->cfg.shell_enabled)
			cmd_fail(
				&err,
				"Command %s has been disabled: agent.shell is 0 (init.conf's [agent] "
				"shell = 1, or porthole.agent.shell=1 on the kernel command line, "
				"enables it)",
				name);
		else
			cmd_fail(&err, "Command %s has been disabled", name);
		err.class = "CommandNotFound";
		goto fail;
	}
	if (!args) {
		/* one empty object for every request without arguments: a
		 * handler reads its arguments and never changes them
		 * (command.h), and making one per request was a tenth of a
		 * guest-ping's cost */
		if (!no_args)
			no_args = json_object();
		args = no_args;
		if (!args) {
			cmd_fail(&err, "out of memory");
			goto fail;
		}
	}
	if (check_args(e->cmd, args, &err) < 0)
		goto fail;
	/* what cmd_async_take needs, should the handler answer later */
	current.origin = origin;
	current.name = e->cmd->name;
	current.id = id;
	current.delimited = e->cmd->flags & CMD_SYNC_DELIMITED;
	current.taken = false;
	current.upgrade = NULL;
	if (!(e->cmd->flags & CMD_QUIET))
		a->last_request_mono_ns = now_mono_ns();
	r = e->cmd->handler(a, args, &result, &err);
	current.origin = 0;
	if (args == no_args && json_object_size(no_args) > 0) {
		/* the next request must not see what this handler left */
		log_error("%s: changed its (empty) arguments", name);
		json_object_clear(no_args);
	}
	if (current.upgrade) {
		struct dispatch_upgrade *u = current.upgrade;

		current.upgrade = NULL;
		if (r != CMD_OK) {
			dispatch_upgrade_free(u);
		} else {
			/* the reply must be exactly this success: what follows it
			 * on the connection is the new owner's */
			if (success_render(result, id, false, out) < 0) {
				dispatch_upgrade_free(u);
				r = error_reply("GenericError",
						"the reply could not be built: out of memory", id,
						out);
				json_decref(req);
				return r;
			}
			json_decref(req);
			dispatch_upgrade_free(announced);
			announced = u;
			return DISPATCH_UPGRADE;
		}
	}
	if (r == CMD_LATER) {
		if (current.taken) {
			json_decref(req);
			return DISPATCH_LATER;
		}
		log_error("%s: answered later without taking the reply", name);
		cmd_fail(&err, "%s: internal error: no reply", name);
		goto fail;
	}
	if (r == CMD_FAILED)
		goto fail;
	if (e->cmd->flags & CMD_NO_REPLY_ON_SUCCESS) {
		json_decref(result);
		json_decref(req);
		return DISPATCH_NONE;
	}
	r = success_reply(result, id, e->cmd->flags & CMD_SYNC_DELIMITED, out);
	json_decref(req);
	return r;

fail:
	r = error_reply(err.class ? err.class : "GenericError", err.desc, id, out);
	json_decref(req);
	return r;
}
