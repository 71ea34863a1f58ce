// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session test's plot: latency against the number of sessions, on a
 * log scale because past the knee it grows by orders of magnitude; the
 * SLO as a line and the knee marked.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "session_test.h"
#include "plot/svg_plot.h"

static const struct {
	const char	*key;
	const char	*color;
	const char	*dash;
} series[] = {
	{ "p99", "#d95f02", "2,4" },
	{ "p50", "#1b9e77", "8,4" },
	{ "mean", "#2060c0", "" },
};

static double lat(json_t *step, const char *key)
{
	return json_real_value(json_object_get(json_object_get(step, "latency_us"), key));
}

static bool has_latency(json_t *step)
{
	return json_integer_value(json_object_get(json_object_get(step, "latency_us"),
						  "probes_answered")) > 0;
}

/* Whole decades of microseconds around the SLO and every step's min..p99. */
static void y_range(json_t *steps, double slo, double *y_lo, double *y_hi)
{
	double lo = slo, hi = slo;
	json_t *s;
	size_t i;

	json_array_foreach(steps, i, s) {
		if (!has_latency(s))
			continue;
		lo = fmin(lo, fmax(lat(s, "min"), 1));
		hi = fmax(hi, lat(s, "p99"));
	}
	*y_lo = pow(10, floor(log10(lo)));
	*y_hi = pow(10, ceil(log10(hi)));
	if (*y_hi <= *y_lo)
		*y_hi = *y_lo * 10;
}

static void decade_label(double us, char *buf, size_t len)
{
	static const char *const units[] = { "us", "ms", "s" };
	int d = (int)lround(log10(us)), u = d >= 6 ? 2 : d >= 3 ? 1 : 0;

	snprintf(buf, len, "%.0f %s", pow(10, d - 3 * u), units[u]);
}

static void draw_frame(struct es_svg *s, json_t *r, json_t *steps, double slo)
{
	size_t n = json_array_size(steps);
	double y_lo, y_hi;
	char label[64];

	y_range(steps, slo, &y_lo, &y_hi);
	s->left = 80;
	s->top = 56;
	s->bottom = 64;
	s->y_log = true;
	s->y_tick_label = decade_label;
	s->x_step = n + 1 > 30 ? 5 : 1;
	snprintf(label, sizeof(label), "sessions of %g Mbit/s",
		 json_real_value(json_object_get(r, "rate_mbit")));
	es_svg_axes(s, 0, n + 1, y_lo, y_hi, label, "round-trip latency under load (log scale)");
}

/* One line per statistic through the steps that have latency samples. */
static void draw_series(struct es_svg *s, json_t *steps)
{
	size_t n = json_array_size(steps), i, k, m;
	double *x = calloc(n + 1, sizeof(*x)), *y = calloc(n + 1, sizeof(*y));
	json_t *st;

	for (k = 0; x && y && k < sizeof(series) / sizeof(series[0]); k++) {
		m = 0;
		json_array_foreach(steps, i, st) {
			if (!has_latency(st))
				continue;
			x[m] = i + 1;
			y[m++] = lat(st, series[k].key);
		}
		es_svg_path(s, x, y, m, series[k].color, 2, series[k].dash);
		es_svg_legend(s, k, series[k].key, series[k].color);
	}
	free(x);
	free(y);
	/* The mean's points say whether the step met the SLO. */
	json_array_foreach(steps, i, st)
		if (has_latency(st))
			es_svg_dot(s, i + 1, lat(st, "mean"), 4,
				   json_is_true(json_object_get(st, "slo_met")) ? "#1a9641" : "#d7191c");
}

static void draw_slo(struct es_svg *s, json_t *r)
{
	double slo = json_real_value(json_object_get(r, "slo_us"));
	json_int_t knee = json_integer_value(json_object_get(r, "max_sessions_meeting_slo"));
	char label[96];

	snprintf(label, sizeof(label), "SLO: %s %g us",
		 json_string_value(json_object_get(r, "slo_stat")), slo);
	es_svg_hline(s, slo, label, "#d7191c");
	if (knee <= 0)
		return;
	snprintf(label, sizeof(label), "%lld sessions (%.0f Mbit/s) meet the SLO",
		 (long long)knee, json_real_value(json_object_get(r, "max_mbit_meeting_slo")));
	es_svg_marker(s, knee, label, "#666", 0);
}

int st_write_plot(const struct st_opts *o, json_t *r, const char *path)
{
	json_t *steps = json_object_get(r, "steps");
	char title[160];
	struct es_svg s;
	int err;

	snprintf(title, sizeof(title), "Session test to %s: latency against sessions",
		 json_string_value(json_object_get(r, "destination")));
	err = es_svg_open(&s, path, 760, 460, title);
	if (err) {
		fprintf(stderr, "edgeshift session-test: --plot %s: %s\n", path, strerror(-err));
		return -1;
	}
	draw_frame(&s, r, steps, o->slo_us);
	draw_slo(&s, r);
	draw_series(&s, steps);
	if (es_svg_close(&s)) {
		fprintf(stderr, "edgeshift session-test: --plot %s: write failed\n", path);
		return -1;
	}
	return 0;
}
