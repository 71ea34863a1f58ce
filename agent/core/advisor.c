// SPDX-License-Identifier: GPL-2.0-only
/*
 * The advisor's sampler: a thread of its own ticks every interval_ms on
 * an absolute schedule, reads the service's performance (the accounting
 * counters of its interfaces, or a file) and every block's cgroup, and
 * pushes one sample into each bounded ring. Ranking happens at request
 * time, on the rings as they are (docs/scale-advisor.md).
 */
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "util/clock.h"
#include "util/log.h"
#include "bpf/iface_counters.h"
#include "signals/signals.h"
#include "accounting/accounting.h"
#include "advisor.h"
#include "advisor_replicas.h"

/* The data plane's counters of the service's interfaces, summed. */
struct dp_read {
	__u64	pkts[ES_DIR_MAX], bytes[ES_DIR_MAX];
	__u64	hist[ES_LAT_BUCKETS];	/* service latency (request in, reply out) */
	__u64	lat_sum_ns, lat_count;	/* the same samples' sum and count */
};

struct es_agent_advisor {
	const struct es_advisor_config	*cfg;
	struct es_accounting		*acct;
	struct es_adv_perf_desc		desc;
	char				perf_name[96];
	pthread_t			thread;
	bool				running, stop;
	pthread_mutex_t			lock;	/* all below, and stop */
	pthread_cond_t			wake;
	struct es_adv_block		*blocks;
	struct es_replica_track		*replicas;	/* a block's, from its "pods" */
	struct es_adv_ring		perf;
	bool				have_dp;
	uint64_t			dp_ns;
	struct dp_read			dp;
	double				last_perf;
	uint64_t			sampled_real_ns;	/* the newest tick that read */
	char				error[256];	/* the latest tick's, "" when it read */
	uint64_t			hold_ns;	/* stabilisation, see stabilise() */
	json_t				*held;		/* the latest answer naming a block */
	uint64_t			held_ns;
};

#define ES_ADV_MAX_IFACES	(ES_ADV_MAX_BLOCKS * 4)

/*
 * The attached interfaces whose name (or, with by_pod, whose pod's name)
 * the pattern matches, into idx; how many. Maps are read outside the
 * lock afterwards, as the signals do.
 */
static size_t match_ifaces(struct es_accounting *acct, const char *pattern, bool by_pod,
			   __u32 idx[ES_ADV_MAX_IFACES])
{
	size_t n = 0, i;

	pthread_mutex_lock(&acct->lock);
	for (i = 0; i < acct->dp.n_att && n < ES_ADV_MAX_IFACES; i++) {
		const struct es_iface_info *a = &acct->dp.att[i].info;
		const char *name = by_pod ? a->pod_name : a->ifname;

		if (name[0] && !fnmatch(pattern, name, 0))
			idx[n++] = acct->dp.att[i].ifindex;
	}
	pthread_mutex_unlock(&acct->lock);
	return n;
}

/* Sums the counters of the attached interfaces the pattern matches (see match_ifaces). */
static void dp_read(struct es_accounting *acct, const char *pattern, bool by_pod,
		    struct dp_read *out)
{
	__u32 idx[ES_ADV_MAX_IFACES];
	struct es_iface_traffic tr;
	struct es_iface_stats st;
	size_t n, i;
	int d;

	memset(out, 0, sizeof(*out));
	n = match_ifaces(acct, pattern, by_pod, idx);
	for (i = 0; i < n; i++) {
		es_iface_read_traffic(&acct->dp.maps, idx[i], &tr);
		es_iface_read_stats(&acct->dp.maps, idx[i], &st);
		for (d = 0; d < ES_DIR_MAX; d++) {
			out->pkts[d] += tr.pkts[d] + st.pkts[d];
			out->bytes[d] += tr.bytes[d] + st.bytes[d];
		}
		for (d = 0; d < ES_LAT_BUCKETS; d++)
			out->hist[d] += st.lat_hist[ES_LAT_SERVICE][d];
		out->lat_sum_ns += st.lat_sum_ns[ES_LAT_SERVICE];
		out->lat_count += st.lat_count[ES_LAT_SERVICE];
	}
}

