/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * edgeshift-console: the edge site's web console. One thread per node
 * polls that node's agent (GET /v1/node) and keeps its latest answer and a
 * ring of samples; the HTTP server hands the browser those snapshots and
 * the static page, so the browser talks to the console alone and never
 * reaches an agent, or the internet, itself.
 */
#ifndef EDGESHIFT_CONSOLE_H
#define EDGESHIFT_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "tool/opts.h"

#define CON_VERSION		"0.1.0"
#define CON_MAX_NODES		ES_OPT_MULTI_MAX
#define CON_URL_MAX		512
#define CON_NAME_MAX		256

/* What the resource view charts, one value per node and sample. */
enum con_resource {
	RES_CPU,		/* CPU busy share, 0..1 */
	RES_MEM,		/* memory in use, 0..1 */
	RES_RX_UTIL,		/* uplink utilisation in, 0..1 */
	RES_TX_UTIL,		/* uplink utilisation out, 0..1 */
	RES_RX_BPS,		/* uplink throughput in, bit/s */
	RES_TX_BPS,		/* uplink throughput out, bit/s */
	RES_SESSIONS,		/* live sessions */
	RES_P50_US,		/* service latency p50, us */
	RES_P99_US,		/* service latency p99, us */
	RES_MAX,
};

extern const char *const con_resource_names[RES_MAX];

struct con_config {
	char		listen[128];
	char		ui_dir[1024];
	char		token[256];		/* the agents' bearer token; "" read-only */
	char		prom_url[CON_URL_MAX];	/* Prometheus for the resource view; "" none */
	char		edgeshift[1024];	/* the CLI that runs session tests */
	unsigned int	refresh_ms;
	unsigned int	history_s;
	unsigned int	n_nodes;
	struct {
		char	url[CON_URL_MAX];	/* the agent's base URL */
		bool	control_plane;
	} nodes[CON_MAX_NODES];
};

/* One sample of a node: realtime ms, NAN where the agent had no figure. */
struct con_sample {
	int64_t	t_ms;
	double	v[RES_MAX];
};

struct con_node;
struct con_poller;

/* console_config.c */
void con_config_defaults(struct con_config *cfg);
int con_config_add_node(struct con_config *cfg, const char *url, bool control_plane,
			char *err, size_t len);
int con_config_prometheus(struct con_config *cfg, const char *url, char *err, size_t len);
int con_config_load_token(struct con_config *cfg, const char *path, char *err, size_t len);

/* sample.c: the figures of one /v1/node answer. */
void con_sample_from_view(json_t *view, int64_t t_ms, struct con_sample *s);

/* poller.c */
struct con_poller *con_poller_start(const struct con_config *cfg, char *err, size_t len);
void con_poller_stop(struct con_poller *p);
/* The nodes, control plane first, then by name: {"nodes": [...]}. */
json_t *con_poller_nodes_json(struct con_poller *p);
/* Samples of the last window_s seconds: {"nodes": [{"t": [...], RESOURCE: [...]}]}. */
json_t *con_poller_history_json(struct con_poller *p, unsigned int window_s);
/* The nodes' id, name, role and url, in view order. */
json_t *con_poller_heads_json(struct con_poller *p);
/* The agent URL of node id, copied into url; -ENOENT when there is none. */
int con_poller_node_url(struct con_poller *p, unsigned int id, char *url, size_t len);

/*
 * agent_proxy.c: GET one agent path, over conn or a connection of pool
 * when one is given; the parsed answer, or NULL and err.
 */
struct es_http_conn;
struct es_http_pool;
json_t *con_agent_get(const char *base, const char *path_query, struct es_http_conn *conn,
		      struct es_http_pool *pool, long timeout_ms, char *err, size_t len);
/* The same with the agents' bearer token; *status the agent's HTTP status (0: none). */
json_t *con_agent_get_auth(const char *base, const char *path_query, const char *bearer,
			   struct es_http_pool *pool, long timeout_ms, long *status,
			   char *err, size_t len);

