/* The power-cut test's guest end (tests/vm/powercut.sh): a log of numbered,
 * checksummed records, each made durable with fsync before its number is
 * reported, and the checker that says how much of such a log survived. The
 * power cut itself, and what counts as a loss, are the host script's.
 *
 *   fsync-log check FILE            prints "intact N bytes B tail T KIND" and
 *                                   exits 0, or 1 when the tail is garbage
 *   fsync-log append FILE OUT [MAX] checks FILE, cuts a torn tail off, then
 *                                   appends records N, N+1, ..., each written,
 *                                   fsynced, then "ack SEQ\n" written to OUT
 *
 * A record is 16 bytes of header (magic, seq, total length, 0), a payload that
 * is a function of seq (0 to 3999 bytes, so that records straddle blocks), and
 * the CRC-32 of all that. Records are numbered from 0 without a gap: record
 * SEQ is at the offset that records 0..SEQ-1 end at.
 *
 * After a crash, the bytes past the last intact record may be: none; a prefix
 * of the next record (a write the kernel had partly committed: "torn"); or
 * anything else ("zeros" or "garbage"), which ext4's ordered mode should
 * never show (Documentation/filesystems/ext4/ data=ordered: data blocks are
 * written before the metadata that makes them visible). Static: it runs in
 * the guest, whatever the image's libc (Makefile). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAGIC 0x31524350u /* "PCR1" little-endian */
#define HEADER 16
#define TRAILER 4
#define PAYLOAD_MAX 4000
#define RECORD_MAX (HEADER + PAYLOAD_MAX + TRAILER)
/* a bound on the log, so a corrupt length cannot make the checker wander */
#define RECORDS_MAX 100000000u

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--)
		c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Record SEQ as it must be on disk, in BUF (RECORD_MAX bytes); its length. */
static size_t record(uint32_t seq, unsigned char *buf)
{
	size_t payload = ((seq * 2654435761u) >> 8) % PAYLOAD_MAX;
	size_t len = HEADER + payload + TRAILER;
	uint32_t x = seq * 2246822519u + 1;

	put32(buf, MAGIC);
	put32(buf + 4, seq);
	put32(buf + 8, (uint32_t)len);
	put32(buf + 12, 0);
	for (size_t i = 0; i < payload; i++) {
		/* xorshift32: bytes no two records share at the same place */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[HEADER + i] = (unsigned char)x;
	}
	put32(buf + HEADER + payload, crc32(buf, HEADER + payload));
	return len;
}

static ssize_t read_full(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct scan {
	uint32_t intact; /* records 0..intact-1 are whole and right */
	off_t bytes; /* where they end */
	size_t tail; /* bytes after them */
	const char *kind; /* none, torn, zeros, garbage */
};

/* Reads FD from the start: each record compared byte for byte with what
 * record() makes for its number (which covers magic, length, payload and
 * CRC at once), and the CRC checked as stored, too. */
static int scan(int fd, struct scan *s)
{
	static unsigned char want[RECORD_MAX], got[RECORD_MAX];

	memset(s, 0, sizeof(*s));
	s->kind = "none";
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	while (s->intact < RECORDS_MAX) {
		size_t len = record(s->intact, want);
		ssize_t n = read_full(fd, got, len);
		bool zero = true;

		if (n < 0)
			return (int)n;
		if ((size_t)n == len && memcmp(got, want, len) == 0 &&
		    crc32(got, len - TRAILER) ==
			    (uint32_t)(got[len - 4] | got[len - 3] << 8 | got[len - 2] << 16 |
				       (uint32_t)got[len - 1] << 24)) {
			s->intact++;
			s->bytes += (off_t)len;
			continue;
		}
		if (n == 0)
			return 0;
		/* past the last intact record: how much more is there, and is
		 * it the beginning of the next one? */
		s->tail = (size_t)n;
		for (ssize_t i = 0; i < n; i++)
			zero = zero && !got[i];
		while ((n = read_full(fd, got, sizeof(got))) > 0)
			s->tail += (size_t)n;
		if (n < 0)
			return (int)n;
		if (s->tail < len && lseek(fd, s->bytes, SEEK_SET) >= 0 &&
		    read_full(fd, got, s->tail) == (ssize_t)s->tail &&
		    memcmp(got, want, s->tail) == 0)
			s->kind = "torn";
		else
			s->kind = zero && s->tail <= len ? "zeros" : "garbage";
		return 0;
	}
	return 0;
}

static int sync_dir_of(const char *path)
{
	char dir[4096];
	char *slash;
	int fd, r = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	return r;
}

static int append(const char *path, const char *out_path, uint32_t max)
{
	static unsigned char buf[RECORD_MAX];
	struct scan s;
	int fd, out, r;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "fsync-log: open %s: %s\n", path, strerror(errno));
		return 2;
	}
	/* the file's name must be durable before any record in it is */
	r = sync_dir_of(path);
	if (r == 0)
		r = scan(fd, &s);
	if (r < 0) {
		fprintf(stderr, "fsync-log: %s: %s\n", path, strerror(-r));
		return 2;
	}
	/* a torn record is cut off, so that the next is where its number says */
	if (s.tail && (ftruncate(fd, s.bytes) < 0 || fsync(fd) < 0)) {
		fprintf(stderr, "fsync-log: truncate %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (lseek(fd, s.bytes, SEEK_SET) < 0)
		return 2;
	out = open(out_path, O_WRONLY | O_CLOEXEC);
	if (out < 0) {
		fprintf(stderr, "fsync-log: open %s: %s\n", out_path, strerror(errno));
		return 2;
	}
	for (uint32_t seq = s.intact; seq < s.intact + max && seq < RECORDS_MAX; seq++) {
		char ack[32];
		size_t len = record(seq, buf);
		int n;

		r = write_full(fd, buf, len);
		if (r == 0 && fsync(fd) < 0)
			r = -errno;
		if (r < 0) {
			fprintf(stderr, "fsync-log: record %u to %s: %s\n", seq, path,
				strerror(-r));
			return 2;
		}
		/* only now is the record durable: say so */
		n = snprintf(ack, sizeof(ack), "ack %u\n", seq);
		if (write_full(out, ack, (size_t)n) < 0) {
			fprintf(stderr, "fsync-log: write %s: %s\n", out_path, strerror(errno));
			return 2;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	crc_init();
	if (argc == 3 && strcmp(argv[1], "check") == 0) {
		struct scan s;
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC), r;

		if (fd < 0) {
			fprintf(stderr, "fsync-log: open %s: %s\n", argv[2], strerror(errno));
			return 2;
		}
		r = scan(fd, &s);
		if (r < 0) {
			fprintf(stderr, "fsync-log: read %s: %s\n", argv[2], strerror(-r));
			return 2;
		}
		printf("intact %u bytes %lld tail %zu %s\n", s.intact, (long long)s.bytes, s.tail,
		       s.kind);
		return strcmp(s.kind, "none") == 0 || strcmp(s.kind, "torn") == 0 ? 0 : 1;
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "append") == 0) {
		unsigned long max = argc == 5 ? strtoul(argv[4], NULL, 10) : RECORDS_MAX;

		return append(argv[2], argv[3], max > RECORDS_MAX ? RECORDS_MAX : (uint32_t)max);
	}
	fprintf(stderr, "usage: fsync-log check FILE | fsync-log append FILE OUT [MAX]\n");
	return 2;
}
