/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The scale advisor (docs/scale-advisor.md): resource series of each block
 * of a service (one cgroup a block), sampled on one clock into bounded
 * rings, and the rule that ranks the blocks by how closely one of their
 * normalised resource series follows the change in service performance
 * over the same window.
 */
#ifndef EDGESHIFT_ADVISOR_H
#define EDGESHIFT_ADVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Samples a ring keeps: at 1 s intervals, eight and a half minutes. */
#define ES_ADV_RING_LEN		512
#define ES_ADV_NAME_LEN		64

struct es_adv_ring {
	double		v[ES_ADV_RING_LEN];
	unsigned int	head;		/* next slot written */
	unsigned int	n;		/* samples held, at most ES_ADV_RING_LEN */
};

void es_adv_ring_push(struct es_adv_ring *r, double v);
/* Copies the newest min(want, n) samples, oldest first; returns how many. */
size_t es_adv_ring_last(const struct es_adv_ring *r, double *out, size_t want);

/* The resources read of each block; rates are per second of the clock. */
enum es_adv_res {
	ES_ADV_CPU,		/* CPU time used, in cores */
	ES_ADV_THROTTLED,	/* share of the interval the CFS quota held it back */
	ES_ADV_MEMORY,		/* bytes charged (v1 usage_in_bytes, v2 memory.current) */
	ES_ADV_IO,		/* bytes read and written per second */
	ES_ADV_RECLAIM,		/* pages a second faulted back in after reclaim (refaults) */
	ES_ADV_IOWAIT,		/* share of the interval its threads waited for block I/O */
	/*
	 * Pressure stall information of its v2 cgroup ("some": a share of
	 * the interval in which at least one of its tasks stalled), where it
	 * has one: v2 nodes, or a hybrid node's unified/ tree. 0 otherwise.
	 */
	ES_ADV_CPU_PRESSURE,	/* runnable but waiting for a CPU (shown, not ranked) */
	ES_ADV_MEMORY_PRESSURE,	/* stalled on memory: reclaim, refaults, swap-in */
	ES_ADV_IO_PRESSURE,	/* stalled on block I/O */
	/* Its link's root qdisc (a block without a link: 0, never changes). */
	ES_ADV_NET,		/* bytes a second the qdisc sent on towards the block */
	ES_ADV_NET_LIMITED,	/* times a second it held a packet back (overlimits) */
	ES_ADV_NET_DROPS,	/* packets a second it dropped */
	ES_ADV_NET_BACKLOG,	/* bytes queued in it (a gauge) */
	ES_ADV_NET_RATE_USED,	/* bytes sent as a share of its shaper's rate (0: none) */
	ES_ADV_NRES,
};

const char *es_adv_res_name(enum es_adv_res r);

/* The raw counters of one read; memory is a gauge, the rest accumulate. */
struct es_adv_raw {
	uint64_t	cpu_ns, throttled_ns, memory, io_bytes;
	uint64_t	refaults;	/* memory.stat workingset_refault_anon + _file */
	uint64_t	blkio_delay_ns;	/* summed over its threads (delay accounting) */
	uint64_t	psi_cpu_us, psi_memory_us, psi_io_us;	/* "some" totals */
	/* Its link's root qdisc; backlog is a gauge. */
	uint64_t	net_bytes, net_overlimits, net_drops, net_backlog;
	uint64_t	net_rate;	/* its tbf's rate, bytes a second; 0: no shaper */
	double		cpu_limit;	/* its CFS quota in cores (a gauge); 0: none */
};

/*
 * The block I/O delay of the threads listed in tasks_path (v1 "tasks",
 * v2 "cgroup.threads"), in ns; 0 when nothing is listed or counted.
 */
uint64_t es_adv_blkio_delay_ns(const char *tasks_path);

#define ES_ADV_SCALE_STEPS	8

/* The service's performance with the block at a replica count. */
struct es_adv_scale_step {
	unsigned int	replicas;
	double		perf;		/* in the unit of the advisor's performance */
	double		work;		/* the block's own throughput at the count: bytes a
					 * second its replicas sent; 0 when not
					 * known (--scaled R:P without :W) */
};

/* A block's scale-outs, oldest first (the last ES_ADV_SCALE_STEPS). */
struct es_adv_scaling {
	unsigned int			n;
	struct es_adv_scale_step	step[ES_ADV_SCALE_STEPS];
};

struct es_adv_block {
	char			name[ES_ADV_NAME_LEN];
	char			cgroup[256];	/* relative to each hierarchy's root */
	char			link[16];	/* its link (IFNAMSIZ), "" for none */
	bool			v2;		/* read from the unified hierarchy */
	/* Its PSI files: none, v2's own, or under a hybrid node's unified/. */
	enum { ES_ADV_PSI_NONE, ES_ADV_PSI_V2, ES_ADV_PSI_HYBRID } psi;
	bool			have_last;
	uint64_t		last_ns;
	struct es_adv_raw	last;
	struct es_adv_ring	res[ES_ADV_NRES];
	struct es_adv_scaling	scaled;		/* what its scale-outs did, if known */
	/*
	 * Its replicas now (the caller's count; 0: not known), this cgroup
	 * being one of them, and whether the count held over the whole
	 * window: scale-in is judged only then.
	 */
	unsigned int		replicas;
	bool			replicas_steady;
};

