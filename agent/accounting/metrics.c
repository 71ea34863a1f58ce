// SPDX-License-Identifier: GPL-2.0-only
/*
 * The accounting part of the Prometheus text exposition. Interface and pod
 * series come straight from the per-CPU maps (summed at scrape time);
 * gauges of live sessions come from the latest collection snapshot. Labels stay bounded: node,
 * interface, pod, direction, protocol, reason, kind. Per-session series
 * exist only when enabled, and then only for the largest sessions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "bpf/es_names.h"
#include "bpf/iface_counters.h"
#include "prom/prom_text.h"
#include "accounting.h"

static const char *const proto_slot_names[ES_PROTO_SLOTS] = { "tcp", "udp", "icmp", "icmpv6" };

/* Everything read for one interface, copied out under the accounting lock. */
struct iface_row {
	struct es_iface_info	info;
	struct es_iface_traffic	traffic;
	struct es_iface_stats	stats;
	struct es_iface_closed	closed;
	__u64			active[ES_PROTO_SLOTS];
	char			labels[1024];	/* node, interface, namespace, pod */
	char			ns[140];	/* escaped for a label value */
	char			pod[520];
};

static struct iface_row *collect_rows(struct es_accounting *a, const char *node, size_t *n)
{
	const struct es_maps *m = &a->dp.maps;
	struct iface_row *rows;
	char ifn[40];
	unsigned int i;
	size_t s;
	__u32 ifx;

	pthread_mutex_lock(&a->lock);
	*n = a->dp.n_att;
	rows = calloc(*n + 1, sizeof(*rows));
	for (i = 0; rows && i < *n; i++) {
		rows[i].info = a->dp.att[i].info;
		for (s = 0; s < a->snap.n_ifaces; s++) {
			if (a->snap.ifaces[s].ifindex == a->dp.att[i].ifindex)
				memcpy(rows[i].active, a->snap.ifaces[s].active,
				       sizeof(rows[i].active));
		}
	}
	pthread_mutex_unlock(&a->lock);
	for (i = 0; rows && i < *n; i++) {
		ifx = rows[i].info.ifindex;
		es_iface_read_traffic(m, ifx, &rows[i].traffic);
		es_iface_read_stats(m, ifx, &rows[i].stats);
		bpf_map_lookup_elem(m->fd[ES_MAP_IFACE_CLOSED], &ifx, &rows[i].closed);
		es_prom_label_escape(ifn, sizeof(ifn), rows[i].info.ifname);
		es_prom_label_escape(rows[i].ns, sizeof(rows[i].ns), rows[i].info.pod_namespace);
		es_prom_label_escape(rows[i].pod, sizeof(rows[i].pod), rows[i].info.pod_name);
		snprintf(rows[i].labels, sizeof(rows[i].labels),
			 "node=\"%s\",interface=\"%s\",namespace=\"%s\",pod=\"%s\"",
			 node, ifn, rows[i].ns, rows[i].pod);
	}
	return rows;
}

/* A metric with one series per interface and per value of one extra label. */
struct family {
	const char		*name;
	const char		*type;
	const char		*help;
	const char		*label;		/* extra label, NULL for none */
	const char *const	*values;	/* its values */
	int			n_values;
	__u64			(*value)(const struct iface_row *r, int k);
};

static __u64 v_pkts(const struct iface_row *r, int d)
{
	return r->traffic.pkts[d] + r->stats.pkts[d];
}

static __u64 v_bytes(const struct iface_row *r, int d)
{
	return r->traffic.bytes[d] + r->stats.bytes[d];
}

static __u64 v_active(const struct iface_row *r, int k) { return r->active[k]; }
static __u64 v_created(const struct iface_row *r, int k) { (void)k; return r->stats.sessions_created; }
static __u64 v_closed(const struct iface_row *r, int k) { return r->closed.sessions[k]; }
static __u64 v_closed_bytes(const struct iface_row *r, int d) { return r->closed.bytes[d]; }
static __u64 v_closed_pkts(const struct iface_row *r, int d) { return r->closed.pkts[d]; }
static __u64 v_lost(const struct iface_row *r, int k) { (void)k; return r->stats.close_events_lost; }

