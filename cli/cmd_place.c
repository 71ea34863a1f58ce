// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift place: picks the edge site for a request among the regions of
 * a region file (site selection, docs/placement.md), and shows
 * every term of every site's score so the choice can be checked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "tool/opts.h"
#include "place.h"

struct place_args {
	const char	*regions, *request;
	int		formula;	/* enum place_formula */
	bool		json;
};

static const struct es_opt_name formulas[] = {
	{ "edgeshift", PLACE_FORMULA_EDGESHIFT }, { "paper", PLACE_FORMULA_PAPER }, { }
};

#define F(field)	ES_OPT_AT(struct place_args, field)
static const struct es_opt opts[] = {
	ES_OPT_STR(F(regions), "regions", 0, "FILE", "the regions (JSON)", .required = true),
	ES_OPT_STR(F(request), "request", 0, "FILE", "the request (JSON)", .required = true),
	ES_OPT_ENUM(F(formula), "formula", 0, formulas, "edgeshift|paper",
		    "edgeshift (default): weighted means and a factor per external link;\n"
		    "paper: Paper B's weighted sums, without either"),
	ES_OPT_BOOL(F(json), "json", 0, "the ranking as one JSON object"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "edgeshift place",
	.opts	= opts,
	.usage	= "--regions FILE --request FILE [--formula edgeshift|paper] [--json]",
	.doc	= "Ranks the regions of FILE for the request: score = location weight\n"
		  "(external links on the path, centrality of the request's data) + load\n"
		  "weight (free CPU, memory, storage), among the regions that can hold the\n"
		  "request. A region is written in edgeshift's format or in Paper B's.\n"
		  "Formats and formulas: docs/placement.md. Exit status 0 when a region\n"
		  "was chosen, 1 when none can hold the request or an input is bad.\n",
};

static json_t *load_file(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	if (!j)
		fprintf(stderr, "edgeshift place: %s:%d:%d: %s\n", path, jerr.line, jerr.column,
			jerr.text);
	return j;
}

static void print_site(json_t *s)
{
	json_t *share = json_object_get(s, "free_share");
	char rank[16] = "-";

	if (json_is_integer(json_object_get(s, "rank")))
		snprintf(rank, sizeof(rank), "%lld%s", json_integer_value(json_object_get(s, "rank")),
			 json_is_true(json_object_get(s, "tie")) ? "=" : "");
	printf("%-5s %-4lld %-14s %-10s %5lld %6.4f %6.4f %6.4f  %6.4f %6.4f %6.4f %6.4f  ", rank,
	       json_integer_value(json_object_get(s, "id")),
	       json_string_value(json_object_get(s, "name")),
	       json_string_value(json_object_get(s, "city")) ?: "-",
	       json_integer_value(json_object_get(s, "external_links")),
	       json_real_value(json_object_get(s, "path_factor")),
	       json_real_value(json_object_get(s, "centrality")),
	       json_real_value(json_object_get(s, "location_weight")),
	       json_real_value(json_object_get(share, "cpu")),
	       json_real_value(json_object_get(share, "memory")),
	       json_real_value(json_object_get(share, "storage")),
	       json_real_value(json_object_get(s, "load_weight")));
	if (json_is_true(json_object_get(s, "eligible")))
		printf("%6.4f\n", json_real_value(json_object_get(s, "score")));
	else
		printf("cannot hold the request: %s\n",
		       json_string_value(json_object_get(s, "reason")));
}

static void print_ranking(json_t *root)
{
	json_t *chosen = json_object_get(root, "chosen"), *s;
	size_t i;

	printf("%-5s %-4s %-14s %-10s %5s %6s %6s %6s  %6s %6s %6s %6s  %6s\n", "RANK", "ID",
	       "NAME", "CITY", "LINKS", "PATH", "CENTR", "LOC", "CPU", "MEM", "STOR", "LOAD",
	       "SCORE");
	json_array_foreach(json_object_get(root, "ranking"), i, s)
		print_site(s);
	if (json_is_object(chosen))
		printf("chosen: %s (id %lld), namespace %s, kubeconfig %s\n",
		       json_string_value(json_object_get(chosen, "name")),
		       json_integer_value(json_object_get(chosen, "id")),
		       json_string_value(json_object_get(chosen, "namespace")),
		       json_string_value(json_object_get(chosen, "kubeconfig")));
	else
		printf("chosen: none: no region can hold the request\n");
	if (!strcmp(json_string_value(json_object_get(root, "formula")), "paper"))
		printf("formula: Paper B's weighted sums, no factor per external link\n");
	else
		printf("formula: edgeshift's weighted means, hop factor per external link\n");
}

int cmd_place(const struct cli *c, int argc, char **argv)
{
	struct place_args a = { };
	struct place_problem p = {};
	struct cli o = *c;
	char err[512];
	json_t *doc;
	int n, ok;

	n = es_opts_parse(&cli, argc, argv, &a);
	if (n <= 0)
		return n ? 2 : 0;
	o.json = a.json;
	doc = load_file(a.regions);
	if (!doc)
		return 1;
	if (place_load_regions(&p, doc, err, sizeof(err))) {
		fprintf(stderr, "edgeshift place: %s: %s\n", a.regions, err);
		goto fail;
	}
	doc = load_file(a.request);
	if (!doc)
		goto fail;
	if (place_load_request(&p, doc, err, sizeof(err))) {
		fprintf(stderr, "edgeshift place: %s: %s\n", a.request, err);
		goto fail;
	}
	p.formula = a.formula;
	place_score(&p);
	ok = p.sites[0].eligible;
	cli_emit(&o, place_result_json(&p), print_ranking);
	place_free(&p);
	return ok ? 0 : 1;
fail:
	place_free(&p);
	return 1;
}
