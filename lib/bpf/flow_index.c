// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "flow_index.h"

struct es_flow_entry {
	struct es_session_key6	key;	/* IPv4 as ::ffff:a.b.c.d, like es_session */
	int			family;
	struct es_flow_counts	n;	/* summed over the CPUs holding the key */
};

static size_t slot_size(bool v6)
{
	return es_percpu_stride(v6 ? sizeof(struct es_flow_slot6) : sizeof(struct es_flow_slot4));
}

/* The key and counts of one CPU's copy of a slot. */
static const struct es_flow_counts *slot_counts(const void *slot, bool v6,
						  struct es_session_key6 *key)
{
	const struct es_flow_slot4 *s4 = slot;
	const struct es_flow_slot6 *s6 = slot;

	if (v6) {
		*key = s6->key;
		return &s6->n;
	}
	es_key6_from_key4(key, &s4->key);
	return &s4->n;
}

static void counts_add(struct es_flow_counts *to, const struct es_flow_counts *n)
{
	int d;

	for (d = 0; d < ES_DIR_MAX; d++) {
		to->pkts[d] += n->pkts[d];
		to->bytes[d] += n->bytes[d];
		to->tcp_flags[d] |= n->tcp_flags[d];
	}
	if (n->last_ns > to->last_ns)
		to->last_ns = n->last_ns;
}

