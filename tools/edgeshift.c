// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshift: the operator's command line. Reads the agent's JSON API and,
 * when the agent does not answer, the pinned maps directly, so sessions
 * stay inspectable while the agent restarts. Both paths produce the same
 * JSON, which is printed as is (--json) or as a table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>
#include <bpf/bpf.h>
#include <edgeshift/session.h>
#include "es_maps.h"
#include "session_json.h"
#include "session_table.h"

#define DEFAULT_API	"http://127.0.0.1:9464"

struct cli {
	const char	*api;
	const char	*pin_path;
	long		timeout_ms;
	int		json;
};

struct buf {
	char	*data;
	size_t	len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	char *nd = realloc(b->data, b->len + size * n + 1);

	if (!nd)
		return 0;
	b->data = nd;
	memcpy(b->data + b->len, p, size * n);
	b->len += size * n;
	b->data[b->len] = '\0';
	return size * n;
}

/* GET a JSON document; NULL when the agent does not answer (err says why). */
static json_t *api_get(const struct cli *c, const char *path, char *err, size_t err_len)
{
	struct buf b = {};
	json_error_t jerr;
	char url[1024];
	json_t *j = NULL;
	CURLcode rc;
	long code = 0;
	CURL *h;

	h = curl_easy_init();
	if (!h)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", c->api, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		snprintf(err, err_len, "%.300s: %s", url, curl_easy_strerror(rc));
	} else {
		j = json_loads(b.data ? b.data : "", 0, &jerr);
		if (!j)
			snprintf(err, err_len, "%.300s: not JSON: %.150s", url, jerr.text);
		else if (code != 200)
			snprintf(err, err_len, "%.300s: HTTP %ld: %.150s", url, code,
				 json_string_value(json_object_get(j, "error")) ?: "?");
	}
	if (j && code != 200) {
		json_decref(j);
		j = NULL;
		errno = EINVAL;	/* the agent answered: no fallback */
	} else if (!j) {
		errno = ECONNREFUSED;
	}
	free(b.data);
	curl_easy_cleanup(h);
	return j;
}

static int open_pins(const struct cli *c, struct es_maps *m)
{
	char msg[256];
	int err;

	err = es_maps_open_pinned(m, c->pin_path);
	if (err) {
		fprintf(stderr, "edgeshift: cannot open the pinned maps in %s: %s\n", c->pin_path,
			strerror(-err));
		return err;
	}
	err = es_maps_check_layout(m, msg, sizeof(msg));
	if (err) {
		fprintf(stderr, "edgeshift: %s\n", msg);
		es_maps_close(m);
	}
	return err;
}

static json_t *sessions_from_pins(const struct cli *c, const struct es_session_query *q)
{
	struct es_session_table t;
	struct es_maps m;
	json_t *j = NULL;
	int err;

	if (open_pins(c, &m))
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

static void human_bytes(unsigned long long v, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = v;
	int u = 0;

	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", d, units[u]);
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

		human_bytes(json_integer_value(json_object_get(rx, "bytes")), rxb, sizeof(rxb));
		human_bytes(json_integer_value(json_object_get(tx, "bytes")), txb, sizeof(txb));
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

static int emit(const struct cli *c, json_t *j, void (*table)(json_t *))
{
	if (c->json) {
		json_dumpf(j, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		table(j);
	}
	json_decref(j);
	return 0;
}

static int append_arg(char *path, size_t len, const char *key, const char *val)
{
	size_t used = strlen(path);
	char *esc = curl_easy_escape(NULL, val, 0);
	int n;

	if (!esc)
		return -1;
	n = snprintf(path + used, len - used, "%c%s=%s", strchr(path, '?') ? '&' : '?', key, esc);
	curl_free(esc);
	return n < 0 || (size_t)n >= len - used ? -1 : 0;
}

static int cmd_sessions(const struct cli *c, int argc, char **argv)
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
		    append_arg(path, sizeof(path), keys[opt], optarg)) {
			fprintf(stderr, "edgeshift sessions: %s\n", opt == '?' ? "bad option" : err);
			return 2;
		}
	}
	if (!strstr(path, "limit="))
		append_arg(path, sizeof(path), "limit", "20");
	j = api_get(&cc, path, err, sizeof(err));
	if (!j && errno != ECONNREFUSED) {
		fprintf(stderr, "edgeshift: %s\n", err);
		return 1;
	}
	if (!j) {
		fprintf(stderr, "edgeshift: agent not answering (%s); reading pinned maps in %s\n",
			err, c->pin_path);
		j = sessions_from_pins(&cc, &q);
	}
	return j ? emit(&cc, j, print_sessions_table) : 1;
}

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

