/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small SVG plot writer for the tools' figures (linear axes, series as
 * lines or dots, labelled vertical markers): our own code, no plotting
 * library. Coordinates are in data units once es_svg_axes set the ranges.
 */
#ifndef EDGESHIFT_SVG_PLOT_H
#define EDGESHIFT_SVG_PLOT_H

#include <stddef.h>
#include <stdio.h>

struct es_svg {
	FILE	*f;
	int	w, h;			/* picture, pixels */
	int	left, right, top, bottom;	/* margins around the plot area */
	double	x_lo, x_hi, y_lo, y_hi;	/* data ranges */
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
void es_svg_dot(struct es_svg *s, double x, double y, double r, const char *color);
void es_svg_cross(struct es_svg *s, double x, double y, const char *color);
/* A dashed vertical line at x with a label at the top (row staggers labels). */
void es_svg_marker(struct es_svg *s, double x, const char *label, const char *color, int row);
/* A legend entry in the top right corner (row 0, 1, ...). */
void es_svg_legend(struct es_svg *s, int row, const char *label, const char *color);
/* Finish the file; 0 or -errno. */
int es_svg_close(struct es_svg *s);

#endif
