// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift sessions: the agent's session listing, or the pinned maps
 * read directly when the agent does not answer; both give the same JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "tool/opts.h"
#include "bpf/es_maps.h"
#include "json/session_json.h"

static json_t *sessions_from_pins(const struct cli *c, const struct es_session_query *q)
{
	struct es_maps m;
	json_t *j = NULL;
	int err;

	if (cli_open_pins(c, &m))
		return NULL;
	err = es_sessions_json(&m, q, "(pinned maps)", &j);
	if (err)
		fprintf(stderr, "edgeshift: cannot read sessions: %s\n", strerror(-err));
	es_maps_close(&m);
	return j;
}

/* us, ms or s, whichever keeps the figure short (the column is 16 wide). */
static void duration_text(double us, char *buf, size_t len)
{
	if (us < 1000)
		snprintf(buf, len, "%.0fus", us);
	else if (us < 1e6)
		snprintf(buf, len, "%.1fms", us / 1e3);
	else
		snprintf(buf, len, "%.1fs", us / 1e6);
}

static const char *latency_text(json_t *s, char *buf, size_t len)
{
	json_t *lat = json_object_get(s, "latency");
	json_t *hs = json_object_get(lat, "tcp_handshake_us");
	json_t *mean = json_object_get(lat, "mean_us");
	char d[16];

	if (!hs && !mean) {
		snprintf(buf, len, "-");
		return buf;
	}
	duration_text(json_number_value(hs ?: mean), d, sizeof(d));
	snprintf(buf, len, "%s %s",
		 hs ? "rtt" : json_string_value(json_object_get(lat, "kind")) ?: "?", d);
	return buf;
}

static void print_sessions_table(json_t *root)
{
	char rxb[16], txb[16], lat[32];
	json_t *arr = json_object_get(root, "sessions"), *s;
	size_t i;

	printf("%-6s %-14s %-18s %-28s %-28s %9s %9s %9s %9s %-16s %s\n", "PROTO", "INTERFACE",
	       "POD", "ENDPOINT_LO", "ENDPOINT_HI", "RX_PKTS", "RX_BYTES", "TX_PKTS", "TX_BYTES",
	       "LATENCY", "STATE");
	json_array_foreach(arr, i, s) {
		json_t *rx = json_object_get(s, "rx"), *tx = json_object_get(s, "tx");

		cli_human_bytes(json_integer_value(json_object_get(rx, "bytes")), rxb, sizeof(rxb));
		cli_human_bytes(json_integer_value(json_object_get(tx, "bytes")), txb, sizeof(txb));
		printf("%-6s %-14s %-18s %-28s %-28s %9lld %9s %9lld %9s %-16s %s\n",
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
	printf("%lld of %lld matching sessions shown (node %s, sorted by %s",
	       json_integer_value(json_object_get(root, "count")),
	       json_integer_value(json_object_get(root, "matched")),
	       json_string_value(json_object_get(root, "node")),
	       json_string_value(json_object_get(root, "sort")));
	/* a reader who takes the counters for this instant's would be misled */
	if (!strcmp(json_string_value(json_object_get(root, "source")) ?: "", "snapshot"))
		printf("; counters of the collection scan %.1f s ago",
		       json_number_value(json_object_get(root, "age_ms")) / 1e3);
	printf(")\n");
}

struct sessions_args {
	struct es_session_query	q;
	char			path[1024];
	bool			json;
};

/* A filter or sort option: into the query and the API path alike. */
static int parse_query_opt(const struct es_opts *cli, const struct es_opt *o,
			   const char *arg, void *conf)
{
	struct sessions_args *a = conf;
	const char *key = strcmp(o->name, "top") ? o->name : "limit";
	char err[512];

	(void)cli;
	if (es_session_query_set(&a->q, key, arg, err, sizeof(err)) ||
	    cli_append_arg(a->path, sizeof(a->path), key, arg)) {
		fprintf(stderr, "edgeshift sessions: %s\n", err);
		return -1;
	}
	return 0;
}

static const struct es_opt opts[] = {
	ES_OPT_FUNC("sort", 's', parse_query_opt, "KEY",
		    "bytes, packets, first, last or latency"),
	ES_OPT_FUNC("top", 'n', parse_query_opt, "N", "show N sessions (default 20)"),
	ES_OPT_FUNC("order", 0, parse_query_opt, "asc|desc", "sort order"),
	ES_OPT_FUNC("proto", 'P', parse_query_opt, "PROTO", "tcp, udp, icmp or icmpv6"),
	ES_OPT_FUNC("interface", 'i', parse_query_opt, "NAME", "on this interface"),
	ES_OPT_FUNC("addr", 0, parse_query_opt, "IP", "with this endpoint address"),
	ES_OPT_FUNC("port", 0, parse_query_opt, "N", "with this endpoint port"),
	ES_OPT_FUNC("state", 0, parse_query_opt, "open|closed|any", "session state"),
	ES_OPT_FUNC("source", 0, parse_query_opt, "auto|live|snapshot",
		    "the agent's answer read now (live) or from its scan's index (snapshot)"),
	ES_OPT_BOOL(ES_OPT_AT(struct sessions_args, json), "json", 'j', "JSON output"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "edgeshift sessions",
	.opts	= opts,
	.usage	= "[--sort bytes|packets|first|last|latency] [--top N] [--order asc|desc]\n"
		  "           [--proto tcp|udp|icmp|icmpv6] [--interface NAME] [--addr IP]\n"
		  "           [--port N] [--state open|closed|any] [--source auto|live|snapshot]\n"
		  "           [--json]",
};

int cmd_sessions(const struct cli *c, int argc, char **argv)
{
	struct sessions_args a = { .path = "/v1/sessions" };
	struct es_session_query *q = &a.q;
	char *path = a.path, err[512];
	struct cli cc = *c;
	json_t *j;
	int n;

	es_session_query_init(q);
	q->limit = 20;
	n = es_opts_parse(&cli, argc, argv, &a);
	if (n <= 0)
		return n ? 2 : 0;
	cc.json = cc.json || a.json;
	if (!strstr(path, "limit="))
		cli_append_arg(path, sizeof(a.path), "limit", "20");
	j = cli_api_get(&cc, path, err, sizeof(err));
	if (!j && errno != ECONNREFUSED) {
		fprintf(stderr, "edgeshift: %s\n", err);
		return 1;
	}
	if (!j) {
		fprintf(stderr, "edgeshift: agent not answering (%s); reading pinned maps in %s\n",
			err, c->pin_path);
		j = sessions_from_pins(&cc, q);
	}
	return j ? cli_emit(&cc, j, print_sessions_table) : 1;
}

