/* Boot step 4, the network, and what follows it in the loop: loopback up,
 * sysctl.conf, static interfaces, a DHCP client per DHCP interface (also for
 * interfaces that appear later), /etc/resolv.conf and the state file that
 * the agent reports (/run/porthole/net.state). The rtnetlink requests are
 * net-link.c's, the DHCP protocol dhcp.c's. */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "supervise.h"

#define NET_STATE_PATH "/run/porthole/net.state"

/* Configures what CFG asks for and keeps watching link events. Failures are
 * logged with the interface and the operation; none stops the boot. */
void net_setup(struct supervisor *s, const struct init_config *cfg, bool sandbox);