static bool dp_went_back(const struct dp_read *cur, const struct dp_read *old)
{
	int d;

	for (d = 0; d < ES_DIR_MAX; d++)
		if (cur->pkts[d] < old->pkts[d] || cur->bytes[d] < old->bytes[d])
			return true;
	return false;
}

/*
 * The performance over the interval since the last tick: a rate, or a
 * percentile or the mean of the latency samples the interval added (in microseconds;
 * an interval without one repeats the last value: the service did not
 * answer anything, which a throughput metric shows better).
 */
static double dp_value(struct es_agent_advisor *s, const struct dp_read *cur, uint64_t now)
{
	const struct dp_read *o = &s->dp;
	double dt = (now - s->dp_ns) / 1e9, q;
	__u64 hist[ES_LAT_BUCKETS];
	int b;

	switch (s->cfg->metric) {
	case ES_ADVISOR_RX_BYTES: return (cur->bytes[ES_DIR_RX] - o->bytes[ES_DIR_RX]) / dt;
	case ES_ADVISOR_TX_BYTES: return (cur->bytes[ES_DIR_TX] - o->bytes[ES_DIR_TX]) / dt;
	case ES_ADVISOR_RX_PACKETS: return (cur->pkts[ES_DIR_RX] - o->pkts[ES_DIR_RX]) / dt;
	case ES_ADVISOR_TX_PACKETS: return (cur->pkts[ES_DIR_TX] - o->pkts[ES_DIR_TX]) / dt;
	case ES_ADVISOR_MEAN:
		if (cur->lat_count <= o->lat_count || cur->lat_sum_ns < o->lat_sum_ns)
			return s->last_perf;
		return (cur->lat_sum_ns - o->lat_sum_ns) / 1e3 /
		       (cur->lat_count - o->lat_count);
	default: break;
	}
	for (b = 0; b < ES_LAT_BUCKETS; b++)
		hist[b] = cur->hist[b] > o->hist[b] ? cur->hist[b] - o->hist[b] : 0;
	q = es_lat_hist_quantile(hist, s->cfg->metric == ES_ADVISOR_P50 ? 0.5 : 0.99);
	return q < 0 ? s->last_perf : q * 1e6;
}

/* The performance now; the first read of the data plane only primes it. */
static int read_perf(struct es_agent_advisor *s, uint64_t now, double *v, char *err,
		     size_t len)
{
	struct dp_read cur;

	if (s->cfg->perf_file[0])
		return es_adv_read_perf_file(s->cfg->perf_file, v, err, len);
	dp_read(s->acct, s->cfg->perf_interface, false, &cur);
	*v = s->have_dp && !dp_went_back(&cur, &s->dp) ? dp_value(s, &cur, now) : s->last_perf;
	s->dp = cur;
	s->dp_ns = now;
	s->have_dp = true;
	return 0;
}

/*
 * The block's replicas: the pods the agent accounts (their interfaces
 * attached, named by edgeshift-cni's records) whose name matches its
 * pattern, each pod once however many interfaces it has.
 */
static unsigned int count_pods(struct es_accounting *acct, const char *pattern)
{
	const struct es_datapath *dp = &acct->dp;
	unsigned int n = 0;
	size_t i, j;

	pthread_mutex_lock(&acct->lock);
	for (i = 0; i < dp->n_att; i++) {
		const struct es_iface_info *a = &dp->att[i].info;

		if (!a->pod_name[0] || fnmatch(pattern, a->pod_name, 0))
			continue;
		for (j = 0; j < i; j++)
			if (!strcmp(dp->att[j].info.pod_name, a->pod_name) &&
			    !strcmp(dp->att[j].info.pod_namespace, a->pod_namespace))
				break;
		n += j == i;
	}
	pthread_mutex_unlock(&acct->lock);
	return n;
}

