/* A porthole-shell session: the process the agent forks for it, which owns
 * the host's connection from then on, runs one command (on a pty, or on
 * pipes) and relays between the two in frames (lib/shellframe.h). What the
 * request asked for is cmd-shell.c's to check; the agent's loop knows the
 * session only by its pid. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "shellframe.h"

/* Bytes from the host not yet taken as frames: two whole frames. */
#define SESSION_RX_MAX (2 * (SHELLFRAME_MAX))
/* Output framed for the host and not yet sent: the command's output is
 * not read while this much waits. */
#define SESSION_TX_MAX (4 * (SHELLFRAME_MAX))
/* After the command's exit, how long output still held open (by a child
 * it left running) is waited for before the exit is sent. */
#define SESSION_DRAIN_MS 2000
/* The last frames (the exit, an error) to a host that does not read. */
#define SESSION_FLUSH_MS 10000
/* When the host has gone: from SIGHUP to SIGKILL, then from SIGKILL to
 * giving up on reaping the command (init reaps what it leaves). */
#define SESSION_HUP_MS 2000
#define SESSION_REAP_MS 2000

/* What to run, checked and complete (cmd-shell.c builds it). */
struct shell_spec {
	char file[PATH_MAX]; /* the program, resolved */
	char **argv; /* NULL-terminated; argv[0] "-sh" for a login shell */
	char **envp; /* NULL-terminated, the whole environment */
	char dir[PATH_MAX]; /* the working directory: the user's home */
	bool tty;
	unsigned rows, cols;
};

/* The command's side of the session, opened by the agent before it forks
 * the session process, so that a guest without a pty to give answers the
 * request with an error. -1 for what is not open. */
struct shell_io {
	int pty, slave; /* with a tty: the master, and the command's side */
	int in[2], out[2], err[2]; /* without: the command's stdin, stdout, stderr */
	char pts[32]; /* the slave's name, for the log */
};

void shell_io_init(struct shell_io *io);
/* Opens a pty (posix_openpt(3), its window size set) or three pipes, as SPEC
 * says; every descriptor above 2 and close-on-exec. -errno with WHY filled. */
int shell_io_open(struct shell_io *io, const struct shell_spec *spec, char *why, size_t why_size);
void shell_io_close(struct shell_io *io);

/* Runs the session in a process just forked from the agent, on connection
 * CONN, whose client is first sent OWED (OWED_LEN bytes: the replies it has
 * not had yet, porthole-shell's last) and whose first SENT_LEN bytes, SENT,
 * were read already. Closes everything else the agent had open, starts the
 * command on IO and relays until it has exited and its exit is sent, or the
 * host has gone. Never returns. */
void shell_session_run(const struct shell_spec *spec, struct shell_io *io, int conn,
		       const void *owed, size_t owed_len, const void *sent, size_t sent_len)
	__attribute__((noreturn));
