/* The client library's error contract: every function of host/client*.h
 * returns >= 0 on success and -errno on failure, and fills a struct
 * client_error with the message a person reads. What the caller does with
 * it (print, exit code, retry) is the caller's. */
#pragma once

/* What went wrong, for a message: CLASS and DESC as the guest sent them for
 * a guest error (-EREMOTEIO); otherwise CLASS is "" and DESC says what failed
 * and on what. ERR may be NULL wherever one is taken: then nothing is said. */
struct client_error {
	char class[64];
	char desc[512];
};

/* The errors fall into these groups:
 *   -EREMOTEIO                      the guest answered with an error
 *   -ETIMEDOUT                      a connect, write or reply wait timed out
 *   -EBADMSG, -EPROTO, -EMSGSIZE    the peer's bytes are not this protocol
 *   anything else                   the connection (or memory) failed */
enum client_status {
	CLIENT_OK,
	CLIENT_GUEST_ERROR,
	CLIENT_TIMEOUT,
	CLIENT_PROTOCOL_ERROR,
	CLIENT_IO_ERROR,
};
enum client_status client_status(int r);

/* Fills ERR (when not NULL) with a message of our own (CLASS "") and
 * returns R, so that error paths read "return client_fail(err, -EPIPE, ...)". */
int client_fail(struct client_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Puts a context (the address, what was under way) and ": " before the
 * message a deeper function left in ERR, and returns R. */
int client_fail_in(struct client_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
