/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The scale advisor in the agent (docs/scale-advisor.md): the blocks of
 * one service named in the configuration, sampled on the advisor's own
 * clock (a thread: a slow cgroup read never delays accounting), and the
 * service's performance from the data plane (the accounting counters of
 * the service's interfaces) or from a file. GET /v1/advice and the
 * edgeshift_advice_* series rank the blocks at request time.
 */
#ifndef EDGESHIFT_AGENT_ADVISOR_H
#define EDGESHIFT_AGENT_ADVISOR_H

#include <stdio.h>
#include "advisor/advisor.h"

/* What of the service's interfaces is its performance. */
enum es_advisor_metric {
	ES_ADVISOR_RX_BYTES,	/* throughput: bytes/s into the interfaces */
	ES_ADVISOR_TX_BYTES,
	ES_ADVISOR_RX_PACKETS,
	ES_ADVISOR_TX_PACKETS,
	ES_ADVISOR_P50,		/* latency: service latency (request in, reply out) */
	ES_ADVISOR_P99,
	ES_ADVISOR_MEAN,	/* the mean of the interval's samples: a queue behind a
				 * CFS quota makes p50 jump between periods */
	ES_ADVISOR_NMETRICS,
};

/* "advisor" in the agent configuration; off while no block is named. */
struct es_advisor_config {
	unsigned int		interval_ms, samples;
	int			hold_ms;	/* stabilisation; -1: one window */
	double			min_change;
	char			cgroup_root[256];	/* "" : /sys/fs/cgroup */
	struct {
		char	name[ES_ADV_NAME_LEN];
		char	cgroup[256];
		char	link[16];	/* its link (the node's side), "" for none */
		char	pods[128];	/* fnmatch(3) over the names of the pods the
					 * agent accounts: its replicas; "" for none */
	}			blocks[ES_ADV_MAX_BLOCKS];
	unsigned int		n_blocks;
	char			perf_file[256];		/* a number a service writes, or */
	enum es_adv_perf_kind	file_kind;		/* which way that number is worse */
	char			perf_interface[16];	/* fnmatch(3) over attached interfaces */
	enum es_advisor_metric	metric;
};

struct json_t;
struct es_accounting;
struct es_agent_advisor;

void es_advisor_config_defaults(struct es_advisor_config *c);
const char *es_advisor_metric_name(enum es_advisor_metric m);
/* Parse the "advisor" object; 0 or -1 with err naming the field. */
int es_advisor_config_parse(struct es_advisor_config *c, struct json_t *v, char *err,
			    size_t err_len);

/*
 * Starts the sampler when c names blocks, reading the data plane's
 * counters from acct: 0 with *out (NULL when off), or -errno with err (a
 * missing cgroup). The advisor knows nothing else of the agent, so the
 * agent's metrics can render it without a circle of includes.
 */
int es_agent_advisor_start(const struct es_advisor_config *c, struct es_accounting *acct,
			   struct es_agent_advisor **out, char *err, size_t err_len);
void es_agent_advisor_stop(struct es_agent_advisor *s);
/* The advice now, as es_adv_result_json; NULL when the advisor is off (s NULL). */
struct json_t *es_agent_advice_json(struct es_agent_advisor *s);
/* The edgeshift_advice_* series; nothing when the advisor is off. */
void es_agent_advisor_render_metrics(FILE *f, struct es_agent_advisor *s, const char *node);

#endif /* EDGESHIFT_AGENT_ADVISOR_H */
