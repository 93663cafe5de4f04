/* cmd_fail and cmd_fail_errno: how handlers fill a qemu-ga style error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "command.h"

int cmd_fail(struct cmd_error *err, const char *fmt, ...)
{
	va_list ap;

	err->class = "GenericError";
	va_start(ap, fmt);
	vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
	return -1;
}

int cmd_fail_errno(struct cmd_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	err->class = "GenericError";
	va_start(ap, fmt);
	vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
	n = strlen(err->desc);
	snprintf(err->desc + n, sizeof(err->desc) - n, ": %s",
		 strerror(errnum < 0 ? -errnum : errnum));
	return -1;
}