/*
 * Bytes the pods the pattern matches sent, summed: what the block passed
 * on (the agent attaches inside the pod's namespace, so tx is the pod's
 * output). Not what they received: a replica just added takes a burst
 * into its empty socket buffers whatever it then gets done (in a
 * contended run its replicas received 16 % more for two seconds while
 * what they sent on stayed flat).
 */
static uint64_t pods_sent(struct es_accounting *acct, const char *pattern)
{
	struct dp_read r;

	dp_read(acct, pattern, true, &r);
	return r.bytes[ES_DIR_TX];
}

/*
 * The block's work this tick: bytes a second its pods sent since the
 * last tick; -1 on the first tick and when the sum went back (a pod went
 * away with its counters).
 */
static double block_work(struct es_agent_advisor *s, unsigned int i, uint64_t now)
{
	struct es_replica_track *t = &s->replicas[i];
	uint64_t b = pods_sent(s->acct, s->cfg->blocks[i].pods);
	double w = -1;

	if (t->work_ns && now > t->work_ns && b >= t->work_bytes)
		w = (b - t->work_bytes) * 1e9 / (now - t->work_ns);
	t->work_bytes = b;
	t->work_ns = now;
	return w;
}

/*
 * Samples a count needs before its performance counts: a quarter of the
 * window, so a scale-out is judged while the window still shows the
 * worsening that asked for it (the rule goes quiet once the whole window
 * lies inside the overload).
 */
static unsigned int replica_k(const struct es_advisor_config *c)
{
	unsigned int k = c->samples / 4;

	return k < 3 ? 3 : k >= ES_REPLICA_SAMPLES ? ES_REPLICA_SAMPLES - 1 : k;
}

/* Under the lock, after a tick that read: each block's replicas at perf v. */
static void count_replicas(struct es_agent_advisor *s, double v)
{
	const struct es_advisor_config *c = s->cfg;
	uint64_t now = es_now_ns();
	unsigned int i, n;
	double w;

	for (i = 0; i < c->n_blocks; i++) {
		if (!c->blocks[i].pods[0])
			continue;
		n = count_pods(s->acct, c->blocks[i].pods);
		w = block_work(s, i, now);
		/* No pod seen (not attached yet, or all gone): no count to judge. */
		if (n)
			es_replica_push(&s->replicas[i], n, v, w, replica_k(c));
	}
}

static void tick(struct es_agent_advisor *s)
{
	const struct es_advisor_config *c = s->cfg;
	const char *root = c->cgroup_root[0] ? c->cgroup_root : NULL;
	uint64_t now = es_now_ns();
	char err[256] = "";
	double v = 0;

	pthread_mutex_lock(&s->lock);
	if (!read_perf(s, now, &v, err, sizeof(err)) &&
	    !es_adv_tick(s->blocks, c->n_blocks, root, now, v, &s->perf, err, sizeof(err))) {
		s->last_perf = v;
		s->sampled_real_ns = es_realtime_ns();
		count_replicas(s, v);
	}
	/* A read that starts or stops failing is logged once, not every tick. */
	if (strcmp(err, s->error))
		es_info("advisor_read", "error=\"%s\"", err[0] ? err : "none");
	snprintf(s->error, sizeof(s->error), "%s", err);
	pthread_mutex_unlock(&s->lock);
}

static void *run(void *arg)
{
	struct es_agent_advisor *s = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		tick(s);
		next.tv_nsec += (long)(s->cfg->interval_ms % 1000) * 1000000;
		next.tv_sec += s->cfg->interval_ms / 1000 + next.tv_nsec / 1000000000;
		next.tv_nsec %= 1000000000;
		pthread_mutex_lock(&s->lock);
		while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock, &next) != ETIMEDOUT)
			;
		if (s->stop) {
			pthread_mutex_unlock(&s->lock);
			return NULL;
		}
		pthread_mutex_unlock(&s->lock);
	}
}

