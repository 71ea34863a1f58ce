// SPDX-License-Identifier: GPL-2.0-only
/* SVG plots (svg_plot.h). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "svg_plot.h"

int es_svg_open(struct es_svg *s, const char *path, int w, int h, const char *title)
{
	memset(s, 0, sizeof(*s));
	s->f = fopen(path, "w");
	if (!s->f)
		return -errno;
	s->w = w;
	s->h = h;
	s->left = 70;
	s->right = 30;
	s->top = 60;
	s->bottom = 56;
	fprintf(s->f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		"<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>\n",
		w, h, w, h, s->left, title);
	return 0;
}

double es_svg_x(const struct es_svg *s, double x)
{
	return s->left + (x - s->x_lo) / (s->x_hi - s->x_lo) * (s->w - s->left - s->right);
}

/* Where y lies between the axis' ends, 0 to 1; beyond them it is held at the end. */
static double y_frac(const struct es_svg *s, double y)
{
	if (y > s->y_hi)
		y = s->y_hi;
	if (!s->y_log)
		return (y - s->y_lo) / (s->y_hi - s->y_lo);
	if (y < s->y_lo)
		y = s->y_lo;
	return (log10(y) - log10(s->y_lo)) / (log10(s->y_hi) - log10(s->y_lo));
}

double es_svg_y(const struct es_svg *s, double y)
{
	return s->h - s->bottom - y_frac(s, y) * (s->h - s->top - s->bottom);
}

/* A round tick step giving about n ticks over span. */
static double tick_step(double span, int n)
{
	double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void y_tick(struct es_svg *s, double v)
{
	char label[32];

	if (s->y_tick_label)
		s->y_tick_label(v, label, sizeof(label));
	else
		snprintf(label, sizeof(label), "%g", v);
	fprintf(s->f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
		"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", s->left,
		s->w - s->right, es_svg_y(s, v), es_svg_y(s, v), s->left - 6,
		es_svg_y(s, v) + 4, label);
}

static void y_ticks(struct es_svg *s)
{
	double step, v;
	int d;

	if (s->y_log) {
		for (d = (int)floor(log10(s->y_lo)); d <= (int)ceil(log10(s->y_hi)); d++)
			y_tick(s, pow(10, d));
		return;
	}
	step = tick_step(s->y_hi - s->y_lo, 6);
	for (v = ceil(s->y_lo / step) * step; v <= s->y_hi + 1e-9; v += step)
		y_tick(s, v);
}

void es_svg_axes(struct es_svg *s, double x_lo, double x_hi, double y_lo, double y_hi,
		 const char *x_label, const char *y_label)
{
	double step, v;

	s->x_lo = x_lo;
	s->x_hi = x_hi > x_lo ? x_hi : x_lo + 1;
	s->y_lo = s->y_log && y_lo <= 0 ? 1 : y_lo;
	s->y_hi = y_hi > s->y_lo ? y_hi : s->y_log ? s->y_lo * 10 : s->y_lo + 1;
	y_ticks(s);
	step = s->x_step > 0 ? s->x_step : tick_step(s->x_hi - s->x_lo, 8);
	for (v = ceil(s->x_lo / step) * step; v <= s->x_hi + 1e-9; v += step)
		fprintf(s->f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#888\"/>"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", es_svg_x(s, v),
			es_svg_x(s, v), s->h - s->bottom, s->h - s->bottom + 5, es_svg_x(s, v),
			s->h - s->bottom + 19, v);
	fprintf(s->f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n"
		"<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n"
		"<text transform=\"translate(16 %d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
		s->left, s->top, s->w - s->left - s->right, s->h - s->top - s->bottom,
		(s->w + s->left - s->right) / 2, s->h - 14, x_label, (s->h + s->top - s->bottom) / 2,
		y_label);
}

void es_svg_line(struct es_svg *s, const double *x, const double *y, size_t n, const char *color)
{
	es_svg_path(s, x, y, n, color, 1.5, NULL);
}

void es_svg_path(struct es_svg *s, const double *x, const double *y, size_t n, const char *color,
		 double width, const char *dash)
{
	bool open = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (isnan(y[i])) {
			if (open)
				fprintf(s->f, "\"/>\n");
			open = false;
			continue;
		}
		if (!open)
			fprintf(s->f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%g\"%s%s%s "
				"points=\"", color, width, dash && *dash ? " stroke-dasharray=\"" : "",
				dash && *dash ? dash : "", dash && *dash ? "\"" : "");
		fprintf(s->f, "%.1f,%.1f ", es_svg_x(s, x[i]), es_svg_y(s, y[i]));
		open = true;
	}
	if (open)
		fprintf(s->f, "\"/>\n");
}

