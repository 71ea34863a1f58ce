// SPDX-License-Identifier: GPL-2.0-only
/*
 * The placement signals as Prometheus series (appended to /metrics) and as
 * the JSON of GET /v1/node. Both come from one es_node_view, computed at
 * request time. Unknown values are left out of /metrics (a series that
 * is absent is "no data" to PromQL) and are null in the JSON.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "bpf/es_names.h"
#include "prom/prom_text.h"
#include "signals.h"

static const char *const cap_source_names[] = { "unknown", "config", "device" };
static const char *const quantile_names[] = { "0.5", "0.9", "0.99" };

static void iface_labels(char *dst, size_t len, const char *node,
			 const struct es_iface_signal *is)
{
	char ifn[40], ns[140], pod[520];

	es_prom_label_escape(ifn, sizeof(ifn), is->ifname);
	es_prom_label_escape(ns, sizeof(ns), is->pod_namespace);
	es_prom_label_escape(pod, sizeof(pod), is->pod_name);
	snprintf(dst, len, "node=\"%s\",interface=\"%s\",namespace=\"%s\",pod=\"%s\"",
		 node, ifn, ns, pod);
}

static void render_ifaces(FILE *f, const struct es_node_view *v, const char *node)
{
	char labels[1024];
	size_t i;
	int d;

	es_prom_header(f, "edgeshift_interface_link_capacity_bits_per_second", "gauge",
		       "Link capacity: configured, else the device's speed; 0 with source=\"unknown\".");
	for (i = 0; i < v->n_ifaces; i++) {
		iface_labels(labels, sizeof(labels), node, &v->ifaces[i]);
		fprintf(f, "edgeshift_interface_link_capacity_bits_per_second{%s,source=\"%s\"} %.0f\n",
			labels, cap_source_names[v->ifaces[i].cap_source], v->ifaces[i].capacity_bps);
	}
	es_prom_header(f, "edgeshift_interface_throughput_bits_per_second", "gauge",
		       "L2 throughput over the signals window, by direction.");
	for (i = 0; i < v->n_ifaces; i++) {
		iface_labels(labels, sizeof(labels), node, &v->ifaces[i]);
		for (d = 0; d < ES_DIR_MAX; d++)
			fprintf(f, "edgeshift_interface_throughput_bits_per_second{%s,direction=\"%s\"} %.0f\n",
				labels, es_dir_names[d], v->ifaces[i].dir[d].bps);
	}
	es_prom_header(f, "edgeshift_interface_utilisation_ratio", "gauge",
		       "Throughput over capacity (0 to 1, above 1 if the capacity is set too low); absent when the capacity is unknown.");
	for (i = 0; i < v->n_ifaces; i++) {
		if (v->ifaces[i].capacity_bps <= 0)
			continue;
		iface_labels(labels, sizeof(labels), node, &v->ifaces[i]);
		for (d = 0; d < ES_DIR_MAX; d++)
			fprintf(f, "edgeshift_interface_utilisation_ratio{%s,direction=\"%s\"} %.6f\n",
				labels, es_dir_names[d], v->ifaces[i].dir[d].utilisation);
	}
}

static bool same_pod(const struct es_iface_signal *x, const struct es_iface_signal *y)
{
	return !strcmp(x->pod_name, y->pod_name) && !strcmp(x->pod_namespace, y->pod_namespace);
}

/* Index of the first interface of each pod; the others of the pod are summed into it. */
static bool pod_first(const struct es_node_view *v, size_t i)
{
	size_t j;

	if (!v->ifaces[i].pod_name[0])
		return false;
	for (j = 0; j < i; j++)
		if (same_pod(&v->ifaces[j], &v->ifaces[i]))
			return false;
	return true;
}

static double pod_bps(const struct es_node_view *v, size_t first, int d)
{
	double sum = 0;
	size_t j;

	for (j = first; j < v->n_ifaces; j++)
		if (same_pod(&v->ifaces[j], &v->ifaces[first]))
			sum += v->ifaces[j].dir[d].bps;
	return sum;
}

static void render_pods(FILE *f, const struct es_node_view *v, const char *node)
{
	char ns[140], pod[520];
	size_t i;
	int d;

	es_prom_header(f, "edgeshift_pod_throughput_bits_per_second", "gauge",
		       "L2 throughput of a pod's interfaces over the signals window, by direction.");
	for (i = 0; i < v->n_ifaces; i++) {
		if (!pod_first(v, i))
			continue;
		es_prom_label_escape(ns, sizeof(ns), v->ifaces[i].pod_namespace);
		es_prom_label_escape(pod, sizeof(pod), v->ifaces[i].pod_name);
		for (d = 0; d < ES_DIR_MAX; d++)
			fprintf(f, "edgeshift_pod_throughput_bits_per_second{node=\"%s\",namespace=\"%s\",pod=\"%s\",direction=\"%s\"} %.0f\n",
				node, ns, pod, es_dir_names[d], pod_bps(v, i, d));
	}
}

