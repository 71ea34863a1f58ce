// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where the container serving a session runs: the pod holding its service
 * address (migration/pod_net.h), or the agent's own namespace. The
 * readers of its sockets and the replay into it work there.
 */
#include <unistd.h>
#include "net/netns.h"
#include "zdm_int.h"

int es_zdm_netns_open(struct es_zdm *z, const __u32 *svc_addr)
{
	return es_pod_netns_open_by_addr(z->mcfg, svc_addr);
}

void es_zdm_netns_close(int netns)
{
	if (netns >= 0)
		close(netns);
}

int es_zdm_ct_dp(struct es_zdm *z, const struct es_mig_key *k, struct es_mig_dp *dp)
{
	*dp = z->dp;
	dp->ct_netns = es_zdm_netns_open(z, k->svc_addr);
	return dp->ct_netns < ES_NETNS_OWN ? dp->ct_netns : 0;
}

void es_zdm_ct_dp_put(struct es_mig_dp *dp)
{
	es_zdm_netns_close(dp->ct_netns);
	dp->ct_netns = ES_NETNS_OWN;
}
