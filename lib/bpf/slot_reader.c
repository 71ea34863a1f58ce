// SPDX-License-Identifier: GPL-2.0-only
/*
 * The slot table seen from user space (slot_reader.h). Tags are read with
 * acquire order and written with compare-and-swap or release order, the
 * counterparts of the programs' compare-and-swap and exchange.
 */
#include <errno.h>
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

long es_slot_table_find(const struct es_slot_table *t, const struct es_session_key4 *k)
{
	__u64 h = es_tbl_hash4(k);
	__u32 b[2] = { es_tbl_b1(h, t->nbuckets), es_tbl_b2(h, t->nbuckets) }, slot;
	int i, j;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < ES_TBL_BUCKET_SLOTS; j++) {
			slot = b[i] * ES_TBL_BUCKET_SLOTS + j;
			if (__atomic_load_n(tag_of(t, slot), __ATOMIC_ACQUIRE) ==
			    (es_tbl_fp(h) | ES_TBL_LIVE) &&
			    !memcmp(&t->entries[slot].key, k, sizeof(*k)))
				return slot;
		}
	}
	return -ENOENT;
}

int es_slot_table_read(const struct es_slot_table *t, __u32 slot, struct es_tbl_entry4 *out)
{
	__u32 *tag = tag_of(t, slot);
	__u32 before = __atomic_load_n(tag, __ATOMIC_ACQUIRE);

	if ((before & ES_TBL_STATE_MASK) != ES_TBL_LIVE)
		return -EAGAIN;
	memcpy(out, &t->entries[slot], sizeof(*out));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(tag, __ATOMIC_RELAXED) == before ? 0 : -EAGAIN;
}

int es_slot_table_reclaim(struct es_slot_table *t, __u32 slot, struct es_tbl_entry4 *final)
{
	__u32 *tag = tag_of(t, slot);
	__u32 live = __atomic_load_n(tag, __ATOMIC_ACQUIRE);

	if ((live & ES_TBL_STATE_MASK) != ES_TBL_LIVE ||
	    !__atomic_compare_exchange_n(tag, &live, (live & ~ES_TBL_STATE_MASK) | ES_TBL_RECLAIM,
					 false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	/*
	 * An RCU grace period: every program runs with softirqs off inside
	 * an RCU read-side section, so none that saw the slot LIVE is still
	 * adding to it when this returns.
	 */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		return -errno;
	memcpy(final, &t->entries[slot], sizeof(*final));
	es_slot_table_free(t, slot);
	return 0;
}

void es_slot_table_free(struct es_slot_table *t, __u32 slot)
{
	__u32 b1 = es_tbl_b1(es_tbl_hash4(&t->entries[slot].key), t->nbuckets);

	if (slot / ES_TBL_BUCKET_SLOTS != b1)
		__atomic_fetch_sub(&t->tags[b1].overflow, 1, __ATOMIC_RELAXED);
	__atomic_store_n(tag_of(t, slot), ES_TBL_EMPTY, __ATOMIC_RELEASE);
}
