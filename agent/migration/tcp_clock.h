/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TCP timestamp clock of connections a checkpoint carries
 * (spec tcp_established): the source notes when it dumped, the target
 * advances the images' timestamps by the time since, plus a margin, just
 * before runc restore (lib/criu/tcp_stream.h says why). The two nodes'
 * real-time clocks must agree to within the margin.
 */
#ifndef EDGESHIFT_TCP_CLOCK_H
#define EDGESHIFT_TCP_CLOCK_H

#include <stddef.h>

/* Covers the time from the shift to CRIU setting the clock, and clock skew. */
#define ES_TCP_CLOCK_MARGIN_MS	1000

/* After a checkpoint: note the dump time in image_dir (es-dump-time). 0 or -errno. */
int es_tcp_clock_note(const char *image_dir);
/* Before a restore: advance the timestamps of image_dir's TCP images. 0 or -errno with err. */
int es_tcp_clock_catch_up(const char *image_dir, char *err, size_t err_len);

#endif
