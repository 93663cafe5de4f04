/* porthole shutdown: guest-shutdown, which answers nothing when it
 * succeeds; the client library tells acceptance from refusal
 * (client_call_silent). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli.h"

static const struct option shutdown_longs[] = {
	{ "reboot", no_argument, NULL, 'r' },
	{ "halt", no_argument, NULL, 'H' },
	{ "powerdown", no_argument, NULL, 'p' },
	{ 0 },
};
const struct cli_options cli_shutdown_options = { "+", shutdown_longs };

int cli_shutdown(struct cli *cli, int argc, char **argv)
{
	const char *mode = "powerdown";
	struct client_error err;
	bool closed;
	json_t *args;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, cli_shutdown_options.shorts, cli_shutdown_options.longs,
				NULL)) != -1) {
		if (c == 'r')
			mode = "reboot";
		else if (c == 'H')
			mode = "halt";
		else if (c == 'p')
			mode = "powerdown";
		else
			return cli_usage_error(argv[0], "bad option");
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "shutdown takes no arguments but an option");
	r = cli_connect(cli);
	if (r != CLI_EXIT_OK)
		return r;
	/* guest-shutdown answers nothing when it succeeds: the library tells
	 * acceptance (a sync's reply, or a close) from refusal (its error) */
	args = json_pack("{s:s}", "mode", mode);
	r = args ? client_call_silent(cli->c, "guest-shutdown", args, cli->timeout_ms, &closed,
				      &err)
		 : client_fail(&err, -ENOMEM, "out of memory");
	json_decref(args);
	if (r < 0)
		return cli_report(r, &err);
	if (!cli->json && closed) {
		printf("%s requested (the agent closed the connection)\n", mode);
		return CLI_EXIT_OK;
	}
	if (!cli->json)
		printf("%s requested\n", mode);
	else
		puts("{}");
	return CLI_EXIT_OK;
}
