/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seal of a migrating service on the node that forwards its users
 * (docs/migration.md, "The seal"): the service entry holds new users
 * (ES_MIG_SVC_HOLD) while the migration closes the set of connections it
 * carries, and the connections it forwarded so far are listed. Functions
 * return 0 or -errno unless said otherwise.
 */
#ifndef EDGESHIFT_MIGCTL_SEAL_H
#define EDGESHIFT_MIGCTL_SEAL_H

#include <stdbool.h>
#include "load.h"

/* The entry key of es_mig_services into svc. */
int es_mig_service_get(const struct es_mig_dp *dp, const struct es_mig_svc_key *key,
		       struct es_mig_svc *svc);
/* Set (on) or clear ES_MIG_SVC_HOLD of the entry key; -ENOENT when there is none. */
int es_mig_service_hold(const struct es_mig_dp *dp, const struct es_mig_svc_key *key, bool on);

/*
 * The sessions of service key the data plane made on handoff detection
 * (ES_MIG_F_AUTO), forwarding, and made at since_ns or later: up to max
 * into keys. Returns how many there are (more than max: the rest left
 * out), or -errno.
 */
int es_mig_service_forwarded(const struct es_mig_dp *dp, const struct es_mig_svc_key *key,
			     __u64 since_ns, struct es_mig_key *keys, int max);

/*
 * Lift every seal older than max_age_ns (ES_MIG_SVC_HOLD cleared: new users
 * forwarded to the old container again); how many were, or -errno.
 */
int es_mig_seals_expire(const struct es_mig_dp *dp, __u64 max_age_ns);

#endif /* EDGESHIFT_MIGCTL_SEAL_H */