/*
 * Binds b to the cgroup path rel (e.g. "kubepods/pod1/ctr"), under root
 * (NULL: /sys/fs/cgroup). v2 when root is a unified mount holding rel,
 * else the v1 controllers cpu, cpuacct, memory and blkio. -errno and a
 * message when neither layout has the cgroup.
 */
int es_adv_block_init(struct es_adv_block *b, const char *name, const char *rel,
		      const char *root, char *err, size_t err_len);
/* Reads b's counters now (the v1 or v2 files); -errno and a message. */
int es_adv_block_read(const struct es_adv_block *b, const char *root, struct es_adv_raw *raw,
		      char *err, size_t err_len);
/*
 * Where b's PSI files are under root (NULL: the default; after b->v2 is
 * known): sets b->psi. es_adv_psi_read (root given) reads their "some"
 * totals into raw; a block without them reads 0.
 */
void es_adv_psi_find(struct es_adv_block *b, const char *root);
void es_adv_psi_read(const struct es_adv_block *b, const char *root, struct es_adv_raw *raw);
/* b's CFS quota in cores under root (the default when NULL); 0: none. */
double es_adv_cpu_limit(const struct es_adv_block *b, const char *root);
/*
 * Turns a read taken at now_ns into one sample of each series (rates over
 * the time since the last read); the first read only primes the counters.
 */
void es_adv_block_push(struct es_adv_block *b, const struct es_adv_raw *raw, uint64_t now_ns);

/*
 * Names b's link: the interface (in the caller's network namespace) whose
 * root qdisc carries the block's traffic, e.g. the node's side of its
 * pod's veth, where Kubernetes' bandwidth limit puts its tbf. -ENODEV and
 * a message when there is no such link.
 */
int es_adv_block_link(struct es_adv_block *b, const char *ifname, char *err, size_t err_len);
/*
 * The root qdisc counters of the blocks' links into raw[i] (one netlink
 * dump for all); blocks without a link, or whose link has no listed
 * qdisc (noqueue), read 0. -errno and a message when a link is gone.
 */
int es_adv_links_read(const struct es_adv_block *blocks, unsigned int n, struct es_adv_raw *raw,
		      char *err, size_t err_len);

/* The performance number in path: one decimal number, a gauge. -errno and a message. */
int es_adv_read_perf_file(const char *path, double *v, char *err, size_t err_len);

/*
 * One tick of the common clock, stamped now_ns: reads every block and
 * pushes one sample into each ring, and perf (the service's performance,
 * read by the caller at the same moment) into the performance ring. The
 * first tick only primes the counters (no rate yet). -errno and a message
 * when a cgroup file cannot be read; no ring is pushed then.
 */
int es_adv_tick(struct es_adv_block *blocks, unsigned int nblocks, const char *root,
		uint64_t now_ns, double perf_now, struct es_adv_ring *perf, char *err,
		size_t err_len);

/* How the service's performance number reads: which way is worse. */
enum es_adv_perf_kind {
	ES_ADV_PERF_LATENCY,	/* higher is worse (p50, p99, mean) */
	ES_ADV_PERF_THROUGHPUT,	/* lower is worse (requests, bytes per second) */
};

struct es_adv_res_score {
	bool		flat;		/* did not change over the window: explains nothing */
	double		distance;	/* RMS of the normalised difference, 0..1 */
	double		r;		/* Pearson correlation with the performance change */
	double		mean;		/* the raw series' mean over the window */
	bool		level;		/* distance and r are against the performance's
					 * level (a step), not its change per interval */
};

struct es_adv_score {
	unsigned int		block;		/* index into the blocks given */
	int			res;		/* the resource that drives it; -1: none
						 * changed with r >= ES_ADV_MIN_DRIVER_R */
	double			distance;	/* of that resource; 1 when none did */
	double			r;
	struct es_adv_res_score	per_res[ES_ADV_NRES];
};

/*
 * Min-max normalisation of x[0..n) into out: 0 at the window's lowest
 * value, 1 at its highest. Returns false (and zeros) when the range is
 * below floor: a series that did not move cannot track a change.
 */
bool es_adv_normalise(const double *x, size_t n, double floor, double *out);
double es_adv_distance(const double *a, const double *b, size_t n);
/* 0 when either series is constant. */
double es_adv_pearson(const double *a, const double *b, size_t n);

/*
 * The ranking rule over the newest n samples (4 <= n <= ES_ADV_RING_LEN):
 * the performance's change per interval, and its level, against each
 * resource series, all normalised (a resource takes the nearer of the two
 * among those it moved with); scores[i] for blocks[i], then sorted, nearest first.
 * *change is how much worse the service got over the window (the mean of
 * its last third against its first, relative). Returns 0, or -EAGAIN
 * when that is below min_change or fewer than n samples are held: then
 * nothing is ranked and there is nothing to scale.
 */
