/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * promiscMode of macvlan delegates: the master is put in promiscuous mode
 * by the first pod that asks and taken out of it when the last such pod
 * is gone, unless it was promiscuous before edgeshift-cni touched it.
 * Each pod holds a file under <state_dir>/promisc/<master>/, taken and
 * dropped under an flock, so concurrent ADD and DEL agree on "the last".
 */
#ifndef EDGESHIFT_CNI_PROMISC_H
#define EDGESHIFT_CNI_PROMISC_H

#include "cni_ctx.h"

/* ADD: master m promiscuous, held by this attachment (recorded in c->att). */
int promisc_hold(struct cni_ctx *c, const struct nl_link *m);
/* DEL: drops this attachment's hold; the last one restores the master. */
void promisc_release(struct cni_ctx *c);

#endif
