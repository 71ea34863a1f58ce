/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unpack an archive while it arrives: the receiver feeds the bytes into a
 * pipe, a thread unpacks them (layer_archive.h, with all its checks) into a
 * private staging directory. Nothing there is used before the whole
 * object's checksum is verified; a refused entry ends the unpacking early
 * and the error is kept for the restore to report.
 */
#ifndef EDGESHIFT_STREAM_UNPACK_H
#define EDGESHIFT_STREAM_UNPACK_H

#include <stddef.h>

struct es_stream_unpack;

/* Start unpacking into dest (must exist); NULL when it cannot start. */
struct es_stream_unpack *es_stream_unpack_start(const char *dest);
/* Hand on received bytes; once the unpacker has stopped they are dropped. */
void es_stream_unpack_feed(struct es_stream_unpack *u, const char *data, size_t len);
/* End of the bytes: wait for the unpacker; 0 or -errno with err. Frees u. */
int es_stream_unpack_finish(struct es_stream_unpack *u, char *err, size_t err_len);

#endif
