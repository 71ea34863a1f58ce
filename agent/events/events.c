// SPDX-License-Identifier: GPL-2.0-only
/* The Detector's life (open, emit, close) and its Prometheus series. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prom/prom_text.h"
#include "util/log.h"
#include "events_int.h"

struct es_events *es_events_open(const struct es_events_config *cfg, const char *node,
				 char *err, size_t err_len)
{
	struct es_events *ev = calloc(1, sizeof(*ev));

	if (!ev) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	ev->cfg = *cfg;
	snprintf(ev->node, sizeof(ev->node), "%s", node);
	snprintf(ev->source, sizeof(ev->source), "/edgeshift/%s", node);
	pthread_mutex_init(&ev->src_lock, NULL);
	if (es_spool_open(&ev->spool, cfg->spool_dir, cfg->spool_max_events, err, err_len))
		goto fail;
	if (es_deliver_start(ev)) {
		snprintf(err, err_len, "cannot start the delivery threads");
		es_deliver_stop(ev);
		es_spool_close(&ev->spool);
		goto fail;
	}
	es_info("events_ready", "sink=\"%s\" mode=%s parallelism=%u spool=%s pending=%llu",
		cfg->sink, cfg->mode == ES_EV_BINARY ? "binary" : "structured", cfg->parallelism,
		cfg->spool_dir,
		(unsigned long long)es_spool_depth(&ev->spool));
	return ev;
fail:
	free(ev);
	return NULL;
}

void es_events_close(struct es_events *ev)
{
	if (!ev)
		return;
	es_deliver_stop(ev);
	es_info("events_stopped", "pending=%llu", (unsigned long long)es_spool_depth(&ev->spool));
	/*
	 * Not freed: a detached migration worker may still log a phase while
	 * the process exits; its append then fails on the closed spool and
	 * is counted, and the next start has everything spooled before.
	 */
	es_spool_close(&ev->spool);
}

int es_events_emit(struct es_events *ev, enum es_ev_type type, const char *where,
		   const char *subject, json_t *data)
{
	char *line;
	int ret;

	if (!ev || type >= ES_EV_TYPES || !(ev->cfg.types & (1U << type))) {
		json_decref(data);
		return -EPERM;
	}
	line = data ? es_ce_record(ev, type, where, subject, data) : NULL;
	if (!line) {
		/* once: a builder that fails on an interface's name fails every round */
		if (!atomic_fetch_add(&ev->dropped[ES_EV_DROP_BUILD], 1))
			es_warn("event_unbuilt", "type=%s reason=\"%s not built, logged once\"",
				es_ev_type_name(type), data ? "record" : "data");
		return -EINVAL;
	}
	ret = es_spool_append(&ev->spool, line, strlen(line));
	if (!ret) {
		atomic_fetch_add(&ev->emitted[type], 1);
	} else {
		enum es_ev_drop d = ret == -ENOBUFS ? ES_EV_DROP_FULL : ES_EV_DROP_WRITE;

		/* Loud once per hundred: a full spool drops many in a row. */
		if (atomic_fetch_add(&ev->dropped[d], 1) % 100 == 0)
			es_warn("event_dropped", "type=%s reason=%s dropped=%llu error=\"%s\"",
				es_ev_type_name(type), d == ES_EV_DROP_FULL ? "spool_full" :
				"write_error", (unsigned long long)atomic_load(&ev->dropped[d]),
				strerror(-ret));
	}
	free(line);
	return ret;
}

void es_events_stats(struct es_events *ev, struct es_events_stats *st)
{
	int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < ES_EV_TYPES; i++)
		st->emitted += atomic_load(&ev->emitted[i]);
	for (i = 0; i < ES_EV_DROPS; i++)
		st->dropped += atomic_load(&ev->dropped[i]);
	st->dropped_full = atomic_load(&ev->dropped[ES_EV_DROP_FULL]);
	st->dropped_write = atomic_load(&ev->dropped[ES_EV_DROP_WRITE]);
	st->dropped_build = atomic_load(&ev->dropped[ES_EV_DROP_BUILD]);
	st->util_untracked = atomic_load(&ev->util_untracked);
	st->delivered = atomic_load(&ev->delivered);
	st->retried = atomic_load(&ev->retried);
	st->dead_lettered = atomic_load(&ev->dead_lettered);
	st->attempts = atomic_load(&ev->attempts);
	st->spool_depth = es_spool_depth(&ev->spool);
}

