/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Control of the migration data plane (bpf/migration.bpf.c) for the
 * agent's migration state machine, the tools and the tests. Everything
 * lives in pins under one directory, so any process (a restarted agent)
 * picks up where another left off. The protocol, and the order of the
 * calls below, is in docs/migration.md.
 *
 * Functions return 0 or -errno unless said otherwise; a message for the
 * operator goes to err when it is given.
 */
#ifndef EDGESHIFT_MIGRATION_MAPS_H
#define EDGESHIFT_MIGRATION_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <edgeshift/migration.h>

struct migration;

/* Handles on the pinned migration objects. */
struct es_mig_dp {
	int	ctl_fd;		/* es_mig_ctl (syscall program) */
	int	sessions_fd;	/* es_mig_sessions */
	int	replay_fd;	/* es_mig_replay */
	int	services_fd;	/* es_mig_services */
	int	remote_fd;	/* es_mig_remote */
	int	config_fd;	/* es_mig_config */
	int	events_fd;	/* es_mig_events */
	int	held_fd;	/* es_mig_held (source side) */
	char	pin_path[256];
};

/* Where the migration programs attach. */
enum es_mig_hook {
	ES_MIG_HOOK_USER = 0,	/* XDP es_mig_xdp_ingress: interface facing the users (target) */
	ES_MIG_HOOK_WAN = 1,	/* XDP es_mig_xdp_wan: interface facing the other nodes */
	ES_MIG_HOOK_CTR = 2,	/* tcx ingress es_mig_tc_ctr: a container's host-side interface */
	ES_MIG_HOOK_USER_TC = 3,	/* tcx ingress es_mig_tc_ingress: users' interface on a veth */
	ES_MIG_HOOK_EGRESS = 4,	/* tcx egress es_mig_tc_egress: users' interface, containers in
				 * the node's network namespace */
	ES_MIG_HOOK_MAX = 5,
};

struct es_mig_load_opts {
	unsigned int	sessions;	/* es_mig_sessions / es_mig_remote entries, 0: default */
	unsigned int	records;	/* es_mig_replay entries (all sessions), 0: default */
};

/*
 * Load the object, reusing the maps pinned under pin_path (accounting maps
 * included) and pinning the rest, and pin the programs (prog_<name>) so
 * es_mig_attach and es_mig_dp_open work from any process. *skel stays
 * loaded for the caller; free it with es_mig_unload.
 */
int es_mig_load(const char *pin_path, const struct es_mig_load_opts *opts,
		struct migration **skel, char *err, size_t err_len);
void es_mig_unload(struct migration *skel);

/* Attach a pinned program to an interface and pin the link (links/mig_<hook>_<ifindex>). */
const char *es_mig_hook_name(enum es_mig_hook hook);	/* user, wan, ctr, usertc, egress */
int es_mig_attach(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex,
		  char *err, size_t err_len);
int es_mig_detach(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex);

/* Open the pinned maps and control program; es_mig_dp_close releases them. */
int es_mig_dp_open(struct es_mig_dp *dp, const char *pin_path, char *err, size_t err_len);
void es_mig_dp_close(struct es_mig_dp *dp);

/* The handles of a loaded, unpinned object (tests, benchmarks); owned by skel. */
void es_mig_dp_from_skel(struct es_mig_dp *dp, struct migration *skel);

/* Remove the migration pins (programs, maps, links), not the accounting ones. */
int es_mig_cleanup_pins(const char *pin_path);

/* ---- node settings and services ---- */

int es_mig_config_set(const struct es_mig_dp *dp, __u32 local_addr, __u16 tunnel_port_host,
		      __u32 default_replay_limit);
int es_mig_config_get(const struct es_mig_dp *dp, struct es_mig_node_config *cfg);
/*
 * es_mig_config.active: on, the ingress program looks sessions and services
 * up; off (only when both maps are empty), it does not. The functions
 * below that add or remove entries keep it right.
 */
int es_mig_set_active(const struct es_mig_dp *dp, bool on);
/* A service that runs on node_addr (another node): handoff detection. */
int es_mig_service_set(const struct es_mig_dp *dp, const struct es_mig_svc_key *key,
		       __u32 node_addr, __u32 flags, __u32 replay_limit);
int es_mig_service_del(const struct es_mig_dp *dp, const struct es_mig_svc_key *key);

/* ---- one session, in the order of a migration ---- */

/* Run one es_mig_ctl command; cmd->seq_state says what the entry was. */
int es_mig_ctl(const struct es_mig_dp *dp, struct es_mig_cmd *cmd);
int es_mig_session_get(const struct es_mig_dp *dp, const struct es_mig_key *key,
		       struct es_mig_session *s);

/*
 * Forward (and with mirror, buffer) the session's requests to source_addr.
 * Makes the entry, or takes over one the data plane made on handoff
 * detection; requests before this call need no replay (the cursor starts
 * at the last one).
 */
