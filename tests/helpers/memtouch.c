/* The memory tests' guest workload (tests/vm/memory-host.sh, scripts/bench-memory):
 * allocates N MiB of anonymous memory, writes to every page so that the guest,
 * and so QEMU on the host, really holds it, keeps it S seconds, then exits.
 * What the host sees of it, and what counts as given back, are the scripts'.
 *
 *   memtouch MIB [SECONDS]    prints "touched MIB MiB" once every page is
 *                             written, then "done" just before it exits
 *
 * Pages are written with non-zero bytes: a page of zeros may be merged or
 * deduplicated by a host (KSM, zero-page detection), which would hide it from
 * QEMU's RSS. Static: it runs in the guest, whatever the image's libc
 * (Makefile). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* more than the guests of the tests have (1 to 2 GiB): a typo, not a workload */
#define MIB_MAX 65536ul
#define SECONDS_MAX 86400ul

static int parse(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long mib, seconds = 0;
	long page = sysconf(_SC_PAGESIZE);
	size_t len;
	unsigned char *p;

	if (argc < 2 || argc > 3 || parse(argv[1], MIB_MAX, &mib) < 0 || mib == 0 ||
	    (argc == 3 && parse(argv[2], SECONDS_MAX, &seconds) < 0)) {
		fprintf(stderr, "usage: memtouch MIB [SECONDS] (MIB 1-%lu, SECONDS 0-%lu)\n",
			MIB_MAX, SECONDS_MAX);
		return 2;
	}
	if (page <= 0)
		page = 4096;
	len = mib << 20;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "memtouch: mmap %lu MiB: %s\n", mib, strerror(errno));
		return 1;
	}
	for (size_t off = 0; off < len; off += (size_t)page)
		memset(p + off, (int)(off / (size_t)page % 251) + 1, (size_t)page);
	printf("touched %lu MiB\n", mib);
	fflush(stdout);
	if (seconds > 0)
		sleep((unsigned int)seconds);
	printf("done\n");
	fflush(stdout);
	return 0;
}