/*
 * The same as a POST of body (JSON): the agent's answer of any status,
 * *status saying which; NULL and err when none came or it is not JSON.
 */
json_t *con_agent_post(const char *base, const char *path_query, const char *body,
		       const char *bearer, long timeout_ms, long *status, char *err, size_t len);

/*
 * migrations.c: every node's migrations, zero-downtime and plain, asked of
 * the agents of heads (taken) with their token: {"migrations": [...],
 * "errors": [...]}.
 */
json_t *con_migrations_json(json_t *heads, const char *token, struct es_http_pool *pool);

/*
 * mig_start.c: the migrations view's action, a migration started at the
 * source node's agent as `edgeshift zdm` or `edgeshift migrate` does.
 */
struct con_mig_start {
	bool		zdm;		/* zero-downtime, else plain */
	const char	*container;
	const char	*mode;		/* partial or complete */
	bool		stop_source;	/* plain: stop the source once the target runs it */
	json_t		*from, *to;	/* the nodes' heads (id, name, role, url), borrowed */
};
/* 0, or -EINVAL and why; s's strings and nodes point into body and heads. */
int con_mig_start_parse(json_t *body, json_t *heads, struct con_mig_start *s,
			char *err, size_t len);
/* The source agent's answer (any status, *status says which), or NULL and err. */
json_t *con_mig_start(const struct con_mig_start *s, const char *bearer, long *status,
		      char *err, size_t len);

/*
 * prom_history.c: the history of the nodes in heads (taken) from
 * Prometheus, or NULL and err; con_prom_queries the PromQL expression of
 * each resource, one series a node (its node label).
 */
extern const char *const con_prom_queries[RES_MAX];
/* GET path of Prometheus (over conn when given): its JSON, or NULL and why, briefly. */
struct es_http_conn;
json_t *con_prom_get(const char *prom_url, const char *path, struct es_http_conn *conn,
		     char *err, size_t len);
json_t *con_prom_history(const char *prom_url, json_t *heads, unsigned int window_s,
			 char *err, size_t len);

/*
 * prom_nodes.c: every node's latest figures in Prometheus, in one instant
 * query over conn: {NODE: {FIELD: value}}, or NULL and err.
 */
json_t *con_prom_nodes(const char *prom_url, struct es_http_conn *conn, char *err, size_t len);
/*
 * Node name's figures of that answer in the shape of its agent's
 * /v1/node, and when Prometheus scraped them; NULL when it has none.
 */
json_t *con_prom_node_view(json_t *nodes, const char *name, int64_t *scraped_ms);

/*
 * session_test.c: one run at a time of `edgeshift session-test` (a child
 * process) from the console's host; its progress as it comes.
 */
struct con_st;
struct con_st_params {
	const char	*to;		/* the sink's host or address */
	unsigned int	port;		/* its UDP port */
	double		rate_mbit;	/* per session, UDP payload */
	unsigned int	sessions;	/* the last step */
	double		step_s;		/* measured seconds per step */
	double		slo_us;		/* latency SLO on the mean round trip */
};
struct con_st *con_st_new(const char *edgeshift_bin);
/* 0, or -EINVAL and why: p's strings point into body. */
int con_st_params_parse(json_t *body, struct con_st_params *p, char *err, size_t len);
/* 0, -EBUSY when a run is on, or another -errno and why. */
int con_st_start(struct con_st *st, const struct con_st_params *p, char *err, size_t len);
/* Tears the running test's sessions down; -ESRCH when none runs. */
int con_st_stop(struct con_st *st);
/* {state, phase, sessions_active, params, steps, result[, error]} */
json_t *con_st_json(struct con_st *st);
void con_st_free(struct con_st *st);

/* console_http.c */
struct es_http_server;
struct es_http_server *con_http_start(const struct con_config *cfg, struct con_poller *p,
				      char *err, size_t len);
void con_http_stop(struct es_http_server *s);

#endif /* EDGESHIFT_CONSOLE_H */
