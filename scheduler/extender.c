// SPDX-License-Identifier: GPL-2.0-only
/*
 * The filter and prioritize verbs of the Kubernetes scheduler extender v1
 * API (k8s.io/kube-scheduler/extender/v1). kube-scheduler POSTs an
 * ExtenderArgs {Pod, Nodes (a v1.NodeList) or NodeNames (with
 * nodeCacheCapable)}; filter answers an ExtenderFilterResult {Nodes or
 * NodeNames, FailedNodes, FailedAndUnresolvableNodes, Error}, prioritize a
 * HostPriorityList [{Host, Score}] with scores 0 to 10. Those Go types have
 * no JSON tags, so the field names are the Go names, and Go decodes them
 * case-insensitively: so does this file.
 *
 * Bad input never reaches the policy: filter answers 200 with Error set
 * (kube-scheduler reports that text as the scheduling error), prioritize
 * answers 400 with {"Error": ...} (kube-scheduler ignores a failed
 * prioritize and keeps its own scores).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "util/errf.h"
#include "util/log.h"
#include "es_sched.h"

struct ext_args {
	json_t		*root;
	char		pod[400];	/* "namespace/name" for messages */
	json_t		*annotations;	/* borrowed, may be NULL */
	json_t		*items;		/* Nodes.items, borrowed; NULL in the NodeNames form */
	json_t		*names;		/* NodeNames, borrowed; NULL in the Nodes form */
	size_t		n;
};

/* Go's encoding/json: the exact key first, then any case-insensitive match. */
static json_t *get_ci(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key), *x;
	const char *k;

	if (v || !json_is_object(obj))
		return v;
	json_object_foreach(obj, k, x) {
		if (!strcasecmp(k, key))
			return x;
	}
	return NULL;
}

#define MALFORMED	"edgeshift-scheduler: malformed ExtenderArgs: "

static int parse_pod(struct ext_args *a, char *err, size_t len)
{
	json_t *pod = get_ci(a->root, "Pod"), *meta;
	const char *ns, *name;

	if (!json_is_object(pod))
		return es_errf(err, len, -EINVAL, MALFORMED "Pod is missing or not an object");
	meta = get_ci(pod, "metadata");
	if (meta && !json_is_object(meta) && !json_is_null(meta))
		return es_errf(err, len, -EINVAL, MALFORMED "Pod.metadata is not an object");
	ns = json_string_value(get_ci(meta, "namespace"));
	name = json_string_value(get_ci(meta, "name"));
	snprintf(a->pod, sizeof(a->pod), "%.63s/%.253s", ns ? ns : "default", name ? name : "?");
	a->annotations = get_ci(meta, "annotations");
	if (a->annotations && !json_is_object(a->annotations) && !json_is_null(a->annotations))
		return es_errf(err, len, -EINVAL,
			       MALFORMED "Pod.metadata.annotations is not an object");
	return 0;
}