/* Status from the pins alone: what is attached and how full the maps are. */
static json_t *status_from_pins(const struct cli *c)
{
	struct es_session_table t;
	struct es_iface_info info;
	struct es_meta meta = {};
	__u32 key, next, zero = 0;
	size_t n4 = 0, i;
	struct es_maps m;
	json_t *ifs, *root;
	void *k = NULL;

	if (open_pins(c, &m))
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
	if (es_session_table_read(&t, &m))
		t.n = 0, t.v = NULL;
	for (i = 0; i < t.n; i++)
		n4 += t.v[i].family == ES_FAMILY_INET;
	root = json_pack("{s:s,s:i,s:s,s:o,s:{s:i,s:I,s:I,s:i}}", "node", "(pinned maps)",
			 "layout_version", meta.layout_version, "pin_path", c->pin_path,
			 "interfaces", ifs, "session_map", "capacity", meta.session_map_size,
			 "entries_ipv4", (json_int_t)n4, "entries_ipv6", (json_int_t)(t.n - n4),
			 "evictions", -1);
	es_session_table_free(&t);
	es_maps_close(&m);
	return root;
}

static int cmd_status(const struct cli *c, int argc, char **argv)
{
	struct cli cc = *c;
	char err[512];
	json_t *j;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json")) {
			fprintf(stderr, "edgeshift status: unknown argument \"%s\"\n", argv[i]);
			return 2;
		}
		cc.json = 1;
	}
	j = api_get(&cc, "/v1/status", err, sizeof(err));
	if (!j) {
		fprintf(stderr, "edgeshift: agent not answering (%s); reading pinned maps in %s\n",
			err, c->pin_path);
		j = status_from_pins(&cc);
	}
	return j ? emit(&cc, j, print_status_table) : 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: edgeshift [--api URL] [--pin-path DIR] [--timeout-ms N] COMMAND ...\n"
		"  sessions [--sort bytes|packets|first|last|latency] [--top N] [--order asc|desc]\n"
		"           [--proto tcp|udp|icmp|icmpv6] [--interface NAME] [--addr IP]\n"
		"           [--port N] [--state open|closed|any] [--json]\n"
		"  status [--json]\n"
		"The API defaults to $EDGESHIFT_API or %s; without an answer the pinned maps\n"
		"under --pin-path (default %s) are read directly.\n", DEFAULT_API, ES_DEFAULT_PIN_PATH);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "api", required_argument, NULL, 'a' },
		{ "pin-path", required_argument, NULL, 'p' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct cli c = { .api = getenv("EDGESHIFT_API") ?: DEFAULT_API,
			 .pin_path = ES_DEFAULT_PIN_PATH, .timeout_ms = 2000 };
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "+a:p:t:h", lopts, NULL)) != -1) {
		if (opt == 'a')
			c.api = optarg;
		else if (opt == 'p')
			c.pin_path = optarg;
		else if (opt == 't')
			c.timeout_ms = strtol(optarg, NULL, 10);
		else
			return usage(opt == 'h' ? stdout : stderr), opt == 'h' ? 0 : 2;
	}
	if (optind >= argc || c.timeout_ms <= 0)
		return usage(stderr), 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "sessions"))
		ret = cmd_sessions(&c, argc, argv);
	else if (!strcmp(argv[0], "status"))
		ret = cmd_status(&c, argc, argv);
	else
		ret = (fprintf(stderr, "edgeshift: unknown command \"%s\"\n", argv[0]), usage(stderr), 2);
	curl_global_cleanup();
	return ret;
}
