// SPDX-License-Identifier: GPL-2.0-only
/*
 * The seal of a migrating service (seal.h). The entry is changed with a
 * whole-value update, as es_mig_service_set does: a packet counted into
 * its handoffs or held_new between the read and the write is lost from
 * the count, never from the traffic.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "util/clock.h"
#include "seal.h"

int es_mig_service_get(const struct es_mig_dp *dp, const struct es_mig_svc_key *key,
		       struct es_mig_svc *svc)
{
	return bpf_map_lookup_elem(dp->services_fd, key, svc) ? -errno : 0;
}

int es_mig_service_hold(const struct es_mig_dp *dp, const struct es_mig_svc_key *key, bool on)
{
	struct es_mig_svc svc;

	if (bpf_map_lookup_elem(dp->services_fd, key, &svc))
		return -errno;
	if (!!(svc.flags & ES_MIG_SVC_HOLD) == on)
		return 0;	/* sealed (or lifted) already: keep when it began */
	svc.flags = on ? svc.flags | ES_MIG_SVC_HOLD : svc.flags & ~ES_MIG_SVC_HOLD;
	svc.sealed_ns = on ? es_now_ns() : 0;
	return bpf_map_update_elem(dp->services_fd, key, &svc, BPF_EXIST) ? -errno : 0;
}

/* Is session s, keyed k, one the data plane forwards for service key since since_ns? */
static bool forwarded(const struct es_mig_key *k, const struct es_mig_session *s,
		      const struct es_mig_svc_key *key, __u64 since_ns)
{
	return k->proto == key->proto && k->svc_port == key->svc_port &&
	       !memcmp(k->svc_addr, key->svc_addr, sizeof(k->svc_addr)) &&
	       (s->flags & ES_MIG_F_AUTO) && s->created_ns >= since_ns &&
	       s->seq_state >> ES_MIG_STATE_SHIFT == ES_MIG_FORWARDING;
}

int es_mig_service_forwarded(const struct es_mig_dp *dp, const struct es_mig_svc_key *key,
			     __u64 since_ns, struct es_mig_key *keys, int max)
{
	struct es_mig_key cur, next;
	struct es_mig_session s;
	bool first = true;
	int n = 0;

	while (!bpf_map_get_next_key(dp->sessions_fd, first ? NULL : &cur, &next)) {
		first = false;
		cur = next;
		if (bpf_map_lookup_elem(dp->sessions_fd, &cur, &s) ||
		    !forwarded(&cur, &s, key, since_ns))
			continue;
		if (n < max)
			keys[n] = cur;
		n++;
	}
	return errno == ENOENT ? n : -errno;
}

int es_mig_seals_expire(const struct es_mig_dp *dp, __u64 max_age_ns)
{
	struct es_mig_svc_key cur, next;
	struct es_mig_svc svc;
	__u64 now = es_now_ns();
	bool first = true;
	int n = 0, ret;

	while (!bpf_map_get_next_key(dp->services_fd, first ? NULL : &cur, &next)) {
		first = false;
		cur = next;
		if (bpf_map_lookup_elem(dp->services_fd, &cur, &svc) ||
		    !(svc.flags & ES_MIG_SVC_HOLD) || now - svc.sealed_ns < max_age_ns)
			continue;
		ret = es_mig_service_hold(dp, &cur, false);
		if (ret)
			return ret;
		n++;
	}
	return errno == ENOENT ? n : -errno;
}
