// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session test's plot, as Paper A's Fig. 19: latency against the
 * number of sessions, on a log scale because past the knee it grows by
 * orders of magnitude; the SLO as a line and the knee marked.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "session_test.h"

#define W		760
#define H		460
#define LEFT		80
#define RIGHT		30
#define TOP		56
#define BOTTOM		64
#define PLOT_W		(W - LEFT - RIGHT)
#define PLOT_H		(H - TOP - BOTTOM)

struct axes {
	double	x_max;		/* sessions */
	double	y_lo, y_hi;	/* log10 of microseconds */
};

static const struct {
	const char	*key;
	const char	*label;
	const char	*color;
	const char	*dash;
} series[] = {
	{ "p99", "p99", "#d95f02", "2,4" },
	{ "p50", "p50", "#1b9e77", "8,4" },
	{ "mean", "mean", "#2060c0", "" },
};

static double px(const struct axes *a, double sessions)
{
	return LEFT + sessions / a->x_max * PLOT_W;
}

static double py(const struct axes *a, double us)
{
	double l = log10(us > 0 ? us : 1e-3);

	if (l < a->y_lo)
		l = a->y_lo;
	return TOP + PLOT_H - (l - a->y_lo) / (a->y_hi - a->y_lo) * PLOT_H;
}

static double lat(json_t *step, const char *key)
{
	return json_real_value(json_object_get(json_object_get(step, "latency_us"), key));
}

static bool has_latency(json_t *step)
{
	return json_integer_value(json_object_get(json_object_get(step, "latency_us"),
						  "probes_answered")) > 0;
}

static void find_axes(json_t *steps, double slo, struct axes *a)
{
	double lo = slo, hi = slo;
	json_t *s;
	size_t i;

	a->x_max = json_array_size(steps) + 1;
	json_array_foreach(steps, i, s) {
		if (!has_latency(s))
			continue;
		lo = fmin(lo, fmax(lat(s, "min"), 1));
		hi = fmax(hi, lat(s, "p99"));
	}
	a->y_lo = floor(log10(lo));
	a->y_hi = ceil(log10(hi));
	if (a->y_hi <= a->y_lo)
		a->y_hi = a->y_lo + 1;
}

static void axis_label(double decade, char *buf, size_t len)
{
	static const char *const units[] = { "us", "ms", "s" };
	int d = (int)decade, u = d >= 6 ? 2 : d >= 3 ? 1 : 0;

	snprintf(buf, len, "%.0f %s", pow(10, d - 3 * u), units[u]);
}

static void draw_frame(FILE *f, const struct axes *a, json_t *r)
{
	char label[32];
	double d, x;
	int i;

	fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
		"stroke=\"#444\"/>\n", LEFT, TOP, PLOT_W, PLOT_H);
	for (d = a->y_lo; d <= a->y_hi + 1e-9; d++) {
		axis_label(d, label, sizeof(label));
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", LEFT,
			LEFT + PLOT_W, py(a, pow(10, d)), py(a, pow(10, d)), LEFT - 6,
			py(a, pow(10, d)) + 4, label);
	}
	for (i = 1; i < a->x_max; i++) {
		if (a->x_max > 30 && i % 5)
			continue;
		x = px(a, i);
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#444\"/>\n"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>\n", x, x,
			TOP + PLOT_H, TOP + PLOT_H + 5, x, TOP + PLOT_H + 20, i);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">sessions of %g Mbit/s</text>\n",
		LEFT + PLOT_W / 2, H - 18, json_real_value(json_object_get(r, "rate_mbit")));
	fprintf(f, "<text transform=\"translate(18,%d) rotate(-90)\" text-anchor=\"middle\">"
		"round-trip latency under load (log scale)</text>\n", TOP + PLOT_H / 2);
	fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"15\">Session test to %s: latency "
		"against sessions</text>\n", LEFT, json_string_value(json_object_get(r,
										"destination")));
}

static void draw_series(FILE *f, const struct axes *a, json_t *steps)
{
	json_t *s;
	size_t i, k;

	for (k = 0; k < sizeof(series) / sizeof(series[0]); k++) {
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
			"stroke-dasharray=\"%s\" points=\"", series[k].color, series[k].dash);
		json_array_foreach(steps, i, s)
			if (has_latency(s))
				fprintf(f, "%.1f,%.1f ", px(a, i + 1), py(a, lat(s, series[k].key)));
		fprintf(f, "\"/>\n");
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%zu\" y2=\"%zu\" stroke=\"%s\" "
			"stroke-width=\"2\" stroke-dasharray=\"%s\"/><text x=\"%d\" y=\"%zu\">%s</text>\n",
			LEFT + 10, LEFT + 40, TOP + 16 + k * 18, TOP + 16 + k * 18, series[k].color,
			series[k].dash, LEFT + 46, TOP + 20 + k * 18, series[k].label);
	}
	/* Paper A's metric is the mean: its points say whether the step met the SLO. */
	json_array_foreach(steps, i, s)
		if (has_latency(s))
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n",
				px(a, i + 1), py(a, lat(s, "mean")),
				json_is_true(json_object_get(s, "slo_met")) ? "#1a9641" : "#d7191c");
}

static void draw_slo(FILE *f, const struct axes *a, json_t *r)
{
	double slo = json_real_value(json_object_get(r, "slo_us"));
	json_int_t knee = json_integer_value(json_object_get(r, "max_sessions_meeting_slo"));

	fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d7191c\" "
		"stroke-dasharray=\"6,3\"/>\n<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
		"fill=\"#d7191c\">SLO: %s %g us</text>\n", LEFT, LEFT + PLOT_W, py(a, slo),
		py(a, slo), LEFT + PLOT_W - 4, py(a, slo) - 5,
		json_string_value(json_object_get(r, "slo_stat")), slo);
	if (knee > 0)
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#666\" "
			"stroke-dasharray=\"3,3\"/>\n<text x=\"%.1f\" y=\"%d\" fill=\"#444\">%lld "
			"sessions (%.0f Mbit/s) meet the SLO</text>\n", px(a, knee), px(a, knee),
			TOP, TOP + PLOT_H, px(a, knee) + 4, TOP + PLOT_H - 8, (long long)knee,
			json_real_value(json_object_get(r, "max_mbit_meeting_slo")));
}

int st_write_plot(const struct st_opts *o, json_t *r, const char *path)
{
	json_t *steps = json_object_get(r, "steps");
	struct axes a;
	FILE *f;
	int err;

	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "edgeshift session-test: --plot %s: %s\n", path, strerror(errno));
		return -1;
	}
	find_axes(steps, o->slo_us, &a);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H, W, H);
	draw_frame(f, &a, r);
	draw_slo(f, &a, r);
	draw_series(f, &a, steps);
	fprintf(f, "</svg>\n");
	err = ferror(f);
	if (fclose(f) || err) {
		fprintf(stderr, "edgeshift session-test: --plot %s: write failed\n", path);
		return -1;
	}
	return 0;
}
