// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reads a block's counters from its cgroup, in either layout: the unified
 * (v2) files when the node runs v2, the v1 controllers otherwise. Hybrid
 * nodes keep the controllers in v1 (their unified mount holds only the
 * root), so the choice is made per cgroup, by where it exists.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "advisor/advisor.h"
#include "advisor/cg_file.h"
#include "util/errf.h"
#include "util/fs_util.h"


const char *es_adv_res_name(enum es_adv_res r)
{
	static const char *const names[ES_ADV_NRES] = {
		[ES_ADV_CPU]		= "cpu",
		[ES_ADV_THROTTLED]	= "cpu_throttled",
		[ES_ADV_MEMORY]		= "memory",
		[ES_ADV_IO]		= "io",
		[ES_ADV_RECLAIM]	= "memory_reclaim",
		[ES_ADV_IOWAIT]		= "io_wait",
		[ES_ADV_CPU_PRESSURE]	= "cpu_pressure",
		[ES_ADV_MEMORY_PRESSURE] = "memory_pressure",
		[ES_ADV_IO_PRESSURE]	= "io_pressure",
		[ES_ADV_NET]		= "net",
		[ES_ADV_NET_LIMITED]	= "net_limited",
		[ES_ADV_NET_DROPS]	= "net_drops",
		[ES_ADV_NET_BACKLOG]	= "net_backlog",
		[ES_ADV_NET_RATE_USED]	= "net_rate_used",
	};

	return r < ES_ADV_NRES ? names[r] : "?";
}

/* The file's content, or NULL with -errno in *ret (when given) and a message. */
static char *cg_read(const char *root, const char *ctl, const char *rel, const char *file,
		     int *ret, char *err, size_t err_len)
{
	char *s = es_adv_cg_read(root, ctl, rel, file);

	if (!s && ret && !*ret)
		*ret = es_errf(err, err_len, -errno, "%s/%s: %s", rel, file, strerror(errno));
	return s;
}

