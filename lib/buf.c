/* buf_reserve: bounded doubling, with the arithmetic checked. */
#include "buf.h"

#include <errno.h>
#include <stdlib.h>

int buf_reserve(char **buf, size_t *cap, size_t need, size_t first, size_t max)
{
	size_t c = *cap ? *cap : (first ? first : 1);
	char *nb;

	if (need > max)
		return -E2BIG;
	if (need <= *cap)
		return 0;
	while (c < need)
		c = c > max / 2 ? max : c * 2;
	if (c > max)
		c = max;
	nb = realloc(*buf, c);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = c;
	return 0;
}
