// SPDX-License-Identifier: GPL-2.0-only
/* libyaml's document tree converted to jansson. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>
#include "yaml_json.h"

/* Aliases may point back up the tree or fan out: bound both. */
#define MAX_DEPTH	64
#define MAX_NODES	100000

static json_t *node_json(yaml_document_t *doc, yaml_node_t *node, int depth, int *budget)
{
	yaml_node_pair_t *pair;
	yaml_node_item_t *item;
	json_t *out;

	if (!node || depth > MAX_DEPTH || --*budget < 0)
		return NULL;
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return json_stringn((const char *)node->data.scalar.value,
				    node->data.scalar.length);
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (item = node->data.sequence.items.start;
		     item < node->data.sequence.items.top; item++) {
			json_t *v = node_json(doc, yaml_document_get_node(doc, *item), depth + 1, budget);

			if (!v || json_array_append_new(out, v))
				goto bad;
		}
		return out;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (pair = node->data.mapping.pairs.start;
		     pair < node->data.mapping.pairs.top; pair++) {
			yaml_node_t *k = yaml_document_get_node(doc, pair->key);
			json_t *v;

			if (!k || k->type != YAML_SCALAR_NODE)
				goto bad;
			v = node_json(doc, yaml_document_get_node(doc, pair->value), depth + 1, budget);
			if (!v || json_object_setn_new(out, (const char *)k->data.scalar.value,
						       k->data.scalar.length, v))
				goto bad;
		}
		return out;
	default:
		return NULL;
	}
bad:
	json_decref(out);
	return NULL;
}

json_t *yaml_json_load(const char *path, char *err, size_t err_len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int budget = MAX_NODES;
	json_t *out = NULL;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		snprintf(err, err_len, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, err_len, "out of memory");
		fclose(f);
		return NULL;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, err_len, "line %zu: %s", parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "not YAML");
		goto out;
	}
	out = node_json(&doc, yaml_document_get_root_node(&doc), 0, &budget);
	if (!out)
		snprintf(err, err_len, "empty, too large, too deeply nested or with a non-scalar key");
	yaml_document_delete(&doc);
out:
	yaml_parser_delete(&parser);
	fclose(f);
	return out;
}
