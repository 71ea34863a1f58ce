/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * edgeshift-scheduler: a Kubernetes scheduler extender (filter and
 * prioritize verbs of the extender v1 HTTP API) that places pods by the
 * network signals edgeshiftd exports, read from Prometheus. Requests only
 * read an in-memory snapshot that a background thread refreshes, so a
 * request never waits on Prometheus.
 */
#ifndef EDGESHIFT_ES_SCHED_H
#define EDGESHIFT_ES_SCHED_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include "util/clock.h"

#define SCHED_VERSION		"0.1.0"
#define SCHED_MAX_CLASSES	16
#define SCHED_NAME_MAX		64

/* Per-node inputs, one PromQL query each. */
enum sched_signal {
	SIG_CAPACITY,		/* uplink capacity, bit/s */
	SIG_THROUGHPUT,		/* uplink throughput of the busier direction, bit/s */
	SIG_SESSIONS,		/* live sessions */
	SIG_LATENCY,		/* latency percentile, seconds */
	SIG_LATENCY_SAMPLES,	/* samples in the agent's window: idle, not unknown */
	SIG_MAX,
};

extern const char *const sched_signal_names[SIG_MAX];

enum sched_on_unavailable {
	UNAVAILABLE_PASS,	/* every node passes, every score is 0 */
	UNAVAILABLE_ERROR,	/* filter answers with Error set */
};

enum sched_on_no_data {
	NO_DATA_FAIL,		/* node goes to FailedAndUnresolvableNodes */
	NO_DATA_PASS,		/* node passes with no_data_score */
};

struct sched_latency_class {
	char	name[SCHED_NAME_MAX];
	double	slo_ms;		/* 0: no SLO */
};

struct sched_config {
	char			listen[128];
	char			prom_url[512];
	unsigned int		prom_timeout_ms;
	unsigned int		refresh_ms;
	unsigned int		max_staleness_ms;
	char			node_label[SCHED_NAME_MAX];
	char			*queries[SIG_MAX];	/* malloc'd PromQL */
	double			max_utilisation;	/* filter; 0: off */
	double			max_sessions;		/* filter; 0: off */
	double			w_bandwidth, w_sessions, w_latency;
	double			session_capacity;	/* score: sessions that make headroom 0 */
	double			latency_reference_ms;	/* score: for classes without SLO */
	struct sched_latency_class classes[SCHED_MAX_CLASSES];
	unsigned int		n_classes;
	char			default_class[SCHED_NAME_MAX];
	double			default_bandwidth_bps;
	enum sched_on_unavailable on_unavailable;
	enum sched_on_no_data	on_no_data;
	int			no_data_score;
	unsigned int		threads;
};

/* sched_config.c */
void sched_config_defaults(struct sched_config *cfg);
int sched_config_load_file(struct sched_config *cfg, const char *path, char *err, size_t len);
int sched_config_load_string(struct sched_config *cfg, const char *json, char *err, size_t len);
/* Cross-field checks; fills the default queries. */
int sched_config_validate(struct sched_config *cfg, char *err, size_t len);
void sched_config_free(struct sched_config *cfg);
const struct sched_latency_class *sched_class_find(const struct sched_config *cfg,
						   const char *name);
/*
 * A bit/s quantity as Kubernetes writes it ("7M" SI, "7Mi" binary,
 * "7000000"), from 0 to 1e15; 0 or -1.
 */
int sched_parse_bps(const char *s, double *out);

/*
 * One node's inputs; has[s] false when Prometheus returned nothing for it,
 * or several series (series[s] above 1): which one is the node's is unknown.
 */
struct node_metrics {
	char		name[256];
	double		v[SIG_MAX];
	bool		has[SIG_MAX];
	unsigned int	series[SIG_MAX];
};

/* An immutable set of node inputs, shared by reference count. */
struct metrics_snapshot {
	int			refs;
	uint64_t		fetched_ns;	/* CLOCK_MONOTONIC at the start of the refresh */
	size_t			n;
	struct node_metrics	*nodes;		/* sorted by name */
};

/* metrics_cache.c */
struct metrics_cache;
struct metrics_cache *metrics_cache_start(const struct sched_config *cfg);
void metrics_cache_stop(struct metrics_cache *mc);
/*
 * The snapshot to decide with, or NULL when there is none younger than
 * max_staleness_ms; then why is filled. Release with metrics_snapshot_put.
 */
struct metrics_snapshot *metrics_cache_get(struct metrics_cache *mc, char *why, size_t len);
void metrics_snapshot_put(struct metrics_cache *mc, struct metrics_snapshot *s);
const struct node_metrics *metrics_snapshot_find(const struct metrics_snapshot *s,
						 const char *node);
struct metrics_snapshot *metrics_snapshot_new(struct node_metrics *nodes, size_t n,
					      uint64_t fetched_ns);
/* GET /v1/nodes; NULL when it cannot be built (a value JSON cannot hold, no memory). */
json_t *metrics_cache_json(struct metrics_cache *mc);
void metrics_cache_counters(struct metrics_cache *mc, uint64_t *ok, uint64_t *failed,
			    double *age_s);

/* prom_client.c: run every query; 0, or -1 with err filled. */
struct es_http_conn;
int prom_fetch(const struct sched_config *cfg, struct es_http_conn *conn,
	       struct node_metrics **nodes, size_t *n, char *err, size_t len);

/* policy.c */
struct pod_request {
	bool					opted_in;
	double					bandwidth_bps;
	double					sessions;
	const struct sched_latency_class	*cls;
};

struct node_verdict {
	bool	pass;
	bool	unresolvable;	/* preempting pods would not help */
	int	score;		/* 0..10 */
	char	reason[384];	/* the longest: a 128-byte node name and a hint */
};

/* Read the pod's annotations (NULL: none); 0, or -1 with err naming the annotation. */
int policy_pod_request(const struct sched_config *cfg, json_t *annotations,
		       struct pod_request *req, char *err, size_t len);
/* m is NULL when the node has no data. */
void policy_evaluate(const struct sched_config *cfg, const struct pod_request *req,
		     const struct node_metrics *m, const char *node, struct node_verdict *v);

/* extender.c: the verbs; body in, JSON out with the HTTP status to send. */
enum ext_verb { VERB_FILTER, VERB_PRIORITIZE };
json_t *extender_handle(const struct sched_config *cfg, struct metrics_cache *mc,
			enum ext_verb verb, const char *body, size_t len, unsigned int *status);

/* http.c */
struct es_http_server;
struct es_http_server *sched_http_start(const struct sched_config *cfg,
					struct metrics_cache *mc, char *err, size_t len);
void sched_http_stop(struct es_http_server *s);

#endif /* EDGESHIFT_ES_SCHED_H */
