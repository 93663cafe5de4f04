/* vsock-peer: the guest's end of the vsock tests (tests/vm/vsock.sh) and of
 * scripts/bench-vsock, run in the VM as a service. It is a test's program,
 * never the image's.
 *
 *   vsock-peer serve PORT
 *     listens on vsock PORT; each connection (a process of its own) sends
 *     one line first and then:
 *       "sink\n"          the rest up to EOF is counted; the answer is
 *                         "<bytes> <crc32 in hex>\n", then close
 *       "source N SEED\n" N bytes of pattern(SEED) are sent, then a
 *                         shutdown of sending; close at the host's EOF
 *       "echo\n"          everything is sent back; at EOF, shutdown, close
 *       "close\n"         closed at once, while the host may still send
 *     or one of the counted commands below, after which it closes.
 *   vsock-peer serial PATH
 *     serves the virtio-serial port PATH (/dev/virtio-ports/NAME), one
 *     counted command after another: a port has no EOF of its own (a read
 *     returns 0 while no host is connected; then it waits for the next).
 *   the counted commands, the same on both:
 *       "sink N\n"        N bytes are read; the answer is "<N> <crc32>\n"
 *       "count N\n"       N bytes are read, no checksum; the answer is "<N>\n"
 *       "source N SEED\n" N bytes of pattern(SEED) are sent (on vsock, as
 *                         above)
 *       "pingpong K SIZE\n" K times: SIZE bytes (at most 64 KiB) read, and
 *                         sent back once all are in
 *   vsock-peer send CID PORT N SEED
 *     connects to CID:PORT, sends N bytes of pattern(SEED), shuts down
 *     sending, and prints what comes back until EOF; exit 0 when connected.
 *
 * pattern(SEED) repeats a 64 KiB block of an LCG's high bytes (x = x *
 * 1103515245 + 12345 mod 2^32, starting from SEED), which the host side
 * computes too. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOCK 65536
#define LINE_MAX_ 64

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* zlib's crc32: start with 0 */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void pattern(uint32_t seed, uint8_t *b)
{
	uint32_t x = seed;

	for (size_t i = 0; i < BLOCK; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 24);
	}
}

