// SPDX-License-Identifier: GPL-2.0-only
/*
 * The slot table seen from user space (slot_reader.h). Tags are read with
 * acquire order and written with compare-and-swap or release order, the
 * counterparts of the programs' compare-and-swap and exchange.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include <bpf/bpf.h>
#include "slot_reader.h"

static void *map_array(int fd, int prot, size_t *len)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	void *p;

	if (bpf_map_get_info_by_fd(fd, &info, &info_len))
		return NULL;
	*len = (size_t)info.value_size * info.max_entries;
	p = mmap(NULL, *len, prot, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

int es_slot_table_map(struct es_slot_table *t, int tags_fd, int entries_fd)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->tags = map_array(tags_fd, PROT_READ | PROT_WRITE, &t->tags_len);
	t->entries = map_array(entries_fd, PROT_READ, &t->entries_len);
	if (!t->tags || !t->entries) {
		err = -errno;
		es_slot_table_unmap(t);
		return err ? err : -EINVAL;
	}
	t->nbuckets = t->tags_len / sizeof(*t->tags);
	return 0;
}

void es_slot_table_unmap(struct es_slot_table *t)
{
	if (t->tags)
		munmap(t->tags, t->tags_len);
	if (t->entries)
		munmap(t->entries, t->entries_len);
	memset(t, 0, sizeof(*t));
}

static __u32 *tag_of(const struct es_slot_table *t, __u32 slot)
{
	return &t->tags[slot / ES_TBL_BUCKET_SLOTS].tag[slot % ES_TBL_BUCKET_SLOTS];
}

/* Whether entry e holds key k of family v6. */
static bool holds(const struct es_tbl_entry *e, const void *k, bool v6)
{
	return e->v6 == v6 &&
	       !memcmp(&e->key, k, v6 ? sizeof(e->key.k6) : sizeof(e->key.k4));
}

/* The slot of bucket b holding the key LIVE (h its hash), or -ENOENT. */
static long find_in(const struct es_slot_table *t, __u32 b, __u64 h, const void *k, bool v6)
{
	__u32 slot;
	int j;

	for (j = 0; j < ES_TBL_BUCKET_SLOTS; j++) {
		slot = b * ES_TBL_BUCKET_SLOTS + j;
		if (__atomic_load_n(tag_of(t, slot), __ATOMIC_ACQUIRE) ==
		    (es_tbl_fp(h) | ES_TBL_LIVE) && holds(&t->entries[slot], k, v6))
			return slot;
	}
	return -ENOENT;
}

long es_slot_table_find(const struct es_slot_table *t, const void *k, bool v6)
{
	__u64 h = es_tbl_hash(k, v6);
	long slot = find_in(t, es_tbl_b1(h, t->nbuckets), h, k, v6);

	return slot >= 0 ? slot : find_in(t, es_tbl_b2(h, t->nbuckets), h, k, v6);
}

