/* cmd_fail and cmd_fail_errno: how handlers fill a qemu-ga style error. The
 * text is cut on a UTF-8 character boundary when it does not fit, so the
 * reply that carries it can always be built. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "utf8.h"

enum cmd_result cmd_fail(struct cmd_error *err, const char *fmt, ...)
{
	va_list ap;

	err->class = "GenericError";
	va_start(ap, fmt);
	utf8_vformat(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
	return CMD_FAILED;
}

enum cmd_result cmd_fail_errno(struct cmd_error *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	err->class = "GenericError";
	va_start(ap, fmt);
	n = utf8_vformat(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
	utf8_format(err->desc + n, sizeof(err->desc) - n, ": %s",
		    strerror(errnum < 0 ? -errnum : errnum));
	return CMD_FAILED;
}
