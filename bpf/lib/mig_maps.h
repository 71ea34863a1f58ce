/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Maps of the migration data plane (include/edgeshift/migration.h). The
 * loader pins them next to the accounting maps and may resize
 * es_mig_sessions, es_mig_replay and es_mig_remote before load.
 */
#ifndef EDGESHIFT_BPF_MIG_MAPS_H
#define EDGESHIFT_BPF_MIG_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <edgeshift/migration.h>

#define ES_MIG_DEFAULT_SESSIONS	4096
#define ES_MIG_DEFAULT_RECORDS	4096
#define ES_MIG_MAX_SERVICES	1024
#define ES_MIG_DEFAULT_HELD	1024
#define ES_MIG_DEFAULT_SENT	4096
#define ES_MIG_DEFAULT_RSEEN	65536
#define ES_MIG_DEFAULT_TCPBLK	65536
#define ES_MIG_DEFAULT_RCLAIM	16384

/* Target side: where each user session is in its migration. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_MIG_DEFAULT_SESSIONS);
	__type(key, struct es_mig_key);
	__type(value, struct es_mig_session);
} es_mig_sessions SEC(".maps");

/*
 * The replay buffer: a hash, not a ring, because a reply must find the
 * record of the request it answers to claim it (es_mig_record.answered).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_MIG_DEFAULT_RECORDS);
	__type(key, struct es_mig_record_key);
	__type(value, struct es_mig_record);
} es_mig_replay SEC(".maps");

/* Services running on other nodes: handoff detection. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_MIG_MAX_SERVICES);
	__type(key, struct es_mig_svc_key);
	__type(value, struct es_mig_svc);
} es_mig_services SEC(".maps");

/* Source side: sessions whose requests come through the tunnel. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_MIG_DEFAULT_SESSIONS);
	__type(key, struct es_mig_key);
	__type(value, struct es_mig_remote);
} es_mig_remote SEC(".maps");

/*
 * Source side: requests kept during a hold or past a missing one
 * (es_mig_remote.hold), keyed by sequence number; the agent delivers them
 * in sequence and deletes them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_MIG_DEFAULT_HELD);
	__type(key, struct es_mig_record_key);
	__type(value, struct es_mig_held);
} es_mig_held SEC(".maps");

/*
 * Source side: a copy of each reply sent through the tunnel, keyed by its
 * ordinal, for the target to ask again when the WAN lost it. LRU: the
 * oldest go first, a reply the target never missed is never asked for.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ES_MIG_DEFAULT_SENT);
	__type(key, struct es_mig_record_key);
	__type(value, struct es_mig_held);
} es_mig_sent SEC(".maps");

/*
 * Target side: the source reply ordinals that arrived (value unused), so
 * that a reply the WAN duplicated or the source sent again passes once
 * however far behind the others it comes. LRU: ordinals seconds old go.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ES_MIG_DEFAULT_RSEEN);
	__type(key, struct es_mig_record_key);
	__type(value, __u32);
} es_mig_rseen SEC(".maps");

/*
 * Target side, UDP: the claims that pass one copy of each reply of the
 * overlap to the user (es_mig_rclaim). A hash, not LRU: a claim evicted
 * would let the second copy through. Full: the reply passes unclaimed and
 * claims_failed counts it, so the agents' check fails.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_MIG_DEFAULT_RCLAIM);
	__type(key, struct es_mig_record_key);
	__type(value, struct es_mig_rclaim);
} es_mig_rclaim SEC(".maps");

/*
 * Target side, TCP: both containers' streams in blocks, so that the second
 * to complete a block compares it with the first's (divergence). LRU:
 * blocks seconds old have been compared; 65,536 blocks are 4 MiB of
 * stream.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ES_MIG_DEFAULT_TCPBLK);
	__type(key, struct es_mig_tcpblk_key);
	__type(value, struct es_mig_tcpblk);
} es_mig_tcpblk SEC(".maps");

/*
 * Target side, TCP: connections the restored container accepted from a
 * replayed SYN, translated between its sequence space and the old
 * container's for their whole life (struct es_mig_xlate). Written by user
 * space, which also deletes an entry once its connection has closed.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_MIG_DEFAULT_SESSIONS);
	__type(key, struct es_mig_key);
	__type(value, struct es_mig_xlate);
} es_mig_xlate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct es_mig_node_config);
} es_mig_config SEC(".maps");

/* Handoff and abort notifications (struct es_mig_event). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} es_mig_events SEC(".maps");

#endif /* EDGESHIFT_BPF_MIG_MAPS_H */
