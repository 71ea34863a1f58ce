/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A block's replica counts over time and the service's performance at
 * each (agent/core/advisor_replicas.c), so the agent's advice can see
 * Paper E's trap: the block's last scale-out did not help.
 */
#ifndef EDGESHIFT_AGENT_ADVISOR_REPLICAS_H
#define EDGESHIFT_AGENT_ADVISOR_REPLICAS_H

#include "advisor/advisor.h"

/* The newest samples a count keeps; its performance is their median. */
#define ES_REPLICA_SAMPLES	16

struct es_replica_track {
	unsigned int		n;		/* replicas now; 0 before the first count */
	unsigned int		have;		/* samples taken at n, at most ES_REPLICA_SAMPLES */
	unsigned int		ticks;		/* samples taken at n, not capped (a scale-in
						 * is judged once they fill a window) */
	unsigned int		head;		/* next slot of v */
	double			v[ES_REPLICA_SAMPLES];
	double			w[ES_REPLICA_SAMPLES];	/* the block's work at each, bytes/s;
							 * < 0: not known that tick */
	struct es_adv_scaling	closed;		/* the counts before n, oldest first */
	uint64_t		work_bytes;	/* bytes through the block's pods at work_ns */
	uint64_t		work_ns;	/* the tick that read them; 0 before the first */
};

/*
 * One tick: the block has count replicas, the service's performance is
 * perf, the block's replicas moved work bytes a second (< 0: not known).
 */
void es_replica_push(struct es_replica_track *t, unsigned int count, double perf, double work,
		     unsigned int k);
/*
 * The history for the advisor: the closed counts, then the current one
 * once more than k samples were taken at it (a replica just added is not
 * judged on its first interval). k below ES_REPLICA_SAMPLES.
 */
void es_replica_history(const struct es_replica_track *t, unsigned int k,
			struct es_adv_scaling *out);

#endif
