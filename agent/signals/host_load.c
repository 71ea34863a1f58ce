// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPU and memory of the node, for the node view next to its network use
 * (Paper A's monitor shows all three). /proc/stat and /proc/meminfo are
 * the kernel's, not a cgroup's: in the DaemonSet's pod they still count
 * every CPU and all the memory of the node, which is what placement asks.
 * CPU time is sampled with the interfaces, so its utilisation covers the
 * same window as the rates; memory is read when asked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "host_load.h"

int host_cpu_read(struct host_cpu *out, __u64 t_ns)
{
	unsigned long long v[8] = {};
	FILE *f = fopen("/proc/stat", "re");
	int n, i;

	if (!f)
		return -errno;
	/* user nice system idle iowait irq softirq steal (guest is inside user) */
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 4)
		return -EIO;
	out->t_ns = t_ns;
	out->total = 0;
	for (i = 0; i < 8; i++)
		out->total += v[i];
	out->busy = out->total - v[3] - v[4];
	return 0;
}

double host_cpu_utilisation(const struct host_cpu *base, const struct host_cpu *cur)
{
	if (!base || cur->total <= base->total || cur->busy < base->busy)
		return -1;
	return (double)(cur->busy - base->busy) / (double)(cur->total - base->total);
}

int host_mem_read(__u64 *total, __u64 *available)
{
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long kb;
	char key[64];
	int found = 0;

	if (!f)
		return -errno;
	*total = *available = 0;
	while (found < 2 && fscanf(f, "%63s %llu kB", key, &kb) == 2) {
		if (!strcmp(key, "MemTotal:"))
			*total = kb * 1024, found++;
		else if (!strcmp(key, "MemAvailable:"))
			*available = kb * 1024, found++;
	}
	fclose(f);
	return found == 2 && *total ? 0 : -EIO;
}
