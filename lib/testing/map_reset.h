/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Empties the maps of a loaded BPF object, so that tests can share one
 * load (the verifier's time) and still each start from the state a fresh
 * load would give them.
 */
#ifndef EDGESHIFT_MAP_RESET_H
#define EDGESHIFT_MAP_RESET_H

#include <bpf/libbpf.h>

/*
 * Hashes lose every entry, arrays get every element zeroed (which also
 * cancels a bpf_timer held in one); 0 or -errno, -EOPNOTSUPP for another
 * map type.
 */
int es_map_clear(const struct bpf_map *map);

/*
 * es_map_clear() on every map of obj but its global sections (.bss, .data,
 * .rodata: the caller knows their initial values); a ring buffer is read
 * to its end, dropping what the last reader left. 0 or the first -errno.
 */
int es_object_clear_maps(const struct bpf_object *obj);

#endif /* EDGESHIFT_MAP_RESET_H */
