// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "session_scan.h"
#include "flow_index.h"

static const size_t key4_len = sizeof(struct es_session_key4);
static const size_t key6_len = sizeof(struct es_session_key6);

size_t es_session_map_key(const struct es_session *s, void *buf)
{
	if (s->family == ES_FAMILY_INET6) {
		memcpy(buf, &s->key, key6_len);
		return key6_len;
	}
	es_key4_from_key6(buf, &s->key);
	return key4_len;
}

void es_session_fill_state(const struct es_maps *m, struct es_session *s)
{
	bool v6 = s->family == ES_FAMILY_INET6;
	struct es_session_key6 k;
	struct es_tbl_entry e;

	es_session_map_key(s, &k);
	if (es_maps_slots(m)) {
		s->has_state = es_slot_table_lookup(&m->tbl, &k, v6, &e) >= 0;
		if (s->has_state)
			s->st = e.st;
	} else {
		s->has_state = !bpf_map_lookup_elem(m->fd[v6 ? ES_MAP_STATE6 : ES_MAP_STATE4],
						    &k, &s->st);
	}
	if (!s->has_state)
		memset(&s->st, 0, sizeof(s->st));
}

size_t es_scan_batch(size_t value_len)
{
	size_t n = ES_SCAN_BATCH_BYTES / (value_len ? value_len : 1);

	return n > ES_SCAN_BATCH ? ES_SCAN_BATCH : n < ES_SCAN_BATCH_MIN ? ES_SCAN_BATCH_MIN : n;
}

/*
 * One batch look-up of up to *got entries; *got entries landed. 0 with *done set at the end of
 * the map, else 0 or -errno.
 */
static int next_batch(int fd, bool first, __u64 *tok, void *keys, void *vals, __u32 *got,
		      bool *done)
{
	__u64 out_tok = 0;
	int err;

	err = bpf_map_lookup_batch(fd, first ? NULL : tok, &out_tok, keys, vals, got, NULL);
	err = err ? -errno : 0;
	*done = err == -ENOENT;
	*tok = out_tok;
	return *done ? 0 : err;
}

/* Closed sessions of one family, sorted by key for the join. */
struct closed_index {
	char	*pairs;		/* key followed by state */
	size_t	n, cap, key_len;
};

static size_t pair_len(const struct closed_index *ix)
{
	return ix->key_len + sizeof(struct es_session_state);
}

static int closed_add(struct closed_index *ix, const void *key, const struct es_session_state *st)
{
	size_t cap = ix->cap ? ix->cap * 2 : 64;
	char *np;

	if (ix->n == ix->cap) {
		np = realloc(ix->pairs, cap * pair_len(ix));
		if (!np)
			return -ENOMEM;
		ix->pairs = np;
		ix->cap = cap;
	}
	memcpy(ix->pairs + ix->n * pair_len(ix), key, ix->key_len);
	memcpy(ix->pairs + ix->n * pair_len(ix) + ix->key_len, st, sizeof(*st));
	ix->n++;
	return 0;
}

static int cmp_key4(const void *a, const void *b)
{
	return memcmp(a, b, key4_len);
}

static int cmp_key6(const void *a, const void *b)
{
	return memcmp(a, b, key6_len);
}

/* Stream the state map, keeping only closed entries. */
static int closed_build(struct closed_index *ix, int fd, size_t key_len)
{
	struct es_session_state *vals;
	bool first = true, done = false;
	__u64 tok = 0;
	void *keys;
	__u32 got, i;
	int err = 0;

	memset(ix, 0, sizeof(*ix));
	ix->key_len = key_len;
	keys = malloc(ES_SCAN_BATCH * key_len);
	vals = malloc(ES_SCAN_BATCH * sizeof(*vals));
	if (!keys || !vals)
		err = -ENOMEM;
	while (!err && !done) {
		got = ES_SCAN_BATCH;
		err = next_batch(fd, first, &tok, keys, vals, &got, &done);
		first = false;
		for (i = 0; !err && i < got; i++) {
			if (vals[i].flags & ES_STATE_CLOSED)
				err = closed_add(ix, (char *)keys + i * key_len, &vals[i]);
		}
	}
	free(keys);
	free(vals);
	if (!err && ix->n)
		qsort(ix->pairs, ix->n, pair_len(ix), key_len == key4_len ? cmp_key4 : cmp_key6);
	return err;
}

static const struct es_session_state *closed_find(const struct closed_index *ix,
						   const void *key)
{
	const char *hit;

	if (!ix->n)
		return NULL;
	hit = bsearch(key, ix->pairs, ix->n, pair_len(ix),
		      ix->key_len == key4_len ? cmp_key4 : cmp_key6);
	return hit ? (const void *)(hit + ix->key_len) : NULL;
}

struct family_scan {
	const struct es_maps	*m;
	enum es_scan_state	mode;
	int			family;
	size_t			key_len, stride, batch;
	struct closed_index	closed;
	struct es_flow_index	flows;	/* what the flow cache adds */
	es_session_fn		fn;
	void			*arg;
};