int es_slot_table_read(const struct es_slot_table *t, __u32 slot, struct es_tbl_entry *out)
{
	__u32 *tag = tag_of(t, slot);
	__u32 before = __atomic_load_n(tag, __ATOMIC_ACQUIRE);

	if ((before & ES_TBL_STATE_MASK) != ES_TBL_LIVE)
		return -EAGAIN;
	memcpy(out, &t->entries[slot], sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(tag, __ATOMIC_RELAXED) == before ? 0 : -EAGAIN;
}

/* Re-reads of a slot that changed under the copy before the walk leaves it. */
#define WALK_TRIES	4

/* A second slot's counts added to the first's: one session. */
static void add_counters(struct es_session_counters *c, const struct es_session_counters *d)
{
	int dir;

	for (dir = 0; dir < ES_DIR_MAX; dir++) {
		c->pkts[dir] += d->pkts[dir];
		c->bytes[dir] += d->bytes[dir];
		c->tcp_flags[dir] |= d->tcp_flags[dir];
	}
	if (d->first_ns && (!c->first_ns || d->first_ns < c->first_ns))
		c->first_ns = d->first_ns;
	if (d->last_ns > c->last_ns)
		c->last_ns = d->last_ns;
}

/*
 * A key read at slot (e) seen whole: 0 when the slot is the key's copy to
 * report, with a copy in its second bucket added in; 1 when it is that
 * second copy, which the first one's report covers. A key has two slots
 * only after a race with a reclaim (docs/maps.md): the second bucket is
 * looked at only when the first has overflowed.
 */
static int merge_copy(const struct es_slot_table *t, __u32 slot, struct es_tbl_entry *e)
{
	__u64 h = es_tbl_hash(&e->key, e->v6);
	__u32 b1 = es_tbl_b1(h, t->nbuckets);
	struct es_tbl_entry d;
	long other;

	if (slot / ES_TBL_BUCKET_SLOTS != b1)
		return find_in(t, b1, h, &e->key, e->v6) >= 0;
	if (!__atomic_load_n(&t->tags[b1].overflow, __ATOMIC_RELAXED))
		return 0;
	other = find_in(t, es_tbl_b2(h, t->nbuckets), h, &e->key, e->v6);
	if (other >= 0 && !es_slot_table_read(t, other, &d) && holds(&d, &e->key, e->v6)) {
		add_counters(&e->c, &d.c);
		e->st.flags |= d.st.flags;
	}
	return 0;
}

long es_slot_table_lookup(const struct es_slot_table *t, const void *k, bool v6,
			  struct es_tbl_entry *out)
{
	long slot;
	int i;

	for (i = 0; i < WALK_TRIES; i++) {
		slot = es_slot_table_find(t, k, v6);
		if (slot < 0)
			return slot;
		if (!es_slot_table_read(t, slot, out) && holds(out, k, v6)) {
			merge_copy(t, slot, out);
			return slot;
		}
	}
	return -ENOENT;
}

int es_slot_table_walk(const struct es_slot_table *t, es_slot_fn fn, void *arg)
{
	__u32 n = t->nbuckets * ES_TBL_BUCKET_SLOTS, slot, tag;
	struct es_tbl_entry e;
	int i, ret;

	for (slot = 0; slot < n; slot++) {
		for (i = 0; i < WALK_TRIES; i++) {
			tag = __atomic_load_n(tag_of(t, slot), __ATOMIC_ACQUIRE);
			if ((tag & ES_TBL_STATE_MASK) != ES_TBL_LIVE)
				break;
			if (es_slot_table_read(t, slot, &e))
				continue;
			if (merge_copy(t, slot, &e))
				break;
			ret = fn(slot, tag, &e, arg);
			if (ret)
				return ret;
			break;
		}
	}
	return 0;
}

int es_slot_table_mark(struct es_slot_table *t, __u32 slot, __u32 tag)
{
	__u32 live = tag;

	if ((tag & ES_TBL_STATE_MASK) != ES_TBL_LIVE ||
	    !__atomic_compare_exchange_n(tag_of(t, slot), &live,
					 (tag & ~ES_TBL_STATE_MASK) | ES_TBL_RECLAIM,
					 false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	return 0;
}

int es_slot_table_grace(void)
{
	/*
	 * An RCU grace period: every program runs with softirqs off inside
	 * an RCU read-side section, so none that saw a slot LIVE before it
	 * was marked is still adding to it when this returns.
	 */
	return syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) ? -errno : 0;
}

void es_slot_table_count(const struct es_slot_table *t, size_t count[4])
{
	__u32 n = t->nbuckets * ES_TBL_BUCKET_SLOTS, slot;

	memset(count, 0, 4 * sizeof(count[0]));
	for (slot = 0; slot < n; slot++)
		count[__atomic_load_n(tag_of(t, slot), __ATOMIC_RELAXED) & ES_TBL_STATE_MASK]++;
}

int es_slot_table_finish_all(struct es_slot_table *t, es_slot_fn fn, void *arg)
{
	__u32 n = t->nbuckets * ES_TBL_BUCKET_SLOTS, slot, tag;
	struct es_tbl_entry e;
	int ret = 0;

	for (slot = 0; slot < n; slot++) {
		tag = __atomic_load_n(tag_of(t, slot), __ATOMIC_ACQUIRE);
		if ((tag & ES_TBL_STATE_MASK) != ES_TBL_RECLAIM)
			continue;
		memcpy(&e, &t->entries[slot], sizeof(e));
		es_slot_table_free(t, slot);
		if (!ret && fn)
			ret = fn(slot, tag, &e, arg);
	}
	return ret;
}

int es_slot_table_reclaim(struct es_slot_table *t, __u32 slot, struct es_tbl_entry *final)
{
	__u32 live = __atomic_load_n(tag_of(t, slot), __ATOMIC_ACQUIRE);
	int err;

	if (es_slot_table_mark(t, slot, live))
		return -EAGAIN;
	err = es_slot_table_grace();
	if (err)
		return err;
	memcpy(final, &t->entries[slot], sizeof(*final));
	es_slot_table_free(t, slot);
	return 0;
}

void es_slot_table_free(struct es_slot_table *t, __u32 slot)
{
	const struct es_tbl_entry *e = &t->entries[slot];
	__u32 b1 = es_tbl_b1(es_tbl_hash(&e->key, e->v6), t->nbuckets);

	if (slot / ES_TBL_BUCKET_SLOTS != b1)
		__atomic_fetch_sub(&t->tags[b1].overflow, 1, __ATOMIC_RELAXED);
	__atomic_store_n(tag_of(t, slot), ES_TBL_EMPTY, __ATOMIC_RELEASE);
}
