// SPDX-License-Identifier: GPL-2.0-only
/*
 * The migrations view's one action: a container moved from one node of
 * the console to another, started the way `edgeshift zdm` (POST
 * /v1/zdm/migrations with query arguments) or `edgeshift migrate` (POST
 * /v1/migrations with a JSON body) starts it, at the source node's agent
 * with the bearer token the page gave. The console checks only what is
 * its own (the kind, a container name, two of its nodes); the agent
 * checks the rest (the container, its peers) and its refusal goes back
 * to the page as it gave it. The migration then shows in the agents'
 * lists like any other: the console keeps no state of its own for it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "console.h"
#include "http/http_client.h"

#define START_TIMEOUT_MS	10000	/* as the CLI's migrate: the agent checks, then answers */
#define CONTAINER_MAX		128

/* The node whose id is id among heads, or NULL. */
static json_t *head_of(json_t *heads, json_t *id)
{
	size_t i;
	json_t *h;

	if (!json_is_integer(id))
		return NULL;
	json_array_foreach(heads, i, h)
		if (json_integer_value(json_object_get(h, "id")) == json_integer_value(id))
			return h;
	return NULL;
}

/* The agents' container names ([A-Za-z0-9_.-]); anything else never reaches them. */
static bool container_ok(const char *s)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

	return s && *s && strlen(s) <= CONTAINER_MAX && strspn(s, ok) == strlen(s);
}

static const char *node_name(json_t *head)
{
	return json_string_value(json_object_get(head, "name"));
}

int con_mig_start_parse(json_t *body, json_t *heads, struct con_mig_start *s,
			char *err, size_t len)
{
	const char *kind = json_string_value(json_object_get(body, "kind"));
	json_t *stop = json_object_get(body, "stop_source");

	s->container = json_string_value(json_object_get(body, "container"));
	s->mode = json_string_value(json_object_get(body, "mode")) ?: "partial";
	s->from = head_of(heads, json_object_get(body, "from"));
	s->to = head_of(heads, json_object_get(body, "to"));
	s->stop_source = json_is_true(stop);
	if (!kind || (strcmp(kind, "zdm") && strcmp(kind, "migrate"))) {
		snprintf(err, len, "kind must be zdm (zero-downtime) or migrate (plain)");
		return -EINVAL;
	}
	s->zdm = !strcmp(kind, "zdm");
	if (!container_ok(s->container)) {
		snprintf(err, len, "container must be a container name (1 to %d of [A-Za-z0-9_.-])",
			 CONTAINER_MAX);
		return -EINVAL;
	}
	if (!s->from || !s->to || s->from == s->to) {
		snprintf(err, len, "from and to must be the ids of two different nodes of the console");
		return -EINVAL;
	}
	if (!node_name(s->to) || !*node_name(s->to)) {
		snprintf(err, len, "the target node has not told its name yet: try again");
		return -EINVAL;
	}
	if ((strcmp(s->mode, "partial") && strcmp(s->mode, "complete")) ||
	    (stop && !json_is_boolean(stop)) || (s->zdm && s->stop_source)) {
		snprintf(err, len, "mode must be partial or complete, stop_source true or false "
			 "(plain migrations only: a zero-downtime one stops its source itself)");
		return -EINVAL;
	}
	return 0;
}

/* POST /v1/zdm/migrations?container=&to=&mode=, as `edgeshift zdm` sends it. */
static json_t *start_zdm(const struct con_mig_start *s, const char *base, const char *bearer,
			 long *status, char *err, size_t len)
{
	char *c = es_http_escape(s->container), *t = es_http_escape(node_name(s->to));
	char *m = es_http_escape(s->mode), *q = NULL;
	json_t *doc = NULL;

	if (!c || !t || !m ||
	    asprintf(&q, "/v1/zdm/migrations?container=%s&to=%s&mode=%s", c, t, m) < 0) {
		q = NULL;
		snprintf(err, len, "out of memory");
		goto out;
	}
	doc = con_agent_post(base, q, "{}", bearer, START_TIMEOUT_MS, status, err, len);
out:
	free(q);
	free(c);
	free(t);
	free(m);
	return doc;
}

/* POST /v1/migrations {container, to, mode, stop_source}, as `edgeshift migrate` sends it. */
static json_t *start_plain(const struct con_mig_start *s, const char *base, const char *bearer,
			   long *status, char *err, size_t len)
{
	json_t *req = json_pack("{s:s,s:s,s:s,s:b}", "container", s->container, "to",
				node_name(s->to), "mode", s->mode, "stop_source", s->stop_source);
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_t *doc = NULL;

	if (!text)
		snprintf(err, len, "out of memory");
	else
		doc = con_agent_post(base, "/v1/migrations", text, bearer, START_TIMEOUT_MS, status,
				     err, len);
	free(text);
	json_decref(req);
	return doc;
}

json_t *con_mig_start(const struct con_mig_start *s, const char *bearer, long *status,
		      char *err, size_t len)
{
	const char *base = json_string_value(json_object_get(s->from, "url"));

	*status = 0;
	if (!base) {
		snprintf(err, len, "the source node has no agent URL");
		return NULL;
	}
	return s->zdm ? start_zdm(s, base, bearer, status, err, len)
		      : start_plain(s, base, bearer, status, err, len);
}
