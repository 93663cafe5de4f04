/* porthole network and porthole dns set: porthole-network's view of the
 * guest's interfaces, routes, DNS and DHCP leases (guest-network-get-interfaces
 * from a plain qemu-ga), and porthole-dns-set. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "client.h"

#define DNS_ARGS_MAX 16

/* qemu-ga's address objects: {"ip-address", "prefix"} -> "a/len" */
static const char *addr_text(json_t *addr, char *buf, size_t size)
{
	json_t *prefix = json_object_get(addr, "prefix");
	const char *ip = json_string_value(json_object_get(addr, "ip-address"));

	if (json_is_integer(prefix))
		snprintf(buf, size, "%s/%" JSON_INTEGER_FORMAT, ip ? ip : "?",
			 json_integer_value(prefix));
	else
		snprintf(buf, size, "%s", ip ? ip : "?");
	return buf;
}

/* guest-network-get-interfaces (qemu-ga): name, MAC and addresses */
static void print_qga(json_t *result)
{
	struct cli_table t = { .ncols = 3 };
	json_t *ifc, *addr;
	size_t i, j;

	cli_table_add(&t, "NAME", "MAC", "ADDRESS");
	json_array_foreach(result, i, ifc)
	{
		json_t *addrs = json_object_get(ifc, "ip-addresses");
		const char *name = cli_str(ifc, "name"), *mac = cli_str(ifc, "hardware-address");

		if (json_array_size(addrs) == 0)
			cli_table_add(&t, name, mac, "-");
		json_array_foreach(addrs, j, addr)
		{
			char a[128];

			cli_table_add(&t, j == 0 ? name : "", j == 0 ? mac : "",
				      addr_text(addr, a, sizeof(a)));
		}
	}
	cli_table_print_free(&t);
}

static void print_lease(json_t *ifc)
{
	json_t *l = json_object_get(ifc, "dhcp"), *dns = json_object_get(l, "dns"), *e;
	json_t *addr = json_object_get(l, "address");
	char t1[64], t2[64];
	size_t i;

	if (!l)
		return;
	printf("%s: dhcp %s", cli_str(ifc, "name"), cli_str(l, "state"));
	if (json_array_size(addr))
		printf(", %s from %s, router %s, dns",
		       cli_or_dash(json_string_value(json_array_get(addr, 0))),
		       cli_str(l, "server"), cli_str(l, "router"));
	json_array_foreach(dns, i, e)
		printf("%s%s", i ? "," : " ", json_string_value(e) ? json_string_value(e) : "?");
	if (json_is_integer(json_object_get(l, "expires")) &&
	    json_integer_value(json_object_get(l, "expires")) >= 0)
		printf("; obtained %s, expires %s",
		       cli_guest_time_str(json_object_get(l, "obtained"), t1, sizeof(t1)),
		       cli_guest_time_str(json_object_get(l, "expires"), t2, sizeof(t2)));
	putchar('\n');
}