static const struct family families[] = {
	{ "edgeshift_interface_packets_total", "counter",
	  "Packets seen on the interface by direction (rx: receive hook, tx: tcx egress).",
	  "direction", es_dir_names, ES_DIR_MAX, v_pkts },
	{ "edgeshift_interface_bytes_total", "counter",
	  "L2 bytes seen on the interface by direction.",
	  "direction", es_dir_names, ES_DIR_MAX, v_bytes },
	{ "edgeshift_sessions_active", "gauge",
	  "Sessions in the session maps at the latest collection scan.",
	  "protocol", proto_slot_names, ES_PROTO_SLOTS, v_active },
	{ "edgeshift_sessions_created_total", "counter",
	  "Session entries created by the data plane.", NULL, NULL, 1, v_created },
	{ "edgeshift_sessions_closed_total", "counter",
	  "Sessions collected by the agent, by reason.",
	  "reason", es_close_names, ES_CLOSE_MAX, v_closed },
	{ "edgeshift_closed_session_bytes_total", "counter",
	  "Bytes of collected sessions, by direction.",
	  "direction", es_dir_names, ES_DIR_MAX, v_closed_bytes },
	{ "edgeshift_closed_session_packets_total", "counter",
	  "Packets of collected sessions, by direction.",
	  "direction", es_dir_names, ES_DIR_MAX, v_closed_pkts },
	{ "edgeshift_close_events_lost_total", "counter",
	  "Close events the full ring buffer refused; the periodic scan still collects them.",
	  NULL, NULL, 1, v_lost },
};

static void render_family(FILE *f, const struct family *fam, const struct iface_row *r,
			  size_t n)
{
	size_t i;
	int k;

	es_prom_header(f, fam->name, fam->type, fam->help);
	for (i = 0; i < n; i++) {
		for (k = 0; k < fam->n_values; k++) {
			if (fam->label)
				fprintf(f, "%s{%s,%s=\"%s\"} %llu\n", fam->name, r[i].labels,
					fam->label, fam->values[k],
					(unsigned long long)fam->value(&r[i], k));
			else
				fprintf(f, "%s{%s} %llu\n", fam->name, r[i].labels,
					(unsigned long long)fam->value(&r[i], k));
		}
	}
}

static void render_iface_families(FILE *f, const struct iface_row *r, size_t n)
{
	size_t i;
	int d, s;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		render_family(f, &families[i], r, n);
	es_prom_header(f, "edgeshift_skipped_packets_total", "counter",
		       "Packets passed without session accounting, by reason.");
	for (i = 0; i < n; i++)
		for (d = 0; d < ES_DIR_MAX; d++)
			for (s = 0; s < ES_SKIP_MAX; s++)
				fprintf(f, "edgeshift_skipped_packets_total{%s,direction=\"%s\",reason=\"%s\"} %llu\n",
					r[i].labels, es_dir_names[d], es_skip_names[s],
					(unsigned long long)r[i].stats.skipped[d][s]);
}

static void render_latency(FILE *f, const struct iface_row *r, size_t n)
{
	unsigned long long cum;
	size_t i;
	int k, b;

	es_prom_header(f, "edgeshift_latency_seconds", "histogram",
		       "Latency samples: tcp_handshake (handshake RTT), service (request in to reply out), response (request out to reply in).");
	for (i = 0; i < n; i++) {
		for (k = 0; k < ES_LAT_MAX; k++) {
			cum = 0;
			for (b = 0; b < ES_LAT_BUCKETS - 1; b++) {
				cum += r[i].stats.lat_hist[k][b];
				fprintf(f, "edgeshift_latency_seconds_bucket{%s,kind=\"%s\",le=\"%.12g\"} %llu\n",
					r[i].labels, es_lat_names[k],
					(double)(1ULL << (b + ES_LAT_BUCKET_SHIFT)) / 1e9, cum);
			}
			cum += r[i].stats.lat_hist[k][ES_LAT_BUCKETS - 1];
			fprintf(f, "edgeshift_latency_seconds_bucket{%s,kind=\"%s\",le=\"+Inf\"} %llu\n",
				r[i].labels, es_lat_names[k], cum);
			fprintf(f, "edgeshift_latency_seconds_sum{%s,kind=\"%s\"} %.9f\n",
				r[i].labels, es_lat_names[k], r[i].stats.lat_sum_ns[k] / 1e9);
			fprintf(f, "edgeshift_latency_seconds_count{%s,kind=\"%s\"} %llu\n",
				r[i].labels, es_lat_names[k],
				(unsigned long long)r[i].stats.lat_count[k]);
		}
	}
}

