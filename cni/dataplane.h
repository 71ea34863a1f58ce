/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data-plane hook. After ADD the pod's interface carries edgeshift's
 * accounting programs: the plugin attaches the agent's pinned tcx programs
 * (<pinPath>/progs/) inside the pod namespace and pins the links where the
 * agent keeps its own (<pinPath>/links/tci_<ifindex>, tcx_<ifindex>).
 * Either way it leaves a pod record (<stateDir>/pods/) from which the agent
 * learns the pod's namespace and name, and attaches the interface itself
 * when no agent had pinned programs at ADD time.
 */
#ifndef EDGESHIFT_CNI_DATAPLANE_H
#define EDGESHIFT_CNI_DATAPLANE_H

#include "cni_ctx.h"

/*
 * Starts attaching the programs as soon as the pod's link exists, before
 * it is up (its first packet is accounted), in the background of IPAM.
 */
void cni_dataplane_start(struct cni_ctx *c, const struct cni_link *l);
/* Waits for that attach: nothing is sent before the programs are there. */
void cni_dataplane_wait(struct cni_ctx *c);
/* ADD failed: the attach is waited for and undone. */
void cni_dataplane_abort(struct cni_ctx *c);
/*
 * Finishes the attach (pins, names) and writes the pod record. An attach
 * that fails does not fail the ADD (stderr and the record say so); a
 * record that cannot be written does (-1, code 5), its pins undone first.
 */
int cni_dataplane_attach(struct cni_ctx *c, const struct cni_link *l);
/* Unpins what ADD pinned. */
void cni_dataplane_detach(struct cni_ctx *c);
/*
 * Drops the pod record, last: the agent then lets go of the links, which
 * waits for an RCU grace period under the RTNL that DEL's own netlink
 * requests must not queue behind.
 */
void cni_dataplane_forget(struct cni_ctx *c);

#endif
