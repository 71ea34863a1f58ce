/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A directory packed while it is sent: a thread writes its compressed
 * archive (layer_archive.h) into a pipe of 1 MiB that the sender drains,
 * so packing hides behind the link. Used by a single object's upload and
 * by a bundle's parts (bundle_out.c).
 */
#ifndef EDGESHIFT_PACKER_H
#define EDGESHIFT_PACKER_H

#include <pthread.h>
#include <stddef.h>
#include "layer_archive.h"

struct es_packer {
	int			fd;	/* read end: the archive's bytes, then end of file */
	/* the thread's own */
	pthread_t		t;
	const char		*dir;
	int			wfd, level, ret;
	struct es_archive_stats	st;	/* after es_packer_finish */
	char			err[512];	/* why ret is not 0 */
};

/* Start packing dir at zstd level; 0, or -errno with err. */
int es_packer_start(struct es_packer *p, const char *dir, int level, char *err, size_t err_len);
/*
 * Stop reading (a packer still writing sees EPIPE and stops) and wait for
 * it; its result: 0, or -errno with p->err.
 */
int es_packer_finish(struct es_packer *p);

#endif
