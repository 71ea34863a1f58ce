/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The devices of a host-device delegate with a "devices" list: each is
 * handed to one pod at a time. Claims are files under
 * <state_dir>/pool/<network>/, taken under an flock so concurrent ADDs
 * never share a device.
 */
#ifndef EDGESHIFT_CNI_DEVPOOL_H
#define EDGESHIFT_CNI_DEVPOOL_H

#include <net/if.h>
#include "cni_ctx.h"

/* Claims a free device present in the host namespace; code 110 when none. */
int devpool_claim(struct cni_ctx *c, char dev[IF_NAMESIZE]);
/* STATUS: 1 when a device of c->d's pool is present and unclaimed. */
int devpool_available(struct cni_ctx *c);
/* Releases this attachment's claim, if any. */
void devpool_release(struct cni_ctx *c);

#endif