static void counter(FILE *f, const char *name, const char *help, const char *node,
		    uint64_t v)
{
	es_prom_header(f, name, "counter", help);
	fprintf(f, "%s{node=\"%s\"} %llu\n", name, node, (unsigned long long)v);
}

static void render_latency(FILE *f, struct es_events *ev, const char *node)
{
	uint64_t cum = 0;
	int i;

	es_prom_header(f, "edgeshift_events_delivery_latency_seconds", "histogram",
		       "From an event's emission to the sink's acknowledgement.");
	for (i = 0; i <= ES_EV_LAT_BUCKETS; i++) {
		cum += atomic_load(&ev->lat_bucket[i]);
		if (i < ES_EV_LAT_BUCKETS)
			fprintf(f, "edgeshift_events_delivery_latency_seconds_bucket{node=\"%s\","
				"le=\"%g\"} %llu\n", node, es_ev_lat_bounds[i],
				(unsigned long long)cum);
		else
			fprintf(f, "edgeshift_events_delivery_latency_seconds_bucket{node=\"%s\","
				"le=\"+Inf\"} %llu\n", node, (unsigned long long)cum);
	}
	fprintf(f, "edgeshift_events_delivery_latency_seconds_sum{node=\"%s\"} %.6f\n", node,
		atomic_load(&ev->lat_sum));
	fprintf(f, "edgeshift_events_delivery_latency_seconds_count{node=\"%s\"} %llu\n", node,
		(unsigned long long)atomic_load(&ev->lat_count));
}

void es_events_render_metrics(FILE *f, struct es_events *ev, const char *node)
{
	static const char *const drop_names[ES_EV_DROPS] = { "spool_full", "write_error",
							     "rejected", "corrupt", "build_error" };
	int i;

	if (!ev)
		return;
	es_prom_header(f, "edgeshift_events_emitted_total", "counter",
		       "CloudEvents spooled, by type.");
	for (i = 0; i < ES_EV_TYPES; i++)
		fprintf(f, "edgeshift_events_emitted_total{node=\"%s\",type=\"%s\"} %llu\n", node,
			es_ev_type_name(i), (unsigned long long)atomic_load(&ev->emitted[i]));
	counter(f, "edgeshift_events_delivered_total", "Events the sink acknowledged (2xx).",
		node, atomic_load(&ev->delivered));
	counter(f, "edgeshift_events_retried_total", "Retries after a retryable failure.", node,
		atomic_load(&ev->retried));
	counter(f, "edgeshift_events_dead_lettered_total",
		"Events the dead-letter sink acknowledged.", node, atomic_load(&ev->dead_lettered));
	counter(f, "edgeshift_events_attempts_total", "HTTP POSTs to either sink.", node,
		atomic_load(&ev->attempts));
	es_prom_header(f, "edgeshift_events_dropped_total", "counter",
		       "Events lost, by reason (docs/events.md, Spool).");
	for (i = 0; i < ES_EV_DROPS; i++)
		fprintf(f, "edgeshift_events_dropped_total{node=\"%s\",reason=\"%s\"} %llu\n", node,
			drop_names[i], (unsigned long long)atomic_load(&ev->dropped[i]));
	counter(f, "edgeshift_events_util_untracked_total",
		"Interfaces whose utilisation a round did not judge: 64 others were tracked.",
		node, atomic_load(&ev->util_untracked));
	es_prom_header(f, "edgeshift_events_spool_depth", "gauge",
		       "Events spooled and not yet acknowledged.");
	fprintf(f, "edgeshift_events_spool_depth{node=\"%s\"} %llu\n", node,
		(unsigned long long)es_spool_depth(&ev->spool));
	es_prom_header(f, "edgeshift_events_spool_capacity", "gauge",
		       "spool_max_events: appends beyond it are dropped.");
	fprintf(f, "edgeshift_events_spool_capacity{node=\"%s\"} %u\n", node,
		ev->cfg.spool_max_events);
	render_latency(f, ev, node);
}
