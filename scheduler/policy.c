// SPDX-License-Identifier: GPL-2.0-only
/*
 * The placement policy: what a pod asks for (its annotations), which nodes
 * it may go to (filter) and how good each is (score, 0 to 10). The formulas
 * are in docs/scheduler-extender.md; every threshold comes from the config.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/errf.h"
#include "es_sched.h"

#define ANN_PLACEMENT	"edgeshift.io/placement"
#define ANN_BANDWIDTH	"edgeshift.io/bandwidth"
#define ANN_CLASS	"edgeshift.io/latency-class"
#define ANN_SESSIONS	"edgeshift.io/sessions"
#define OPT_IN_VALUE	"network-aware"
#define OPT_OUT_VALUE	"default"

static int bad(char *err, size_t len, const char *ann, const char *val, const char *want)
{
	return es_errf(err, len, -EINVAL, "annotation %s: \"%.64s\" %s", ann, val, want);
}

/* The annotation's string value, NULL if absent; -1 if present but not a string. */
static int annotation(json_t *annotations, const char *key, const char **val)
{
	json_t *v = json_is_object(annotations) ? json_object_get(annotations, key) : NULL;

	*val = v ? json_string_value(v) : NULL;
	return v && !*val ? -1 : 0;
}

int policy_pod_request(const struct sched_config *cfg, json_t *annotations,
		       struct pod_request *req, char *err, size_t len)
{
	const char *place, *bw, *cls, *sess;
	size_t digits;
	double n;

	memset(req, 0, sizeof(*req));
	if (annotation(annotations, ANN_PLACEMENT, &place) ||
	    annotation(annotations, ANN_BANDWIDTH, &bw) ||
	    annotation(annotations, ANN_CLASS, &cls) ||
	    annotation(annotations, ANN_SESSIONS, &sess)) {
		snprintf(err, len, "annotations: every value must be a string");
		return -1;
	}
	if (!place || !strcmp(place, OPT_OUT_VALUE))
		return 0;
	if (strcmp(place, OPT_IN_VALUE))
		return bad(err, len, ANN_PLACEMENT, place,
			   "is neither \"" OPT_IN_VALUE "\" nor \"" OPT_OUT_VALUE "\"");
	req->opted_in = true;
	req->bandwidth_bps = cfg->default_bandwidth_bps;
	if (bw && sched_parse_bps(bw, &req->bandwidth_bps))
		return bad(err, len, ANN_BANDWIDTH, bw,
			   "is not a bit/s quantity (such as 500k, 7M, 7Mi, 1G)");
	req->cls = sched_class_find(cfg, cls ? cls : cfg->default_class);
	if (!req->cls)
		return bad(err, len, ANN_CLASS, cls, "is not a latency class of the extender's configuration");
	req->sessions = 1;
	if (sess) {
		/* Decimal digits only: strtod() alone takes " 4", "0x10" and "1e1". */
		digits = strspn(sess, "0123456789");
		if (!digits || sess[digits] || digits > 7 || (n = strtod(sess, NULL)) > 1e6)
			return bad(err, len, ANN_SESSIONS, sess, "is not an integer from 0 to 1000000");
		req->sessions = n;
	}
	return 0;
}

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* Bit/s in a short human form for reasons: "7.00 Mbit/s". */
static void fmt_bps(char *buf, size_t len, double bps)
{
	if (bps >= 1e9)
		snprintf(buf, len, "%.2f Gbit/s", bps / 1e9);
	else if (bps >= 1e6)
		snprintf(buf, len, "%.2f Mbit/s", bps / 1e6);
	else
		snprintf(buf, len, "%.0f kbit/s", bps / 1e3);
}

/*
 * The agent leaves the latency series out when no sample fell in its
 * window, so a node without it is idle only when its sample count says 0.
 * Without the count, or with samples but no series, the latency query
 * found nothing (a renamed metric, a dropped label): the latency is
 * unknown, and scoring it as none would send pods there as if idle.
 */
static bool latency_missing(const struct node_metrics *m)
{
	return !m->has[SIG_LATENCY_SAMPLES] || m->series[SIG_LATENCY] > 1 ||
	       (!m->has[SIG_LATENCY] && m->v[SIG_LATENCY_SAMPLES] > 0);
}

static const char *missing_signal(const struct node_metrics *m)
{
	static const enum sched_signal needed[] = { SIG_CAPACITY, SIG_THROUGHPUT, SIG_SESSIONS };
	unsigned int i;

	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!m->has[needed[i]] || (needed[i] == SIG_CAPACITY && m->v[SIG_CAPACITY] <= 0))
			return sched_signal_names[needed[i]];
	return latency_missing(m) ? sched_signal_names[SIG_LATENCY] : NULL;
}

/* The signal behind the missing one that has several series for the node, or -1. */
static int ambiguous_signal(const struct node_metrics *m, const char *miss)
{
	bool latency = !strcmp(miss, sched_signal_names[SIG_LATENCY]);
	int s;

	for (s = 0; s < SIG_MAX; s++)
		if (m->series[s] > 1 && (!strcmp(miss, sched_signal_names[s]) ||
					 (latency && s == SIG_LATENCY_SAMPLES)))
			return s;
	return -1;
}

