/* host/cli-complete.c, porthole --complete-bash: a usage in porthole --help's
 * notation read into subcommands, options and what their values are, and
 * usages it cannot read refused, naming the command, before anything is
 * printed: nothing from the table can break out of the script's quotes.
 * tests/audit/completion drives the script itself in bash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-complete.h"
#include "util.h"

static const struct option global[] = {
	{ "connect", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ 0 },
};

/* The script for CMDS, or NULL with *R the error. */
static char *script(const struct cli_complete_command *cmds, size_t n, int *r)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	*r = cli_complete_bash(f, global, cmds, n);
	fclose(f);
	if (*r < 0) {
		assert_int_equal(size, 0); /* nothing printed */
		free(buf);
		return NULL;
	}
	return buf;
}

static void test_usage(void **state)
{
	static const struct cli_complete_command cmds[] = {
		{ "time", "[sync [--samples N] [--mode auto|step|slew] | watch [--interval S]]",
		  NULL },
		{ "df", "[--disk FILE] [--vm-dir DIR]", NULL },
		{ "forward",
		  "docker [--socket PATH] [--relay-port N | --relay ADDRESS] | ports "
		  "[--port [PROTO:]PORT]...",
		  NULL },
		{ "memory", "[--json] | target [--engine SIZE|max]", NULL },
		{ "exec", "[--wait S] [--] CMD [ARG...] | -t|-i [--] CMD", NULL },
		{ "help", "[COMMAND]", NULL },
		{ "ping", "", NULL },
	};
	int r;
	char *s = script(cmds, ARRAY_SIZE(cmds), &r);

	(void)state;
	assert_int_equal(r, 0);
	assert_non_null(strstr(s, "local commands='time df forward memory exec help ping'\n"));
	assert_non_null(strstr(s, "global_opts=' -c --connect -j --json '"));
	assert_non_null(strstr(s, "global_vals=' -c --connect '"));
	/* subcommands, and their own options */
	assert_non_null(strstr(s, "\ttime)\n\t\tsubs='sync watch'\n"));
	assert_non_null(strstr(s, "\ttime:)\n\t\topts='--help'\n"));
	assert_non_null(strstr(s, "\ttime:sync)\n\t\topts='--samples --mode --help'\n"));
	assert_non_null(strstr(s, "\ttime:watch)\n\t\topts='--interval --help'\n"));
	/* "| --relay" is another option of docker, "| ports" a subcommand */
	assert_non_null(
		strstr(s, "\tforward:docker)\n\t\topts='--socket --relay-port --relay --help'\n"));
	assert_non_null(strstr(s, "\tforward:ports)\n\t\topts='--port --help'\n"));
	/* a first alternative of options is the command's own */
	assert_non_null(strstr(s, "\tmemory:)\n\t\topts='--json --help'\n"));
	assert_non_null(strstr(s, "\tmemory:target)\n\t\topts='--engine --help'\n"));
	/* -t|-i are two options; -- is none */
	assert_non_null(strstr(s, "\texec:)\n\t\topts='--wait -t -i --help'\n"));
	assert_non_null(strstr(s, "\thelp:)\n\t\topts='--help'\n\t\tpositional=commands\n"));
	/* values: choices, files, directories, the rest typed */
	assert_non_null(strstr(s, "\ttime:--mode)\n\t\tkind='words' words='auto step slew'\n"));
	assert_non_null(strstr(s, "\ttime:--samples)\n\t\tkind='value'\n"));
	assert_non_null(strstr(s, "\tdf:--disk)\n\t\tkind='file'\n"));
	assert_non_null(strstr(s, "\tdf:--vm-dir)\n\t\tkind='dir'\n"));
	assert_non_null(strstr(s, "\tforward:--socket)\n\t\tkind='file'\n"));
	assert_non_null(strstr(s, "\tmemory:--engine)\n\t\tkind='words' words='max'\n"));
	assert_non_null(strstr(s, "\tforward:--port)\n\t\tkind='value'\n"));
	/* flags take no value */
	assert_null(strstr(s, "exec:-t)"));
	assert_non_null(strstr(s, "complete -F _porthole porthole\n"));
	free(s);
}