/* Pod totals: the sum of the pod's interfaces, live and collected alike. */
static void render_pods(FILE *f, const struct iface_row *r, size_t n, const char *node)
{
	size_t i, j;
	int d;

	es_prom_header(f, "edgeshift_pod_bytes_total", "counter",
		       "L2 bytes on the interfaces of a pod, by direction.");
	for (i = 0; i < n; i++) {
		if (!r[i].info.pod_name[0])
			continue;
		for (j = 0; j < i; j++)
			if (!strcmp(r[j].info.pod_name, r[i].info.pod_name) &&
			    !strcmp(r[j].info.pod_namespace, r[i].info.pod_namespace))
				break;
		if (j < i)
			continue;
		for (d = 0; d < ES_DIR_MAX; d++) {
			unsigned long long sum = 0;

			for (j = i; j < n; j++)
				if (!strcmp(r[j].info.pod_name, r[i].info.pod_name) &&
				    !strcmp(r[j].info.pod_namespace, r[i].info.pod_namespace))
					sum += r[j].traffic.bytes[d] + r[j].stats.bytes[d];
			fprintf(f, "edgeshift_pod_bytes_total{node=\"%s\",namespace=\"%s\",pod=\"%s\",direction=\"%s\"} %llu\n",
				node, r[i].ns, r[i].pod, es_dir_names[d], sum);
		}
	}
}

/*
 * The LRU maps evict when full: what they lost. The slot table evicts
 * nothing (a session it has no room for is a no_slot skip), so with it the
 * series stays 0 but for a key that raced into two slots (docs/maps.md).
 */
static void render_evictions(FILE *f, const struct es_gc_stats *gc, const char *node)
{
	es_prom_header(f, "edgeshift_session_evictions_total", "counter",
		       "Session entries the LRU maps evicted: created minus collected minus live.");
	fprintf(f, "edgeshift_session_evictions_total{node=\"%s\"} %llu\n", node,
		(unsigned long long)gc->evictions);
}

/*
 * The slot table evicts nothing (a new session that finds no slot is a
 * no_slot skip): its occupancy, counted from the tags now, and its size.
 */
static void render_slots(FILE *f, const struct es_slot_table *t, const char *node)
{
	static const char *const states[] = { "empty", "busy", "live", "reclaim" };
	size_t count[4];
	__u32 st;

	es_slot_table_count(t, count);
	es_prom_header(f, "edgeshift_session_slots", "gauge",
		       "Slots of the slot table by state (session_table: slots).");
	for (st = 0; st < 4; st++)
		fprintf(f, "edgeshift_session_slots{node=\"%s\",state=\"%s\"} %zu\n", node,
			states[st], count[st]);
	es_prom_header(f, "edgeshift_session_slots_capacity", "gauge",
		       "Slots of the slot table.");
	fprintf(f, "edgeshift_session_slots_capacity{node=\"%s\"} %llu\n", node,
		(unsigned long long)t->nbuckets * ES_TBL_BUCKET_SLOTS);
}

