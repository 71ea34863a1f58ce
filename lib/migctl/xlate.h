/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sequence translation entries (es_mig_xlate): a TCP connection the
 * restored container accepted from a replayed SYN, kept translated between
 * its sequence space and the old container's for its whole life.
 */
#ifndef EDGESHIFT_MIGCTL_XLATE_H
#define EDGESHIFT_MIGCTL_XLATE_H

#include <stdbool.h>
#include <edgeshift/migration.h>
#include "load.h"

/* Add k's entry (the programs start translating its next segment); -EEXIST if it has one. */
int es_mig_xlate_add(const struct es_mig_dp *dp, const struct es_mig_key *k, __u32 seq_delta,
		     __u32 ts_delta, __u32 flags);
int es_mig_xlate_get(const struct es_mig_dp *dp, const struct es_mig_key *k,
		     struct es_mig_xlate *x);
/*
 * Add k's entry in LEARN: the programs take seq_delta from the restored
 * container's SYN-ACK (its ISN less old_isn); -EEXIST if it has one.
 */
int es_mig_xlate_learn(const struct es_mig_dp *dp, const struct es_mig_key *k, __u32 old_isn);
/*
 * End LEARN once the SYN-ACK was seen (-EAGAIN before): timestamps are
 * translated by ts_delta from now on when ts.
 */
int es_mig_xlate_activate(const struct es_mig_dp *dp, const struct es_mig_key *k, __u32 ts_delta,
			  bool ts);
/* Remove k's entry; the programs stop looking once none is left. */
int es_mig_xlate_del(const struct es_mig_dp *dp, const struct es_mig_key *k);

/* Is the connection over: reset, or closed both ways? */
bool es_mig_xlate_closed(const struct es_mig_xlate *x);

/* Sets alive[i] for each of the n keys whose connection still exists. */
typedef void (*es_mig_xlate_alive_fn)(const struct es_mig_key *keys, unsigned int n,
				      bool *alive, void *arg);

/*
 * Remove every entry closed and quiet for linger_ms, or silent for
 * idle_ms (0: never) and, when alive is given, whose connection it says is
 * gone (a connection idle that long may live on; alive is asked once for
 * all such entries), as of now_ns (CLOCK_MONOTONIC); *removed counts them.
 * 0 or -errno.
 */
int es_mig_xlate_sweep(const struct es_mig_dp *dp, __u64 now_ns, unsigned int linger_ms,
		       unsigned int idle_ms, es_mig_xlate_alive_fn alive, void *arg,
		       unsigned int *removed);

#endif /* EDGESHIFT_MIGCTL_XLATE_H */
