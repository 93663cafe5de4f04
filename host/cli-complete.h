/* porthole's bash completion, made from the command table porthole runs
 * (host/porthole.c's commands[]): each command's usage ("args") is read
 * for its subcommands, options, their values and which of those are file
 * names, and a bash function, _porthole, is printed that offers them.
 * porthole.c owns the table and the hidden --complete-bash option. */
#pragma once

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

/* One command as the table has it: its name and its usage after the name,
 * in porthole --help's notation: [optional], A | B alternatives, a lower-case
 * word first in an alternative a subcommand, --option VALUE (a value's
 * FILE, PATH or DIR a host file name, a|b|c lower-case choices). */
struct cli_complete_command {
	const char *name;
	const char *args;
	/* what its parser takes (struct cli_options; for a command with
	 * subcommands, each one's), NULL-ended, or NULL: each option there must
	 * be in ARGS, so that --help, the manual page and the completion, all
	 * made from ARGS, name every option the command accepts */
	const struct cli_options *const *options;
};

/* The options a command's parser takes: getopt_long's short options
 * ("+w:ti", "" for none) and long options (ended by a zero entry). */
struct cli_options {
	const char *shorts;
	const struct option *longs;
};

/* Limits of one command's usage, which --complete-bash refuses to pass. */
#define CLI_COMPLETE_ARGS_MAX 512 /* bytes of a usage */
#define CLI_COMPLETE_SUBS_MAX 8 /* subcommands */
#define CLI_COMPLETE_OPTS_MAX 32 /* options, over all its subcommands */

/* Writes the completion script to F: the global options GLOBAL (porthole's
 * getopt_long table, ended by a zero entry; its "connect" is completed as an
 * address), then the N commands CMDS. 0, or -EINVAL when a name or a usage
 * cannot be read (a character outside [a-z0-9-] in a name or an option, a
 * usage over the limits) or a usage leaves out an option its parser takes,
 * said on stderr with the command's name; then nothing is written. */
int cli_complete_bash(FILE *f, const struct option *global, const struct cli_complete_command *cmds,
		      size_t n);