static void describe(struct es_agent_advisor *s)
{
	const struct es_advisor_config *c = s->cfg;
	bool lat = c->metric == ES_ADVISOR_P50 || c->metric == ES_ADVISOR_P99 ||
		   c->metric == ES_ADVISOR_MEAN;

	if (c->perf_file[0]) {
		snprintf(s->perf_name, sizeof(s->perf_name), "%s in %.60s",
			 c->file_kind == ES_ADV_PERF_LATENCY ? "latency" : "throughput",
			 c->perf_file);
		s->desc.kind = c->file_kind;
	} else {
		snprintf(s->perf_name, sizeof(s->perf_name), "%s%s of %s",
			 es_advisor_metric_name(c->metric), lat ? " latency" : "/s",
			 c->perf_interface);
		s->desc.kind = lat ? ES_ADV_PERF_LATENCY : ES_ADV_PERF_THROUGHPUT;
	}
	s->desc.name = s->perf_name;
	s->desc.interval_ms = c->interval_ms;
	s->desc.samples = c->samples;
	s->desc.min_change = c->min_change;
}

static int open_blocks(struct es_agent_advisor *s, char *err, size_t len)
{
	const struct es_advisor_config *c = s->cfg;
	const char *root = c->cgroup_root[0] ? c->cgroup_root : NULL;
	unsigned int i;
	int ret;

	s->blocks = calloc(c->n_blocks, sizeof(*s->blocks));
	s->replicas = calloc(c->n_blocks, sizeof(*s->replicas));
	if (!s->blocks || !s->replicas)
		return -ENOMEM;
	for (i = 0; i < c->n_blocks; i++) {
		ret = es_adv_block_init(&s->blocks[i], c->blocks[i].name, c->blocks[i].cgroup,
					root, err, len);
		if (!ret && c->blocks[i].link[0])
			ret = es_adv_block_link(&s->blocks[i], c->blocks[i].link, err, len);
		if (ret)
			return ret;
	}
	return 0;
}

static void advisor_free(struct es_agent_advisor *s)
{
	json_decref(s->held);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s->blocks);
	free(s->replicas);
	free(s);
}

int es_agent_advisor_start(const struct es_advisor_config *c, struct es_accounting *acct,
			   struct es_agent_advisor **out, char *err, size_t len)
{
	struct es_agent_advisor *s;
	pthread_condattr_t ca;
	int ret;

	*out = NULL;
	if (!c->n_blocks)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = c;
	s->acct = acct;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	describe(s);
	s->hold_ns = (c->hold_ms < 0 ? (uint64_t)c->samples * c->interval_ms : (uint64_t)c->hold_ms) *
		     1000000ULL;
	ret = open_blocks(s, err, len);
	if (!ret)
		ret = -pthread_create(&s->thread, NULL, run, s);
	if (ret) {
		if (ret == -ENOMEM)
			snprintf(err, len, "advisor: out of memory");
		advisor_free(s);
		return ret;
	}
	s->running = true;
	*out = s;
	return 0;
}

void es_agent_advisor_stop(struct es_agent_advisor *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	advisor_free(s);
}

/*
 * The ranking of the rings as they are now, with each block's replica
 * history (Paper E's trap); under the lock.
 */
static void advise(struct es_agent_advisor *s, struct es_adv_result *res)
{
	const struct es_advisor_config *c = s->cfg;
	unsigned int i;

	for (i = 0; i < c->n_blocks; i++) {
		if (!c->blocks[i].pods[0])
			continue;
		es_replica_history(&s->replicas[i], replica_k(c), &s->blocks[i].scaled);
		s->blocks[i].replicas = s->replicas[i].n;
		s->blocks[i].replicas_steady = s->replicas[i].ticks >= c->samples;
	}
	es_adv_advise(s->blocks, c->n_blocks, &s->perf, &s->desc, res);
}

/* {"BLOCK": {"now": N, "steps": [{"replicas", "perf"}...]}} of the blocks with "pods". */
static json_t *replicas_json(struct es_agent_advisor *s)
{
	const struct es_advisor_config *c = s->cfg;
	json_t *o = json_object(), *steps;
	unsigned int i, k;

	for (i = 0; i < c->n_blocks; i++) {
		const struct es_adv_scaling *h = &s->blocks[i].scaled;

		if (!c->blocks[i].pods[0])
			continue;
		steps = json_array();
		for (k = 0; k < h->n; k++)
			json_array_append_new(steps, json_pack("{s:I,s:f,s:o}", "replicas",
					      (json_int_t)h->step[k].replicas, "perf",
					      h->step[k].perf, "work", h->step[k].work > 0 ?
					      json_real(h->step[k].work) : json_null()));
		json_object_set_new(o, c->blocks[i].name, json_pack("{s:I,s:o}", "now",
				    (json_int_t)s->replicas[i].n, "steps", steps));
	}
	return o;
}

