/* Base64 (RFC 4648 section 4: the standard alphabet, '=' padding): how the
 * QEMU guest agent protocol carries bytes (guest-exec's input-data and the
 * output guest-exec-status returns). None of the libraries the agent links
 * (jansson, libmnl) offers it. */
#pragma once

#include <stddef.h>

/* Encodes N bytes of SRC into a NUL-terminated string in *RET (malloc'd),
 * padded. Returns 0, -ENOMEM, or -EOVERFLOW when N is absurdly large. */
int base64_encode(const void *src, size_t n, char **ret, size_t *ret_len);

/* Decodes LEN characters of SRC into *RET (malloc'd, *RET_LEN bytes; never
 * NULL on success, even for empty input). Accepts what qemu-ga accepts: line
 * breaks anywhere (ignored) and unpadded input; refuses anything else outside
 * the alphabet, '=' other than at the end, too much padding and a lone
 * trailing character, with -EINVAL. -ENOMEM. */
int base64_decode(const char *src, size_t len, void **ret, size_t *ret_len);
