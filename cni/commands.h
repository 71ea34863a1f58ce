/* SPDX-License-Identifier: GPL-2.0-only */
/* The CNI commands; each returns 0 or -1 with c->err filled. */
#ifndef EDGESHIFT_CNI_COMMANDS_H
#define EDGESHIFT_CNI_COMMANDS_H

#include "cni_ctx.h"

int cmd_add(struct cni_ctx *c);
int cmd_del(struct cni_ctx *c);
int cmd_check(struct cni_ctx *c);
int cmd_status(struct cni_ctx *c);
int cmd_gc(struct cni_ctx *c);

/* Undoes one attachment (DEL, GC, and a failed ADD's cleanup). */
int cni_del_attachment(struct cni_ctx *c);

/* The attachment record of c->env's container and interface. */
void cni_attachment_path(const struct cni_ctx *c, char *buf, size_t len);

#endif