static int index_add(struct es_flow_index *ix, const struct es_session_key6 *key, int family,
		     const struct es_flow_counts *n)
{
	size_t cap = ix->cap ? ix->cap * 2 : 256;
	struct es_flow_entry *nv;

	if (ix->n == ix->cap) {
		nv = realloc(ix->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		ix->v = nv;
		ix->cap = cap;
	}
	memset(&ix->v[ix->n], 0, sizeof(ix->v[ix->n]));
	ix->v[ix->n].key = *key;
	ix->v[ix->n].family = family;
	counts_add(&ix->v[ix->n].n, n);
	ix->v[ix->n].n.valid = 1;
	ix->n++;
	return 0;
}

/* Slots read a batch at a time: memory is one batch of all CPUs' copies. */
#define SLOT_BATCH	64

static int read_cache(struct es_flow_index *ix, const struct es_maps *m, bool v6)
{
	size_t stride = slot_size(v6), i;
	int fd = m->fd[v6 ? ES_MAP_FLOW6 : ES_MAP_FLOW4], cpu, err = 0;
	char *vals = malloc(SLOT_BATCH * stride * m->ncpus);
	__u32 keys[SLOT_BATCH], first, got;
	__u64 in = 0, out = 0;
	struct es_session_key6 key;
	const struct es_flow_counts *n;

	if (!vals)
		return -ENOMEM;
	for (first = 1; !err; first = 0) {
		got = SLOT_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &got, NULL);
		err = err ? -errno : 0;
		for (i = 0; i < got && (!err || err == -ENOENT); i++) {
			for (cpu = 0; cpu < m->ncpus; cpu++) {
				n = slot_counts(vals + (i * m->ncpus + cpu) * stride, v6, &key);
				if (n->valid && index_add(ix, &key, v6 ? ES_FAMILY_INET6 :
							  ES_FAMILY_INET, n))
					err = -ENOMEM;
			}
		}
		in = out;
	}
	free(vals);
	return err == -ENOENT ? 0 : err;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct es_flow_entry *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Sort, then merge the copies of one key held by several CPUs. */
static void index_merge(struct es_flow_index *ix)
{
	size_t i, out = 0;

	qsort(ix->v, ix->n, sizeof(*ix->v), cmp_entry);
	for (i = 0; i < ix->n; i++) {
		if (out && !cmp_entry(&ix->v[out - 1], &ix->v[i]))
			counts_add(&ix->v[out - 1].n, &ix->v[i].n);
		else
			ix->v[out++] = ix->v[i];
	}
	ix->n = out;
}

int es_flow_index_read(struct es_flow_index *ix, const struct es_maps *m)
{
	int err;

	memset(ix, 0, sizeof(*ix));
	err = read_cache(ix, m, false);
	if (!err)
		err = read_cache(ix, m, true);
	if (err) {
		es_flow_index_free(ix);
		return err;
	}
	index_merge(ix);
	return 0;
}

static void session_add(struct es_session_counters *c, const struct es_flow_counts *n)
{
	int d;

	for (d = 0; d < ES_DIR_MAX; d++) {
		c->pkts[d] += n->pkts[d];
		c->bytes[d] += n->bytes[d];
		c->tcp_flags[d] |= n->tcp_flags[d];
	}
	if (n->last_ns > c->last_ns)
		c->last_ns = n->last_ns;
	if (!c->first_ns)
		c->first_ns = n->last_ns;
}

void es_flow_index_apply(const struct es_flow_index *ix, struct es_session *s)
{
	struct es_flow_entry want = { .key = s->key, .family = s->family };
	const struct es_flow_entry *hit;

	hit = ix->n ? bsearch(&want, ix->v, ix->n, sizeof(*ix->v), cmp_entry) : NULL;
	s->cached = hit != NULL;
	if (hit)
		session_add(&s->c, &hit->n);
}

void es_flow_index_free(struct es_flow_index *ix)
{
	free(ix->v);
	memset(ix, 0, sizeof(*ix));
}

/* The slot of key on every CPU, summed where it holds key; true if any does. */
static int read_slots(const struct es_maps *m, bool v6, const void *key,
		      struct es_flow_counts *sum, bool *held)
{
	size_t stride = slot_size(v6), klen = v6 ? sizeof(struct es_session_key6) :
						    sizeof(struct es_session_key4);
	__u32 idx = v6 ? es_flow_index6(key) : es_flow_index4(key);
	char *vals = calloc(m->ncpus, stride);
	int cpu, err;

	if (!vals)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	*held = false;
	err = bpf_map_lookup_elem(m->fd[v6 ? ES_MAP_FLOW6 : ES_MAP_FLOW4], &idx, vals) ? -errno : 0;
	for (cpu = 0; !err && cpu < m->ncpus; cpu++) {
		const char *slot = vals + cpu * stride;
		const struct es_flow_counts *n = (const void *)(slot + (v6 ?
			offsetof(struct es_flow_slot6, n) : offsetof(struct es_flow_slot4, n)));

		if (n->valid && !memcmp(slot, key, klen)) {
			counts_add(sum, n);
			*held = true;
		}
	}
	free(vals);
	return err;
}

static int read_entry(const struct es_maps *m, bool v6, const void *key,
		      struct es_session_counters *c)
{
	struct es_tbl_entry e;

	if (es_maps_slots(m)) {
		if (es_slot_table_lookup(&m->tbl, key, v6, &e) < 0) {
			memset(c, 0, sizeof(*c));
			return -ENOENT;
		}
		*c = e.c;
		return 0;
	}
	if (bpf_map_lookup_elem(m->fd[v6 ? ES_MAP_SESSIONS6 : ES_MAP_SESSIONS4], key, c)) {
		memset(c, 0, sizeof(*c));
		return -errno;
	}
	return 0;
}

int es_session_read_exact(const struct es_maps *m, int family, const void *key,
			  struct es_session_counters *out, bool *cached)
{
	bool v6 = family == ES_FAMILY_INET6;
	struct es_session_counters before, after;
	struct es_flow_counts slots;
	int e1, e2, err = 0, tries;

	for (tries = 0; tries < 100; tries++) {
		e1 = read_entry(m, v6, key, &before);
		err = read_slots(m, v6, key, &slots, cached);
		e2 = read_entry(m, v6, key, &after);
		if (err || (e1 == e2 && !memcmp(&before, &after, sizeof(before))))
			break;
	}
	if (err)
		return err;
	if (e2 && e2 != -ENOENT)
		return e2;
	if (e2 && !*cached)
		return -ENOENT;
	*out = after;
	session_add(out, &slots);
	return 0;
}
