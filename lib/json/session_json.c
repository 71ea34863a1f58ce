// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "session_json.h"
#include "bpf/session_scan.h"
#include "bpf/session_top.h"
#include "util/clock.h"

static const char *const sort_names[] = { "bytes", "packets", "first", "last", "latency" };
static const char tcp_flag_chars[] = "FSRPAUEC";

void es_session_query_init(struct es_session_query *q)
{
	memset(q, 0, sizeof(*q));
	q->proto = -1;
	q->port = -1;
	q->sort = ES_SORT_BYTES;
}

static int parse_sort(struct es_session_query *q, const char *v)
{
	unsigned int i;

	for (i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++) {
		if (!strcmp(v, sort_names[i])) {
			q->sort = i;
			return 0;
		}
	}
	return -1;
}

static int parse_long(const char *v, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(v, &end, 10);
	return errno || *end || end == v || *out < lo || *out > hi ? -1 : 0;
}

static int parse_source(struct es_session_query *q, const char *v)
{
	if (!strcmp(v, "auto"))
		q->source = ES_SOURCE_AUTO;
	else if (!strcmp(v, "live"))
		q->source = ES_SOURCE_LIVE;
	else if (!strcmp(v, "snapshot"))
		q->source = ES_SOURCE_SNAPSHOT;
	else
		return -1;
	return 0;
}

static bool is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int es_session_query_set(struct es_session_query *q, const char *key, const char *value,
			 char *err, size_t err_len)
{
	long n;

	if (!strcmp(key, "sort") && !parse_sort(q, value))
		return 0;
	if (!strcmp(key, "order") && (!strcmp(value, "asc") || !strcmp(value, "desc"))) {
		q->ascending = !strcmp(value, "asc");
		return 0;
	}
	if ((!strcmp(key, "limit") || !strcmp(key, "top")) && !parse_long(value, 0, 10000000, &n)) {
		q->limit = n;
		return 0;
	}
	if ((!strcmp(key, "proto") || !strcmp(key, "protocol")) &&
	    (q->proto = es_proto_parse(value)) >= 0)
		return 0;
	if (!strcmp(key, "interface") && strlen(value) < sizeof(q->iface)) {
		strcpy(q->iface, value);
		return 0;
	}
	if (!strcmp(key, "addr")) {
		/* a malformed address would match nothing: an empty answer that looks valid */
		if (strlen(value) < sizeof(q->addr) && is_ip(value)) {
			strcpy(q->addr, value);
			return 0;
		}
		snprintf(err, err_len, "bad query parameter 'addr=%s': not an IPv4 or IPv6 address",
			 value);
		return -1;
	}
	if (!strcmp(key, "port") && !parse_long(value, 0, 65535, &n)) {
		q->port = n;
		return 0;
	}
	if (!strcmp(key, "source") && !parse_source(q, value))
		return 0;
	if (!strcmp(key, "state")) {
		if (!strcmp(value, "open") || !strcmp(value, "closed") || !strcmp(value, "any")) {
			q->state = !strcmp(value, "open") ? ES_STATE_OPEN :
				   !strcmp(value, "closed") ? ES_STATE_CLOSED_ONLY : ES_STATE_ANY;
			return 0;
		}
	}
	snprintf(err, err_len,
		 "bad query parameter '%s=%s' (sort=bytes|packets|first|last|latency, "
		 "order=asc|desc, limit=N, proto=tcp|udp|icmp|icmpv6, interface=NAME, addr=IP, "
		 "port=N, state=open|closed|any, source=auto|live|snapshot)", key, value);
	return -1;
}

/* Interface names, looked up once per ifindex. */
struct iface_cache {
	struct es_iface_info	*info;
	bool			*found;
	unsigned int		n, cap;
	int			fd;
};