/* Where to look for the missing signal, for the reason. */
static const char *missing_hint(const struct node_metrics *m, const char *miss, char *buf,
				size_t len)
{
	int s = m ? ambiguous_signal(m, miss) : -1;

	if (s >= 0) {
		snprintf(buf, len, "%u series for the node, not one: check prometheus.queries.%s",
			 m->series[s], sched_signal_names[s]);
		return buf;
	}
	if (!m || strcmp(miss, sched_signal_names[SIG_LATENCY]))
		return "is edgeshiftd running and scraped there, with a link capacity?";
	if (!m->has[SIG_LATENCY_SAMPLES])
		return "no sample count: check prometheus.queries.latency_samples";
	snprintf(buf, len, "%.0f samples, no series: check prometheus.queries.latency",
		 m->v[SIG_LATENCY_SAMPLES]);
	return buf;
}

static bool filter_node(const struct sched_config *cfg, const struct pod_request *req,
			const struct node_metrics *m, struct node_verdict *v)
{
	double cap = m->v[SIG_CAPACITY], thr = m->v[SIG_THROUGHPUT];
	double util = (thr + req->bandwidth_bps) / cap, sess = m->v[SIG_SESSIONS] + req->sessions;
	char now[32], pod[32], link[32];

	if (cfg->max_utilisation > 0 && util > cfg->max_utilisation) {
		fmt_bps(now, sizeof(now), thr);
		fmt_bps(pod, sizeof(pod), req->bandwidth_bps);
		fmt_bps(link, sizeof(link), cap);
		snprintf(v->reason, sizeof(v->reason),
			 "edgeshift: link utilisation would be %.3f (%s now + %s for the pod, of %s), above max_utilisation %.3f",
			 util, now, pod, link, cfg->max_utilisation);
		return false;
	}
	if (cfg->max_sessions > 0 && sess > cfg->max_sessions) {
		snprintf(v->reason, sizeof(v->reason),
			 "edgeshift: sessions would be %.0f (%.0f now + %.0f for the pod), above max_sessions %.0f",
			 sess, m->v[SIG_SESSIONS], req->sessions, cfg->max_sessions);
		return false;
	}
	if (req->cls->slo_ms > 0 && m->has[SIG_LATENCY] && m->v[SIG_LATENCY] * 1e3 > req->cls->slo_ms) {
		snprintf(v->reason, sizeof(v->reason),
			 "edgeshift: latency %.3f ms is above the %.3f ms SLO of latency class %s",
			 m->v[SIG_LATENCY] * 1e3, req->cls->slo_ms, req->cls->name);
		return false;
	}
	return true;
}

static int score_node(const struct sched_config *cfg, const struct pod_request *req,
		      const struct node_metrics *m)
{
	double u_max = cfg->max_utilisation > 0 ? cfg->max_utilisation : 1;
	double s_cap = cfg->session_capacity > 0 ? cfg->session_capacity :
		       cfg->max_sessions > 0 ? cfg->max_sessions : 1000;
	double l_ref = req->cls->slo_ms > 0 ? req->cls->slo_ms : cfg->latency_reference_ms;
	double util = (m->v[SIG_THROUGHPUT] + req->bandwidth_bps) / m->v[SIG_CAPACITY];
	double h_bw = clamp01(1 - util / u_max);
	double h_s = clamp01(1 - (m->v[SIG_SESSIONS] + req->sessions) / s_cap);
	/*
	 * No latency series, and missing_signal() let the node through: its count
	 * says no sample fell in the window; nothing waited, nothing to hold against it.
	 */
	double h_l = m->has[SIG_LATENCY] ? clamp01(1 - m->v[SIG_LATENCY] * 1e3 / l_ref) : 1;
	double w = cfg->w_bandwidth + cfg->w_sessions + cfg->w_latency;

	return (int)floor(10 * (cfg->w_bandwidth * h_bw + cfg->w_sessions * h_s +
				cfg->w_latency * h_l) / w + 0.5);
}

void policy_evaluate(const struct sched_config *cfg, const struct pod_request *req,
		     const struct node_metrics *m, const char *node, struct node_verdict *v)
{
	const char *miss = m ? missing_signal(m) : "every signal";
	char hint[128];

	memset(v, 0, sizeof(*v));
	v->pass = true;
	if (!req->opted_in)
		return;
	if (miss) {
		v->score = cfg->no_data_score;
		if (cfg->on_no_data == NO_DATA_PASS)
			return;
		v->pass = false;
		v->unresolvable = true;
		snprintf(v->reason, sizeof(v->reason),
			 "edgeshift: no %s data for node %.128s in Prometheus (%s)",
			 miss, node, missing_hint(m, miss, hint, sizeof(hint)));
		es_text_utf8(v->reason);	/* the node's name may be cut inside a character */
		return;
	}
	v->pass = filter_node(cfg, req, m, v);
	v->score = score_node(cfg, req, m);
	es_text_utf8(v->reason);
}
