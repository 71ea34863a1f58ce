// SPDX-License-Identifier: GPL-2.0-only
/* edgeshift status: what is attached where and how full the maps are. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include <bpf/bpf.h>
#include <edgeshift/session.h>
#include "cli.h"
#include "tool/opts.h"
#include "bpf/es_maps.h"
#include "bpf/session_scan.h"

static void print_status_table(json_t *root)
{
	json_t *ifs = json_object_get(root, "interfaces"), *e;
	json_t *sm = json_object_get(root, "session_map");
	size_t i;

	printf("node %s, agent %s, map layout %lld, pins %s\n",
	       json_string_value(json_object_get(root, "node")),
	       json_string_value(json_object_get(root, "version")) ?: "not running",
	       json_integer_value(json_object_get(root, "layout_version")),
	       json_string_value(json_object_get(root, "pin_path")));
	printf("session map: %lld IPv4 + %lld IPv6 entries of %lld each, %lld evictions\n",
	       json_integer_value(json_object_get(sm, "entries_ipv4")),
	       json_integer_value(json_object_get(sm, "entries_ipv6")),
	       json_integer_value(json_object_get(sm, "capacity")),
	       json_integer_value(json_object_get(sm, "evictions")));
	printf("%-8s %-16s %-24s %-8s %-8s\n", "IFINDEX", "INTERFACE", "POD", "RX_HOOK",
	       "TX_HOOK");
	json_array_foreach(ifs, i, e)
		printf("%-8lld %-16s %-24s %-8s %-8s\n",
		       json_integer_value(json_object_get(e, "ifindex")),
		       json_string_value(json_object_get(e, "name")),
		       json_string_value(json_object_get(e, "pod")) ?: "-",
		       json_string_value(json_object_get(e, "rx_hook")) ?: "?",
		       json_is_true(json_object_get(e, "tx_hook")) ? "tc" : "none");
}

static int count_family(struct es_session *s, void *arg)
{
	size_t *n = arg;

	n[s->family == ES_FAMILY_INET6]++;
	return 0;
}

/* Status from the pins alone: what is attached and how full the maps are. */
static json_t *status_from_pins(const struct cli *c)
{
	struct es_iface_info info;
	struct es_meta meta = {};
	__u32 key, next, zero = 0;
	size_t n[2] = { 0, 0 };
	struct es_maps m;
	json_t *ifs, *root;
	void *k = NULL;

	if (cli_open_pins(c, &m))
		return NULL;
	bpf_map_lookup_elem(m.fd[ES_MAP_META], &zero, &meta);
	ifs = json_array();
	while (!bpf_map_get_next_key(m.fd[ES_MAP_IFACES], k, &next)) {
		key = next;
		k = &key;
		if (bpf_map_lookup_elem(m.fd[ES_MAP_IFACES], &key, &info))
			continue;
		json_t *e = json_pack("{s:i,s:s,s:s,s:b}", "ifindex", key, "name", info.ifname,
				      "rx_hook", info.attached & 1 ? "xdp" :
						 info.attached & 4 ? "tc" : "none",
				      "tx_hook", (info.attached >> 1) & 1);

		if (info.pod_name[0])
			json_object_set_new(e, "pod", json_sprintf("%s/%s", info.pod_namespace,
								    info.pod_name));
		json_array_append_new(ifs, e);
	}
	if (es_session_scan(&m, ES_SCAN_NO_STATE, count_family, n))
		n[0] = n[1] = 0;
	root = json_pack("{s:s,s:i,s:s,s:o,s:{s:i,s:I,s:I,s:i}}", "node", "(pinned maps)",
			 "layout_version", meta.layout_version, "pin_path", c->pin_path,
			 "interfaces", ifs, "session_map", "capacity", meta.session_map_size,
			 "entries_ipv4", (json_int_t)n[0], "entries_ipv6", (json_int_t)n[1],
			 "evictions", -1);
	es_maps_close(&m);
	return root;
}

struct status_args {
	bool	json;
};

static const struct es_opt opts[] = {
	ES_OPT_BOOL(ES_OPT_AT(struct status_args, json), "json", 0, "JSON output"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "edgeshift status",
	.opts	= opts,
	.usage	= "[--json]",
};

int cmd_status(const struct cli *c, int argc, char **argv)
{
	struct status_args a = { };
	struct cli cc = *c;
	char err[512];
	json_t *j;
	int n;

	n = es_opts_parse(&cli, argc, argv, &a);
	if (n <= 0)
		return n ? 2 : 0;
	cc.json = cc.json || a.json;
	j = cli_api_get(&cc, "/v1/status", err, sizeof(err));
	if (!j) {
		fprintf(stderr, "edgeshift: agent not answering (%s); reading pinned maps in %s\n",
			err, c->pin_path);
		j = status_from_pins(&cc);
	}
	return j ? cli_emit(&cc, j, print_status_table) : 1;
}

