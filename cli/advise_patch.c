// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift advise --patch: the recommendation as a change of the scaled
 * Deployment's replicas, printed for a person (or a pipeline) to apply;
 * the advisor never applies it. A Deployment is named like its block;
 * the current count comes from --replicas, since the advisor reads
 * cgroups, not the API server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "tool/opts.h"

long advise_replicas_of(const struct es_opt_multi *reps, const char *block)
{
	size_t len = strlen(block);
	unsigned int i;
	char *end;
	long n;

	for (i = 0; i < reps->n; i++) {
		if (strncmp(reps->v[i], block, len) || reps->v[i][len] != '=')
			continue;
		n = strtol(reps->v[i] + len + 1, &end, 10);
		return end == reps->v[i] + len + 1 || *end || n < 1 ? -1 : n;
	}
	return -1;
}

/* The patch of block's Deployment from its count in reps by step; NULL with a message. */
static json_t *patch_of(const char *block, int step, const struct es_opt_multi *reps,
			const char *ns)
{
	long n = advise_replicas_of(reps, block);
	char cmd[512];

	if (n < 0 || n + step < 1) {
		fprintf(stderr, "edgeshift advise: --patch needs --replicas %s=N "
			"(its Deployment's replicas now, %d or more)\n", block, step < 0 ? 2 : 1);
		return NULL;
	}
	snprintf(cmd, sizeof(cmd), "kubectl%s%.64s patch deployment %.64s --type merge "
		 "-p '{\"spec\":{\"replicas\":%ld}}'", ns ? " -n " : "", ns ?: "", block, n + step);
	return json_pack("{s:s,s:s?,s:I,s:I,s:s}", "deployment", block, "namespace", ns,
			 "replicas_from", (json_int_t)n, "replicas", (json_int_t)(n + step),
			 "command", cmd);
}

/* "scale_in_patches": one patch a block the advice scales in. */
static int patch_in(json_t *advice, const struct es_opt_multi *reps, const char *ns)
{
	json_t *arr = json_array(), *e, *p;
	size_t i;

	json_array_foreach(json_object_get(advice, "scale_in"), i, e) {
		if (strcmp(json_string_value(json_object_get(e, "action")) ?: "", "scale_in"))
			continue;
		p = patch_of(json_string_value(json_object_get(e, "block")), -1, reps, ns);
		if (!p) {
			json_decref(arr);
			return -1;
		}
		json_array_append_new(arr, p);
	}
	json_object_set_new(advice, "scale_in_patches", arr);
	return 0;
}

int advise_patch(json_t *advice, const struct es_opt_multi *reps, const char *ns)
{
	const char *block = json_string_value(json_object_get(advice, "scale_out"));
	json_t *p = json_null();

	if (block && !(p = patch_of(block, 1, reps, ns)))
		return -1;
	json_object_set_new(advice, "patch", p);
	return patch_in(advice, reps, ns);
}

void advise_patch_print(json_t *advice)
{
	json_t *p = json_object_get(advice, "patch"), *e;
	size_t i;

	if (json_is_object(p))
		printf("patch (printed, not applied):\n  %s\n",
		       json_string_value(json_object_get(p, "command")));
	json_array_foreach(json_object_get(advice, "scale_in_patches"), i, e)
		printf("scale-in patch (printed, not applied):\n  %s\n",
		       json_string_value(json_object_get(e, "command")));
}
