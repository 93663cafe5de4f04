/* porthole call NAME [ARGS-JSON]: any command by name, its JSON result
 * printed as it came; commands that answer nothing on success (qemu-ga's
 * success-response false) print {} once the agent took them. */
#include <stdio.h>

#include "cli.h"

int cli_call_any(struct cli *cli, int argc, char **argv)
{
	json_t *args = NULL, *result = NULL;
	json_error_t jerr;
	int r;

	if (argc < 2 || argc > 3)
		return cli_usage_error(argv[0], "call wants NAME [ARGS-JSON]");
	if (argc == 3) {
		args = json_loads(argv[2], 0, &jerr);
		if (!args)
			return cli_usage_error(argv[0], "ARGS-JSON: %s (at character %d)",
					       jerr.text, jerr.position);
		if (!json_is_object(args)) {
			json_decref(args);
			return cli_usage_error(argv[0], "ARGS-JSON must be a JSON object");
		}
	}
	if (client_command_silent(argv[1])) {
		/* nothing comes back on success: {} once it is known to be taken */
		struct client_error err;
		bool closed;

		r = cli_connect(cli);
		if (r == CLI_EXIT_OK) {
			int e = client_call_silent(cli->c, argv[1], args, cli->timeout_ms, &closed,
						   &err);

			if (e < 0)
				r = cli_report(e, &err);
		}
		json_decref(args);
		if (r == CLI_EXIT_OK)
			puts("{}");
		return r;
	}
	r = cli_call(cli, argv[1], args, &result);
	json_decref(args);
	if (r != CLI_EXIT_OK)
		return r;
	cli_print_json(result, cli->json ? JSON_COMPACT : JSON_INDENT(2));
	json_decref(result);
	return CLI_EXIT_OK;
}
