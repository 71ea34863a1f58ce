/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Site selection (docs/placement.md, "Site selection"): the
 * region file and the request are read into a place_problem, every site is
 * scored, and the sites are ranked. Reading and scoring are separate so
 * the formulas can be checked against hand-computed cases.
 */
#ifndef EDGESHIFT_CLI_PLACE_H
#define EDGESHIFT_CLI_PLACE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

enum place_res { PLACE_CPU, PLACE_MEMORY, PLACE_STORAGE, PLACE_RES_COUNT };

/*
 * How the terms are combined (docs/placement.md, "Formulas"): edgeshift's
 * weighted means with a factor per external link, or Paper B's weighted
 * sums without that factor.
 */
enum place_formula { PLACE_FORMULA_EDGESHIFT, PLACE_FORMULA_PAPER };

/* The weights of every term; a region may override any of them. */
struct place_weights {
	double	location;	/* location weight in the score */
	double	load;		/* load weight in the score */
	double	path;		/* path factor in the location weight */
	double	centrality;	/* centrality in the location weight */
	double	res[PLACE_RES_COUNT];	/* free-resource shares in the load weight */
	double	hop;		/* factor per external link, 0 < hop <= 1 */
};

struct place_site {
	/* the region file's fields (docs/placement.md) */
	long long		id;
	const char		*name;
	const char		*mode;		/* "host-device" or "macvlan" */
	const char		*kubeconfig;
	const char		*ns;		/* Kubernetes namespace */
	const char		*mac;		/* service interface, may be NULL */
	const char		*city;		/* may be NULL */
	bool			paper;		/* written in Paper B's region format */
	json_t			*city_weights;	/* Paper B's [{city, value}], or NULL */
	struct place_weights	w;
	/* what the selection needs */
	json_t			*path;		/* names of the external links */
	size_t			links;		/* how many */
	double			link_free;	/* product of (1 - utilisation) */
	double			free[PLACE_RES_COUNT];
	double			held;		/* bytes of the request's data set here */
	/* results */
	bool			eligible;
	char			reason[192];	/* why it cannot hold the request */
	double			path_factor;
	double			centrality;
	double			location;
	double			share[PLACE_RES_COUNT];
	double			load_weight;
	double			score;
	int			rank;		/* 1 = best; 0 = not eligible */
	bool			tie;		/* shares its score with another site */
};

struct place_problem {
	struct place_weights	w;		/* defaults of every region */
	struct place_site	*sites;
	size_t			n;
	double			request[PLACE_RES_COUNT];
	const char		*data_set;	/* may be NULL */
	const char		*city;		/* where the request comes from, may be NULL */
	enum place_formula	formula;	/* set before place_score() */
	double			data_size;	/* bytes, 0 without a data set */
	double			max_free[PLACE_RES_COUNT];
	json_t			*regions_doc;	/* owns the strings above */
	json_t			*request_doc;
};

extern const char *const place_res_names[PLACE_RES_COUNT];

/*
 * Read the region file and the request (each takes the reference to its
 * document); on error, fill err with the field that is wrong and what is
 * wrong with it, and return -1. Load the regions first. place_free() after
 * either outcome.
 */
int place_load_regions(struct place_problem *p, json_t *doc, char *err, size_t err_len);
int place_load_request(struct place_problem *p, json_t *doc, char *err, size_t err_len);
void place_free(struct place_problem *p);
/* Scores every site and sorts them: eligible by score, then id; the others last. */
void place_score(struct place_problem *p);
json_t *place_result_json(const struct place_problem *p);

/*
 * A quantity: a JSON number, or a string with an optional Kubernetes
 * suffix (n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or an exponent
 * like 1e3; see util/quantity.h). 0, or -EINVAL when v is neither or
 * negative, with why ("\"0x10\" is not a quantity: hexadecimal ...").
 */
int quantity_parse(json_t *v, double *out, char *why, size_t why_len);

#endif
