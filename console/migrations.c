// SPDX-License-Identifier: GPL-2.0-only
/*
 * The migrations view's data: each node's zero-downtime migrations
 * (GET /v1/zdm/migrations, steps with their times, the engine's phases
 * inside) and plain ones (GET /v1/migrations, phases with their times),
 * asked with the agents' bearer token, which both lists require. A plain
 * migration that is the engine of a zero-downtime one is shown once,
 * inside that one. The agents keep the times; the console only gathers.
 */
#include <stdio.h>
#include <string.h>
#include "console.h"

#define MIG_TIMEOUT_MS	3000

/* Whether a zero-downtime migration of zdm runs the engine migration id. */
static bool engine_of_zdm(json_t *zdm, const char *id)
{
	size_t i;
	json_t *z;

	json_array_foreach(zdm, i, z) {
		const char *e = json_string_value(json_object_get(z, "engine_id"));

		if (e && id && !strcmp(e, id))
			return true;
	}
	return false;
}

/* Adds list's migrations (taken) to out, labelled with their node and kind. */
static void add_all(json_t *out, json_t *list, json_t *head, const char *kind, json_t *skip)
{
	size_t i;
	json_t *m;

	json_array_foreach(list, i, m) {
		if (skip && engine_of_zdm(skip, json_string_value(json_object_get(m, "id"))))
			continue;
		json_object_set(m, "node_id", json_object_get(head, "id"));
		json_object_set(m, "node", json_object_get(head, "name"));
		json_object_set_new(m, "kind", json_string(kind));
		json_array_append(out, m);
	}
	json_decref(list);
}

static void add_error(json_t *errors, json_t *head, const char *err)
{
	json_array_append_new(errors, json_pack("{s:O, s:O, s:s}", "node_id",
						json_object_get(head, "id"), "node",
						json_object_get(head, "name"), "error", err));
}

/*
 * One node's lists. An agent without a zero_downtime configuration answers
 * 503 to the first: it has plain migrations only, which is no error.
 */
static void node_migrations(json_t *head, const char *token, struct es_http_pool *pool,
			    json_t *out, json_t *errors)
{
	const char *url = json_string_value(json_object_get(head, "url"));
	json_t *zdm, *plain;
	char err[768];
	long status;

	zdm = con_agent_get_auth(url, "/v1/zdm/migrations", token, pool, MIG_TIMEOUT_MS, &status,
				 err, sizeof(err));
	if (!zdm && status != 503)
		add_error(errors, head, err);
	plain = con_agent_get_auth(url, "/v1/migrations", token, pool, MIG_TIMEOUT_MS, &status,
				   err, sizeof(err));
	if (!plain && (zdm || status != 0))
		add_error(errors, head, err);	/* a dead agent's reason is given once */
	if (json_is_array(plain))
		add_all(out, plain, head, "plain", zdm);
	else
		json_decref(plain);
	if (json_is_array(zdm))
		add_all(out, zdm, head, "zero-downtime", NULL);
	else
		json_decref(zdm);
}

json_t *con_migrations_json(json_t *heads, const char *token, struct es_http_pool *pool)
{
	json_t *out = json_array(), *errors = json_array(), *head;
	size_t i;

	json_array_foreach(heads, i, head)
		node_migrations(head, token, pool, out, errors);
	json_decref(heads);
	return json_pack("{s:o, s:o}", "migrations", out, "errors", errors);
}