static int parse_nodes(struct ext_args *a, char *err, size_t len)
{
	json_t *nodes = get_ci(a->root, "Nodes"), *names = get_ci(a->root, "NodeNames"), *e;
	size_t i;

	if (names && !json_is_null(names)) {
		if (!json_is_array(names))
			return es_errf(err, len, -EINVAL,
				       MALFORMED "NodeNames is not an array of strings");
		json_array_foreach(names, i, e) {
			if (!json_is_string(e) || !json_string_length(e))
				return es_errf(err, len, -EINVAL,
					       MALFORMED "NodeNames[%zu] is not a non-empty string", i);
		}
		a->names = names;
		a->n = json_array_size(names);
	}
	if (nodes && !json_is_null(nodes)) {
		if (!json_is_object(nodes))
			return es_errf(err, len, -EINVAL,
				       MALFORMED "Nodes is not a NodeList object");
		a->items = get_ci(nodes, "items");
		if (a->items && !json_is_array(a->items) && !json_is_null(a->items))
			return es_errf(err, len, -EINVAL, MALFORMED "Nodes.items is not an array");
		if (!json_is_array(a->items))
			a->items = NULL;
		json_array_foreach(a->items, i, e) {
			const char *n = json_string_value(get_ci(get_ci(e, "metadata"), "name"));

			if (!n || !*n)
				return es_errf(err, len, -EINVAL,
					       MALFORMED
					       "Nodes.items[%zu].metadata.name is missing or not a string",
					       i);
		}
		if (!a->names)
			a->n = json_array_size(a->items);
	}
	if (!a->names && !(nodes && !json_is_null(nodes)))
		return es_errf(err, len, -EINVAL, MALFORMED "neither Nodes nor NodeNames is given");
	if (a->names && a->items && json_array_size(a->items) != a->n)
		return es_errf(err, len, -EINVAL,
			       MALFORMED "Nodes and NodeNames list different numbers of nodes");
	/* both given: one node's verdict must not go out under another's name */
	for (i = 0; a->names && a->items && i < a->n; i++) {
		const char *n = json_string_value(get_ci(get_ci(json_array_get(a->items, i),
								"metadata"), "name"));

		if (strcmp(n, json_string_value(json_array_get(a->names, i))))
			return es_errf(err, len, -EINVAL,
				       MALFORMED "Nodes.items[%zu] is %.100s, "
				       "NodeNames[%zu] %.100s", i, n, i,
				       json_string_value(json_array_get(a->names, i)));
	}
	return 0;
}

static const char *node_name(const struct ext_args *a, size_t i)
{
	if (a->names)
		return json_string_value(json_array_get(a->names, i));
	return json_string_value(get_ci(get_ci(json_array_get(a->items, i), "metadata"), "name"));
}

static json_t *filter_error(const char *msg)
{
	return json_pack("{s:n,s:n,s:{},s:{},s:s}", "Nodes", "NodeNames", "FailedNodes",
			 "FailedAndUnresolvableNodes", "Error", msg);
}

/*
 * NULL when any part cannot be built (no memory; the texts are UTF-8:
 * request names as jansson parsed them, reasons through es_text_utf8): a
 * node left out of every list would be a verdict nobody gave.
 */
static json_t *filter_result(const struct ext_args *a, const struct node_verdict *v)
{
	json_t *items = json_array(), *names = json_array(), *failed = json_object();
	json_t *unres = json_object(), *res = NULL;
	size_t i;

	if (!items || !names || !failed || !unres)
		goto out;
	for (i = 0; i < a->n; i++) {
		if (v[i].pass) {
			if (a->items && json_array_append(items, json_array_get(a->items, i)))
				goto out;
			if (json_array_append_new(names, json_string(node_name(a, i))))
				goto out;
		} else if (json_object_set_new(v[i].unresolvable ? unres : failed, node_name(a, i),
					       json_string(v[i].reason))) {
			goto out;
		}
	}
	res = json_pack("{s:O,s:O,s:s}", "FailedNodes", failed,
			"FailedAndUnresolvableNodes", unres, "Error", "");
	/* Answer in the form asked: Nodes for Nodes, NodeNames for NodeNames. */
	if (res && (json_object_set_new(res, "Nodes", a->items ?
					json_pack("{s:{},s:O}", "metadata", "items", items) :
					json_null()) ||
		    json_object_set_new(res, "NodeNames",
					a->names ? json_incref(names) : json_null()))) {
		json_decref(res);
		res = NULL;
	}
out:
	json_decref(items);
	json_decref(names);
	json_decref(failed);
	json_decref(unres);
	return res;
}

/* NULL when a host cannot be added: a host left out would be scored 0 unsaid. */
static json_t *priority_list(const struct ext_args *a, const struct node_verdict *v)
{
	json_t *list = json_array();
	size_t i;

	for (i = 0; list && i < a->n; i++) {
		if (json_array_append_new(list, json_pack("{s:s,s:i}", "Host", node_name(a, i),
							  "Score", v[i].pass ? v[i].score : 0))) {
			json_decref(list);
			list = NULL;
		}
	}
	return list;
}

