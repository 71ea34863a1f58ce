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
 * Source side: requests kept during a hold (es_mig_remote.hold), keyed by
 * arrival ordinal; the agent delivers and deletes them after the checkpoint.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ES_MIG_DEFAULT_HELD);
	__type(key, struct es_mig_record_key);
	__type(value, struct es_mig_held);
} es_mig_held SEC(".maps");

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
