// SPDX-License-Identifier: GPL-2.0-only
/*
 * The node inputs the verbs decide with. A background thread queries
 * Prometheus every refresh_interval_ms (each query bounded by timeout_ms)
 * and swaps in a new snapshot when every query answered. A request takes a
 * reference to the current snapshot under a mutex held for a few
 * instructions, so it never waits on Prometheus; a snapshot older than
 * max_staleness_ms is not used at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/http_client.h"
#include "util/clock.h"
#include "util/log.h"
#include "es_sched.h"

struct metrics_cache {
	const struct sched_config	*cfg;
	pthread_t			thread;
	pthread_mutex_t			lock;
	pthread_cond_t			wake;
	bool				stop;
	bool				failing;	/* the latest refresh failed */
	bool				ambiguous;	/* it had several series for a node */
	struct metrics_snapshot		*cur;
	uint64_t			refresh_ok, refresh_failed;
	uint64_t			last_attempt_ns;
	char				last_error[512];
};

struct metrics_snapshot *metrics_snapshot_new(struct node_metrics *nodes, size_t n,
					      uint64_t fetched_ns)
{
	struct metrics_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->refs = 1;
	s->nodes = nodes;
	s->n = n;
	s->fetched_ns = fetched_ns;
	return s;
}

static void snapshot_unref(struct metrics_snapshot *s)
{
	if (s && --s->refs == 0) {
		free(s->nodes);
		free(s);
	}
}

void metrics_snapshot_put(struct metrics_cache *mc, struct metrics_snapshot *s)
{
	pthread_mutex_lock(&mc->lock);
	snapshot_unref(s);
	pthread_mutex_unlock(&mc->lock);
}

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct node_metrics *)elem)->name);
}

const struct node_metrics *metrics_snapshot_find(const struct metrics_snapshot *s,
						 const char *node)
{
	return bsearch(node, s->nodes, s->n, sizeof(*s->nodes), cmp_name);
}

struct metrics_snapshot *metrics_cache_get(struct metrics_cache *mc, char *why, size_t len)
{
	uint64_t bound = mc->cfg->max_staleness_ms * 1000000ULL, now = es_now_ns();
	struct metrics_snapshot *s;

	pthread_mutex_lock(&mc->lock);
	s = mc->cur;
	if (s && now - s->fetched_ns <= bound) {
		s->refs++;
	} else {
		if (s)
			snprintf(why, len, "edgeshift metrics are %.1f s old (bound %.1f s); last refresh error: %s",
				 (now - s->fetched_ns) / 1e9, bound / 1e9, mc->last_error);
		else
			snprintf(why, len, "no edgeshift metrics from Prometheus yet: %s",
				 mc->last_error[0] ? mc->last_error : "first refresh still running");
		s = NULL;
	}
	pthread_mutex_unlock(&mc->lock);
	return s;
}

/*
 * Logs a refresh's values that several series give for one node, when
 * they appear: a query or a node name to fix, not a state of the network.
 */
static void note_ambiguous(struct metrics_cache *mc, const struct node_metrics *nodes, size_t n)
{
	const struct node_metrics *first = NULL;
	size_t i, count = 0;
	int s, fs = 0;

	for (i = 0; i < n; i++)
		for (s = 0; s < SIG_MAX; s++)
			if (nodes[i].series[s] > 1 && !count++) {
				first = &nodes[i];
				fs = s;
			}
	if (count && !mc->ambiguous)
		es_warn("metrics_ambiguous",
			"values=%zu node=%s signal=%s series=%u reason=\"several series for one "
			"node, none used; logged again when it ends and returns\"",
			count, first->name, sched_signal_names[fs], first->series[fs]);
	mc->ambiguous = count > 0;
}

static void refresh(struct metrics_cache *mc, struct es_http_conn *conn)
{
	struct metrics_snapshot *s = NULL, *old;
	struct node_metrics *nodes = NULL;
	uint64_t start = es_now_ns();
	char err[512];
	size_t n = 0;
	int ret;

	/* no client (libcurl could not be set up): a failed refresh, said as one */
	if (!conn) {
		snprintf(err, sizeof(err), "no HTTP client: libcurl could not be set up");
		ret = -1;
	} else {
		ret = prom_fetch(mc->cfg, conn, &nodes, &n, err, sizeof(err));
	}
	if (!ret) {
		note_ambiguous(mc, nodes, n);
		s = metrics_snapshot_new(nodes, n, start);
		if (!s) {
			free(nodes);
			snprintf(err, sizeof(err), "out of memory");
		}
	}
	pthread_mutex_lock(&mc->lock);
	mc->last_attempt_ns = start;
	if (s) {
		old = mc->cur;
		mc->cur = s;
		snapshot_unref(old);
		if (mc->failing || !mc->refresh_ok)
			es_info("metrics_available", "nodes=%zu", n);
		mc->failing = false;
		mc->refresh_ok++;
		mc->last_error[0] = '\0';
	} else {
		/* Once per outage, not at every refresh. */
		if (!mc->failing)
			es_warn("metrics_refresh_failed", "error=\"%s\"", err);
		mc->failing = true;
		mc->refresh_failed++;
		snprintf(mc->last_error, sizeof(mc->last_error), "%s", err);
	}
	pthread_mutex_unlock(&mc->lock);
	es_debug("metrics_refresh", "ok=%d nodes=%zu duration_ms=%.1f", s != NULL, n,
		 (es_now_ns() - start) / 1e6);
}