void es_svg_dot(struct es_svg *s, double x, double y, double r, const char *color)
{
	fprintf(s->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>\n", es_svg_x(s, x),
		es_svg_y(s, y), r, color);
}

void es_svg_cross(struct es_svg *s, double x, double y, const char *color)
{
	double px = es_svg_x(s, x), py = es_svg_y(s, y);

	fprintf(s->f, "<path d=\"M%.1f %.1fl8 8m0 -8l-8 8\" stroke=\"%s\" stroke-width=\"2\"/>\n",
		px - 4, py - 4, color);
}

/*
 * How wide a label of the plot's 12 px sans-serif text can draw: per
 * character, a bound over DejaVu Sans (Debian's sans-serif, among the
 * widest), as a browser draws it: digits 7.6 px, lower case at most 7.7
 * but m and w 11.7, capitals 9, M and W 11.9, spaces and narrow marks 4.
 * A bound, not a measure (the viewer picks the font), so a label kept
 * within it stays inside the plot.
 */
double es_svg_text_width(const char *label)
{
	double w = 0;

	for (; *label; label++) {
		if (strchr("mwMW", *label))
			w += 12;
		else if (*label >= 'A' && *label <= 'Z')
			w += 9;
		else if (strchr(" .,:;()/|!'il", *label))
			w += 4;
		else
			w += 7.7;
	}
	return w;
}

/*
 * The label starts right of the line; one that would run past the plot's
 * right edge ends left of it instead, and one too long for either side
 * ends at the right edge.
 */
void es_svg_marker(struct es_svg *s, double x, const char *label, const char *color, int row)
{
	double px = es_svg_x(s, x), tx = px + 3, w = es_svg_text_width(label);
	const char *anchor = "start";

	if (tx + w > s->w - s->right) {
		anchor = "end";
		tx = px - 3 - w >= s->left ? px - 3 : s->w - s->right;
	}
	fprintf(s->f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
		"stroke-dasharray=\"5,4\"/>\n<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" "
		"fill=\"%s\">%s</text>\n", px, px, s->top, s->h - s->bottom, color, tx,
		s->top - 20 + 12 * row, anchor, color, label);
}

void es_svg_hline(struct es_svg *s, double y, const char *label, const char *color)
{
	double py = es_svg_y(s, y);

	fprintf(s->f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		"stroke-dasharray=\"6,3\"/>\n<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
		"fill=\"%s\">%s</text>\n", s->left, s->w - s->right, py, py, color,
		s->w - s->right - 4, py - 5, color, label);
}

void es_svg_legend(struct es_svg *s, int row, const char *label, const char *color)
{
	int x = s->w - s->right - 200, y = s->top + 16 + 16 * row;

	fprintf(s->f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>"
		"<text x=\"%d\" y=\"%d\">%s</text>\n", x, y - 4, color, x + 20, y, label);
}

int es_svg_close(struct es_svg *s)
{
	int ret, failed;

	fprintf(s->f, "</svg>\n");
	failed = ferror(s->f);
	ret = fclose(s->f) ? -errno : failed ? -EIO : 0;
	s->f = NULL;
	return ret;
}