static const struct es_iface_info *iface_lookup(struct iface_cache *c, __u32 ifindex)
{
	unsigned int i;

	for (i = 0; i < c->n; i++) {
		if (c->info[i].ifindex == ifindex)
			return c->found[i] ? &c->info[i] : NULL;
	}
	if (c->n == c->cap) {
		unsigned int cap = c->cap ? c->cap * 2 : 16;
		struct es_iface_info *ni = realloc(c->info, cap * sizeof(*ni));
		bool *nf;

		if (!ni)
			return NULL;
		c->info = ni;
		nf = realloc(c->found, cap * sizeof(*nf));
		if (!nf)
			return NULL;
		c->found = nf;
		c->cap = cap;
	}
	i = c->n++;
	memset(&c->info[i], 0, sizeof(c->info[i]));
	c->found[i] = c->fd >= 0 && !bpf_map_lookup_elem(c->fd, &ifindex, &c->info[i]);
	c->info[i].ifindex = ifindex;
	return c->found[i] ? &c->info[i] : NULL;
}

static bool addr_matches(const struct es_session *s, const char *addr)
{
	__u8 want[16] = {};

	if (inet_pton(AF_INET, addr, want + 12) == 1) {
		want[10] = want[11] = 0xff;
	} else if (inet_pton(AF_INET6, addr, want) != 1) {
		return false;
	}
	return !memcmp(want, s->key.addr_lo, 16) || !memcmp(want, s->key.addr_hi, 16);
}

static bool matches(const struct es_session *s, const struct es_session_query *q,
		    struct iface_cache *ic)
{
	const struct es_iface_info *info;
	bool closed = s->has_state && (s->st.flags & ES_STATE_CLOSED);

	if (q->proto >= 0 && s->key.proto != q->proto)
		return false;
	if (q->port >= 0 && ntohs(s->key.port_lo) != q->port && ntohs(s->key.port_hi) != q->port)
		return false;
	if (q->state == ES_STATE_OPEN && closed)
		return false;
	if (q->state == ES_STATE_CLOSED_ONLY && !closed)
		return false;
	if (q->addr[0] && !addr_matches(s, q->addr))
		return false;
	if (q->iface[0]) {
		info = iface_lookup(ic, s->key.ifindex);
		if (!info || strcmp(info->ifname, q->iface))
			return false;
	}
	return true;
}

static __u64 latency_ns(const struct es_session *s)
{
	if (!s->has_state)
		return 0;
	if (s->st.tcp_rtt_ns)
		return s->st.tcp_rtt_ns;
	return s->st.lat_count ? s->st.lat_sum_ns / s->st.lat_count : 0;
}

__u64 es_session_sort_value(const struct es_session *s, enum es_sort_key k)
{
	switch (k) {
	case ES_SORT_PACKETS:	return es_session_pkts(s);
	case ES_SORT_FIRST:	return s->c.first_ns;
	case ES_SORT_LAST:	return s->c.last_ns;
	case ES_SORT_LATENCY:	return latency_ns(s);
	default:		return es_session_bytes(s);
	}
}

__u64 es_session_tie(const struct es_session_key6 *k)
{
	__u32 a;

	memcpy(&a, k->addr_lo + 12, sizeof(a));
	return (__u64)ntohs(k->port_lo) << 48 | (__u64)ntohs(k->port_hi) << 32 | ntohl(a);
}

int es_session_order(const struct es_session *x, const struct es_session *y, const void *arg)
{
	const struct es_session_query *q = arg;
	__u64 a = es_session_sort_value(x, q->sort), b = es_session_sort_value(y, q->sort);
	int r = a < b ? -1 : a > b;

	/* ties by key (in the order asked), or the listing would depend on the map's order */
	if (!r) {
		a = es_session_tie(&x->key);
		b = es_session_tie(&y->key);
		r = a < b ? -1 : a > b;
	}
	if (!r)
		r = memcmp(&x->key, &y->key, sizeof(x->key));
	return q->ascending ? r : -r;
}