static void render_uplinks(FILE *f, const struct es_node_view *v, const char *node)
{
	int d;

	if (!v->uplinks_known)
		return;
	es_prom_header(f, "edgeshift_node_link_capacity_bits_per_second", "gauge",
		       "Sum of the capacities of the node's uplinks whose capacity is known.");
	fprintf(f, "edgeshift_node_link_capacity_bits_per_second{node=\"%s\"} %.0f\n", node,
		v->uplink_capacity_bps);
	es_prom_header(f, "edgeshift_node_link_throughput_bits_per_second", "gauge",
		       "Sum of the uplinks' throughput over the signals window, by direction.");
	for (d = 0; d < ES_DIR_MAX; d++)
		fprintf(f, "edgeshift_node_link_throughput_bits_per_second{node=\"%s\",direction=\"%s\"} %.0f\n",
			node, es_dir_names[d], v->uplink_bps[d]);
	es_prom_header(f, "edgeshift_node_link_utilisation_ratio", "gauge",
		       "Utilisation of the fullest uplink over the signals window, by direction.");
	for (d = 0; d < ES_DIR_MAX; d++)
		fprintf(f, "edgeshift_node_link_utilisation_ratio{node=\"%s\",direction=\"%s\"} %.6f\n",
			node, es_dir_names[d], v->uplink_utilisation[d]);
	es_prom_header(f, "edgeshift_node_link_headroom_bits_per_second", "gauge",
		       "Sum over the uplinks of capacity minus throughput (never below 0), by direction.");
	for (d = 0; d < ES_DIR_MAX; d++)
		fprintf(f, "edgeshift_node_link_headroom_bits_per_second{node=\"%s\",direction=\"%s\"} %.0f\n",
			node, es_dir_names[d], v->uplink_headroom_bps[d]);
}

static void render_latency(FILE *f, const struct es_node_view *v, const char *node)
{
	double q[3];
	int k, i;

	es_prom_header(f, "edgeshift_node_latency_window_samples", "gauge",
		       "Latency samples of all attached interfaces within the signals window, by kind.");
	for (k = 0; k < ES_LAT_MAX; k++)
		fprintf(f, "edgeshift_node_latency_window_samples{node=\"%s\",kind=\"%s\"} %llu\n",
			node, es_lat_names[k], (unsigned long long)v->lat[k].samples);
	es_prom_header(f, "edgeshift_node_latency_seconds", "gauge",
		       "Latency percentiles over the signals window from the accounting histograms; absent without samples.");
	for (k = 0; k < ES_LAT_MAX; k++) {
		if (!v->lat[k].samples)
			continue;
		q[0] = v->lat[k].p50_s;
		q[1] = v->lat[k].p90_s;
		q[2] = v->lat[k].p99_s;
		for (i = 0; i < 3; i++)
			fprintf(f, "edgeshift_node_latency_seconds{node=\"%s\",kind=\"%s\",quantile=\"%s\"} %.9f\n",
				node, es_lat_names[k], quantile_names[i], q[i]);
	}
}

static double mem_utilisation(const struct es_node_view *v)
{
	if (!v->mem_total_bytes)
		return -1;
	return 1.0 - (double)v->mem_available_bytes / (double)v->mem_total_bytes;
}

static void render_host(FILE *f, const struct es_node_view *v, const char *node)
{
	if (v->cpu_utilisation >= 0) {
		es_prom_header(f, "edgeshift_node_cpu_utilisation_ratio", "gauge",
			       "Busy share of all the node's CPUs over the signals window (/proc/stat).");
		fprintf(f, "edgeshift_node_cpu_utilisation_ratio{node=\"%s\"} %.6f\n", node,
			v->cpu_utilisation);
	}
	if (v->mem_total_bytes) {
		es_prom_header(f, "edgeshift_node_memory_utilisation_ratio", "gauge",
			       "1 - MemAvailable / MemTotal of the node (/proc/meminfo).");
		fprintf(f, "edgeshift_node_memory_utilisation_ratio{node=\"%s\"} %.6f\n", node,
			mem_utilisation(v));
	}
}

void es_node_signals_render_metrics(FILE *f, struct es_node_signals *s, const char *node)
{
	struct es_node_view v;

	if (es_node_view_compute(s, &v))
		return;
	es_prom_header(f, "edgeshift_signals_window_seconds", "gauge",
		       "Configured window of the placement signals (signals.window_ms).");
	fprintf(f, "edgeshift_signals_window_seconds{node=\"%s\"} %.3f\n", node, v.window_s);
	es_prom_header(f, "edgeshift_signals_window_covered_seconds", "gauge",
		       "Span the windowed rates really cover: below the window just after start, 0 before the first sample.");
	fprintf(f, "edgeshift_signals_window_covered_seconds{node=\"%s\"} %.3f\n", node, v.covered_s);
	es_prom_header(f, "edgeshift_node_sessions_active", "gauge",
		       "Live sessions on the node (both session maps) at the latest collection scan.");
	fprintf(f, "edgeshift_node_sessions_active{node=\"%s\"} %llu\n", node,
		(unsigned long long)v.sessions);
	render_host(f, &v, node);
	render_ifaces(f, &v, node);
	render_uplinks(f, &v, node);
	render_pods(f, &v, node);
	render_latency(f, &v, node);
	es_node_view_free(&v);
}

