/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host-unique ifindexes for pod macvlans. The accounting maps are keyed
 * by ifindex, so a pod interface must not share its index with a host
 * link or another pod. The host namespace hands out indexes cyclically
 * (Linux 6.5+): an index it has handed out once is not handed out again
 * before the 2^31 wrap. The pool keeps such indexes, left by deleted pod
 * macvlans, and a new macvlan is created straight in the pod with one of
 * them (no move between namespaces). Files under <stateDir>/ifindex:
 * free/<n> reusable, used/<n> held by a pod. Claims are renames, so
 * concurrent plugins never take the same index.
 */
#ifndef EDGESHIFT_CNI_IFINDEX_POOL_H
#define EDGESHIFT_CNI_IFINDEX_POOL_H

/* Claims a free index (free/<n> -> used/<n>); -ENOENT when none is free. */
int ifindex_pool_take(const char *state_dir, int *ifindex);
/* Records an index the host allocated as used by a pod. */
int ifindex_pool_hold(const char *state_dir, int ifindex);
/* The pod's link is gone: used/<n> -> free/<n>. */
void ifindex_pool_put(const char *state_dir, int ifindex);
/* The index is unusable (the host or the pod has it): forgets it. */
void ifindex_pool_drop(const char *state_dir, int ifindex);

#endif
