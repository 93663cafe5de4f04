/* lib/procinfo.c: the kernel's own text (6.1's /proc/meminfo, a PSI file,
 * memory.stat, cpu.stat), keys that are prefixes of others, absent keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "procinfo.h"

static const char meminfo[] = "MemTotal:        1008532 kB\n"
			      "MemFree:          612340 kB\n"
			      "MemAvailable:     801236 kB\n"
			      "Buffers:             120 kB\n"
			      "Cached:           250012 kB\n"
			      "SwapCached:            0 kB\n"
			      "Shmem:             40960 kB\n"
			      "HugePages_Total:       0\n";

static void test_meminfo(void **state)
{
	(void)state;
	assert_int_equal(procinfo_meminfo(meminfo, "MemTotal"), 1008532ll * 1024);
	assert_int_equal(procinfo_meminfo(meminfo, "Cached"), 250012ll * 1024);
	/* "Cached" is not "SwapCached", "Mem" not "MemFree" */
	assert_int_equal(procinfo_meminfo(meminfo, "SwapCached"), 0);
	assert_int_equal(procinfo_meminfo(meminfo, "Mem"), -1);
	assert_int_equal(procinfo_meminfo(meminfo, "Shmem"), 40960ll * 1024);
	assert_int_equal(procinfo_meminfo(meminfo, "Slab"), -1);
	assert_int_equal(procinfo_meminfo("", "MemTotal"), -1);
	/* the last line without its newline */
	assert_int_equal(procinfo_meminfo("A: 1 kB\nB: 2 kB", "B"), 2048);
}

static void test_psi(void **state)
{
	static const char psi[] = "some avg10=1.50 avg60=0.20 avg300=0.00 total=123\n"
				  "full avg10=0.25 avg60=0.00 avg300=0.00 total=45\n";

	(void)state;
	assert_float_equal(procinfo_psi_avg10(psi, "some"), 1.5, 1e-9);
	assert_float_equal(procinfo_psi_avg10(psi, "full"), 0.25, 1e-9);
	assert_float_equal(procinfo_psi_avg10("some avg10=x\n", "some"), -1, 0);
	assert_float_equal(procinfo_psi_avg10(psi, "none"), -1, 0);
}

static void test_keyed(void **state)
{
	static const char stat[] = "anon 1048576\n"
				   "file 2097152\n"
				   "kernel 65536\n"
				   "file_mapped 4096\n"
				   "inactive_file 1024\n"
				   "pgfault 77\n";

	(void)state;
	assert_int_equal(procinfo_keyed(stat, "anon"), 1048576);
	/* "file" is not "file_mapped" nor "inactive_file" */
	assert_int_equal(procinfo_keyed(stat, "file"), 2097152);
	assert_int_equal(procinfo_keyed(stat, "file_mapped"), 4096);
	assert_int_equal(procinfo_keyed(stat, "shmem"), -1);
	assert_int_equal(procinfo_keyed("usage_usec 55\nuser_usec 30\n", "usage_usec"), 55);
	assert_int_equal(procinfo_keyed("usage_usec -3\n", "usage_usec"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_psi),
		cmocka_unit_test(test_keyed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