static json_t *json_ratio(double r)
{
	return r < 0 ? json_null() : json_real(r);
}

static json_t *dir_json(double bps, double util)
{
	return json_pack("{s:f,s:o}", "bps", bps, "utilisation", json_ratio(util));
}

static json_t *iface_json(const struct es_iface_signal *is)
{
	json_t *j = json_pack("{s:s,s:i,s:b,s:o,s:s,s:I,s:o,s:o}",
			      "name", is->ifname, "ifindex", (int)is->ifindex, "uplink", is->uplink,
			      "capacity_bps", is->capacity_bps > 0 ? json_real(is->capacity_bps) : json_null(),
			      "capacity_source", cap_source_names[is->cap_source],
			      "sessions_active", (json_int_t)is->sessions,
			      "rx", dir_json(is->dir[ES_DIR_RX].bps, is->dir[ES_DIR_RX].utilisation),
			      "tx", dir_json(is->dir[ES_DIR_TX].bps, is->dir[ES_DIR_TX].utilisation));

	if (j && is->pod_name[0])
		json_object_set_new(j, "pod", json_sprintf("%s/%s", is->pod_namespace, is->pod_name));
	return j;
}

static json_t *uplink_json(const struct es_node_view *v)
{
	json_t *j;
	int d;

	if (!v->uplinks_known)
		return json_pack("{s:i,s:n}", "links_with_capacity", 0, "capacity_bps");
	j = json_pack("{s:i,s:f}", "links_with_capacity", (int)v->uplinks_known,
		      "capacity_bps", v->uplink_capacity_bps);
	for (d = 0; j && d < ES_DIR_MAX; d++) {
		json_t *e = dir_json(v->uplink_bps[d], v->uplink_utilisation[d]);

		json_object_set_new(e, "headroom_bps", json_real(v->uplink_headroom_bps[d]));
		json_object_set_new(j, es_dir_names[d], e);
	}
	return j;
}

static json_t *us_or_null(const struct es_lat_signal *l, double s)
{
	return l->samples ? json_real(round(s * 1e9) / 1e3) : json_null();
}

static json_t *latency_json(const struct es_node_view *v)
{
	json_t *j = json_object();
	const struct es_lat_signal *l;
	int k;

	for (k = 0; k < ES_LAT_MAX; k++) {
		l = &v->lat[k];
		json_object_set_new(j, es_lat_names[k],
				    json_pack("{s:I,s:o,s:o,s:o}", "samples", (json_int_t)l->samples,
					      "p50_us", us_or_null(l, l->p50_s),
					      "p90_us", us_or_null(l, l->p90_s),
					      "p99_us", us_or_null(l, l->p99_s)));
	}
	return j;
}

static json_t *pods_json(const struct es_node_view *v)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < v->n_ifaces; i++) {
		if (!pod_first(v, i))
			continue;
		json_array_append_new(arr, json_pack("{s:o,s:f,s:f}", "pod",
					     json_sprintf("%s/%s", v->ifaces[i].pod_namespace,
							  v->ifaces[i].pod_name),
					     "rx_bps", pod_bps(v, i, ES_DIR_RX),
					     "tx_bps", pod_bps(v, i, ES_DIR_TX)));
	}
	return arr;
}

static json_t *host_json(const struct es_node_view *v)
{
	return json_pack("{s:i,s:o,s:o,s:o,s:o}", "cpus", (int)v->cpus,
			 "cpu_utilisation", json_ratio(v->cpu_utilisation),
			 "memory_total_bytes", v->mem_total_bytes ?
			 json_integer((json_int_t)v->mem_total_bytes) : json_null(),
			 "memory_available_bytes", v->mem_total_bytes ?
			 json_integer((json_int_t)v->mem_available_bytes) : json_null(),
			 "memory_utilisation", json_ratio(mem_utilisation(v)));
}

json_t *es_node_signals_json(struct es_node_signals *s, const char *node_name)
{
	struct es_node_view v;
	json_t *ifs, *root;
	size_t i;

	if (es_node_view_compute(s, &v))
		return json_pack("{s:s}", "error", "out of memory");
	ifs = json_array();
	for (i = 0; i < v.n_ifaces; i++)
		json_array_append_new(ifs, iface_json(&v.ifaces[i]));
	root = json_pack("{s:s,s:f,s:f,s:I,s:o,s:o,s:o,s:o}", "node", node_name,
			 "window_s", v.window_s, "covered_s", v.covered_s,
			 "sessions_active", (json_int_t)v.sessions, "uplink", uplink_json(&v),
			 "interfaces", ifs, "pods", pods_json(&v), "latency", latency_json(&v));
	json_object_set_new(root, "host", host_json(&v));
	es_node_view_free(&v);
	return root;
}
