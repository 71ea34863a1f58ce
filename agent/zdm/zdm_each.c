// SPDX-License-Identifier: GPL-2.0-only
/*
 * One step for every session of a migration, side by side: each step is a
 * call to the target that waits on the WAN (or, for the replay, on one
 * restored socket), so done in turn they would cost a round trip per
 * session (20 sessions at Paper D's 200 ms RTT: 4 s a step).
 */
#include <pthread.h>
#include <stdatomic.h>
#include "zdm_int.h"

/* At most this many calls at once: each holds a request open at the target. */
#define EACH_PARALLEL	16

struct each_job {
	struct es_zdm		*z;
	struct es_zdm_mig	*zm;
	es_zdm_sess_fn		fn;
	void			*arg;
	atomic_uint		next;
	atomic_bool		failed;
};

static void *each_worker(void *arg)
{
	struct each_job *j = arg;
	unsigned int i;

	while ((i = atomic_fetch_add(&j->next, 1)) < j->zm->n_sess)
		if (j->fn(j->z, j->zm, &j->zm->sess[i], j->arg))
			atomic_store(&j->failed, true);
	return NULL;
}

int es_zdm_each(struct es_zdm *z, struct es_zdm_mig *zm, es_zdm_sess_fn fn, void *arg)
{
	struct each_job j = { .z = z, .zm = zm, .fn = fn, .arg = arg };
	unsigned int i, n = zm->n_sess < EACH_PARALLEL ? zm->n_sess : EACH_PARALLEL;
	unsigned int started = 0;
	pthread_t t[EACH_PARALLEL];

	/* a thread that cannot be made leaves its share to the others and to this one */
	for (i = 1; i < n; i++)
		if (!pthread_create(&t[started], NULL, each_worker, &j))
			started++;
	each_worker(&j);
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	return atomic_load(&j.failed) ? -1 : 0;
}