static void join_state(struct family_scan *fs, struct es_session *s, const void *key)
{
	const struct es_session_state *st;

	if (fs->mode == ES_SCAN_FULL_STATE) {
		es_session_fill_state(fs->m, s);
		return;
	}
	st = fs->mode == ES_SCAN_CLOSED_STATE ? closed_find(&fs->closed, key) : NULL;
	if (st) {
		s->st = *st;
		s->has_state = true;
	}
}

/*
 * What the cache adds to s. The index was read before this entry, and a
 * sweep may have folded the slot into the entry in between: a session the
 * index holds is read again, entry and slots together
 * (es_session_read_exact), so that no view counts a packet twice.
 */
static void apply_cache(const struct family_scan *fs, struct es_session *s, const void *key)
{
	struct es_session_counters c;
	bool cached;

	es_flow_index_apply(&fs->flows, s);
	if (!s->cached)
		return;
	if (!es_session_read_exact(fs->m, s->family, key, &c, &cached)) {
		s->c = c;
		s->cached = cached;
	}
}

static int hand_batch(struct family_scan *fs, const char *keys, const char *vals, __u32 got)
{
	struct es_session s;
	__u32 i;
	int ret;

	for (i = 0; i < got; i++) {
		const void *k = keys + i * fs->key_len;

		memset(&s, 0, sizeof(s));
		s.family = fs->family;
		if (fs->family == ES_FAMILY_INET6)
			memcpy(&s.key, k, fs->key_len);
		else
			es_key6_from_key4(&s.key, k);
		memcpy(&s.c, vals + i * fs->stride, sizeof(s.c));
		apply_cache(fs, &s, k);
		join_state(fs, &s, k);
		ret = fs->fn(&s, fs->arg);
		if (ret)
			return ret;
	}
	return 0;
}

void es_session_from_slot(struct es_session *s, __u32 slot, __u32 tag,
			  const struct es_tbl_entry *e)
{
	memset(s, 0, sizeof(*s));
	if (e->v6) {
		s->family = ES_FAMILY_INET6;
		s->key = e->key.k6;
	} else {
		s->family = ES_FAMILY_INET;
		es_key6_from_key4(&s->key, &e->key.k4);
	}
	s->c = e->c;
	s->st = e->st;
	s->has_state = true;
	s->slot = slot;
	s->slot_tag = tag;
}

/* One LIVE slot of the table as a session: its state is in the entry, joined for free. */
static int hand_slot(__u32 slot, __u32 tag, const struct es_tbl_entry *e, void *arg)
{
	struct family_scan *fs = arg;
	struct es_session s;

	es_session_from_slot(&s, slot, tag, e);
	apply_cache(fs, &s, &e->key);
	return fs->fn(&s, fs->arg);
}

static int scan_family(struct family_scan *fs)
{
	bool v6 = fs->family == ES_FAMILY_INET6, first = true, done = false;
	int fd = fs->m->fd[v6 ? ES_MAP_SESSIONS6 : ES_MAP_SESSIONS4];
	char *keys, *vals;
	__u64 tok = 0;
	__u32 got;
	int err = 0;

	fs->key_len = v6 ? key6_len : key4_len;
	fs->stride = sizeof(struct es_session_counters);	/* shared, not per-CPU */
	memset(&fs->closed, 0, sizeof(fs->closed));
	if (fs->mode == ES_SCAN_CLOSED_STATE)
		err = closed_build(&fs->closed, fs->m->fd[v6 ? ES_MAP_STATE6 : ES_MAP_STATE4],
				   fs->key_len);
	fs->batch = es_scan_batch(fs->stride);
	keys = malloc(fs->batch * fs->key_len);
	vals = malloc(fs->batch * fs->stride);
	if (!err && (!keys || !vals))
		err = -ENOMEM;
	while (!err && !done) {
		got = fs->batch;
		err = next_batch(fd, first, &tok, keys, vals, &got, &done);
		first = false;
		if (!err)
			err = hand_batch(fs, keys, vals, got);
	}
	free(keys);
	free(vals);
	free(fs->closed.pairs);
	return err;
}

int es_session_scan(const struct es_maps *m, enum es_scan_state mode, es_session_fn fn,
		    void *arg)
{
	struct family_scan fs = { .m = m, .mode = mode, .fn = fn, .arg = arg };
	int err;

	/*
	 * The cache is read first: a slot folded after this read has its
	 * counts in the entries read after it, so a session is never missing
	 * from the collector's picture; the sessions it holds are read again
	 * (apply_cache), so none is counted twice. The collector collects no
	 * session a slot held here.
	 */
	err = es_flow_index_read(&fs.flows, m);
	if (err)
		return err;
	if (es_maps_slots(m)) {
		/* the table, both families, through its mmap: no syscall and no copy per session */
		err = es_slot_table_walk(&m->tbl, hand_slot, &fs);
	} else {
		fs.family = ES_FAMILY_INET;
		err = scan_family(&fs);
		fs.family = ES_FAMILY_INET6;
		if (!err)
			err = scan_family(&fs);
	}
	es_flow_index_free(&fs.flows);
	return err;
}
