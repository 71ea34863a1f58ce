/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The plugin's state directory (default /run/edgeshift/cni): one JSON
 * record per attachment, the pod records the agent reads, and the device
 * pool's claims. Files are written to a temporary name and renamed, so a
 * reader never sees half a record.
 */
#ifndef EDGESHIFT_CNI_STATE_H
#define EDGESHIFT_CNI_STATE_H

#include <stddef.h>
#include <jansson.h>

/* Writes j to path atomically (creating its directory); 0 or -errno. */
int state_write(const char *path, const json_t *j);
/* NULL when the file is absent or not JSON. */
json_t *state_read(const char *path);

/* Creates dir, takes an exclusive flock on dir/.lock: the fd, or -errno. */
int state_lock(const char *dir);
/* Creates an empty file (a claim or a hold) if absent; 0 or -errno. */
int state_touch(const char *path);

/* <state_dir>/attachments/<network>/<container_id>-<ifname>.json */
void state_attachment_path(const char *state_dir, const char *network, const char *cid,
			   const char *ifname, char *buf, size_t len);
/* <state_dir>/pods/<container_id>-<ifname>.json (read by the agent) */
void state_pod_path(const char *state_dir, const char *cid, const char *ifname,
		    char *buf, size_t len);

#endif
