/* Growing a byte buffer within a bound, the way every reader and queue in
 * porthole does: the capacity doubles from a first size and never passes
 * the bound. The buffer's contents and meaning are the caller's. */
#pragma once

#include <stddef.h>

/* Makes *BUF (capacity *CAP, NULL and 0 at first) hold at least NEED
 * bytes: the capacity doubles from FIRST up to MAX and stops there. 0;
 * -E2BIG when NEED is over MAX; -ENOMEM (the buffer left as it was). */
int buf_reserve(char **buf, size_t *cap, size_t need, size_t first, size_t max);
