// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "session_table.h"

#define BATCH_ENTRIES	4096

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : BATCH_ENTRIES;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

int es_map_read_all(int fd, size_t key_len, size_t value_len, void **keys, void **values,
		    size_t *count)
{
	size_t cap_k = 0, cap_v = 0, n = 0;
	__u64 in_tok = 0, out_tok = 0;
	void *kb = NULL, *vb = NULL;
	bool first = true;
	__u32 got;
	int err = 0;

	for (;;) {
		err = grow(&kb, &cap_k, n + BATCH_ENTRIES, key_len);
		if (!err)
			err = grow(&vb, &cap_v, n + BATCH_ENTRIES, value_len);
		if (err)
			break;
		got = BATCH_ENTRIES;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in_tok, &out_tok,
					   (char *)kb + n * key_len,
					   (char *)vb + n * value_len, &got, NULL);
		if (err)
			err = -errno;
		n += got;
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		if (err)
			break;
		in_tok = out_tok;
		first = false;
	}
	if (err) {
		free(kb);
		free(vb);
		return err;
	}
	*keys = kb;
	*values = vb;
	*count = n;
	return 0;
}

void es_counters_merge(struct es_session_counters *out, const void *percpu, int ncpus)
{
	size_t stride = round8(sizeof(*out));
	const struct es_session_counters *c;
	int cpu, d;

	memset(out, 0, sizeof(*out));
	for (cpu = 0; cpu < ncpus; cpu++) {
		c = (const void *)((const char *)percpu + cpu * stride);
		for (d = 0; d < ES_DIR_MAX; d++) {
			out->pkts[d] += c->pkts[d];
			out->bytes[d] += c->bytes[d];
			out->tcp_flags[d] |= c->tcp_flags[d];
		}
		if (c->first_ns && (!out->first_ns || c->first_ns < out->first_ns))
			out->first_ns = c->first_ns;
		if (c->last_ns > out->last_ns)
			out->last_ns = c->last_ns;
	}
}

void es_key6_from_key4(struct es_session_key6 *k6, const struct es_session_key4 *k4)
{
	memset(k6, 0, sizeof(*k6));
	k6->addr_lo[10] = k6->addr_lo[11] = 0xff;
	k6->addr_hi[10] = k6->addr_hi[11] = 0xff;
	memcpy(&k6->addr_lo[12], &k4->addr_lo, 4);
	memcpy(&k6->addr_hi[12], &k4->addr_hi, 4);
	k6->port_lo = k4->port_lo;
	k6->port_hi = k4->port_hi;
	k6->ifindex = k4->ifindex;
	k6->proto = k4->proto;
}

void es_key4_from_key6(struct es_session_key4 *k4, const struct es_session_key6 *k6)
{
	memset(k4, 0, sizeof(*k4));
	memcpy(&k4->addr_lo, &k6->addr_lo[12], 4);
	memcpy(&k4->addr_hi, &k6->addr_hi[12], 4);
	k4->port_lo = k6->port_lo;
	k4->port_hi = k6->port_hi;
	k4->ifindex = k6->ifindex;
	k4->proto = k6->proto;
}

static int cmp_key(const void *a, const void *b, size_t len)
{
	return memcmp(a, b, len);
}

static const size_t key4_len = sizeof(struct es_session_key4);
static const size_t key6_len = sizeof(struct es_session_key6);

static int cmp_state4(const void *a, const void *b)
{
	return cmp_key(a, b, key4_len);
}

static int cmp_state6(const void *a, const void *b)
{
	return cmp_key(a, b, key6_len);
}

/* Keys and values of a state map, sorted by key for the join. */
struct state_index {
	void	*keys;
	struct es_session_state *vals;
	size_t	n, key_len;
	char	*pairs;		/* key followed by value, sorted */
};