/* The answer when the real one could not be built: an error, never a partial answer. */
static json_t *unbuilt(enum ext_verb verb, unsigned int *status)
{
	static const char msg[] = "edgeshift-scheduler: the answer could not be built "
				  "(out of memory)";

	es_warn("answer_unbuilt", "verb=%s", verb == VERB_FILTER ? "filter" : "prioritize");
	if (verb == VERB_FILTER)
		return filter_error(msg);
	*status = 500;
	return json_pack("{s:s}", "Error", msg);
}

/* Decide every node; 0, or -errno with err when the pod must not be placed now. */
static int decide(const struct sched_config *cfg, struct metrics_cache *mc,
		  const struct ext_args *a, struct node_verdict *v, char *err, size_t len)
{
	struct metrics_snapshot *snap = NULL;
	struct pod_request req;
	char why[700];
	size_t i;

	if (policy_pod_request(cfg, a->annotations, &req, why, sizeof(why)))
		return es_errf(err, len, -EINVAL, "edgeshift-scheduler: pod %.300s: %.600s",
			       a->pod, why);
	if (req.opted_in) {
		snap = metrics_cache_get(mc, why, sizeof(why));
		if (!snap && cfg->on_unavailable == UNAVAILABLE_ERROR)
			return es_errf(err, len, -EAGAIN,
				       "edgeshift-scheduler: pod %.300s not placed: %.600s", a->pod, why);
		if (!snap) {
			es_warn("metrics_unavailable_pass", "pod=%s reason=\"%s\"", a->pod, why);
			req.opted_in = false;	/* configured to let it pass untouched */
		}
	}
	for (i = 0; i < a->n; i++)
		policy_evaluate(cfg, &req, snap ? metrics_snapshot_find(snap, node_name(a, i)) : NULL,
				node_name(a, i), &v[i]);
	if (snap)
		metrics_snapshot_put(mc, snap);
	return 0;
}

json_t *extender_handle(const struct sched_config *cfg, struct metrics_cache *mc,
			enum ext_verb verb, const char *body, size_t len, unsigned int *status)
{
	struct ext_args a = {};
	struct node_verdict *v = NULL;
	uint64_t start = es_now_ns();
	char err[1024];
	json_error_t jerr;
	json_t *res = NULL;
	size_t passed = 0, i;
	int ret;

	a.root = json_loadb(body, len, 0, &jerr);
	if (!a.root) {
		ret = es_errf(err, sizeof(err), -EINVAL,
			      MALFORMED "not JSON (line %d column %d: %s)",
			      jerr.line, jerr.column, jerr.text);
	} else if (!json_is_object(a.root)) {
		ret = es_errf(err, sizeof(err), -EINVAL, MALFORMED "top level is not an object");
	} else {
		ret = parse_pod(&a, err, sizeof(err));
		if (!ret)
			ret = parse_nodes(&a, err, sizeof(err));
	}
	if (!ret) {
		v = calloc(a.n + 1, sizeof(*v));
		ret = v ? decide(cfg, mc, &a, v, err, sizeof(err)) :
			  es_errf(err, sizeof(err), -ENOMEM, "edgeshift-scheduler: out of memory");
	}
	*status = 200;
	if (ret) {
		es_info("request_error", "verb=%s error=\"%s\"", verb == VERB_FILTER ? "filter" : "prioritize", err);
		if (verb == VERB_FILTER) {
			res = filter_error(err);
		} else {
			res = json_pack("{s:s}", "Error", err);
			*status = 400;
		}
	} else {
		res = verb == VERB_FILTER ? filter_result(&a, v) : priority_list(&a, v);
		for (i = 0; i < a.n; i++)
			passed += v[i].pass;
		es_debug("request", "verb=%s pod=%s nodes=%zu passed=%zu duration_us=%.0f",
			 verb == VERB_FILTER ? "filter" : "prioritize", a.pod, a.n, passed,
			 (es_now_ns() - start) / 1e3);
	}
	if (!res)
		res = unbuilt(verb, status);
	free(v);
	json_decref(a.root);
	return res;
}
