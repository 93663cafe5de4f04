/* porthole --complete-bash (cli-complete.h): reads each command's usage
 * from the command table and prints bash's _porthole function. What the
 * commands do is theirs; this file only knows porthole --help's notation. */
#include "cli-complete.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "util.h"

enum value_kind {
	VALUE_NONE, /* a flag */
	VALUE_ANY, /* a value to type: nothing to offer */
	VALUE_WORDS, /* lower-case choices (auto|step|slew) */
	VALUE_FILE, /* a host file name (FILE, PATH) */
	VALUE_DIR, /* a host directory (DIR) */
};

/* Names, words and values point into struct usage's text. */
struct opt {
	const char *name;
	size_t len;
	enum value_kind kind;
	const char *value; /* the metavariable, for VALUE_WORDS */
	size_t value_len;
	int sub; /* the subcommand it belongs to, -1: the command itself */
};

struct usage {
	char text[CLI_COMPLETE_ARGS_MAX]; /* the usage without [ and ] */
	const char *subs[CLI_COMPLETE_SUBS_MAX];
	size_t sub_len[CLI_COMPLETE_SUBS_MAX];
	size_t n_subs;
	struct opt opts[CLI_COMPLETE_OPTS_MAX];
	size_t n_opts;
	bool command_arg; /* a positional COMMAND: porthole's own commands */
};

static bool is_name_char(char c)
{
	return islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-';
}

/* S[0..LEN) is a lower-case name (a command, subcommand, choice or an
 * option without its dashes): safe to print inside bash's single quotes. */
static bool is_name(const char *s, size_t len)
{
	if (len == 0 || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_name_char(s[i]))
			return false;
	return true;
}

/* An option: - and a letter, or -- and a name. */
static bool is_option(const char *s, size_t len)
{
	if (len == 2 && s[0] == '-' && isalpha((unsigned char)s[1]))
		return true;
	return len > 2 && s[0] == '-' && s[1] == '-' && is_name(s + 2, len - 2);
}

static bool contains(const char *s, size_t len, const char *what)
{
	size_t w = strlen(what);

	for (size_t i = 0; i + w <= len; i++)
		if (memcmp(s + i, what, w) == 0)
			return true;
	return false;
}

/* What an option's metavariable VALUE asks for. */
static enum value_kind value_kind(const char *v, size_t len)
{
	if (contains(v, len, "FILE") || contains(v, len, "PATH"))
		return VALUE_FILE;
	if (contains(v, len, "DIR"))
		return VALUE_DIR;
	for (size_t i = 0; i < len; i++)
		if (islower((unsigned char)v[i]))
			return VALUE_WORDS;
	return VALUE_ANY;
}

/* A metavariable follows an option: upper case (N, SIZE|max, K=V), or
 * choices (auto|step|slew); not an option, "|" or "--". */
