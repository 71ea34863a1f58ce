/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the files of the zdm room share and no other room calls: the peer
 * requests and addresses (zdm_peer.c), the source-side hold (zdm_hold.c),
 * the recovery after a restart and the step names (zdm.c, zdm_record.c).
 * Included by bare name inside agent/zdm/ only; other rooms use the door,
 * zdm.h.
 */
#ifndef EDGESHIFT_ZDM_INT_H
#define EDGESHIFT_ZDM_INT_H

#include "zdm.h"

/*
 * zdm_peer.c: the tunnel address of a peer node (the host of its URL),
 * network order; 0 if unknown.
 */
/*
 * Node's tunnel address (the host of its peer URL, IPv4 or IPv6) as
 * es_mig_key's 16 bytes into addr: 0, or -1 (addr all zero) when the node
 * is unknown or its URL names no address.
 */
int es_zdm_peer_addr(const struct es_zdm *z, const char *node, __u32 *addr);
/* The peer node whose tunnel address is addr, or NULL. */
const char *es_zdm_peer_by_addr(const struct es_zdm *z, const __u32 *addr);
/* A request to a peer agent, retried while it does not answer (restart). */
int es_zdm_peer_call(struct es_zdm *z, const char *url, const char *method, const char *path,
		     json_t **resp, char *err, size_t err_len);
/* Append "&name=value" to buf, the value percent-encoded. */
void es_zdm_query_add(char *buf, size_t len, const char *name, const char *value);

/*
 * zdm_netns.c: *dp becomes the node's handle aimed at the container serving
 * session k: ct_netns is its pod's namespace (migration/pod_net.h) when a
 * pod holds the service address, else the agent's own. 0, or -errno when
 * the pod's namespace cannot be opened. es_zdm_ct_dp_put closes it.
 */
int es_zdm_ct_dp(struct es_zdm *z, const struct es_mig_key *k, struct es_mig_dp *dp);
void es_zdm_ct_dp_put(struct es_mig_dp *dp);
/* The same for a service address alone: an fd, ES_NETNS_OWN, or -errno; then _close. */
int es_zdm_netns_open(struct es_zdm *z, const __u32 *svc_addr);
void es_zdm_netns_close(int netns);

/* zdm.c: finish or abort what a killed agent left (STATE/zdm/), in a thread. */
void es_zdm_recover(struct es_zdm *z);
/*
 * Is session s still forwarding at the target (its data plane aborts it
 * itself, e.g. when the replay buffer fills)? 0, or -1 with zm->error
 * naming the reason.
 */
int es_zdm_session_alive(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s,
			 void *unused);
/* The engine's look between checkpoint and transfer: a TCP session given up fails it there. */
void es_zdm_checkpoint_hook_install(struct es_zdm *z);

/* zdm_each.c: fn(..., arg) for every session, up to 16 at once; 0, or -1 when one failed. */
typedef int (*es_zdm_sess_fn)(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s,
			      void *arg);
int es_zdm_each(struct es_zdm *z, struct es_zdm_mig *zm, es_zdm_sess_fn fn, void *arg);
/* zdm_record.c */
const char *es_zdm_step_name(enum es_zdm_step s);

/* zdm_hold.c: the source-side hold around the engine's pause (container.h hooks). */
void es_zdm_hold_install(struct es_zdm *z);
/* Deliver what a hold kept and open it (an abort, a restarted agent); 0 when not holding. */
int es_zdm_hold_release(struct es_zdm *z, struct es_zdm_mig *zm);

/*
 * zdm_gap.c: the source's side of a request missing on the tunnel: the
 * data plane keeps the later ones (REORDER); this thread has the target
 * send the missing one again from its replay buffer and delivers the kept
 * ones in sequence, or gives the missing one up after gap_timeout_ms.
 */
int es_zdm_gap_start(struct es_zdm *z);
/* zdm_group.c: the target's record of a migration's TCP sessions, and their replay together. */
struct es_mig_tcp_replay;
void es_zdm_group_add(struct es_zdm *z, const char *id, const struct es_mig_key *key);
/*
 * es_mig_tcp_replay of key, with the other sessions of migration id not cut
 * over yet, in their arrival order (es_mig_tcp_replay_group); *mine gets
 * key's figures (zero when an earlier call did its part). A catch-up (cut
 * false) that finds a pass begun since it was asked, which caught key up
 * with the others, takes that one's (*shared true; may be NULL). A session
 * the source took in after the start (a late connection, or one the seal
 * named) joins the group of migration id here, if this agent has one, so
 * that it is replayed and compared with the others before any cut-over.
 */
int es_zdm_group_replay(struct es_zdm *z, const char *id, const struct es_mig_key *key, bool cut,
			bool *shared, struct es_mig_tcp_replay *mine);
/* When migration id first started a session here (CLOCK_MONOTONIC ns); false if not known. */
bool es_zdm_group_since(struct es_zdm *z, const char *id, __u64 *since_ns);
/* A session of migration id the data plane gave up: which and why, in why. */
bool es_zdm_group_aborted(struct es_zdm *z, const char *id, char *why, size_t len);
/* zdm_target.c: "from" and "to" of a resend, 1 <= from <= to, at most 4096 apart; 0 or -1. */
int es_zdm_seq_range(const char *from, const char *to, __u64 *f, __u64 *t);
void es_zdm_gap_kick(struct es_zdm *z);
/*
 * Requests of session k the hold kept without their bytes (longer than a
 * record, or unreadable): the drain counted them delivered and never sent
 * them to the old container. Logged as an error, never silently.
 */
void es_zdm_requests_lost(const struct es_mig_key *k, unsigned int n);
void es_zdm_gap_stop(struct es_zdm *z);

/*
 * zdm_sessions.c: the sessions req names, or every connection of the
 * container's TCP services; each checked it can move. 0 with *out
 * (ES_ZDM_MAX_SESSIONS entries, *n used), or -1 with err.
 */
int es_zdm_sessions_new(struct es_zdm *z, const struct es_zdm_request *req,
			struct es_zdm_sess **out, unsigned int *n, char *err, size_t len);
/* The sessions and their figures (and each one's check when verdicts). */
json_t *es_zdm_sessions_json(const struct es_zdm_mig *zm, bool verdicts);
/* The exactly-once check of every session as one (a new reference), NULL before any. */
json_t *es_zdm_verdict_json(const struct es_zdm_mig *zm);
/*
 * Connections established to the container's TCP services that the
 * migration does not carry: opened while it ran, after its list was made
 * (not moved yet: they close with the old container). Their number, the
 * first one's session text in first; -errno when they could not be listed.
 */
int es_zdm_unmoved_connections(struct es_zdm *z, struct es_zdm_mig *zm, char *first, size_t len);
/*
 * Take those connections into the migration (the target replays each from
 * its SYN, docs/migration.md "Connections opened during the window"):
 * appended to zm->sess (the caller writes the progress file). How many
 * were added; the first one's session text in first.
 */
unsigned int es_zdm_sessions_add_late(struct es_zdm *z, struct es_zdm_mig *zm, char *first,
				      size_t len);
/* The same for the sessions named in the JSON array keys (es_mig_key_format's text). */
unsigned int es_zdm_sessions_add_keys(struct es_zdm *z, struct es_zdm_mig *zm, json_t *keys,
				      char *first, size_t len);
/* A progress file's "sessions" into zm->sess; 0 or -1. */
int es_zdm_sessions_load(json_t *j, struct es_zdm_mig *zm);

#endif