/*
 * The block of the answer held had replicas added since, and they did not
 * help: the scale-out it advised was tried, so it is not advised again.
 */
static bool held_stopped_helping(struct es_agent_advisor *s)
{
	const char *b = json_string_value(json_object_get(s->held, "scale_out"));
	unsigned int i;
	double gain;

	for (i = 0; b && i < s->cfg->n_blocks; i++)
		if (!strcmp(s->blocks[i].name, b))
			return es_adv_stopped_helping(&s->blocks[i].scaled, s->desc.kind, &gain);
	return false;
}

/*
 * Stabilisation: an answer that names a block to scale out stays the
 * answer for hold_ns after a ranking last named it, unless a newer one
 * names a block. The rule compares the ends of the window, so once the
 * whole window lies inside the overload it goes quiet although the
 * bottleneck is still there, and one noisy interval can flip it for a
 * tick; a controller polling it would see the advice blink. Under the lock.
 */
static json_t *stabilise(struct es_agent_advisor *s, json_t *fresh)
{
	uint64_t now = es_now_ns();
	json_t *out;

	/*
	 * A trap is news, not noise: the scale-out held was just tried and did
	 * not help, so the answer that says so replaces it.
	 */
	if (json_is_string(json_object_get(fresh, "scale_out")) ||
	    !json_is_null(json_object_get(fresh, "trap"))) {
		json_decref(s->held);
		s->held = json_deep_copy(fresh);
		s->held_ns = now;
		json_object_set_new(fresh, "held_ms", json_integer(0));
		return fresh;
	}
	if (!s->held || now - s->held_ns >= s->hold_ns || held_stopped_helping(s)) {
		json_decref(s->held);
		s->held = NULL;
		json_object_set_new(fresh, "held_ms", json_null());
		return fresh;
	}
	out = json_deep_copy(s->held);
	json_object_set_new(out, "held_ms", json_integer((now - s->held_ns) / 1000000));
	/* What the window says now, beside the answer held. */
	json_object_set_new(out, "current", json_pack("{s:O,s:O}",
			    "worsening", json_object_get(fresh, "worsening"),
			    "reason", json_object_get(fresh, "reason")));
	json_decref(fresh);
	return out;
}

json_t *es_agent_advice_json(struct es_agent_advisor *s)
{
	struct es_adv_result *res;
	json_t *j = NULL;

	if (!s)
		return NULL;
	res = calloc(1, sizeof(*res));
	if (!res)
		return NULL;
	pthread_mutex_lock(&s->lock);
	advise(s, res);
	j = es_adv_result_json(s->blocks, &s->desc, res);
	/*
	 * When the newest sample ranked was read (wall clock, ms since the
	 * epoch): how old the answer is, however late it is asked for; an
	 * answer held keeps the time of the ranking that named its block.
	 */
	json_object_set_new(j, "sampled_at_ms", s->sampled_real_ns ?
			    json_integer(s->sampled_real_ns / NSEC_PER_MSEC) : json_null());
	j = stabilise(s, j);
	json_object_set_new(j, "samples_held", json_integer(s->perf.n));
	json_object_set_new(j, "performance_last", s->perf.n ?
			    json_real(s->perf.v[(s->perf.head + ES_ADV_RING_LEN - 1) %
					      ES_ADV_RING_LEN]) : json_null());
	json_object_set_new(j, "read_error", s->error[0] ? json_string(s->error) : json_null());
	json_object_set_new(j, "replicas", replicas_json(s));
	pthread_mutex_unlock(&s->lock);
	free(res);
	return j;
}