int es_mig_start(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 source_addr,
		 bool mirror, __u32 replay_limit);

/* FORWARDING -> HOLD; *hold_seq is the last request sent to the source. */
int es_mig_hold(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *hold_seq);

/*
 * Wait until the source has answered every request sent to it before the
 * hold (old_replies >= hold_seq): the old container is quiet and its
 * receive queue empty, so a checkpoint now holds exactly requests 1..hold_seq.
 */
int es_mig_wait_answered(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 __u64 hold_seq, unsigned int timeout_ms);

/*
 * After the checkpoint: cursor = hold_seq (records up to it deleted),
 * then the requests buffered during HOLD go to the source in order, and
 * the session returns to FORWARDING without a request in between.
 * *sent counts the requests sent.
 */
int es_mig_resume(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 cursor,
		  unsigned int *sent);

/*
 * The checkpoint was taken with the source-side hold (es_mig_src_hold):
 * cursor = the last request delivered before it, records up to it
 * deleted. The session stays FORWARDING; -ESTALE in any other state.
 */
int es_mig_cursor_set(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 cursor);

/*
 * The restored container is running: FORWARDING -> REPLAYING, every
 * buffered request after the cursor is injected into it in order, then
 * REPLAYING -> CUTOVER at a moment when nothing is left to replay, so no
 * new request reaches it before the buffered ones. *replayed counts them.
 */
int es_mig_replay_cutover(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  unsigned int *replayed);

/* Give up (not after cut-over): forwarding to the source goes on. */
int es_mig_abort(const struct es_mig_dp *dp, const struct es_mig_key *key);

/* Delete the session's records and its entry (after cut-over and stop, or abort). */
int es_mig_finish(const struct es_mig_dp *dp, const struct es_mig_key *key,
		  unsigned int *records_deleted);

/* ---- the replay buffer ---- */

int es_mig_record_get(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 seq,
		      struct es_mig_record *rec);
/* Delete the session's records with seq in [from, to]; returns how many. */
int es_mig_records_delete(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  __u64 from, __u64 to);
/* Records of the session in the map (scan), and the lowest and highest seq. */
int es_mig_records_count(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 __u64 *lowest, __u64 *highest);

/*
 * Put the recorded request into the local stack as if it had just arrived
 * (raw IPv4 socket from es_mig_inject_open): it reaches the container the
 * service address routes to. The UDP checksum is recomputed, since the
 * copy may carry a checksum left to offload.
 */
int es_mig_inject_open(void);
int es_mig_inject(int fd, const struct es_mig_record *rec);
int es_mig_inject_packet(int fd, const __u8 *data, __u32 len);

/* Send a recorded request to the source through the tunnel (UDP socket from es_mig_tunnel_open). */
int es_mig_tunnel_open(const struct es_mig_dp *dp);
int es_mig_tunnel_send(const struct es_mig_dp *dp, int fd, __u32 dst, __u64 seq,
		       const struct es_mig_record *rec);

/* ---- the source-side hold (the old container's node) ---- */

int es_mig_remote_get(const struct es_mig_dp *dp, const struct es_mig_key *key,
		      struct es_mig_remote *r);

/*
 * OPEN -> HOLD on es_mig_remote (made with peer_addr when absent): later
 * tunnelled requests are kept in es_mig_held. *hold_at: requests delivered
 * before the hold. Asked again while holding, it answers the same.
 */
int es_mig_src_hold(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 peer_addr,
		    __u64 *hold_at);

/*
 * Wait until the old container answered every request delivered before
 * the hold (replies >= hold_at): it read them all, so a checkpoint now
 * holds exactly their effects. Local: no round trip to the target.
 */
int es_mig_src_wait_quiet(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  __u64 hold_at, unsigned int timeout_ms);

/*
 * The cursor to tell the target: the sequence number of the last request
 * delivered before the hold, or ES_MIG_ANY_SEQ when none was (the target
 * keeps its own, set when forwarding started). -EPROTO when a request
 * could not be kept during the hold (the cursor is not exact).
 */
int es_mig_src_cursor(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *cursor);

/*
 * After the checkpoint: deliver the held requests to the old container in
 * arrival order (raw socket into this node's stack), deleting each, then
 * HOLD -> OPEN only when no request arrived since the last one delivered
 * (else deliver the newcomers and try again). *sent counts them. -ESTALE
 * when not holding.
 */
int es_mig_src_release(const struct es_mig_dp *dp, const struct es_mig_key *key,
		       unsigned int *sent);

/* ---- names and text ---- */

const char *es_mig_state_name(unsigned int state);
const char *es_mig_abort_name(unsigned int reason);
/* "user:port>svc:port/udp" -> key; 0 or -EINVAL (err names the field). */
int es_mig_key_parse(const char *text, struct es_mig_key *key, char *err, size_t err_len);
void es_mig_key_format(const struct es_mig_key *key, char *buf, size_t len);

#endif /* EDGESHIFT_MIGRATION_MAPS_H */
