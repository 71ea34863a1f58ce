// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift sessions: the agent's session listing, or the pinned maps
 * read directly when the agent does not answer; both give the same JSON.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "bpf/es_maps.h"
#include "json/session_json.h"
#include "bpf/session_table.h"

static json_t *sessions_from_pins(const struct cli *c, const struct es_session_query *q)
{
	struct es_session_table t;
	struct es_maps m;
	json_t *j = NULL;
	int err;

	if (cli_open_pins(c, &m))
		return NULL;
	err = es_session_table_read(&t, &m);
	if (err) {
		fprintf(stderr, "edgeshift: cannot read sessions: %s\n", strerror(-err));
	} else {
		j = es_sessions_json(&t, q, m.fd[ES_MAP_IFACES], "(pinned maps)");
		es_session_table_free(&t);
	}
	es_maps_close(&m);
	return j;
}

static const char *latency_text(json_t *s, char *buf, size_t len)
{
	json_t *lat = json_object_get(s, "latency");
	json_t *hs = json_object_get(lat, "tcp_handshake_us");
	json_t *mean = json_object_get(lat, "mean_us");

	if (hs)
		snprintf(buf, len, "rtt %.0fus", json_real_value(hs));
	else if (mean)
		snprintf(buf, len, "%s %.0fus", json_string_value(json_object_get(lat, "kind")),
			 json_real_value(mean));
	else
		snprintf(buf, len, "-");
	return buf;
}

static void print_sessions_table(json_t *root)
{
	char rxb[16], txb[16], lat[32];
	json_t *arr = json_object_get(root, "sessions"), *s;
	size_t i;

	printf("%-6s %-14s %-18s %-28s %-28s %9s %9s %9s %9s %-14s %s\n", "PROTO", "INTERFACE",
	       "POD", "ENDPOINT_LO", "ENDPOINT_HI", "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES",
	       "LATENCY", "STATE");
	json_array_foreach(arr, i, s) {
		json_t *rx = json_object_get(s, "rx"), *tx = json_object_get(s, "tx");

		cli_human_bytes(json_integer_value(json_object_get(rx, "bytes")), rxb, sizeof(rxb));
		cli_human_bytes(json_integer_value(json_object_get(tx, "bytes")), txb, sizeof(txb));
		printf("%-6s %-14s %-18s %-28s %-28s %9lld %9s %9lld %9s %-14s %s\n",
		       json_string_value(json_object_get(s, "protocol")),
		       json_string_value(json_object_get(s, "interface")) ?: "",
		       json_string_value(json_object_get(s, "pod")) ?: "-",
		       json_string_value(json_object_get(s, "endpoint_lo")),
		       json_string_value(json_object_get(s, "endpoint_hi")),
		       json_integer_value(json_object_get(rx, "packets")), rxb,
		       json_integer_value(json_object_get(tx, "packets")), txb,
		       latency_text(s, lat, sizeof(lat)),
		       json_string_value(json_object_get(s, "state")) ?: "-");
	}
	printf("%lld of %lld matching sessions shown (node %s, sorted by %s)\n",
	       json_integer_value(json_object_get(root, "count")),
	       json_integer_value(json_object_get(root, "matched")),
	       json_string_value(json_object_get(root, "node")),
	       json_string_value(json_object_get(root, "sort")));
}

int cmd_sessions(const struct cli *c, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "sort", required_argument, NULL, 's' }, { "top", required_argument, NULL, 'n' },
		{ "order", required_argument, NULL, 'o' }, { "proto", required_argument, NULL, 'P' },
		{ "interface", required_argument, NULL, 'i' }, { "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' }, { "state", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' }, {}
	};
	static const char *const keys[] = {
		['s'] = "sort", ['n'] = "limit", ['o'] = "order", ['P'] = "proto",
		['i'] = "interface", ['a'] = "addr", ['p'] = "port", ['S'] = "state",
	};
	struct es_session_query q;
	struct cli cc = *c;
	char path[1024] = "/v1/sessions", err[512];
	json_t *j;
	int opt;

	es_session_query_init(&q);
	q.limit = 20;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:n:jP:i:", lopts, NULL)) != -1) {
		if (opt == 'j') {
			cc.json = 1;
			continue;
		}
		if (opt == '?' || es_session_query_set(&q, keys[opt], optarg, err, sizeof(err)) ||
		    cli_append_arg(path, sizeof(path), keys[opt], optarg)) {
			fprintf(stderr, "edgeshift sessions: %s\n", opt == '?' ? "bad option" : err);
			return 2;
		}
	}
	if (!strstr(path, "limit="))
		cli_append_arg(path, sizeof(path), "limit", "20");
	j = cli_api_get(&cc, path, err, sizeof(err));
	if (!j && errno != ECONNREFUSED) {
		fprintf(stderr, "edgeshift: %s\n", err);
		return 1;
	}
	if (!j) {
		fprintf(stderr, "edgeshift: agent not answering (%s); reading pinned maps in %s\n",
			err, c->pin_path);
		j = sessions_from_pins(&cc, &q);
	}
	return j ? cli_emit(&cc, j, print_sessions_table) : 1;
}