static void *refresher(void *arg)
{
	struct metrics_cache *mc = arg;
	struct timespec deadline;
	/* One connection kept open to Prometheus across refreshes. */
	struct es_http_conn *conn = es_http_conn_new();

	pthread_mutex_lock(&mc->lock);
	while (!mc->stop) {
		pthread_mutex_unlock(&mc->lock);
		if (!conn)
			conn = es_http_conn_new();
		refresh(mc, conn);
		pthread_mutex_lock(&mc->lock);
		deadline = es_mono_deadline(mc->cfg->refresh_ms);
		while (!mc->stop && pthread_cond_timedwait(&mc->wake, &mc->lock, &deadline) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&mc->lock);
	es_http_conn_free(conn);
	return NULL;
}

struct metrics_cache *metrics_cache_start(const struct sched_config *cfg)
{
	struct metrics_cache *mc = calloc(1, sizeof(*mc));

	if (!mc)
		return NULL;
	mc->cfg = cfg;
	pthread_mutex_init(&mc->lock, NULL);
	es_cond_init_mono(&mc->wake);
	if (pthread_create(&mc->thread, NULL, refresher, mc)) {
		free(mc);
		return NULL;
	}
	return mc;
}

/* Returns within one query timeout: curl bounds every transfer. */
void metrics_cache_stop(struct metrics_cache *mc)
{
	if (!mc)
		return;
	pthread_mutex_lock(&mc->lock);
	mc->stop = true;
	pthread_cond_signal(&mc->wake);
	pthread_mutex_unlock(&mc->lock);
	pthread_join(mc->thread, NULL);
	snapshot_unref(mc->cur);
	pthread_mutex_destroy(&mc->lock);
	pthread_cond_destroy(&mc->wake);
	free(mc);
}

void metrics_cache_counters(struct metrics_cache *mc, uint64_t *ok, uint64_t *failed,
			    double *age_s)
{
	pthread_mutex_lock(&mc->lock);
	*ok = mc->refresh_ok;
	*failed = mc->refresh_failed;
	*age_s = mc->cur ? (es_now_ns() - mc->cur->fetched_ns) / 1e9 : -1;
	pthread_mutex_unlock(&mc->lock);
}

/* NULL when a value cannot be written (json_real refuses +-Inf) or no memory. */
static json_t *node_json(const struct node_metrics *m)
{
	json_t *j = json_pack("{s:s}", "node", m->name);
	int s;

	for (s = 0; j && s < SIG_MAX; s++) {
		if (json_object_set_new(j, sched_signal_names[s],
					m->has[s] ? json_real(m->v[s]) : json_null())) {
			json_decref(j);
			j = NULL;
		}
	}
	return j;
}

static json_t *nodes_json(const struct metrics_snapshot *s)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr && i < s->n; i++) {
		if (json_array_append_new(arr, node_json(&s->nodes[i]))) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

/*
 * GET /v1/nodes: what the verbs would decide with now; NULL when it cannot
 * be built: a node or a value left out would say the verbs lack it.
 */
json_t *metrics_cache_json(struct metrics_cache *mc)
{
	char why[600] = "";
	struct metrics_snapshot *s = metrics_cache_get(mc, why, sizeof(why));
	json_t *root;
	double age;
	int bad;

	root = json_pack("{s:b,s:f}", "usable", s != NULL,
			 "max_staleness_s", mc->cfg->max_staleness_ms / 1e3);
	if (s) {
		age = (es_now_ns() - s->fetched_ns) / 1e9;
		bad = !root || json_object_set_new(root, "age_s", json_real(age)) ||
		      json_object_set_new(root, "nodes", nodes_json(s));
		metrics_snapshot_put(mc, s);
	} else {
		bad = !root || json_object_set_new(root, "error", json_string(why)) ||
		      json_object_set_new(root, "nodes", json_array());
	}
	if (bad) {
		json_decref(root);
		root = NULL;
	}
	return root;
}
