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

/* Never fails the ADD: problems are reported on stderr and in the record. */
void cni_dataplane_attach(struct cni_ctx *c, const struct cni_link *l);
/* Unpins what ADD pinned and drops the pod record. */
void cni_dataplane_detach(struct cni_ctx *c);

#endif
