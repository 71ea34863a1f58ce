/* SPDX-License-Identifier: GPL-2.0-only */
/* The node's CPU and memory use (host_load.c), beside its network signals. */
#ifndef EDGESHIFT_AGENT_HOST_LOAD_H
#define EDGESHIFT_AGENT_HOST_LOAD_H

#include <linux/types.h>

/* Cumulative CPU time of every CPU of the node, in clock ticks. */
struct host_cpu {
	__u64	t_ns;
	__u64	busy;	/* all but idle and iowait */
	__u64	total;
};

/* The "cpu" line of /proc/stat at t_ns; 0 or -errno. */
int host_cpu_read(struct host_cpu *out, __u64 t_ns);
/* Busy share between two readings, 0 to 1; -1 when they cover no time. */
double host_cpu_utilisation(const struct host_cpu *base, const struct host_cpu *cur);
/* MemTotal and MemAvailable of /proc/meminfo in bytes; 0 or -errno. */
int host_mem_read(__u64 *total, __u64 *available);

#endif /* EDGESHIFT_AGENT_HOST_LOAD_H */