static void test_refused(void **state)
{
	char long_usage[CLI_COMPLETE_ARGS_MAX + 8];
	char many_subs[256] = "a";
	struct cli_complete_command bad[] = {
		{ "Ping", "", NULL }, /* upper case */
		{ "x'y", "", NULL }, /* would close the script's quotes */
		{ "ok", "[--Bad]", NULL },  { "ok", "[--a'b]", NULL },
		{ "ok", long_usage, NULL }, { "ok", many_subs, NULL },
	};
	int r;

	(void)state;
	memset(long_usage, 'A', sizeof(long_usage) - 1);
	long_usage[sizeof(long_usage) - 1] = '\0';
	for (int i = 1; i <= CLI_COMPLETE_SUBS_MAX; i++)
		snprintf(many_subs + strlen(many_subs), sizeof(many_subs) - strlen(many_subs),
			 " | s%d", i);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const struct cli_complete_command cmds[] = { { "ping", "", NULL }, bad[i] };

		assert_null(script(cmds, ARRAY_SIZE(cmds), &r));
		assert_int_equal(r, -EINVAL);
	}
	/* CLI_COMPLETE_SUBS_MAX of them pass */
	many_subs[strlen(many_subs) - strlen(" | s8")] = '\0';
	{
		const struct cli_complete_command cmds[] = { { "ok", many_subs, NULL } };
		char *s = script(cmds, 1, &r);

		assert_int_equal(r, 0);
		assert_non_null(strstr(s, "subs='a s1 s2 s3 s4 s5 s6 s7'"));
		free(s);
	}
}

/* A usage must name every option the command's parser takes, short and
 * long, whichever subcommand's; "-n|--lines N" is one option's two names,
 * both taking N. */
static void test_options_named(void **state)
{
	static const struct option logs_longs[] = {
		{ "lines", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 's' },
		{ 0 },
	};
	static const struct option follow_longs[] = { { "follow", no_argument, NULL, 'f' }, { 0 } };
	static const struct cli_options logs = { "n:", logs_longs },
					logs_s = { "n:s:", logs_longs },
					follow = { "+", follow_longs };
	const struct cli_options *const both[] = { &logs, &follow, NULL };
	const struct cli_options *const with_s[] = { &logs_s, NULL };
	struct {
		const char *args;
		const struct cli_options *const *options;
		int r;
	} cases[] = {
		{ "NAME [-n|--lines N] [--since TIME] | tail [--follow]", both, 0 },
		{ "NAME [-n|--lines N] [--since TIME]", both, -EINVAL }, /* --follow */
		{ "NAME [--lines N] [--since TIME] | tail [--follow]", both, -EINVAL }, /* -n */
		{ "NAME [-n|--lines N] | tail [--follow]", both, -EINVAL }, /* --since */
		{ "NAME [-n|--lines N] [--since TIME]", with_s, -EINVAL }, /* -s */
		{ "NAME [-n|--lines N] [-s|--since TIME]", with_s, 0 },
		{ "NAME", NULL, 0 }, /* nothing to hold it to */
	};
	int r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct cli_complete_command cmds[] = { { "logs", cases[i].args,
							       cases[i].options } };
		char *s = script(cmds, 1, &r);

		assert_int_equal(r, cases[i].r);
		if (i == 0) {
			assert_non_null(
				strstr(s, "\tlogs:)\n\t\topts='-n --lines --since --help'\n"));
			assert_non_null(strstr(s, "\tlogs:-n)\n\t\tkind='value'\n"));
			assert_non_null(strstr(s, "\tlogs:--lines)\n\t\tkind='value'\n"));
		}
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_options_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
