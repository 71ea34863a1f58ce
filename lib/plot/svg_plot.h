/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small SVG plot writer for the figures of `edgeshift session-test` and
 * the drill report (linear or logarithmic y axis, series as lines or dots,
 * labelled markers): our own code, no plotting library. Coordinates are in
 * data units once es_svg_axes set the ranges.
 */
#ifndef EDGESHIFT_SVG_PLOT_H
#define EDGESHIFT_SVG_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct es_svg {
	FILE	*f;
	int	w, h;			/* picture, pixels */
	int	left, right, top, bottom;	/* margins around the plot area */
	double	x_lo, x_hi, y_lo, y_hi;	/* data ranges */
	/* Set between es_svg_open and es_svg_axes; zero values are the defaults. */
	bool	y_log;			/* log10 y axis, a tick per decade */
	double	x_step;			/* x tick spacing; 0: a round step */
	/* Text of a y tick; NULL: "%g". */
	void	(*y_tick_label)(double y, char *buf, size_t len);
};

/* Start a picture of w x h pixels with a title; 0 or -errno. */
int es_svg_open(struct es_svg *s, const char *path, int w, int h, const char *title);
/* Frame, ticks with round values, grid and axis labels. */
void es_svg_axes(struct es_svg *s, double x_lo, double x_hi, double y_lo, double y_hi,
		 const char *x_label, const char *y_label);
double es_svg_x(const struct es_svg *s, double x);
double es_svg_y(const struct es_svg *s, double y);
/* A line through n points; NaN y values break it. */
void es_svg_line(struct es_svg *s, const double *x, const double *y, size_t n, const char *color);
/* The same with a stroke width and an SVG dash pattern ("" or NULL: solid). */
void es_svg_path(struct es_svg *s, const double *x, const double *y, size_t n, const char *color,
		 double width, const char *dash);
void es_svg_dot(struct es_svg *s, double x, double y, double r, const char *color);
void es_svg_cross(struct es_svg *s, double x, double y, const char *color);
/* The widest a label of the plot's 12 px text can draw (px, a bound). */
double es_svg_text_width(const char *label);
/*
 * A dashed vertical line at x with a label at the top (row staggers
 * labels), kept inside the plot's width: left of the line near the right edge.
 */
void es_svg_marker(struct es_svg *s, double x, const char *label, const char *color, int row);
/* A dashed horizontal line at y with a label above its right end. */
void es_svg_hline(struct es_svg *s, double y, const char *label, const char *color);
/* A legend entry in the top right corner (row 0, 1, ...). */
void es_svg_legend(struct es_svg *s, int row, const char *label, const char *color);
/* Finish the file; 0 or -errno. */
int es_svg_close(struct es_svg *s);

#endif /* EDGESHIFT_SVG_PLOT_H */