static int state_index_build(struct state_index *ix, int fd, size_t key_len)
{
	size_t pair = key_len + sizeof(struct es_session_state), i;
	int err;

	memset(ix, 0, sizeof(*ix));
	ix->key_len = key_len;
	err = es_map_read_all(fd, key_len, sizeof(struct es_session_state), &ix->keys,
			      (void **)&ix->vals, &ix->n);
	if (err)
		return err;
	ix->pairs = malloc(ix->n * pair + 1);
	if (!ix->pairs)
		return -ENOMEM;
	for (i = 0; i < ix->n; i++) {
		memcpy(ix->pairs + i * pair, (char *)ix->keys + i * key_len, key_len);
		memcpy(ix->pairs + i * pair + key_len, &ix->vals[i], sizeof(ix->vals[i]));
	}
	qsort(ix->pairs, ix->n, pair, key_len == key4_len ? cmp_state4 : cmp_state6);
	return 0;
}

static const struct es_session_state *state_index_find(const struct state_index *ix,
							  const void *key)
{
	size_t pair = ix->key_len + sizeof(struct es_session_state);
	const char *hit;

	hit = bsearch(key, ix->pairs, ix->n, pair,
		      ix->key_len == key4_len ? cmp_state4 : cmp_state6);
	return hit ? (const void *)(hit + ix->key_len) : NULL;
}

static void state_index_free(struct state_index *ix)
{
	free(ix->keys);
	free(ix->vals);
	free(ix->pairs);
}

static int read_family(struct es_session_table *t, size_t *cap, const struct es_maps *m,
		       int family)
{
	bool v6 = family == ES_FAMILY_INET6;
	size_t key_len = v6 ? key6_len : key4_len, stride, i, n;
	const struct es_session_state *st;
	struct state_index ix;
	void *keys = NULL, *vals = NULL;
	struct es_session *s;
	int err;

	stride = round8(sizeof(struct es_session_counters)) * m->ncpus;
	err = es_map_read_all(m->fd[v6 ? ES_MAP_SESSIONS6 : ES_MAP_SESSIONS4], key_len,
			      stride, &keys, &vals, &n);
	if (err)
		return err;
	err = state_index_build(&ix, m->fd[v6 ? ES_MAP_STATE6 : ES_MAP_STATE4], key_len);
	if (!err)
		err = grow((void **)&t->v, cap, t->n + n, sizeof(*t->v));
	for (i = 0; !err && i < n; i++) {
		const void *k = (char *)keys + i * key_len;

		s = &t->v[t->n++];
		memset(s, 0, sizeof(*s));
		s->family = family;
		if (v6)
			memcpy(&s->key, k, key_len);
		else
			es_key6_from_key4(&s->key, k);
		es_counters_merge(&s->c, (char *)vals + i * stride, m->ncpus);
		st = state_index_find(&ix, k);
		if (st) {
			s->st = *st;
			s->has_state = true;
		}
	}
	state_index_free(&ix);
	free(keys);
	free(vals);
	return err;
}

int es_session_table_read(struct es_session_table *t, const struct es_maps *m)
{
	size_t cap = 0;
	int err;

	t->v = NULL;
	t->n = 0;
	err = read_family(t, &cap, m, ES_FAMILY_INET);
	if (!err)
		err = read_family(t, &cap, m, ES_FAMILY_INET6);
	if (err)
		es_session_table_free(t);
	return err;
}

void es_session_table_free(struct es_session_table *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

void es_session_endpoint(const struct es_session *s, bool hi, char *buf, size_t len)
{
	const __u8 *addr = hi ? s->key.addr_hi : s->key.addr_lo;
	unsigned int port = ntohs(hi ? s->key.port_hi : s->key.port_lo);
	char a[INET6_ADDRSTRLEN];

	if (s->family == ES_FAMILY_INET) {
		inet_ntop(AF_INET, addr + 12, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, port);
	} else {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, port);
	}
}

const char *es_proto_name(unsigned int proto)
{
	switch (proto) {
	case IPPROTO_TCP:	return "tcp";
	case IPPROTO_UDP:	return "udp";
	case IPPROTO_ICMP:	return "icmp";
	case IPPROTO_ICMPV6:	return "icmpv6";
	default:		return "other";
	}
}

int es_proto_parse(const char *name)
{
	static const unsigned int protos[] = {
		IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6,
	};
	unsigned int i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (!strcasecmp(name, es_proto_name(protos[i])))
			return protos[i];
	}
	return -1;
}
