// SPDX-License-Identifier: GPL-2.0-only
/*
 * The figures the resource view charts, read from one answer of an
 * agent's GET /v1/node (docs/metrics.md, "Placement signals"). A figure the
 * agent reports as null (no capacity known, no latency sample in the
 * window) stays NAN, which the history sends as null: a gap, not a zero.
 */
#include <math.h>
#include "console.h"

const char *const con_resource_names[RES_MAX] = {
	"cpu_utilisation", "memory_utilisation", "rx_utilisation", "tx_utilisation", "rx_bps", "tx_bps", "sessions",
	"p50_us", "p99_us",
};

static double num(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

void con_sample_from_view(json_t *view, int64_t t_ms, struct con_sample *s)
{
	json_t *up = json_object_get(view, "uplink");
	json_t *svc = json_object_get(json_object_get(view, "latency"), "service");
	json_t *host = json_object_get(view, "host");

	s->t_ms = t_ms;
	s->v[RES_CPU] = num(json_object_get(host, "cpu_utilisation"));
	s->v[RES_MEM] = num(json_object_get(host, "memory_utilisation"));
	s->v[RES_RX_UTIL] = num(json_object_get(json_object_get(up, "rx"), "utilisation"));
	s->v[RES_TX_UTIL] = num(json_object_get(json_object_get(up, "tx"), "utilisation"));
	s->v[RES_RX_BPS] = num(json_object_get(json_object_get(up, "rx"), "bps"));
	s->v[RES_TX_BPS] = num(json_object_get(json_object_get(up, "tx"), "bps"));
	s->v[RES_SESSIONS] = num(json_object_get(view, "sessions_active"));
	s->v[RES_P50_US] = num(json_object_get(svc, "p50_us"));
	s->v[RES_P99_US] = num(json_object_get(svc, "p99_us"));
}
