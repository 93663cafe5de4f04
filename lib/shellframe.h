/* The frames of a porthole-shell session (docs/protocol.md): once the agent
 * has answered porthole-shell, both directions of the connection carry
 * binary frames, a 4-byte header (type, flags, big-endian length) and a
 * bounded payload. The agent's session process and the host CLI both
 * encode and decode them here; what a frame makes happen is theirs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHELLFRAME_HEADER 4
/* The most a data frame carries: a read of the pty or a pipe at a time. */
#define SHELLFRAME_DATA_MAX 32768
/* The longest text of an error frame. */
#define SHELLFRAME_ERROR_MAX 512
#define SHELLFRAME_MAX (SHELLFRAME_HEADER + SHELLFRAME_DATA_MAX)
/* Signals a frame may name: 1 to SIGRTMAX (64 on Linux). */
#define SHELLFRAME_SIGNAL_MAX 64
/* Enough for every message of shellframe_decode. */
#define SHELLFRAME_WHY_MAX 128

/* The host's types have the high bit clear, the guest's set: a frame's
 * direction is in its type. */
enum shellframe_type {
	SHELLFRAME_STDIN = 0x01, /* bytes for the command's input */
	SHELLFRAME_STDIN_EOF = 0x02, /* no more input */
	SHELLFRAME_RESIZE = 0x03, /* the terminal's rows and columns */
	SHELLFRAME_SIGNAL = 0x04, /* a signal for the command */
	SHELLFRAME_STDOUT = 0x81, /* the command's output (the pty's, with a tty) */
	SHELLFRAME_STDERR = 0x82, /* its error output, without a tty */
	SHELLFRAME_EXIT = 0x83, /* its exit code or signal: the last frame */
	SHELLFRAME_ERROR = 0x84, /* the session ended without an exit: why */
};

enum shellframe_from {
	SHELLFRAME_FROM_HOST,
	SHELLFRAME_FROM_GUEST,
};

struct shellframe {
	enum shellframe_type type;
	/* STDIN, STDOUT, STDERR, ERROR: the payload, inside the buffer decoded */
	const uint8_t *data;
	size_t len;
	unsigned rows, cols; /* RESIZE: 1 to 65535 each */
	int signal; /* SIGNAL; EXIT when killed by a signal (else 0) */
	int exit_code; /* EXIT: 0 to 255, or -1 when killed by a signal */
};

/* Decodes the frame at the start of BUF (LEN bytes), which FROM sent: its
 * size in bytes (> 0) with *RET filled; 0 when BUF holds less than a frame
 * and nothing wrong so far; -EBADMSG, with WHY (a fragment that reads after
 * a colon) filled, as soon as the bytes cannot be a frame FROM may send: an
 * unknown type, one of the other side's, flags set, a length its type does
 * not allow, a value out of range. */
long shellframe_decode(const void *buf, size_t len, enum shellframe_from from,
		       struct shellframe *ret, char *why, size_t why_size);

/* Writes the header of a frame of TYPE with a payload of LEN bytes (which
 * the caller puts right after it, or has put there: a read straight into
 * the frame). -EINVAL for a length the type does not allow. */
int shellframe_put_header(void *buf, enum shellframe_type type, size_t len);

/* Each encoder writes one frame into BUF (SIZE bytes) and returns its size,
 * -ENOBUFS when SIZE is too small, or -EINVAL for a value the format
 * cannot carry (what shellframe_decode would refuse). */
long shellframe_encode_data(void *buf, size_t size, enum shellframe_type type, const void *data,
			    size_t len);
long shellframe_encode_eof(void *buf, size_t size);
long shellframe_encode_resize(void *buf, size_t size, unsigned rows, unsigned cols);
long shellframe_encode_signal(void *buf, size_t size, int sig);
/* SIG 0: exited with CODE (0 to 255); else killed by SIG. */
long shellframe_encode_exit(void *buf, size_t size, int code, int sig);
/* TEXT, cut to SHELLFRAME_ERROR_MAX bytes between two UTF-8 characters. */
long shellframe_encode_error(void *buf, size_t size, const char *text);

/* How many bytes at the start of BUF are JSON white space: what precedes
 * the first frame of each direction (the reply's newline, one a client
 * sends after its request) and is skipped. No frame type is one of them. */
size_t shellframe_skip_space(const void *buf, size_t len);

/* "stdin", "exit", ...; "unknown" for a type not above. */
const char *shellframe_type_name(unsigned type);
