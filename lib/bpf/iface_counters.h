/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An interface's per-CPU counters summed over the CPUs, read at the moment
 * of the call: the exposition and the placement signals both read them.
 */
#ifndef EDGESHIFT_IFACE_COUNTERS_H
#define EDGESHIFT_IFACE_COUNTERS_H

#include <edgeshift/session.h>
#include "es_maps.h"

/* Zeros when the interface has no entry (or is beyond the array map). */
void es_iface_read_traffic(const struct es_maps *m, __u32 ifindex, struct es_iface_traffic *out);
/* sessions_created includes the slot table's count (es_tbl_created) when it holds the sessions. */
void es_iface_read_stats(const struct es_maps *m, __u32 ifindex, struct es_iface_stats *out);

#endif /* EDGESHIFT_IFACE_COUNTERS_H */