static void print_network(json_t *result)
{
	struct cli_table t = { .ncols = 5 };
	json_t *ifaces = json_object_get(result, "interfaces"), *ifc, *addr, *rt;
	json_t *dns = json_object_get(result, "dns");
	size_t i, j;
	char mtu[16], buf[128];

	cli_table_add(&t, "NAME", "STATE", "MAC", "MTU", "ADDRESS");
	json_array_foreach(ifaces, i, ifc)
	{
		json_t *addrs = json_object_get(ifc, "addresses");
		const char *state = json_is_true(json_object_get(ifc, "carrier")) ||
						    strcmp(cli_str(ifc, "state"), "down") == 0
					    ? cli_str(ifc, "state")
					    : "no-carrier";

		snprintf(mtu, sizeof(mtu), "%s", cli_scalar(json_object_get(ifc, "mtu"), buf, 16));
		if (json_array_size(addrs) == 0)
			cli_table_add(&t, cli_str(ifc, "name"), state, cli_str(ifc, "mac"), mtu,
				      "-");
		json_array_foreach(addrs, j, addr)
		{
			char a[128];

			if (j == 0)
				cli_table_add(&t, cli_str(ifc, "name"), state, cli_str(ifc, "mac"),
					      mtu, addr_text(addr, a, sizeof(a)));
			else
				cli_table_add(&t, "", "", "", "", addr_text(addr, a, sizeof(a)));
		}
	}
	cli_table_print_free(&t);
	json_array_foreach(ifaces, i, ifc)
	{
		print_lease(ifc);
		if (json_object_get(ifc, "error"))
			printf("%s: error: %s\n", cli_str(ifc, "name"), cli_str(ifc, "error"));
	}
	printf("\nroutes:\n");
	json_array_foreach(json_object_get(result, "routes"), i, rt)
	{
		printf("  %s", cli_str(rt, "destination"));
		if (json_object_get(rt, "gateway"))
			printf(" via %s", cli_str(rt, "gateway"));
		printf(" dev %s (%s, metric %s)\n", cli_str(rt, "interface"),
		       cli_str(rt, "protocol"),
		       cli_scalar(json_object_get(rt, "metric"), buf, sizeof(buf)));
	}
	printf("\ndns:");
	json_array_foreach(json_object_get(dns, "servers"), i, addr)
		printf(" %s", json_string_value(addr) ? json_string_value(addr) : "?");
	if (json_array_size(json_object_get(dns, "search"))) {
		printf("; search");
		json_array_foreach(json_object_get(dns, "search"), i, addr)
			printf(" %s", json_string_value(addr) ? json_string_value(addr) : "?");
	}
	if (json_object_get(dns, "source"))
		printf(" (%s)", cli_str(dns, "source"));
	putchar('\n');
}

int cli_network(struct cli *cli, int argc, char **argv)
{
	struct client_error err;
	json_t *result = NULL;
	bool qga = false;
	int r = cli_no_args(argv[0], argc, argv);

	if (r != CLI_EXIT_OK)
		return r;
	r = cli_connect(cli);
	if (r != CLI_EXIT_OK)
		return r;
	r = client_call_json(cli->c, "porthole-network", NULL, cli->timeout_ms, &result, &err);
	/* a plain qemu-ga: its own command */
	if (r < 0 && client_status(r) == CLIENT_GUEST_ERROR &&
	    strcmp(err.class, "CommandNotFound") == 0) {
		qga = true;
		r = client_call_json(cli->c, "guest-network-get-interfaces", NULL, cli->timeout_ms,
				     &result, &err);
	}
	if (r < 0)
		return cli_report(r, &err);
	if (cli->json)
		cli_print_json(result, JSON_COMPACT);
	else if (qga)
		print_qga(result);
	else
		print_network(result);
	json_decref(result);
	return CLI_EXIT_OK;
}

/* porthole dns set SERVER... [--search DOMAIN...] */
int cli_dns(struct cli *cli, int argc, char **argv)
{
	json_t *servers, *search, *args, *result = NULL;
	bool in_search = false;
	int r;

	if (argc < 3 || strcmp(argv[1], "set") != 0)
		return cli_usage_error(argv[0], "usage: dns set SERVER... [--search DOMAIN...]");
	if (argc - 2 > DNS_ARGS_MAX)
		return cli_usage_error(argv[0], "at most %d servers and domains", DNS_ARGS_MAX);
	servers = json_array();
	search = json_array();
	args = json_object();
	if (!servers || !search || !args) {
		json_decref(servers);
		json_decref(search);
		json_decref(args);
		cli_error("out of memory");
		return CLI_EXIT_CONNECT;
	}
	json_object_set_new(args, "servers", servers);
	json_object_set_new(args, "search", search);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--search") == 0) {
			in_search = true;
			continue;
		}
		json_array_append_new(in_search ? search : servers, json_string(argv[i]));
	}
	if (json_array_size(servers) == 0) {
		json_decref(args);
		return cli_usage_error(argv[0], "dns set: name at least one server");
	}
	r = cli_call(cli, "porthole-dns-set", args, &result);
	json_decref(args);
	if (r != CLI_EXIT_OK)
		return r;
	if (cli->json)
		cli_print_json(result, JSON_COMPACT);
	json_decref(result);
	return CLI_EXIT_OK;
}
