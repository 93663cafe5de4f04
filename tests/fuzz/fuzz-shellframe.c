/* libFuzzer target: porthole-shell's frames (lib/shellframe.c) as the
 * agent's session and the host CLI take them off a connection. The first
 * byte says who sent the rest (even: the host, odd: the guest); the rest is
 * skipped past its leading white space and decoded frame after frame, as a
 * reader does, until the bytes end or are refused. Whatever the input:
 * nothing is read past the bytes given, a frame decoded never claims more
 * than the buffer holds or more than SHELLFRAME_MAX, every refusal says
 * why, and each frame decoded encodes back to exactly its own bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shellframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t again[SHELLFRAME_MAX];

static long reencode(const struct shellframe *f)
{
	switch (f->type) {
	case SHELLFRAME_STDIN:
	case SHELLFRAME_STDOUT:
	case SHELLFRAME_STDERR:
		return shellframe_encode_data(again, sizeof(again), f->type, f->data, f->len);
	case SHELLFRAME_STDIN_EOF:
		return shellframe_encode_eof(again, sizeof(again));
	case SHELLFRAME_RESIZE:
		return shellframe_encode_resize(again, sizeof(again), f->rows, f->cols);
	case SHELLFRAME_SIGNAL:
		return shellframe_encode_signal(again, sizeof(again), f->signal);
	case SHELLFRAME_EXIT:
		return shellframe_encode_exit(again, sizeof(again), f->exit_code, f->signal);
	case SHELLFRAME_ERROR:
		/* the text is bytes, not necessarily UTF-8: the header is
		 * what can be checked */
		if (shellframe_put_header(again, f->type, f->len) < 0)
			return -EINVAL;
		memcpy(again + SHELLFRAME_HEADER, f->data, f->len);
		return (long)(SHELLFRAME_HEADER + f->len);
	}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum shellframe_from from;
	char why[SHELLFRAME_WHY_MAX];
	size_t off;

	if (size < 1)
		return 0;
	from = data[0] & 1 ? SHELLFRAME_FROM_GUEST : SHELLFRAME_FROM_HOST;
	data++;
	size--;
	off = shellframe_skip_space(data, size);
	if (off > size)
		abort();
	while (off < size) {
		struct shellframe f;
		long n;

		why[0] = '\0';
		n = shellframe_decode(data + off, size - off, from, &f, why, sizeof(why));
		if (n == 0)
			break;
		if (n < 0) {
			if (n != -EBADMSG || !why[0] || !memchr(why, '\0', sizeof(why)))
				abort();
			break;
		}
		if ((size_t)n > size - off || n > SHELLFRAME_MAX || n < SHELLFRAME_HEADER)
			abort();
		if (reencode(&f) != n || memcmp(again, data + off, (size_t)n) != 0)
			abort();
		off += (size_t)n;
	}
	return 0;
}