bool es_session_query_filters(const struct es_session_query *q)
{
	return q->proto >= 0 || q->iface[0] || q->addr[0] || q->port >= 0 ||
	       q->state != ES_STATE_ANY;
}

static void flags_string(__u8 f, char *buf)
{
	int i, o = 0;

	for (i = 0; i < 8; i++)
		if (f & (1 << i))
			buf[o++] = tcp_flag_chars[i];
	buf[o] = '\0';
}

static json_t *dir_json(const struct es_session *s, int d)
{
	char flags[9];
	json_t *j = json_pack("{s:I,s:I}", "packets", (json_int_t)s->c.pkts[d],
			      "bytes", (json_int_t)s->c.bytes[d]);

	if (s->key.proto == IPPROTO_TCP) {
		flags_string(s->c.tcp_flags[d], flags);
		json_object_set_new(j, "tcp_flags", json_string(flags));
	}
	return j;
}

static json_t *latency_json(const struct es_session *s)
{
	bool peer = s->st.flags & ES_STATE_RX_INITIATED;
	json_t *j = json_object();

	if (s->st.tcp_rtt_ns)
		json_object_set_new(j, "tcp_handshake_us", json_real(s->st.tcp_rtt_ns / 1e3));
	if (s->st.lat_count) {
		json_object_set_new(j, "kind", json_string(peer ? "service" : "response"));
		json_object_set_new(j, "samples", json_integer(s->st.lat_count));
		json_object_set_new(j, "last_us", json_real(s->st.lat_last_ns / 1e3));
		json_object_set_new(j, "mean_us",
				    json_real(s->st.lat_sum_ns / 1e3 / s->st.lat_count));
		json_object_set_new(j, "max_us", json_real(s->st.lat_max_ns / 1e3));
	}
	return j;
}

/*
 * now_real in ns: the instant is converted whole and then truncated, so
 * two requests at different times give it the same second.
 */
static void time_fields(json_t *j, const char *name, __u64 mono_ns, __u64 now_mono,
			__u64 now_real)
{
	char key[32], stamp[40];
	__u64 ago = mono_ns && now_mono > mono_ns ? now_mono - mono_ns : 0;
	time_t t = (now_real - ago) / 1000000000ULL;
	struct tm tm;

	snprintf(key, sizeof(key), "%s_ns", name);
	json_object_set_new(j, key, json_integer(mono_ns));
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(key, sizeof(key), "%s", name);
	json_object_set_new(j, key, json_string(stamp));
}

static json_t *session_json(const struct es_session *s, struct iface_cache *ic,
			    __u64 now_mono, __u64 now_real)
{
	const struct es_iface_info *info = iface_lookup(ic, s->key.ifindex);
	char lo[64], hi[64];
	json_t *j;

	es_session_endpoint(s, false, lo, sizeof(lo));
	es_session_endpoint(s, true, hi, sizeof(hi));
	j = json_pack("{s:s,s:s,s:i,s:s,s:s,s:o,s:o}",
		      "protocol", es_proto_name(s->key.proto),
		      "family", s->family == ES_FAMILY_INET ? "ipv4" : "ipv6",
		      "ifindex", s->key.ifindex,
		      "endpoint_lo", lo, "endpoint_hi", hi,
		      "rx", dir_json(s, ES_DIR_RX), "tx", dir_json(s, ES_DIR_TX));
	json_object_set_new(j, "interface", json_string(info ? info->ifname : ""));
	if (info && info->pod_name[0])
		json_object_set_new(j, "pod", json_sprintf("%s/%s", info->pod_namespace,
							    info->pod_name));
	time_fields(j, "first_seen", s->c.first_ns, now_mono, now_real);
	time_fields(j, "last_seen", s->c.last_ns, now_mono, now_real);
	if (!s->has_state)
		return j;
	json_object_set_new(j, "opened_by", json_string(s->st.flags & ES_STATE_RX_INITIATED ?
							 "peer" : "local"));
	json_object_set_new(j, "state", json_string(s->st.flags & ES_STATE_CLOSED ?
						     (s->st.flags & ES_STATE_RST ? "reset" : "closed") :
						     "open"));
	json_object_set_new(j, "latency", latency_json(s));
	return j;
}