static void render_node(FILE *f, struct es_accounting *a, const char *node)
{
	const struct es_slot_table *t = &a->dp.maps.tbl;
	/* with the table, both families share its slots */
	bool slots = es_maps_slots(&a->dp.maps);
	double cap = slots ? (double)t->nbuckets * ES_TBL_BUCKET_SLOTS : a->cfg->session_map_size;
	double pressure;
	struct es_snapshot s;
	struct es_gc_stats gc;

	pthread_mutex_lock(&a->lock);
	s = a->snap;
	gc = a->gc;
	pthread_mutex_unlock(&a->lock);
	es_prom_header(f, "edgeshift_session_map_entries", "gauge",
		       "Live entries per session map.");
	fprintf(f, "edgeshift_session_map_entries{node=\"%s\",family=\"ipv4\"} %zu\n", node, s.entries[0]);
	fprintf(f, "edgeshift_session_map_entries{node=\"%s\",family=\"ipv6\"} %zu\n", node, s.entries[1]);
	es_prom_header(f, "edgeshift_session_map_capacity", "gauge",
		       "max_entries of each session map (with the slot table: its slots, "
		       "which both families share).");
	fprintf(f, "edgeshift_session_map_capacity{node=\"%s\",family=\"ipv4\"} %.0f\n", node, cap);
	fprintf(f, "edgeshift_session_map_capacity{node=\"%s\",family=\"ipv6\"} %.0f\n", node, cap);
	es_prom_header(f, "edgeshift_session_map_pressure", "gauge",
		       "Fullest session map (or the slot table): entries over capacity (0 to 1).");
	/* the table holds both families; of two maps, the fuller one */
	if (slots)
		pressure = (double)(s.entries[0] + s.entries[1]) / cap;
	else
		pressure = (double)(s.entries[0] > s.entries[1] ? s.entries[0] : s.entries[1]) / cap;
	fprintf(f, "edgeshift_session_map_pressure{node=\"%s\"} %.6f\n", node, pressure);
	if (slots)
		render_slots(f, &a->dp.maps.tbl, node);
	render_evictions(f, &gc, node);
	es_prom_header(f, "edgeshift_gc_runs_total", "counter", "Collection scans run.");
	fprintf(f, "edgeshift_gc_runs_total{node=\"%s\"} %llu\n", node, (unsigned long long)gc.runs);
	es_prom_header(f, "edgeshift_gc_duration_seconds", "gauge",
		       "Duration of the latest collection scan.");
	fprintf(f, "edgeshift_gc_duration_seconds{node=\"%s\"} %.6f\n", node, gc.last_duration_ns / 1e9);
	es_prom_header(f, "edgeshift_close_events_total", "counter",
		       "Close notifications received from the data plane.");
	fprintf(f, "edgeshift_close_events_total{node=\"%s\"} %llu\n", node,
		(unsigned long long)gc.close_events);
}

static void render_per_session(FILE *f, struct es_accounting *a, const char *node)
{
	char lo[64], hi[64];
	size_t i;
	int d;

	if (!a->cfg->per_session_metrics)
		return;
	es_prom_header(f, "edgeshift_session_bytes_total", "counter",
		       "Bytes of the largest live sessions (capped by metrics.per_session_max).");
	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->snap.n_top; i++) {
		const struct es_session *s = &a->snap.top[i];

		es_session_endpoint(s, false, lo, sizeof(lo));
		es_session_endpoint(s, true, hi, sizeof(hi));
		for (d = 0; d < ES_DIR_MAX; d++)
			fprintf(f, "edgeshift_session_bytes_total{node=\"%s\",ifindex=\"%u\",protocol=\"%s\",endpoint_lo=\"%s\",endpoint_hi=\"%s\",direction=\"%s\"} %llu\n",
				node, s->key.ifindex, es_proto_name(s->key.proto), lo, hi,
				es_dir_names[d], (unsigned long long)s->c.bytes[d]);
	}
	pthread_mutex_unlock(&a->lock);
}

void es_acct_render_metrics(FILE *f, struct es_accounting *acct, const char *node)
{
	struct iface_row *rows;
	size_t n;

	rows = collect_rows(acct, node, &n);
	render_node(f, acct, node);
	if (rows) {
		render_iface_families(f, rows, n);
		render_latency(f, rows, n);
		render_pods(f, rows, n, node);
	}
	render_per_session(f, acct, node);
	free(rows);
}