int es_adv_rank(const struct es_adv_block *blocks, unsigned int nblocks,
		const struct es_adv_ring *perf, enum es_adv_perf_kind kind, size_t n,
		double min_change, double *change, struct es_adv_score *scores);

/*
 * The class of a block's evidence, which ranks before its distance: 3 a
 * limit being hit with r >= ES_ADV_MIN_R, 2 a use with that r, 1 a driver
 * too weak to scale on, 0 none.
 */
int es_adv_evidence(const struct es_adv_score *s);

/* What the advisor recommends for one block. */
enum es_adv_action {
	ES_ADV_HOLD,
	ES_ADV_SCALE_OUT,
	ES_ADV_SCALE_IN,
};

const char *es_adv_action_name(enum es_adv_action a);

/*
 * A resource drives a block only when it moved with the change, r at
 * least ES_ADV_MIN_DRIVER_R; the nearest block is scaled out only when its
 * driver's r is at least ES_ADV_MIN_R (below, it is no evidence).
 */
#define ES_ADV_MIN_DRIVER_R	0.3
#define ES_ADV_MIN_R		0.5
#define ES_ADV_MAX_BLOCKS	64	/* a service of 50 containers fits */
#define ES_ADV_REASON_LEN	512	/* a trap names two steps, the work and the dependency */

struct es_adv_reco {
	enum es_adv_action	action;
	double			confidence;	/* 0..1, see docs/scale-advisor.md */
	char			reason[ES_ADV_REASON_LEN];
};

/*
 * Scale-in (docs/scale-advisor.md, "Scale in"): a block of n >= 2
 * replicas, over a window in which the service did not get worse, that
 * hit no limit and whose busiest CPU sample, spread over n - 1 replicas,
 * stays at most ES_ADV_SCALE_IN_TARGET of its CPU limit.
 */
#define ES_ADV_SCALE_IN_TARGET	0.5

struct es_adv_scale_in {
	unsigned int		block;		/* index into the blocks given */
	unsigned int		replicas;	/* now; the advice is one fewer */
	double			load;		/* peak CPU per replica at one fewer,
						 * a share of its limit (0 unknown) */
	struct es_adv_reco	reco;		/* ES_ADV_SCALE_IN or ES_ADV_HOLD */
};

/* One answer of the advisor: the ranking and what to do with each block. */
struct es_adv_result {
	double			worsening;	/* W of the window */
	bool			ranked;		/* the service got worse by min_change */
	unsigned int		nblocks;
	struct es_adv_score	scores[ES_ADV_MAX_BLOCKS];	/* nearest first */
	struct es_adv_reco	reco[ES_ADV_MAX_BLOCKS];	/* scores[i]'s */
	bool			trap;		/* the top block's replicas stopped helping */
	int			dependency;	/* then: index into scores of what they
						 * share, -1 when no other block tracks */
	/* The blocks with 2 or more replicas, judged for a scale-in. */
	unsigned int		n_in;
	struct es_adv_scale_in	in[ES_ADV_MAX_BLOCKS];
};

/*
 * A scale-out that made the service better by less than this share (or
 * worse) stopped helping.
 */
#define ES_ADV_MIN_GAIN		0.05

/*
 * The last step of h added replicas and the service gained < ES_ADV_MIN_GAIN
 * (gain: the performance's), nor did the block's own work when both steps
 * know it.
 */
bool es_adv_stopped_helping(const struct es_adv_scaling *h, enum es_adv_perf_kind kind,
			    double *gain);

/* What the performance number is, for the reasons and the JSON. */
struct es_adv_perf_desc {
	enum es_adv_perf_kind	kind;
	const char		*name;		/* "p99 latency", "rx bytes/s", a file name */
	unsigned long		interval_ms, samples;
	double			min_change;
};

/*
 * Ranks the blocks over the newest d->samples of the rings and turns the
 * ranking into one recommendation a block: scale out the nearest block
 * when one of its resources moved with the worsening (r >= ES_ADV_MIN_R),
 * hold the others; hold everything when the service did not get worse.
 * Paper E's trap: hold the nearest block too when its last scale-out
 * (blocks[].scaled) stopped helping, and name what its replicas share.
 * nblocks at most ES_ADV_MAX_BLOCKS.
 */
void es_adv_advise(const struct es_adv_block *blocks, unsigned int nblocks,
		   const struct es_adv_ring *perf, const struct es_adv_perf_desc *d,
		   struct es_adv_result *out);

/*
 * Fills out->in for the blocks with a known count of 2 or more, over the
 * newest d->samples: called by es_adv_advise once it has ranked.
 */
void es_adv_scale_in(const struct es_adv_block *blocks, unsigned int nblocks,
		     const struct es_adv_ring *perf, const struct es_adv_perf_desc *d,
		     struct es_adv_result *out);

struct json_t;
/* The result as the JSON of `edgeshift advise --json` and GET /v1/advice. */
struct json_t *es_adv_result_json(const struct es_adv_block *blocks,
				  const struct es_adv_perf_desc *d,
				  const struct es_adv_result *res);

#endif
