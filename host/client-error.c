/* The client library's errors (client-error.h): the groups callers sort
 * them into, and the messages. */
#include "client-error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum client_status client_status(int r)
{
	if (r >= 0)
		return CLIENT_OK;
	switch (-r) {
	case EREMOTEIO:
		return CLIENT_GUEST_ERROR;
	case ETIMEDOUT:
		return CLIENT_TIMEOUT;
	case EBADMSG:
	case EPROTO:
	case EMSGSIZE:
		return CLIENT_PROTOCOL_ERROR;
	default:
		return CLIENT_IO_ERROR;
	}
}

int client_fail(struct client_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return r;
	err->class[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
	return r;
}

int client_fail_in(struct client_error *err, int r, const char *fmt, ...)
{
	char desc[sizeof(err->desc)];
	size_t len;
	va_list ap;

	if (!err)
		return r;
	/* the old message first: formatting into the buffer it is read from
	 * is undefined */
	snprintf(desc, sizeof(desc), "%s", err->desc);
	err->class[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
	va_end(ap);
	len = strlen(err->desc);
	snprintf(err->desc + len, sizeof(err->desc) - len, ": %s", desc);
	return r;
}
