/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The signals room, its only door. Node-level placement signals: link
 * capacity per interface, throughput and utilisation per direction over a
 * sliding window, live sessions, per-pod throughput and latency
 * percentiles over the same window. The main loop
 * samples the per-interface counters; /metrics and GET /v1/node compute the
 * window from those samples and a fresh read at request time.
 */
#ifndef EDGESHIFT_AGENT_SIGNALS_H
#define EDGESHIFT_AGENT_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include <edgeshift/session.h>

#define ES_SIG_MAX_RULES	64
#define ES_SIG_PATTERN_MAX	16	/* IFNAMSIZ: patterns match interface names */

/* "signals" in the agent configuration. */
struct es_signals_config {
	unsigned int	window_ms;			/* sliding window of rates and percentiles */
	struct {
		char	match[ES_SIG_PATTERN_MAX];	/* fnmatch(3) pattern */
		double	bps;				/* configured capacity, bit/s */
	}		caps[ES_SIG_MAX_RULES];
	unsigned int	n_caps;
	char		uplinks[ES_SIG_MAX_RULES][ES_SIG_PATTERN_MAX];
	unsigned int	n_uplinks;			/* 0: interfaces without a pod */
};

struct json_t;
struct es_accounting;

void es_signals_config_defaults(struct es_signals_config *sc);
/* Parse the "signals" object; 0 or -1 with err naming the field. */
int es_signals_config_parse(struct es_signals_config *sc, struct json_t *v,
			    char *err, size_t err_len);

/*
 * Allocate the sampler of the interfaces acct has attached; NULL when out
 * of memory (signals then stay empty). sc and acct must outlive it.
 */
struct es_node_signals *es_node_signals_new(const struct es_signals_config *sc,
					    struct es_accounting *acct);
void es_node_signals_free(struct es_node_signals *s);
/* Take a sample of every attached interface when one is due (main loop). */
void es_node_signals_sample(struct es_node_signals *s);

/* Where a link capacity came from. */
enum es_cap_source {
	ES_CAP_UNKNOWN,
	ES_CAP_CONFIG,
	ES_CAP_DEVICE,
};

/* Rates of one direction over the window; utilisation < 0: capacity unknown. */
struct es_dir_rate {
	double	bps;
	double	utilisation;
};

struct es_iface_signal {
	__u32			ifindex;
	char			ifname[16];
	char			pod_namespace[64];
	char			pod_name[256];
	bool			uplink;
	double			capacity_bps;	/* 0 when unknown */
	enum es_cap_source	cap_source;
	struct es_dir_rate	dir[ES_DIR_MAX];
	__u64			sessions;	/* live, at the latest collection scan */
};

/* Percentiles of one latency kind over the window; samples 0: no data. */
struct es_lat_signal {
	__u64	samples;
	double	p50_s, p90_s, p99_s;
};

struct es_node_view {
	double			window_s;	/* configured */
	double			covered_s;	/* span the rates really cover, 0: no sample yet */
	__u64			sessions;	/* live entries of both session maps */
	struct es_iface_signal	*ifaces;
	size_t			n_ifaces;
	/* Uplinks with a known capacity: */
	unsigned int		uplinks_known;
	double			uplink_capacity_bps;	/* sum */
	double			uplink_bps[ES_DIR_MAX];		/* sum */
	double			uplink_utilisation[ES_DIR_MAX];	/* fullest link, -1 unknown */
	double			uplink_headroom_bps[ES_DIR_MAX];	/* sum of capacity - rate, >= 0 */
	struct es_lat_signal	lat[ES_LAT_MAX];
	/* The node's CPU and memory (every CPU, all memory, whatever the agent's cgroup): */
	unsigned int		cpus;			/* online; 0 unknown */
	double			cpu_utilisation;	/* busy share over the window, -1 unknown */
	__u64			mem_total_bytes;	/* 0: unknown */
	__u64			mem_available_bytes;
};

/* Compute the view now; 0 or -ENOMEM. Free with es_node_view_free(). */
int es_node_view_compute(struct es_node_signals *s, struct es_node_view *v);
void es_node_view_free(struct es_node_view *v);

/* Quantile q (0..1) of a log2 latency histogram in seconds, -1 when empty. */
double es_lat_hist_quantile(const __u64 *buckets, double q);

/*
 * Interface capacity in bit/s from the device (SIOCETHTOOL) named ifname
 * in network namespace netns (a path; NULL or "": the agent's), 0 if unknown.
 */
double es_link_speed_bps(const char *netns, const char *ifname);

/*
 * node_signals_render.c: the series appended to /metrics (node: the node
 * label's value, escaped) and the JSON of GET /v1/node.
 */
void es_node_signals_render_metrics(FILE *f, struct es_node_signals *s, const char *node);
struct json_t *es_node_signals_json(struct es_node_signals *s, const char *node_name);

#endif /* EDGESHIFT_AGENT_SIGNALS_H */
