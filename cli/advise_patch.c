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

/* N for block in "BLOCK=N" entries; -1 when absent or not a count. */
static long replicas_of(const struct es_opt_multi *reps, const char *block)
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

int advise_patch(json_t *advice, const struct es_opt_multi *reps, const char *ns)
{
	const char *block = json_string_value(json_object_get(advice, "scale_out"));
	char cmd[512];
	long n;

	if (!block) {
		json_object_set_new(advice, "patch", json_null());
		return 0;
	}
	n = replicas_of(reps, block);
	if (n < 0) {
		fprintf(stderr, "edgeshift advise: --patch needs --replicas %s=N "
			"(its Deployment's replicas now, 1 or more)\n", block);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "kubectl%s%.64s patch deployment %.64s --type merge "
		 "-p '{\"spec\":{\"replicas\":%ld}}'", ns ? " -n " : "", ns ?: "", block, n + 1);
	json_object_set_new(advice, "patch", json_pack("{s:s,s:s?,s:I,s:I,s:s}",
		"deployment", block, "namespace", ns, "replicas_from", (json_int_t)n,
		"replicas", (json_int_t)n + 1, "command", cmd));
	return 0;
}

void advise_patch_print(json_t *advice)
{
	json_t *p = json_object_get(advice, "patch");

	if (json_is_object(p))
		printf("patch (printed, not applied):\n  %s\n",
		       json_string_value(json_object_get(p, "command")));
}
