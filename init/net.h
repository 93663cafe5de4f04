/* Network configuration over rtnetlink (libmnl). For now: links up. */
#pragma once

/* Sets the link IFNAME up; the kernel's extended ack, if any, is logged. */
int net_link_up(const char *ifname);
