/* The agent's shared state: its configuration and the event loop that the
 * transports and the asynchronous commands (guest-exec, porthole-shell)
 * register with. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "sharemount.h"

struct launcher;
struct worker;

#define AGENT_VERSION_PROTOCOL 1
#define AGENT_CIDS_MAX 8
#define AGENT_RPCS_MAX 64
#define AGENT_UIDS_MAX 8

struct agent_config {
	unsigned vsock_port; /* 0: no vsock listener */
	uint32_t vsock_cids[AGENT_CIDS_MAX]; /* peers accepted over vsock */
	size_t n_vsock_cids;
	char unix_path[108]; /* "" : no unix socket */
	unsigned unix_mode; /* of the socket file, 0600 by default */
	uid_t unix_uids[AGENT_UIDS_MAX]; /* accepted besides root (and the agent's uid) */
	size_t n_unix_uids;
	bool serial; /* the two virtio-serial ports */
	char serial_dir[256]; /* /dev/virtio-ports */
	size_t max_request; /* bytes of one request, 64 KiB */
	size_t max_output; /* bytes queued for one client, 1 MiB */
	unsigned max_clients; /* connections at once, 64 */
	unsigned idle_timeout_s; /* a silent client is closed, 300 s */
	bool exec_enabled; /* guest-exec and guest-exec-status */
	bool shell_enabled; /* porthole-shell */
	size_t exec_output_max; /* captured bytes per stream, 1 MiB */
	char allow_rpcs[AGENT_RPCS_MAX][64]; /* empty: all allowed */
	size_t n_allow_rpcs;
	char block_rpcs[AGENT_RPCS_MAX][64];
	size_t n_block_rpcs;
	char data_mount[256]; /* the data disk's mount point, for health */
	bool ptp_sync; /* keep the clock on the KVM PTP clock */
	unsigned ptp_interval_s;
	char share_roots[SHARE_ROOTS_MAX][SHARE_PATH_MAX]; /* where shares may go */
	size_t n_share_roots;
	unsigned trim_interval_s; /* periodic FITRIM of the data disk, 0: never */
	char init_socket[108]; /* init's control socket; "": none (docs/control.md) */
	int seccomp; /* enum agent_seccomp_mode (seccomp.h): enforce, log, off */
	/* trim after deletes: the engine's API socket, watched for deletes of
	 * images, containers and volumes; the data disk trimmed this many
	 * seconds after the last of a burst, 0: not watched (docs/memory.md) */
	char engine_socket[108];
	unsigned trim_after_delete_s;
	/* giving memory back (docs/memory.md): reclaim when busy and when idle;
	 * idle after this many seconds without container CPU or host requests;
	 * checked this often; the service whose cgroup holds the containers */
	bool memory_reclaim;
	unsigned memory_idle_after_s;
	unsigned memory_check_interval_s;
	char memory_engine[64];
	/* free page reporting's granularity, 2^order pages; 0: the kernel's */
	unsigned memory_report_order;
};

struct agent {
	struct agent_config cfg;
	struct loop *loop;
	uint64_t start_mono_ns;
	/* not in its VM (another pid namespace, or PID 1 is not porthole-init:
	 * the sandbox tier, tests on the host): the caches, cgroups and disks
	 * around it are not its to reclaim or trim */
	bool sandbox;
	/* set by guest-shutdown: the loop ends after the current replies are sent */
	bool shutdown_requested;
	int shutdown_signal; /* the signal for init: SIGTERM, SIGINT, SIGUSR1 */
	void *exec; /* cmd-exec.c's state */
	struct launcher *launcher; /* launcher.c's: guest-exec's spawner, or NULL */
	void *shell; /* cmd-shell.c's state */
	/* worker.c's threads for what may block (trim, init's socket, mounts):
	 * started on first use, ended with the process (worker_free) */
	struct worker *worker;
	/* when the host last asked for something that is not CMD_QUIET: the
	 * idle test of the memory reclaim (cmd-memory.c); 0: never */
	uint64_t last_request_mono_ns;
};