/* The value after "key " on a line of a flat keyed file (cpu.stat). */
static uint64_t keyed(const char *s, const char *key)
{
	size_t klen = strlen(key);
	const char *p = s;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtoull(p + klen + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N ..." a device; sums both. */
static uint64_t io_stat_bytes(const char *s)
{
	uint64_t sum = 0;
	const char *p;

	for (p = s; (p = strstr(p, "bytes=")); p += 6)
		if (p > s && (p[-1] == 'r' || p[-1] == 'w') && (p - 1 == s || p[-2] == ' '))
			sum += strtoull(p + 6, NULL, 10);
	return sum;
}

/* v1 blkio.throttle.io_service_bytes: the "Total N" line sums devices. */
static uint64_t blkio_total(const char *s)
{
	const char *p = strstr(s, "\nTotal ");

	if (!p && !strncmp(s, "Total ", 6))
		p = s - 1;
	return p ? strtoull(p + 7, NULL, 10) : 0;
}

/*
 * memory.stat (same keys in v1 and v2): pages evicted by reclaim and
 * needed again. Under a limit below its working set a block keeps
 * refaulting, and waits for each page; a block that merely grows or
 * shrinks does not. The local keys, not v1's hierarchical total_*.
 */
static uint64_t refaults(const char *s)
{
	return keyed(s, "workingset_refault_anon") + keyed(s, "workingset_refault_file");
}

/*
 * Where a layout keeps each counter: a controller (NULL in v2's single
 * tree), a file, and a key when the file is keyed (NULL: the file is the
 * number), scaled to nanoseconds; io sums the devices of its file.
 */
struct cg_counter {
	const char	*ctl, *file, *key;
	unsigned int	mult;
};

struct cg_layout {
	struct cg_counter	cpu, throttled, memory;
	const char		*io_ctl, *io_file, *mem_ctl, *threads_ctl, *threads_file;
	uint64_t		(*io_sum)(const char *s);
};

static const struct cg_layout layout_v1 = {
	.cpu		= { "cpuacct", "cpuacct.usage", NULL, 1 },
	.throttled	= { "cpu", "cpu.stat", "throttled_time", 1 },
	.memory		= { "memory", "memory.usage_in_bytes", NULL, 1 },
	.io_ctl		= "blkio",
	.io_file	= "blkio.throttle.io_service_bytes",
	.io_sum		= blkio_total,
	.mem_ctl	= "memory",
	.threads_ctl	= "cpu",
	.threads_file	= "tasks",
};

static const struct cg_layout layout_v2 = {
	.cpu		= { NULL, "cpu.stat", "usage_usec", 1000 },
	.throttled	= { NULL, "cpu.stat", "throttled_usec", 1000 },
	.memory		= { NULL, "memory.current", NULL, 1 },
	.io_ctl		= NULL,
	.io_file	= "io.stat",
	.io_sum		= io_stat_bytes,
	.mem_ctl	= NULL,
	.threads_ctl	= NULL,
	.threads_file	= "cgroup.threads",
};

static int read_counter(const char *root, const char *rel, const struct cg_counter *c,
			uint64_t *v, char *err, size_t err_len)
{
	int ret = 0;
	char *s = cg_read(root, c->ctl, rel, c->file, &ret, err, err_len);

	if (s)
		*v = (c->key ? keyed(s, c->key) : strtoull(s, NULL, 10)) * c->mult;
	free(s);
	return ret;
}

static int read_layout(const char *root, const char *rel, const struct cg_layout *l,
		       struct es_adv_raw *raw, char *err, size_t err_len)
{
	char *io, *stat, tasks[PATH_MAX];
	int ret;

	ret = read_counter(root, rel, &l->cpu, &raw->cpu_ns, err, err_len) ?:
	      read_counter(root, rel, &l->throttled, &raw->throttled_ns, err, err_len) ?:
	      read_counter(root, rel, &l->memory, &raw->memory, err, err_len);
	if (ret)
		return ret;
	/* The I/O file is absent when its controller is not enabled: no I/O then. */
	io = cg_read(root, l->io_ctl, rel, l->io_file, NULL, NULL, 0);
	raw->io_bytes = io ? l->io_sum(io) : 0;
	free(io);
	/* Kernels before refault accounting have the file without the keys: 0. */
	stat = cg_read(root, l->mem_ctl, rel, "memory.stat", NULL, NULL, 0);
	raw->refaults = stat ? refaults(stat) : 0;
	free(stat);
	if (!es_adv_cg_path(tasks, sizeof(tasks), root, l->threads_ctl, rel, l->threads_file))
		raw->blkio_delay_ns = es_adv_blkio_delay_ns(tasks);
	return 0;
}

int es_adv_block_read(const struct es_adv_block *b, const char *root, struct es_adv_raw *raw,
		      char *err, size_t err_len)
{
	root = root ?: ES_ADV_CG_ROOT;
	memset(raw, 0, sizeof(*raw));
	raw->cpu_limit = es_adv_cpu_limit(b, root);
	es_adv_psi_read(b, root, raw);
	return read_layout(root, b->cgroup, b->v2 ? &layout_v2 : &layout_v1, raw, err, err_len);
}

/* The unified layout holds this cgroup with its CPU statistics. */
static bool is_v2(const char *root, const char *rel)
{
	char path[PATH_MAX];

	if (es_adv_cg_path(path, sizeof(path), root, NULL, ".", "cgroup.controllers") ||
	    access(path, R_OK))
		return false;
	return !es_adv_cg_path(path, sizeof(path), root, NULL, rel, "memory.current") &&
	       !access(path, R_OK);
}

int es_adv_block_init(struct es_adv_block *b, const char *name, const char *rel,
		      const char *root, char *err, size_t err_len)
{
	struct es_adv_raw raw;

	memset(b, 0, sizeof(*b));
	if (snprintf(b->name, sizeof(b->name), "%s", name) >= (int)sizeof(b->name) ||
	    snprintf(b->cgroup, sizeof(b->cgroup), "%s", rel) >= (int)sizeof(b->cgroup))
		return es_errf(err, err_len, -ENAMETOOLONG, "block %s: name or cgroup too long",
			       name);
	b->v2 = is_v2(root ?: ES_ADV_CG_ROOT, rel);
	es_adv_psi_find(b, root);
	return es_adv_block_read(b, root, &raw, err, err_len);
}

static double rate(uint64_t now, uint64_t then, double secs)
{
	/* A counter that went back (cgroup recreated) reads as no use. */
	return now >= then ? (double)(now - then) / secs : 0;
}

void es_adv_block_push(struct es_adv_block *b, const struct es_adv_raw *raw, uint64_t now_ns)
{
	double secs = (double)(now_ns - b->last_ns) / 1e9;

	if (b->have_last && now_ns > b->last_ns) {
		es_adv_ring_push(&b->res[ES_ADV_CPU], rate(raw->cpu_ns, b->last.cpu_ns, secs) / 1e9);
		es_adv_ring_push(&b->res[ES_ADV_THROTTLED],
				 rate(raw->throttled_ns, b->last.throttled_ns, secs) / 1e9);
		es_adv_ring_push(&b->res[ES_ADV_MEMORY], (double)raw->memory);
		es_adv_ring_push(&b->res[ES_ADV_IO], rate(raw->io_bytes, b->last.io_bytes, secs));
		es_adv_ring_push(&b->res[ES_ADV_RECLAIM], rate(raw->refaults, b->last.refaults, secs));
		es_adv_ring_push(&b->res[ES_ADV_IOWAIT],
				 rate(raw->blkio_delay_ns, b->last.blkio_delay_ns, secs) / 1e9);
		es_adv_ring_push(&b->res[ES_ADV_CPU_PRESSURE],
				 rate(raw->psi_cpu_us, b->last.psi_cpu_us, secs) / 1e6);
		es_adv_ring_push(&b->res[ES_ADV_MEMORY_PRESSURE],
				 rate(raw->psi_memory_us, b->last.psi_memory_us, secs) / 1e6);
		es_adv_ring_push(&b->res[ES_ADV_IO_PRESSURE],
				 rate(raw->psi_io_us, b->last.psi_io_us, secs) / 1e6);
		es_adv_ring_push(&b->res[ES_ADV_NET], rate(raw->net_bytes, b->last.net_bytes, secs));
		es_adv_ring_push(&b->res[ES_ADV_NET_LIMITED],
				 rate(raw->net_overlimits, b->last.net_overlimits, secs));
		es_adv_ring_push(&b->res[ES_ADV_NET_DROPS],
				 rate(raw->net_drops, b->last.net_drops, secs));
		es_adv_ring_push(&b->res[ES_ADV_NET_BACKLOG], (double)raw->net_backlog);
		/* Against the rate now: a limit lowered shows as the link full at once. */
		es_adv_ring_push(&b->res[ES_ADV_NET_RATE_USED], raw->net_rate ?
				 rate(raw->net_bytes, b->last.net_bytes, secs) / raw->net_rate : 0);
	}
	b->last = *raw;
	b->last_ns = now_ns;
	b->have_last = true;
}
