/* Base64 (RFC 4648 section 4: the standard alphabet, '=' padding): how the
 * QEMU guest agent protocol carries bytes (guest-exec's input-data, the
 * out-data and err-data guest-exec-status returns). The agent and the host
 * CLI both use it; none of the libraries they link (jansson, libmnl, inih)
 * offers it. */
#pragma once

#include <stddef.h>

/* What base64_decode accepts besides RFC 4648's canonical form (whole
 * quanta of four, padded, nothing outside the alphabet). */
enum base64_flags {
	/* qemu-ga's rules (qbase64_decode, then glib's g_base64_decode): line
	 * breaks anywhere (skipped) and a last quantum without its padding.
	 * The agent takes what qemu-ga takes. */
	BASE64_LENIENT = 1 << 0,
};

/* Encodes N bytes of SRC into a NUL-terminated string in *RET (malloc'd),
 * padded; its length in *RET_LEN when that is not NULL. Returns 0, -ENOMEM,
 * or -EOVERFLOW when N is absurdly large. */
int base64_encode(const void *src, size_t n, char **ret, size_t *ret_len);

/* Decodes LEN characters of SRC into *RET (malloc'd, *RET_LEN bytes and a
 * NUL after them, so that text can be used as it is; never NULL on success,
 * even for empty input). Refuses with -EINVAL, whatever FLAGS say, any byte
 * outside the alphabet, '=' other than at the end, too much padding and a
 * lone trailing character; without BASE64_LENIENT also line breaks and a
 * missing '='. -ENOMEM. *RET and *RET_LEN are untouched on failure. */
int base64_decode(const char *src, size_t len, unsigned flags, void **ret, size_t *ret_len);
