// SPDX-License-Identifier: GPL-2.0-only
/*
 * Time a block's threads spent waiting for block I/O, from the kernel's
 * per-task delay accounting (/proc/TID/stat, field 42,
 * delayacct_blkio_ticks). A blkio throttle holds a block's reads and
 * writes back: its I/O rate falls while its threads wait longer, so the
 * rate cannot explain a worsening and the wait can. cgroup v1 has no
 * per-cgroup counter of it (v2's io.pressure is one), so we sum the
 * threads listed in the cgroup. The kernel only counts with
 * kernel.task_delayacct=1 (or the delayacct boot option); without it the
 * series stays 0.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "advisor/advisor.h"
#include "util/fs_util.h"

#define STAT_MAX	4096
#define TASKS_MAX	(1 << 20)
#define BLKIO_FIELD	42	/* delayacct_blkio_ticks, in clock ticks */

/* Field BLKIO_FIELD of a /proc/TID/stat line; 0 when it has none. */
static uint64_t blkio_ticks(const char *stat)
{
	/* The command name (field 2) may hold spaces: count after its ')'. */
	const char *p = strrchr(stat, ')');
	int field = 2;

	while (p && field < BLKIO_FIELD) {
		p = strchr(p + 1, ' ');
		field++;
	}
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* The sum over the thread ids in list (one a line), in nanoseconds. */
static uint64_t sum_threads(const char *list)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t ticks = 0;
	const char *p;

	for (p = list; *p; ) {
		char path[64], *stat, *end;
		unsigned long tid = strtoul(p, &end, 10);

		if (end == p)
			break;
		snprintf(path, sizeof(path), "/proc/%lu/stat", tid);
		/* A thread that ended between the list and its file: none. */
		stat = es_read_file(path, STAT_MAX, NULL);
		if (stat)
			ticks += blkio_ticks(stat);
		free(stat);
		p = end + strspn(end, "\n");
	}
	return hz > 0 ? ticks * (1000000000ull / (uint64_t)hz) : 0;
}

uint64_t es_adv_blkio_delay_ns(const char *tasks_path)
{
	char *list = es_read_file(tasks_path, TASKS_MAX, NULL);
	uint64_t ns = list ? sum_threads(list) : 0;

	free(list);
	return ns;
}