/* What a listing collects while the sessions stream by. */
struct listing {
	const struct es_session_query	*q;
	struct iface_cache		ic;
	struct es_session_top		top;
	size_t				matched;
};

static int listing_add(struct es_session *s, void *arg)
{
	struct listing *l = arg;

	if (!matches(s, l->q, &l->ic))
		return 0;
	l->matched++;
	return es_top_add(&l->top, s);
}

/*
 * The least state join the query needs: sorting by latency reads every
 * session's state, a state filter only the closed ones, anything else
 * none (the sessions shown get theirs afterwards).
 */
static enum es_scan_state scan_mode(const struct es_session_query *q)
{
	if (q->sort == ES_SORT_LATENCY)
		return ES_SCAN_FULL_STATE;
	return q->state == ES_STATE_ANY ? ES_SCAN_NO_STATE : ES_SCAN_CLOSED_STATE;
}

/* A CLOCK_MONOTONIC instant as UTC with milliseconds. */
static json_t *utc_json(__u64 mono_ns, __u64 now_mono, __u64 now_real)
{
	__u64 real = now_real - (now_mono > mono_ns ? now_mono - mono_ns : 0);
	time_t t = real / 1000000000ULL;
	char stamp[40];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	return json_sprintf("%s.%03uZ", stamp, (unsigned int)(real / 1000000ULL % 1000));
}

json_t *es_sessions_render(const struct es_maps *m, const struct es_session_query *q,
			   const char *node, const struct es_session *v, size_t n,
			   const struct es_listing_meta *meta)
{
	struct iface_cache ic = { .fd = m->fd[ES_MAP_IFACES] };
	__u64 now = es_now_ns(), now_real = es_realtime_ns();
	json_t *arr = json_array(), *j;
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, session_json(&v[i], &ic, now, now_real));
	j = json_pack("{s:s,s:I,s:I,s:s,s:s,s:I,s:o,s:f,s:o}", "node", node, "matched",
		      (json_int_t)meta->matched, "count", (json_int_t)n, "sort",
		      sort_names[q->sort], "source", meta->snapshot ? "snapshot" : "live",
		      "as_of_ns", (json_int_t)meta->as_of_ns, "as_of",
		      utc_json(meta->as_of_ns, now, now_real), "age_ms",
		      now > meta->as_of_ns ? (now - meta->as_of_ns) / 1e6 : 0.0, "sessions", arr);
	free(ic.info);
	free(ic.found);
	return j;
}

static json_t *listing_json(struct listing *l, const struct es_maps *m, enum es_scan_state mode,
			    const char *node, __u64 as_of)
{
	struct es_listing_meta meta = { .matched = l->matched, .as_of_ns = as_of };
	size_t i;

	es_top_sort(&l->top);
	if (mode != ES_SCAN_FULL_STATE)
		for (i = 0; i < l->top.n; i++)
			es_session_fill_state(m, &l->top.v[i]);
	return es_sessions_render(m, l->q, node, l->top.v, l->top.n, &meta);
}

int es_sessions_json(const struct es_maps *m, const struct es_session_query *q,
		     const char *node, json_t **out)
{
	struct listing l = { .q = q, .ic = { .fd = m->fd[ES_MAP_IFACES] } };
	enum es_scan_state mode = scan_mode(q);
	__u64 as_of = es_now_ns();
	int err;

	es_top_init(&l.top, q->limit, es_session_order, q);
	err = es_session_scan(m, mode, listing_add, &l);
	*out = err ? NULL : listing_json(&l, m, mode, node, as_of);
	es_top_free(&l.top);
	free(l.ic.info);
	free(l.ic.found);
	return err;
}
