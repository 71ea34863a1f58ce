/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CRIU's image of an established TCP connection (tcp-stream-INODE.img:
 * the magic, then one length-prefixed tcp_stream_entry protobuf message,
 * then the queued bytes), read and changed in place before a restore.
 *
 * Why: the restored socket's TCP timestamp clock resumes at its dump-time
 * value, so it lags the old socket's by the time between dump and restore.
 * A user who kept receiving the old container's segments in between has
 * seen later timestamps and drops the restored container's segments as
 * old (PAWS, RFC 7323) until its clock catches up: seconds of silence.
 * Advancing the image's timestamp by that time closes the gap.
 */
#ifndef EDGESHIFT_CRIU_TCP_STREAM_H
#define EDGESHIFT_CRIU_TCP_STREAM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Add shift_ms to the TCP timestamp of every tcp-stream image in dir (a
 * microsecond-clock socket, the timestamp's low bit set, gets shift_ms *
 * 1000). *shifted counts the images changed, *seen all of them; images
 * without timestamps are left as they are. 0 or -errno with err.
 */
int es_criu_tcp_ts_shift(const char *dir, uint32_t shift_ms, unsigned int *shifted,
			 unsigned int *seen, char *err, size_t err_len);

#endif