static bool is_value(const char *s, size_t len)
{
	if (s[0] == '-' || (len == 1 && s[0] == '|'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (isupper((unsigned char)s[i]) || s[i] == '|' || s[i] == '=')
			return true;
	return false;
}

static int add_opt(struct usage *u, const char *name, size_t len, int sub)
{
	for (size_t i = 0; i < u->n_opts; i++)
		if (u->opts[i].len == len && memcmp(u->opts[i].name, name, len) == 0 &&
		    u->opts[i].sub == sub)
			return (int)i;
	if (u->n_opts == CLI_COMPLETE_OPTS_MAX)
		return -E2BIG;
	u->opts[u->n_opts] = (struct opt){ .name = name, .len = len, .sub = sub };
	return (int)u->n_opts++;
}

/* Reads ARGS into U. The notation is porthole --help's (cli-complete.h). */
static int usage_parse(const char *args, struct usage *u)
{
	size_t n = 0, len;
	/* a subcommand may come first, and after a "|" */
	bool at_start = true;
	/* the options that a value after them belongs to: [first, last] of
	 * one word ("-n|--lines N": both take N) */
	int sub = -1, first = -1, last = -1;
	char *p;

	memset(u, 0, sizeof(*u));
	for (const char *s = args; *s; s++) {
		if (*s == '[' || *s == ']')
			continue;
		if (n + 1 >= sizeof(u->text))
			return -E2BIG;
		u->text[n++] = *s;
	}
	for (p = u->text; *p; p += len) {
		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (len == 0)
			break;
		/* "ARG...", "--env NAME=VALUE...": once or more */
		size_t tlen = len;
		while (tlen > 3 && memcmp(p + tlen - 3, "...", 3) == 0)
			tlen -= 3;
		/* "| word" starts another subcommand; "| --option" is another
		 * option of the same one ([--relay-port N | --relay ADDRESS]) */
		if (tlen == 1 && p[0] == '|') {
			at_start = true;
			first = last = -1;
			continue;
		}
		if (p[0] == '-') {
			/* "-t|-i", "-n|--lines": options apart; new ones are
			 * added in order, so one word's are [first, last] */
			first = (int)u->n_opts;
			last = -1;
			for (size_t i = 0; i < tlen;) {
				size_t l = strcspn(p + i, "| ");

				if (l > tlen - i)
					l = tlen - i;
				if (is_option(p + i, l)) {
					last = add_opt(u, p + i, l, sub);
					if (last < 0)
						return last;
				} else if (!(l == 2 && memcmp(p + i, "--", 2) == 0)) {
					return -EINVAL;
				}
				i += l + 1;
			}
			if (last < first) /* only "--", or options named before */
				first = last;
			at_start = false;
			continue;
		}
		if (last >= 0 && is_value(p, tlen)) {
			for (int i = first; i <= last; i++) {
				u->opts[i].kind = value_kind(p, tlen);
				u->opts[i].value = p;
				u->opts[i].value_len = tlen;
			}
			first = last = -1;
			continue;
		}
		first = last = -1;
		if (at_start && is_name(p, tlen)) {
			if (u->n_subs == CLI_COMPLETE_SUBS_MAX)
				return -E2BIG;
			u->subs[u->n_subs] = p;
			u->sub_len[u->n_subs] = tlen;
			sub = (int)u->n_subs++;
		} else if (tlen == 7 && memcmp(p, "COMMAND", 7) == 0) {
			u->command_arg = true;
		}
		at_start = false;
	}
	return 0;
}

static bool usage_names(const struct usage *u, const char *opt)
{
	size_t len = strlen(opt);

	for (size_t i = 0; i < u->n_opts; i++)
		if (u->opts[i].len == len && memcmp(u->opts[i].name, opt, len) == 0)
			return true;
	return false;
}

/* Whether U names every option of OPTIONS (cli-complete.h); if not, the
 * first it leaves out is written to NAME ("-w", "--wait"). */
static bool usage_names_all(const struct usage *u, const struct cli_options *const *options,
			    char *name, size_t size)
{
	for (; options && *options; options++) {
		for (const char *c = (*options)->shorts; *c; c++) {
			if (*c == '+' || *c == ':')
				continue;
			snprintf(name, size, "-%c", *c);
			if (!usage_names(u, name))
				return false;
		}
		for (const struct option *o = (*options)->longs; o && o->name; o++) {
			snprintf(name, size, "--%s", o->name);
			if (!usage_names(u, name))
				return false;
		}
	}
	return true;
}

/* The options of context SUB (-1: the command without a subcommand), and
 * --help, which every command takes. */
static void print_opts(FILE *f, const struct usage *u, int sub)
{
	for (size_t i = 0; i < u->n_opts; i++)
		if (u->opts[i].sub == sub)
			fprintf(f, "%.*s ", (int)u->opts[i].len, u->opts[i].name);
	fputs("--help", f);
}

/* VALUE's lower-case choices: "SIZE|max" offers max. */
static void print_words(FILE *f, const char *value, size_t len)
{
	const char *sep = "";

	for (size_t i = 0; i < len;) {
		size_t l = strcspn(value + i, "|");

		if (l > len - i)
			l = len - i;
		if (is_name(value + i, l)) {
			fprintf(f, "%s%.*s", sep, (int)l, value + i);
			sep = " ";
		}
		i += l + 1;
	}
}

static const char *const kind_names[] = {
	[VALUE_NONE] = "",     [VALUE_ANY] = "value", [VALUE_WORDS] = "words",
	[VALUE_FILE] = "file", [VALUE_DIR] = "dir",
};

/* The case arms of one command: what its words are, in three tables that
 * the script's body reads (below). */
/* Whether option I has the name of an earlier one (forward docker's and
 * forward ports' --relay): one case arm each. */
static bool opt_seen(const struct usage *u, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (u->opts[k].len == u->opts[i].len &&
		    memcmp(u->opts[k].name, u->opts[i].name, u->opts[i].len) == 0)
			return true;
	return false;
}

static void print_command(FILE *f, const char *name, const struct usage *u, int part)
{
	switch (part) {
	case 0: /* its subcommands, and the options that take a value */
		fprintf(f, "\t%s)\n\t\tsubs='", name);
		for (size_t i = 0; i < u->n_subs; i++)
			fprintf(f, "%s%.*s", i ? " " : "", (int)u->sub_len[i], u->subs[i]);
		fputs("'\n\t\tvals='", f);
		for (size_t i = 0, first = 1; i < u->n_opts; i++)
			if (u->opts[i].kind != VALUE_NONE && !opt_seen(u, i)) {
				fprintf(f, "%s%.*s", first ? "" : " ", (int)u->opts[i].len,
					u->opts[i].name);
				first = 0;
			}
		fputs("'\n\t\t;;\n", f);
		break;
	case 1: /* each context's options */
		fprintf(f, "\t%s:)\n\t\topts='", name);
		print_opts(f, u, -1);
		fprintf(f, "'%s\n\t\t;;\n", u->command_arg ? "\n\t\tpositional=commands" : "");
		for (size_t s = 0; s < u->n_subs; s++) {
			fprintf(f, "\t%s:%.*s)\n\t\topts='", name, (int)u->sub_len[s], u->subs[s]);
			print_opts(f, u, (int)s);
			fputs("'\n\t\t;;\n", f);
		}
		break;
	case 2: /* each option's value */
		for (size_t i = 0; i < u->n_opts; i++) {
			const struct opt *o = &u->opts[i];

			if (o->kind == VALUE_NONE || opt_seen(u, i))
				continue;
			fprintf(f, "\t%s:%.*s)\n\t\tkind='%s'", name, (int)o->len, o->name,
				kind_names[o->kind]);
			if (o->kind == VALUE_WORDS) {
				fputs(" words='", f);
				print_words(f, o->value, o->value_len);
				fputc('\'', f);
			}
			fputs("\n\t\t;;\n", f);
		}
		break;
	}
}

/* The script around the tables: how the words typed so far are read. */
static const char script_head[] =
	"# bash completion for porthole(1), printed by `porthole --complete-bash` from the\n"
	"# command table porthole itself runs: every command, subcommand and option it has.\n"
	"# Installed as /usr/share/bash-completion/completions/porthole; or: source <(porthole "
	"--complete-bash)\n"
	"_porthole() {\n"
	"\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev='' cmd='' sub='' w j i skip=0 ci=0\n"
	"\tlocal subs='' vals='' opts='' kind='' words='' positional=''\n"
	"\tCOMPREPLY=()\n"
	"\t# bash splits a word at : and = (COMP_WORDBREAKS): unix:PATH is unix, :, PATH.\n"
	"\t# J is where the word being completed starts; what follows : is completed.\n"
	"\tj=$COMP_CWORD\n"
	"\twhile ((j > 1)) && [[ ${COMP_WORDS[j]} == [:=] || ${COMP_WORDS[j - 1]} == [:=] ]]; do\n"
	"\t\t((j--))\n"
	"\tdone\n"
	"\t[[ $cur != [:=] ]] || cur=''\n"
	"\tif ((j < COMP_CWORD)) && [[ ${COMP_WORDS[j + 1]} == = ]]; then\n"
	"\t\tprev=${COMP_WORDS[j]} # --option=VALUE\n"
	"\telse\n"
	"\t\tprev=${COMP_WORDS[j - 1]}\n"
	"\tfi\n"
	"\t# the command: the first word that is not a global option or its value\n"
	"\tfor ((i = 1; i < j; i++)); do\n"
	"\t\tw=${COMP_WORDS[i]}\n"
	"\t\t[[ $w != [:=] && ${COMP_WORDS[i - 1]} != [:=] ]] || continue\n"
	"\t\tif ((skip)); then skip=0; continue; fi\n"
	"\t\tif [[ \" $global_vals \" == *\" $w \"* ]]; then skip=1; continue; fi\n"
	"\t\t[[ $w != -* ]] || continue\n"
	"\t\tcmd=$w ci=$i\n"
	"\t\tbreak\n"
	"\tdone\n"
	"\tskip=0\n"
	"\tif [[ -z $cmd ]]; then\n"
	"\t\t# --connect's value: an address, a file name after unix:\n"
	"\t\tif [[ \" $global_connect \" == *\" $prev \"* ]]; then\n"
	"\t\t\tif [[ ${COMP_WORDS[j]}${COMP_WORDS[j + 1]} == unix: ]]; then\n"
	"\t\t\t\tcompopt -o filenames 2>/dev/null\n"
	"\t\t\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
	"\t\t\telif ((j == COMP_CWORD)); then\n"
	"\t\t\t\tcompopt -o nospace 2>/dev/null\n"
	"\t\t\t\tmapfile -t COMPREPLY < <(compgen -W 'unix: vsock: hvsock:' -- \"$cur\")\n"
	"\t\t\tfi\n"
	"\t\t\treturn\n"
	"\t\tfi\n"
	"\t\t[[ \" $global_vals \" != *\" $prev \"* ]] || return\n"
	"\t\tif [[ $cur == -* ]]; then\n"
	"\t\t\tmapfile -t COMPREPLY < <(compgen -W \"$global_opts\" -- \"$cur\")\n"
	"\t\telse\n"
	"\t\t\tmapfile -t COMPREPLY < <(compgen -W \"$commands\" -- \"$cur\")\n"
	"\t\tfi\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tcase $cmd in\n";

static const char script_sub[] =
	"\t*) return ;;\n"
	"\tesac\n"
	"\t# its subcommand: the first word after it that is one; after --, or a word\n"
	"\t# that is none, what follows is the command's arguments\n"
	"\tfor ((i = ci + 1; i < j; i++)); do\n"
	"\t\tw=${COMP_WORDS[i]}\n"
	"\t\t[[ $w != [:=] && ${COMP_WORDS[i - 1]} != [:=] ]] || continue\n"
	"\t\tif ((skip)); then skip=0; continue; fi\n"
	"\t\tif [[ $w == -- ]]; then return; fi\n"
	"\t\tif [[ \" $vals \" == *\" $w \"* ]]; then skip=1; continue; fi\n"
	"\t\t[[ $w != -* ]] || continue\n"
	"\t\t[[ \" $subs \" == *\" $w \"* ]] && sub=$w\n"
	"\t\tbreak\n"
	"\tdone\n"
	"\tcase $cmd:$sub in\n";

static const char script_value[] = "\tesac\n"
				   "\tcase $cmd:$prev in\n";

static const char script_tail[] =
	"\tesac\n"
	"\tcase $kind in\n"
	"\tfile)\n"
	"\t\tcompopt -o filenames 2>/dev/null\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
	"\t\t;;\n"
	"\tdir)\n"
	"\t\tcompopt -o filenames 2>/dev/null\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n"
	"\t\t;;\n"
	"\twords) mapfile -t COMPREPLY < <(compgen -W \"$words\" -- \"$cur\") ;;\n"
	"\tvalue) ;;\n"
	"\t*)\n"
	"\t\tif [[ $cur == -* ]]; then\n"
	"\t\t\tmapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")\n"
	"\t\telif [[ -z $sub && -n $subs ]]; then\n"
	"\t\t\tmapfile -t COMPREPLY < <(compgen -W \"$subs\" -- \"$cur\")\n"
	"\t\telif [[ $positional == commands ]]; then\n"
	"\t\t\tmapfile -t COMPREPLY < <(compgen -W \"$commands\" -- \"$cur\")\n"
	"\t\tfi\n"
	"\t\t;;\n"
	"\tesac\n"
	"}\n"
	"complete -F _porthole porthole\n";

/* A global option as " -c --connect" (its short form when it has one). */
static void print_global(FILE *f, const struct option *o)
{
	if (o->val > 0 && o->val < 128 && isalnum(o->val))
		fprintf(f, " -%c", o->val);
	fprintf(f, " --%s", o->name);
}

/* The global options as bash variables, words a blank apart: all of them,
 * those that take a value, and --connect. */
static void print_globals(FILE *f, const struct option *global)
{
	fputs("\tlocal global_opts='", f);
	for (const struct option *o = global; o->name; o++)
		print_global(f, o);
	fputs(" '\n\tlocal global_vals='", f);
	for (const struct option *o = global; o->name; o++)
		if (o->has_arg == required_argument)
			print_global(f, o);
	fputs(" ' global_connect='", f);
	for (const struct option *o = global; o->name; o++)
		if (strcmp(o->name, "connect") == 0)
			print_global(f, o);
	fputs(" '\n", f);
}

int cli_complete_bash(FILE *f, const struct option *global, const struct cli_complete_command *cmds,
		      size_t n)
{
	/* one command's usage at a time, parsed again for each part: small,
	 * and nothing to keep for all of them at once */
	struct usage u;
	const char *body;
	size_t head_split;
	int r;

	for (const struct option *o = global; o->name; o++)
		if (!is_name(o->name, strlen(o->name))) {
			fprintf(stderr,
				"porthole: --complete-bash: global option '%s' is not a name\n",
				o->name);
			return -EINVAL;
		}
	for (size_t i = 0; i < n; i++) {
		char opt[64];

		r = is_name(cmds[i].name, strlen(cmds[i].name)) ? usage_parse(cmds[i].args, &u)
								: -EINVAL;
		if (r < 0) {
			fprintf(stderr,
				"porthole: --complete-bash: the usage of '%s' cannot be read: %s\n",
				cmds[i].name, strerror(-r));
			return -EINVAL;
		}
		if (!usage_names_all(&u, cmds[i].options, opt, sizeof(opt))) {
			fprintf(stderr,
				"porthole: --complete-bash: '%s' takes %s, which its usage does "
				"not name\n",
				cmds[i].name, opt);
			return -EINVAL;
		}
	}
	/* the global variables go right after "_porthole() {" and its locals */
	body = strstr(script_head, "\tCOMPREPLY=()\n");
	head_split = (size_t)(body - script_head);
	fwrite(script_head, 1, head_split, f);
	print_globals(f, global);
	fputs("\tlocal commands='", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", cmds[i].name);
	fputs("'\n", f);
	fputs(body, f);
	for (int part = 0; part < 3; part++) {
		fputs(part == 0 ? "" : part == 1 ? script_sub : script_value, f);
		for (size_t i = 0; i < n; i++) {
			usage_parse(cmds[i].args, &u);
			print_command(f, cmds[i].name, &u, part);
		}
	}
	fputs(script_tail, f);
	return ferror(f) ? -EIO : 0;
}