static int write_all_(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_pattern(int fd, uint64_t n, uint32_t seed)
{
	static uint8_t b[BLOCK];

	pattern(seed, b);
	while (n) {
		size_t k = n < BLOCK ? (size_t)n : BLOCK;

		if (write_all_(fd, b, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* The command line, one byte at a time: what follows it is the data's. */
static int read_line(int fd, char *line, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = read(fd, line + n, 1);

		if (r <= 0)
			return -1;
		if (line[n] == '\n') {
			line[n] = 0;
			return 0;
		}
		n++;
	}
	return -1;
}

/* Exactly N bytes into B (or fewer than N at EOF): the count, or -1. */
static ssize_t read_full(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* The counted commands, which end without the host's EOF (a virtio-serial
 * port has none): 0 done, 1 failed (the host left, an error), -1 not one of
 * them. */
static int counted(int fd, const char *line)
{
	static uint8_t b[BLOCK];
	unsigned long long n, k;
	unsigned seed;
	char out[64];
	int crc_too = sscanf(line, "sink %llu", &n) == 1;

	if (crc_too || sscanf(line, "count %llu", &n) == 1) {
		uint64_t left = n;
		uint32_t crc = 0;

		while (left) {
			size_t want = left < BLOCK ? (size_t)left : BLOCK;
			ssize_t r = read(fd, b, want);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return 1;
			if (crc_too)
				crc = crc32_update(crc, b, (size_t)r);
			left -= (uint64_t)r;
		}
		if (crc_too)
			snprintf(out, sizeof(out), "%llu %08x\n", n, crc);
		else
			snprintf(out, sizeof(out), "%llu\n", n);
		return write_all_(fd, out, strlen(out)) < 0;
	}
	if (sscanf(line, "source %llu %u", &n, &seed) == 2)
		return send_pattern(fd, n, seed) < 0;
	if (sscanf(line, "pingpong %llu %llu", &k, &n) == 2) {
		if (n == 0 || n > BLOCK)
			return 1;
		while (k--)
			if (read_full(fd, b, (size_t)n) != (ssize_t)n ||
			    write_all_(fd, b, (size_t)n) < 0)
				return 1;
		return 0;
	}
	return -1;
}

static void drain(int fd)
{
	uint8_t b[4096];

	while (read(fd, b, sizeof(b)) > 0)
		;
}

static int session(int fd)
{
	static uint8_t b[BLOCK];
	char line[LINE_MAX_];
	unsigned long long n;
	unsigned seed;
	ssize_t r;

	if (read_line(fd, line, sizeof(line)) < 0)
		return 1;
	if (strncmp(line, "source ", 7) != 0 && (r = counted(fd, line)) >= 0)
		return (int)r;
	if (strcmp(line, "sink") == 0) {
		uint64_t total = 0;
		uint32_t crc = 0;
		char out[64];

		while ((r = read(fd, b, sizeof(b))) > 0) {
			crc = crc32_update(crc, b, (size_t)r);
			total += (uint64_t)r;
		}
		if (r < 0)
			return 1;
		snprintf(out, sizeof(out), "%llu %08x\n", (unsigned long long)total, crc);
		return write_all_(fd, out, strlen(out)) < 0;
	}
	if (sscanf(line, "source %llu %u", &n, &seed) == 2) {
		if (send_pattern(fd, n, seed) < 0)
			return 1;
		shutdown(fd, SHUT_WR);
		drain(fd);
		return 0;
	}
	if (strcmp(line, "echo") == 0) {
		while ((r = read(fd, b, sizeof(b))) > 0)
			if (write_all_(fd, b, (size_t)r) < 0)
				return 1;
		shutdown(fd, SHUT_WR);
		return r < 0;
	}
	if (strcmp(line, "close") == 0)
		return 0;
	return 1;
}

static int serve(unsigned port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK,
				  .svm_cid = VMADDR_CID_ANY,
				  .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		fprintf(stderr, "vsock-peer: vsock port %u: %s\n", port, strerror(errno));
		return 1;
	}
	signal(SIGCHLD, SIG_IGN); /* no zombies */
	signal(SIGPIPE, SIG_IGN);
	printf("vsock-peer: listening on vsock port %u\n", port);
	fflush(stdout);
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		if (fork() == 0) {
			close(fd);
			_exit(session(c));
		}
		close(c);
	}
}

/* One counted command after another on a virtio-serial port. While no host
 * is connected a read returns 0 (and poll says POLLHUP), so it looks again
 * every 50 ms; a command the host left in the middle is dropped. */
static int serial(const char *path)
{
	char line[LINE_MAX_];
	int fd = -1;

	signal(SIGPIPE, SIG_IGN);
	/* init links /dev/virtio-ports/NAME once the host has named the port */
	for (int i = 0; i < 600 && fd < 0; i++) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			usleep(100000);
	}
	if (fd < 0) {
		fprintf(stderr, "vsock-peer: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("vsock-peer: serving %s\n", path);
	fflush(stdout);
	for (;;) {
		size_t n = 0;
		ssize_t r;

		/* the line, one byte at a time: what follows it is the data's */
		while (n + 1 < sizeof(line)) {
			r = read(fd, line + n, 1);
			if (r < 0 && errno != EINTR)
				return 1;
			if (r == 0) { /* no host: wait for the next */
				n = 0;
				usleep(50000);
				continue;
			}
			if (r == 1 && line[n++] == '\n')
				break;
		}
		line[n ? n - 1 : 0] = 0;
		if (counted(fd, line) < 0)
			fprintf(stderr, "vsock-peer: %s: not a command: \"%s\"\n", path, line);
	}
}

static int send_to(unsigned cid, unsigned port, unsigned long long n, unsigned seed)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint8_t b[4096];
	ssize_t r;

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vsock-peer: connect %u:%u: %s\n", cid, port, strerror(errno));
		return 1;
	}
	if (send_pattern(fd, n, seed) < 0) {
		fprintf(stderr, "vsock-peer: send: %s\n", strerror(errno));
		return 1;
	}
	shutdown(fd, SHUT_WR);
	while ((r = read(fd, b, sizeof(b))) > 0)
		if (write_all_(1, b, (size_t)r) < 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	crc_init();
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve((unsigned)strtoul(argv[2], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "serial") == 0)
		return serial(argv[2]);
	if (argc == 6 && strcmp(argv[1], "send") == 0)
		return send_to((unsigned)strtoul(argv[2], NULL, 10),
			       (unsigned)strtoul(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
			       (unsigned)strtoul(argv[5], NULL, 10));
	fprintf(stderr, "usage: vsock-peer serve PORT | serial PATH | send CID PORT N SEED\n");
	return 2;
}
