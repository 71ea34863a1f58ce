// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "map_reset.h"

/* Delete the first key until none is left: next keys of a deleted one are undefined. */
static int hash_clear(int fd, __u32 key_size)
{
	void *key = calloc(1, key_size);
	int err = 0;

	if (!key)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, NULL, key)) {
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT) {
			err = -errno;
			goto out;
		}
	}
	if (errno != ENOENT)
		err = -errno;
out:
	free(key);
	return err;
}

/* A per-CPU array's value is one 8-byte aligned copy per possible CPU. */
static int array_clear(int fd, __u32 entries, size_t value_bytes)
{
	void *zero = calloc(1, value_bytes);
	__u32 i;
	int err = 0;

	if (!zero)
		return -ENOMEM;
	for (i = 0; i < entries; i++) {
		if (bpf_map_update_elem(fd, &i, zero, BPF_ANY)) {
			err = -errno;
			break;
		}
	}
	free(zero);
	return err;
}

int es_map_clear(const struct bpf_map *map)
{
	int fd = bpf_map__fd(map), ncpus;
	size_t value = bpf_map__value_size(map);

	switch (bpf_map__type(map)) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return hash_clear(fd, bpf_map__key_size(map));
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		ncpus = libbpf_num_possible_cpus();
		if (ncpus < 0)
			return ncpus;
		value = (value + 7) / 8 * 8 * ncpus;
		/* fall through */
	case BPF_MAP_TYPE_ARRAY:
		return array_clear(fd, bpf_map__max_entries(map), value);
	default:
		return -EOPNOTSUPP;
	}
}

static int drop_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/* The consumer position lives in the map: a new reader moves it for all. */
static int ringbuf_drain(int fd)
{
	struct ring_buffer *rb = ring_buffer__new(fd, drop_record, NULL, NULL);
	int n;

	if (!rb)
		return -errno;
	n = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return n < 0 ? n : 0;
}

int es_object_clear_maps(const struct bpf_object *obj)
{
	const struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__is_internal(map))
			continue;
		if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF)
			err = ringbuf_drain(bpf_map__fd(map));
		else
			err = es_map_clear(map);
		if (err)
			return err;
	}
	return 0;
}
