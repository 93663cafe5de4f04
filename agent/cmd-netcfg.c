/* porthole-network and porthole-dns-set: placeholder until the network
 * issue lands (an empty table keeps the dispatcher's list complete). */
#include "command.h"

const struct command cmd_netcfg_table[] = {
	{ 0 },
};
