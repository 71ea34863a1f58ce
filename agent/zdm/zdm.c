// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source's zero-downtime state machine (zdm.h): the engine's phases
 * (migration/migration.h, used through its public calls only) interleaved
 * with the target's data-plane steps, the progress kept in STATE/zdm/ID.json
 * (zdm_record.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "util/clock.h"
#include "util/errf.h"
#include "util/log.h"
#include "net/tcp_destroy.h"
#include "net/netns.h"
#include "zdm_int.h"
#include "zdm_record.h"

/* How often the target's session is looked at while the engine restores. */
#define STATUS_MS	500
/* Rounds of taking in connections opened while the container moved (catch_up_all). */
#define LATE_ROUNDS	3

/* One data-plane step of session s at the target; 0 with *resp, or -1 with zm->error. */
static int target(struct es_zdm *z, struct es_zdm_mig *zm, const struct es_zdm_sess *s,
		  const char *op, const char *extra, json_t **resp)
{
	char path[768], err[512];
	json_t *r = NULL;
	int code;

	snprintf(path, sizeof(path), "/v1/zdm/target/%s?x=1", op);
	es_zdm_query_add(path, sizeof(path), "id", zm->id);
	es_zdm_query_add(path, sizeof(path), "session", s->key_text);
	es_zdm_query_add(path, sizeof(path), "container", zm->container);
	if (extra)
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s", extra);
	code = es_zdm_peer_call(z, zm->url, "POST", path, &r, err, sizeof(err));
	if (!es_peer_done(code)) {
		json_decref(r);
		return es_zdm_fail(z, zm, "target %s, step %s of session %s: %s", zm->to, op,
				   s->key_text, err);
	}
	if (resp)
		*resp = r;
	else
		json_decref(r);
	return 0;
}

static uint64_t jint(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	return json_integer_value(b ? json_object_get(v, b) : v);
}

int es_zdm_session_alive(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s,
			 void *unused)
{
	json_t *r, *sess;
	int ret = 0;

	(void)unused;
	if (target(z, zm, s, "status", NULL, &r))
		return -1;
	sess = json_object_get(r, "session");
	if (!strcmp(json_string_value(json_object_get(sess, "state")) ?: "", "aborted"))
		ret = es_zdm_fail(z, zm, "the target's data plane aborted session %s: %s (%s)",
				  s->key_text,
				  json_string_value(json_object_get(sess, "abort_why")) ?: "?",
				  json_string_value(json_object_get(sess, "abort_reason")) ?: "?");
	json_decref(r);
	return ret;
}

/*
 * 0, or -1 with zm->error when the target's data plane aborted a session
 * itself. One session per call, in turn: a round of calls for every
 * session at each look would take seconds over a long WAN and delay
 * noticing the restore.
 */
static int target_alive(struct es_zdm *z, struct es_zdm_mig *zm)
{
	return es_zdm_session_alive(z, zm, &zm->sess[zm->poll_next++ % zm->n_sess], NULL);
}

/*
 * Wait for the engine: checkpoint taken, container restored at the
 * target, or its end. While waiting for the restore, the target's session
 * is looked at: the data plane aborts it itself when the buffer fills.
 */
static int wait_engine(struct es_zdm *z, struct es_zdm_mig *zm, enum es_mig_milestone w)
{
	char err[512];
	int ret;

	for (;;) {
		ret = es_mig_wait(z->m, zm->mg, w, STATUS_MS, err, sizeof(err));
		if (!ret)
			return 0;
		if (ret == -ECANCELED)
			return es_zdm_fail(z, zm, "%s", err);
		if (w == ES_MIG_AT_RESTORED && target_alive(z, zm))
			return -1;
	}
}

static void remote_forget(struct es_zdm *z, struct es_zdm_mig *zm)
{
	unsigned int i;

	for (i = 0; z->dp_ready && i < zm->n_sess; i++)
		bpf_map_delete_elem(z->dp.remote_fd, &zm->sess[i].key);
}

static int start_engine(struct es_zdm *z, struct es_zdm_mig *zm)
{
	struct es_mig_request req = { .container = zm->container, .to = zm->to,
				      .mode = zm->complete ? "complete" : "partial" };
	struct es_migration *mg = NULL;
	char err[512];

	if (es_migration_begin(z->m, &req, &mg, err, sizeof(err)))
		return es_zdm_fail(z, zm, "the migration engine refused: %s", err);
	zm->mg = mg;
	snprintf(zm->engine_id, sizeof(zm->engine_id), "%s", zm->mg->id);
	es_zdm_persist(z, zm);
	return 0;
}

static int cut_over(struct es_zdm *z, struct es_zdm_mig *zm);

static int start_one(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s, void *extra)
{
	return target(z, zm, s, "start", extra, NULL);
}

/*
 * A session's entry left by a failed migration towards another peer, made
 * anew for this one (es_mig_src_retarget), also one that peer never sent
 * a request through (NO_BASE: the open or the hold of that migration made
 * it, for an idle connection). Only an entry whose address is another
 * peer's is: one that names the target, or an address no peer's URL has
 * (a tunnel from another address, a host name), may be this target's
 * own, and demoting it would set its requests aside for good.
 */
static int retire_stale(struct es_zdm *z, struct es_zdm_mig *zm, const struct es_mig_key *key,
			const __u32 *peer)
{
	struct es_mig_remote r;
	const char *who;

	if (es_mig_remote_get(&z->dp, key, &r))
		return 0;
	who = es_zdm_peer_by_addr(z, r.peer_addr);
	if (!who || !strcmp(who, zm->to))
		return 0;
	return es_mig_src_retarget(&z->dp, key, peer);
}

/*
 * Each TCP session's entry at this node made now, not by its first
 * tunnelled segment: a connection idle while it moves sends none, and
 * without the entry the old container's segments (the RST of its abort
 * after the cut-over, say) went to the user straight from here instead of
 * through the target, which drops them once the restored one serves.
 * Before that, an entry of either protocol that a failed migration left
 * naming another peer is made anew: else an idle connection's segments
 * went to that peer, and the checkpoint read its numbers as the cursor
 * (the new target refused it: out of range).
 */
static int open_returns(struct es_zdm *z, struct es_zdm_mig *zm)
{
	__u32 peer[4] = { 0 };
	unsigned int i;
	int ret;

	es_zdm_peer_addr(z, zm->to, peer);	/* all zero when unknown, as in hold_all */
	for (i = 0; z->dp_ready && i < zm->n_sess; i++) {
		ret = retire_stale(z, zm, &zm->sess[i].key, peer);
		if (!ret && zm->sess[i].key.proto == IPPROTO_TCP)
			ret = es_mig_src_open(&z->dp, &zm->sess[i].key, peer);
		if (ret)
			return es_zdm_fail(z, zm, "the source's entry of session %s: %s",
					   zm->sess[i].key_text, strerror(-ret));
	}
	return 0;
}

/* Each session forwarded and mirrored at the target; true if one is UDP. */
static int start_sessions(struct es_zdm *z, struct es_zdm_mig *zm, bool *any_udp)
{
	char extra[128], src[INET6_ADDRSTRLEN];
	unsigned int i;

	es_mig_addr_format(z->cfg->tunnel_addr, src, sizeof(src));
	extra[0] = '\0';
	es_zdm_query_add(extra, sizeof(extra), "source", src);
	if (es_zdm_each(z, zm, start_one, extra) || open_returns(z, zm))
		return -1;
	*any_udp = false;
	for (i = 0; i < zm->n_sess; i++) {
		/*
		 * A TCP session needs no hold: the image holds the socket's
		 * sequence numbers, and the replay hands the restored socket
		 * every segment since forwarding began, whose bytes it already
		 * has TCP drops.
		 */
		zm->sess[i].keep_cursor = zm->sess[i].key.proto == IPPROTO_TCP;
		*any_udp |= !zm->sess[i].keep_cursor;
	}
	return 0;
}

/* The cursor of session s: the last request its image holds (the hold's, zdm_hold.c). */
static int set_cursor(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s, void *unused)
{
	char extra[96] = "";
	json_t *r;
	int n = 0;

	(void)unused;
	if (!s->keep_cursor)
		n = snprintf(extra, sizeof(extra), "&cursor=%llu", (unsigned long long)s->hold_seq);
	if (s->has_reply_base)
		snprintf(extra + n, sizeof(extra) - n, "&reply_base=%llu",
			 (unsigned long long)s->reply_base);
	if (target(z, zm, s, "cursor", extra, &r))
		return -1;
	s->hold_seq = jint(json_object_get(r, "session"), "cursor", NULL);
	json_decref(r);
	return 0;
}

/* A TCP session still forwarding at the target; UDP sessions are not looked at. */
static int tcp_session_alive(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s,
			     void *unused)
{
	return s->key.proto == IPPROTO_TCP ? es_zdm_session_alive(z, zm, s, unused) : 0;
}

/*
 * Between the checkpoint and its transfer (the engine's hook): a TCP
 * session the target's data plane gave up while forwarding (its replay
 * buffer full, during the dump at the latest) fails the migration here,
 * with that reason, before the image is sent for nothing. One look at
 * every TCP session, side by side: a round trip. UDP sessions need none:
 * their hold keeps the old container's input still over the dump, and
 * the cursor step reports a session given up.
 */
static int checkpointed(void *arg, const char *name, char *err, size_t len)
{
	struct es_zdm *z = arg;
	struct es_zdm_mig *zm;

	pthread_mutex_lock(&z->lock);
	for (zm = z->list; zm; zm = zm->next)
		if (!strcmp(zm->container, name) && zm->step < ES_ZDM_DONE)
			break;
	pthread_mutex_unlock(&z->lock);
	if (!zm || !es_zdm_each(z, zm, tcp_session_alive, NULL))
		return 0;
	pthread_mutex_lock(&z->lock);
	snprintf(err, len, "%s", zm->error);
	pthread_mutex_unlock(&z->lock);
	return -1;
}

void es_zdm_checkpoint_hook_install(struct es_zdm *z)
{
	es_migrator_set_checkpoint_hook(z->m, checkpointed, z);
}

static unsigned int held_total(const struct es_zdm_mig *zm)
{
	unsigned int i, n = 0;

	for (i = 0; i < zm->n_sess; i++)
		n += zm->sess[i].held_sent;
	return n;
}

static int run(struct es_zdm *z, struct es_zdm_mig *zm)
{
	bool any_udp;

	if (start_sessions(z, zm, &any_udp))
		return -1;
	es_zdm_set_step(z, zm, ES_ZDM_FORWARDING, json_pack("{s:i}", "sessions", zm->n_sess));
	/*
	 * The engine's prepare talks to the target before its pause; the hold
	 * (zdm_hold.c) spans the pause only and is local to this node.
	 */
	atomic_store(&zm->quiesce, any_udp);
	if (start_engine(z, zm) || wait_engine(z, zm, ES_MIG_AT_CHECKPOINT)) {
		atomic_store(&zm->quiesce, false);
		return -1;
	}
	es_zdm_set_step(z, zm, ES_ZDM_CHECKPOINTED, json_pack("{s:I,s:i}", "cursor",
						       (json_int_t)zm->sess[0].hold_seq, "held_sent",
						       held_total(zm)));
	if (es_zdm_each(z, zm, set_cursor, NULL))
		return -1;
	es_zdm_set_step(z, zm, ES_ZDM_RESUMED, json_pack("{s:I}", "cursor",
							 (json_int_t)zm->sess[0].hold_seq));
	if (wait_engine(z, zm, ES_MIG_AT_RESTORED))
		return -1;
	es_zdm_set_step(z, zm, ES_ZDM_RESTORED, NULL);
	return cut_over(z, zm);
}

/*
 * The target replays session s and cuts it over. Asked again of a target
 * that has cut over already, it answers the same (a restarted source lost
 * the answer).
 */
static int cut_one(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s, void *unused)
{
	json_t *r;

	(void)unused;
	if (target(z, zm, s, "cutover", NULL, &r))
		return -1;
	pthread_mutex_lock(&z->lock);
	s->replayed = jint(r, "replayed", NULL);
	s->cut_seq = jint(r, "cut_seq", NULL);
	s->cut = true;
	json_decref(s->exactly_once);
	s->exactly_once = json_incref(json_object_get(r, "exactly_once"));
	pthread_mutex_unlock(&z->lock);
	json_decref(r);
	return 0;
}

/*
 * The target replays session s, if of protocol *proto, until it has caught
 * up and compares the two containers' output, not cut over: a TCP
 * session's streams, a UDP session's replies.
 */
static int catch_up_one(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s,
			void *proto)
{
	if (s->key.proto != *(const int *)proto)
		return 0;
	return target(z, zm, s, "catchup", NULL, NULL);
}

/*
 * Connections the user opened while the container moved are taken in
 * (the target replays each from its SYN) and caught up with the others; a
 * round's catch-up takes time, in which more may open: a few rounds. One
 * opened after the last is not carried, and complete() says so.
 */
static int catch_up_all(struct es_zdm *z, struct es_zdm_mig *zm)
{
	unsigned int round, added;
	char first[80] = "";

	for (round = 0; round < LATE_ROUNDS; round++) {
		added = es_zdm_sessions_add_late(z, zm, first, sizeof(first));
		if (added) {
			es_zdm_persist(z, zm);
			es_zdm_event(z, zm, "zdm_late_connections", json_pack("{s:i,s:s,s:i}",
				     "added", added, "first", first, "sessions", zm->n_sess));
		}
		if (round && !added)
			break;
		if (zm->n_sess > 1 && es_zdm_each(z, zm, catch_up_one, &(int){ IPPROTO_TCP }))
			return -1;
	}
	if (zm->n_sess > 1)
		es_zdm_event(z, zm, "zdm_all_caught_up", NULL);
	return 0;
}

/* Is the service of session i that of an earlier session of zm? */
static bool service_seen(const struct es_zdm_mig *zm, unsigned int i)
{
	const struct es_mig_key *a = &zm->sess[i].key, *b;
	unsigned int j;

	for (j = 0; j < i; j++) {
		b = &zm->sess[j].key;
		if (b->proto == a->proto && b->svc_port == a->svc_port &&
		    es_mig_addr_eq(b->svc_addr, a->svc_addr))
			return true;
	}
	return false;
}

/* One TCP service sealed at the target (seal()); how many connections it added. */
static unsigned int seal_service(struct es_zdm *z, struct es_zdm_mig *zm, unsigned int i,
				 char *first, size_t len)
{
	unsigned int added;
	char why[512];
	json_t *r;

	if (target(z, zm, &zm->sess[i], "seal", NULL, &r)) {
		pthread_mutex_lock(&z->lock);
		snprintf(why, sizeof(why), "%s", zm->error);
		zm->error[0] = '\0';
		pthread_mutex_unlock(&z->lock);
		es_zdm_event(z, zm, "zdm_seal_failed", json_pack("{s:s}", "error", why));
		return 0;
	}
	added = es_zdm_sessions_add_keys(z, zm, json_object_get(r, "sessions"), first, len);
	json_decref(r);
	return added;
}

/*
 * The seal (docs/migration.md, "The seal"): from now until its cut-over
 * the target holds new users of each of the container's TCP services, and
 * names every connection it forwarded to the old container; the ones the
 * migration does not carry yet (opened since the last listing, or still
 * in their handshake then) are taken in, and the target replays them from
 * their SYN like the other late ones. A target that cannot seal (an older
 * agent, or one started since the migration began) leaves things as they
 * were: a connection opened from now on is reported by complete().
 */
static void seal(struct es_zdm *z, struct es_zdm_mig *zm)
{
	unsigned int i, services = 0, added = 0;
	char first[80] = "";

	for (i = 0; i < zm->n_sess; i++) {
		if (zm->sess[i].key.proto != IPPROTO_TCP || service_seen(zm, i))
			continue;
		services++;
		added += seal_service(z, zm, i, first, sizeof(first));
	}
	if (!services)
		return;
	if (added)
		es_zdm_persist(z, zm);
	es_zdm_event(z, zm, "zdm_sealed", json_pack("{s:i,s:i,s:s,s:i}", "services", services,
		     "added", added, "first", first, "sessions", zm->n_sess));
}

/*
 * Every session replayed and cut over, side by side: one session's replay
 * waits on its restored socket, not on the others'. With more than one
 * session, every TCP session is first replayed until its restored stream
 * has caught up with the old one and compared equal, and none is cut over
 * before all have: connections that share state in the container (a key
 * several clients change) reach the restored one in another order than
 * the old one, and their streams diverge; found here, the whole migration
 * is given up while the old container still serves every connection.
 * 0, or -1 when one failed (the others may have cut over: zm->sess[].cut
 * says).
 */
static int cut_over(struct es_zdm *z, struct es_zdm_mig *zm)
{
	unsigned int i, replayed = 0;

	/* each UDP session replayed and its replies compared, not cut over */
	if (es_zdm_each(z, zm, catch_up_one, &(int){ IPPROTO_UDP }) || catch_up_all(z, zm))
		return -1;
	seal(z, zm);
	if (es_zdm_each(z, zm, cut_one, NULL))
		return -1;
	for (i = 0; i < zm->n_sess; i++)
		replayed += zm->sess[i].replayed;
	es_zdm_set_step(z, zm, ES_ZDM_CUT_OVER, json_pack("{s:i,s:I,s:i}", "replayed", replayed,
						   "cut_seq", (json_int_t)zm->sess[0].cut_seq,
						   "sessions", zm->n_sess));
	return 0;
}

/*
 * What the source adds to its verify of UDP session s, asked once the old
 * container has stopped: how many replies it sent back, the last ordinal
 * the target is to wait for. A service that answers the last requests
 * with no datagram sends nothing after cut_seq that the target's first
 * check could wait for.
 */
static const char *verify_extra(struct es_zdm *z, const struct es_zdm_sess *s, char *buf,
				size_t len)
{
	struct es_mig_remote r;

	if (s->key.proto == IPPROTO_TCP || !z->dp_ready || es_mig_remote_get(&z->dp, &s->key, &r))
		return NULL;
	snprintf(buf, len, "&replies=%llu", (unsigned long long)r.replies);
	return buf;
}

/* Why a TCP session's check failed, in its own terms: the two streams' bytes. */
static void tcp_failed(const struct es_zdm_sess *s, json_t *eo, char *why, size_t len)
{
	snprintf(why, len, "the exactly-once check of session %s failed: %llu of the %llu bytes "
		 "both containers sent compared the same, %llu blocks different, %llu segments "
		 "not hashed, restored stream caught up: %s, the old container was given nothing "
		 "after the cut-over: %s", s->key_text,
		 (unsigned long long)jint(eo, "bytes_compared", NULL),
		 (unsigned long long)jint(eo, "bytes_both_sent", NULL),
		 (unsigned long long)jint(eo, "blocks_diverged", NULL),
		 (unsigned long long)jint(eo, "segments_unhashed", NULL),
		 json_is_true(json_object_get(eo, "caught_up")) ? "yes" : "no",
		 json_is_true(json_object_get(eo, "source_agrees")) ? "yes" : "no");
}

/*
 * The exactly-once check of session s, both nodes together: the target's
 * verdict on the replayed requests, and the old container got every
 * request up to cut_seq in sequence and none after it. False with the
 * reason in why.
 */
static bool session_verified(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s,
			     char *why, size_t len)
{
	struct es_mig_remote r;
	json_t *eo, *resp;
	char extra[48];
	bool src_ok;

	if (!s->cut) {
		snprintf(why, len, "session %s was not cut over: %.200s", s->key_text, zm->error);
		return false;
	}
	/*
	 * A restarted agent lost the target's answer, or the answer came
	 * while the old container's answers were still on their way (its
	 * wait timed out: a WAN cut at the cut-over, their recovery after
	 * it): ask for the check again, which waits for them once more.
	 */
	if ((!s->exactly_once || json_is_true(json_object_get(s->exactly_once, "timed_out"))) &&
	    !target(z, zm, s, "verify", verify_extra(z, s, extra, sizeof(extra)), &resp)) {
		pthread_mutex_lock(&z->lock);
		json_decref(s->exactly_once);
		s->exactly_once = json_incref(json_object_get(resp, "exactly_once"));
		pthread_mutex_unlock(&z->lock);
		json_decref(resp);
	}
	eo = s->exactly_once;
	if (!eo) {
		snprintf(why, len, "the exactly-once check of session %s could not be read from "
			 "the target: %.200s", s->key_text, zm->error);
		return false;
	}
	/*
	 * TCP: the old container's part ends at cut-over; what counts is that
	 * it was sent nothing after it (the restored socket got every byte,
	 * which the target checked).
	 */
	src_ok = z->dp_ready && !es_mig_remote_get(&z->dp, &s->key, &r) &&
		 (s->key.proto == IPPROTO_TCP ? r.last_seq <= s->cut_seq :
		  r.last_seq == s->cut_seq);
	pthread_mutex_lock(&z->lock);
	json_object_set_new(eo, "source_last_seq", json_integer(src_ok ? (json_int_t)r.last_seq : -1));
	json_object_set_new(eo, "source_agrees", json_boolean(src_ok));
	pthread_mutex_unlock(&z->lock);
	if (json_is_true(json_object_get(eo, "passed")) && src_ok)
		return true;
	if (s->key.proto == IPPROTO_TCP) {
		tcp_failed(s, eo, why, len);
		return false;
	}
	snprintf(why, len, "the exactly-once check of session %s failed: %llu requests replayed, "
		 "%llu of %llu replies sent by both containers, %llu second copies dropped, %llu "
		 "unclaimed, %llu different, source delivered up to %lld of %llu", s->key_text,
		 (unsigned long long)jint(eo, "replayed", NULL),
		 (unsigned long long)jint(eo, "answered_by_both", NULL),
		 (unsigned long long)jint(eo, "replies", NULL),
		 (unsigned long long)jint(eo, "suppressed", NULL),
		 (unsigned long long)jint(eo, "claims_failed", NULL),
		 (unsigned long long)jint(eo, "replies_diverged", NULL),
		 (long long)json_integer_value(json_object_get(eo, "source_last_seq")),
		 (unsigned long long)s->cut_seq);
	return false;
}

/* How a failure after the cut-over starts: nothing is undone then. */
#define AFTER_CUT	"after cut-over (the new container serves): "

/*
 * Every session's check. "done" only when each held; after cut-over
 * nothing can be undone, so a failed check is reported as failed with the
 * reason (the new container serves).
 */
static bool verified(struct es_zdm *z, struct es_zdm_mig *zm)
{
	char why[440] = "", first[440] = "";
	unsigned int i, failed = 0;

	for (i = 0; i < zm->n_sess; i++) {
		if (session_verified(z, zm, &zm->sess[i], why, sizeof(why)))
			continue;
		if (!failed++)
			snprintf(first, sizeof(first), "%s", why);
	}
	if (!failed)
		return true;
	es_zdm_set_error(z, zm, AFTER_CUT "%.420s%s", first,
			 failed > 1 ? " (and more sessions)" : "");
	return false;
}

/*
 * TCP: abort the old container's connections while the tunnel still takes
 * what they send (their RST is dropped at the target, which has cut over).
 * Stopped the ordinary way, a socket would linger as an orphan and send
 * its FIN again after the tunnel is gone, straight to the user, closing
 * the connection the restored container now serves.
 */
static void close_old_connections(struct es_zdm *z, struct es_zdm_mig *zm)
{
	unsigned int i, found = 0, tcp = 0;
	int ret, ns;

	for (i = 0; i < zm->n_sess; i++) {
		const struct es_mig_key *k = &zm->sess[i].key;

		if (k->proto != IPPROTO_TCP)
			continue;
		tcp++;
		ns = es_zdm_netns_open(z, k->svc_addr);
		ret = ns < ES_NETNS_OWN ? ns :
		      es_tcp_destroy(ns, es_mig_in6(k->svc_addr), k->svc_port,
				     es_mig_in6(k->user_addr), k->user_port);
		es_zdm_netns_close(ns);
		if (ret && ret != -ENOENT)
			es_warn("zdm_old_connection", "id=%s session=%s error=\"%s\"", zm->id,
				zm->sess[i].key_text, strerror(-ret));
		found += !ret;
	}
	if (tcp)
		es_zdm_event(z, zm, "zdm_old_connection_closed", json_pack("{s:b,s:i,s:i}",
			     "found", found == tcp, "closed", found, "connections", tcp));
}

/*
 * The service runs at the target now: a user coming back here is a
 * handoff. 0, or -errno (a full services map, the target no known peer).
 */
static int forward_returning_users(struct es_zdm *z, struct es_zdm_mig *zm)
{
	unsigned int i;
	__u32 node[4];
	int ret = 0;

	if (es_zdm_peer_addr(z, zm->to, node))
		return -ENOENT;
	for (i = 0; !ret && z->dp_ready && i < zm->n_sess; i++) {
		const struct es_mig_key *k = &zm->sess[i].key;
		struct es_mig_svc_key sk = { .svc_port = k->svc_port, .proto = k->proto };

		memcpy(sk.svc_addr, k->svc_addr, sizeof(sk.svc_addr));

		ret = es_mig_service_set(&z->dp, &sk, node, ES_MIG_SVC_FORWARD | ES_MIG_SVC_MIRROR,
					 z->cfg->replay_limit);
	}
	return ret;
}

static int finish_one(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s, void *unused)
{
	(void)unused;
	return target(z, zm, s, "finish", NULL, NULL);
}

/* The target forgets each session: its buffer and entry go. */
static void finish_sessions(struct es_zdm *z, struct es_zdm_mig *zm)
{
	if (es_zdm_each(z, zm, finish_one, NULL))
		es_warn("zdm_finish_unanswered", "id=%s error=\"%s\"", zm->id, zm->error);
}

/* After cut-over nothing is undone: the new container serves. */
static void complete(struct es_zdm *z, struct es_zdm_mig *zm)
{
	bool ok;

	struct es_runtime *rt = es_migrator_runtime(z->m);
	char first[80] = "";
	int ret = 0, unmoved;

	/* before the old container goes, with its connections: who else it served */
	unmoved = es_zdm_unmoved_connections(z, zm, first, sizeof(first));
	if (unmoved > 0)
		es_zdm_event(z, zm, "zdm_unmoved_connections", json_pack("{s:i,s:s}", "connections",
			     unmoved, "first", first));
	close_old_connections(z, zm);
	if (zm->mg)
		ret = es_mig_stop_source(z->m, zm->mg);
	else if (es_container_exists(rt, zm->container))
		ret = es_container_destroy(rt, zm->container);
	if (ret)
		es_error("zdm_stop_source_failed", "id=%s container=%s", zm->id, zm->container);
	es_zdm_set_step(z, zm, ES_ZDM_SOURCE_STOPPED, NULL);
	ok = verified(z, zm);
	/* who else the old container served is not known: nor that none was cut off */
	if (ok && unmoved < 0) {
		es_zdm_set_error(z, zm, AFTER_CUT "the old container's connections could not "
				 "be listed before it was stopped (%s): whether any besides the "
				 "migrated ones closed with it is not known", strerror(-unmoved));
		ok = false;
	}
	/*
	 * A connection neither the catch-up rounds nor the seal took in was
	 * not carried: it closed with the old container. Its user saw it
	 * fail, so the migration did not keep every user's connection.
	 */
	if (ok && unmoved > 0) {
		es_zdm_set_error(z, zm, AFTER_CUT "%d connection%s opened while the container "
				 "moved (%s%s) could not be carried (not sealed at the target, "
				 "from a user of this node, or past the %d sessions of one "
				 "migration) and closed with the old container", unmoved,
				 unmoved > 1 ? "s" : "", first, unmoved > 1 ? ", ..." : "",
				 ES_ZDM_MAX_SESSIONS);
		ok = false;
	}
	/* an old container still running is not a migration done */
	if (ok && ret) {
		es_zdm_set_error(z, zm, AFTER_CUT "the old container \"%s\" could not be stopped",
				 zm->container);
		ok = false;
	}
	remote_forget(z, zm);
	finish_sessions(z, zm);
	ret = forward_returning_users(z, zm);
	/* the user who comes back would reach a node whose container is gone */
	if (ok && ret) {
		es_zdm_set_error(z, zm, AFTER_CUT "users coming back to this node cannot be "
				 "forwarded to node %s: %s", zm->to, strerror(-ret));
		ok = false;
	}
	if (ok) {
		es_zdm_set_error(z, zm, "%s", "");
		es_zdm_set_step(z, zm, ES_ZDM_DONE, NULL);
		return;
	}
	es_error("zdm_exactly_once_failed", "id=%s error=\"%s\"", zm->id, zm->error);
	es_zdm_set_step(z, zm, ES_ZDM_FAILED, json_pack("{s:s,s:b}", "reason", zm->error,
						 "cut_over", 1));
}

/*
 * The last request the old container got in sequence: the target keeps
 * the records after it, which the WAN may still owe this node.
 */
static void delivered_arg(struct es_zdm *z, const struct es_zdm_sess *s, char *extra, size_t len)
{
	struct es_mig_remote r;
	char num[24];

	if (!z->dp_ready || es_mig_remote_get(&z->dp, &s->key, &r) ||
	    (r.flags & ES_MIG_RF_NO_BASE))
		return;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r.last_seq);
	es_zdm_query_add(extra, len, "delivered", num);
}

/* What the target is told of an abort, for every session. */
struct abort_args {
	const char	*reason;	/* cut short: a long reason is what gets cut */
	bool		restored;	/* the target runs the container: remove it */
	bool		first_done;	/* the first session's abort was answered */
	bool		removed;	/* an abort that asked for the removal was answered:
					 * the target removed the container (it answers an
					 * error when it cannot) */
};

static int abort_one(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s, void *arg)
{
	struct abort_args *a = arg;
	bool remove = a->restored && !a->removed;
	char extra[1024] = "";
	int ret;

	if (a->first_done && s == &zm->sess[0])
		return 0;	/* aborted first, on its own */
	/* what the target may delete first: a long reason is what gets cut */
	delivered_arg(z, s, extra, sizeof(extra));
	if (remove)
		es_zdm_query_add(extra, sizeof(extra), "remove", zm->container);
	es_zdm_query_add(extra, sizeof(extra), "reason", a->reason);
	ret = target(z, zm, s, "abort", extra, NULL);
	if (!ret && remove)
		a->removed = true;
	return ret;
}

/* Before cut-over: the old container keeps serving, the target forgets the session. */
static void abort_migration(struct es_zdm *z, struct es_zdm_mig *zm)
{
	char reason[512], short_reason[160], path[256], err[256];
	struct abort_args a = { .reason = short_reason };
	bool restored = false;

	snprintf(reason, sizeof(reason), "%s", zm->error[0] ? zm->error : "unknown");
	snprintf(short_reason, sizeof(short_reason), "%.150s", reason);
	/* held requests exist only in this node's data plane: deliver them first */
	es_zdm_hold_release(z, zm);
	if (zm->mg) {
		wait_engine(z, zm, ES_MIG_AT_END);
		restored = es_mig_state_get(z->m, zm->mg) == ES_MIG_RESTORED;
	} else if (zm->engine_id[0]) {
		/* a restarted agent: the target removes whatever it staged or restored */
		snprintf(path, sizeof(path), "/v1/migrations/incoming/%s", zm->engine_id);
		es_peer_json(es_migrator_peers(z->m), z->mcfg, zm->url, "DELETE", path, NULL,
			     z->mcfg->request_timeout_ms, NULL, err, sizeof(err));
		restored = zm->step >= ES_ZDM_RESTORED;
	}
	es_zdm_set_error(z, zm, "%s", "");
	/* es_mig_remote stays: the target keeps forwarding each session here */
	/*
	 * The first session's abort removes the restored container; the
	 * others, side by side, then close only their own copies of the
	 * connections (which need the container gone). Should the first not
	 * be answered, each of the others asks for the removal again.
	 */
	a.restored = restored;
	a.first_done = !abort_one(z, zm, &zm->sess[0], &a);
	if (es_zdm_each(z, zm, abort_one, &a) || !a.first_done)
		es_warn("zdm_abort_unanswered", "id=%s error=\"%s\"", zm->id, zm->error);
	/* the old container serves; a restored copy left running must be said */
	if (restored && !a.removed)
		es_error("zdm_restored_not_removed", "id=%s container=%s error=\"%s\"", zm->id,
			 zm->container, zm->error);
	es_zdm_set_error(z, zm, "%s", reason);
	es_zdm_set_step(z, zm, ES_ZDM_FAILED, json_pack("{s:s,s:b}", "reason", reason,
						 "restored_removed", restored && a.removed));
}

/*
 * A session the target cut over is served by the new container: nothing
 * can be aborted any more, whatever happened to the others (complete()
 * reports them failed).
 */
static bool any_cut(struct es_zdm *z, struct es_zdm_mig *zm)
{
	unsigned int i;
	bool cut = false;
	json_t *r;

	for (i = 0; i < zm->n_sess; i++)
		cut |= zm->sess[i].cut;
	/*
	 * A cut-over whose answer was lost (a WAN cut, a timeout) happened
	 * all the same: the target is asked before anything is removed there.
	 */
	for (i = 0; !cut && zm->step >= ES_ZDM_RESTORED && i < zm->n_sess; i++) {
		if (target(z, zm, &zm->sess[i], "status", NULL, &r))
			continue;
		zm->sess[i].cut = !strcmp(json_string_value(json_object_get(json_object_get(r,
					  "session"), "state")) ?: "", "cutover");
		cut |= zm->sess[i].cut;
		json_decref(r);
	}
	return cut;
}

static void *worker(void *arg)
{
	struct es_zdm_mig *zm = arg;
	struct es_zdm *z = zm->z;

	if (!run(z, zm) || any_cut(z, zm))
		complete(z, zm);
	else
		abort_migration(z, zm);
	return NULL;
}

static void add(struct es_zdm *z, struct es_zdm_mig *zm)
{
	pthread_mutex_lock(&z->lock);
	zm->next = z->list;
	z->list = zm;
	pthread_mutex_unlock(&z->lock);
}

/* Under z->lock. */
static bool busy_locked(struct es_zdm *z, const char *container)
{
	struct es_zdm_mig *zm;

	for (zm = z->list; zm; zm = zm->next)
		if (!strcmp(zm->container, container) && zm->step < ES_ZDM_DONE)
			return true;
	return false;
}

static bool busy(struct es_zdm *z, const char *container)
{
	bool found;

	pthread_mutex_lock(&z->lock);
	found = busy_locked(z, container);
	pthread_mutex_unlock(&z->lock);
	return found;
}

/*
 * Listed unless its container is migrating already: the check and the
 * listing are one step, since every connection of a user who moved raises
 * its own handoff, and the requests arrive together.
 */
static bool add_if_idle(struct es_zdm *z, struct es_zdm_mig *zm)
{
	bool idle;

	pthread_mutex_lock(&z->lock);
	idle = !busy_locked(z, zm->container);
	if (idle) {
		zm->next = z->list;
		z->list = zm;
	}
	pthread_mutex_unlock(&z->lock);
	return idle;
}

/*
 * The request as a whole; the sessions are read first when named (a
 * malformed one is the answer whatever else is wrong), after the
 * container when they are to be found on it.
 */
static enum es_mig_err check_request(struct es_zdm *z, const struct es_zdm_request *req,
				     struct es_zdm_sess **sess, unsigned int *n, char *err,
				     size_t len)
{
	const char *ct = req->container, *to = req->to, *mode = req->mode;
	bool named = req->session && *req->session;

	if (!z->dp_ready)
		return es_errf(err, len, ES_MIG_EUNAVAIL,
			       "this agent has no zero_downtime data plane");
	if (named && es_zdm_sessions_new(z, req, sess, n, err, len))
		return ES_MIG_EINVAL;
	if (!ct || !es_safe_name(ct) || !es_container_exists(es_migrator_runtime(z->m), ct))
		return es_errf(err, len, ES_MIG_ENOENT,
			       "field 'container': no container \"%s\" here", ct ?: "");
	if (!to || !es_mig_peer_find(z->mcfg, to))
		return es_errf(err, len, ES_MIG_EINVAL, "field 'to': \"%s\" is not a peer",
			       to ?: "");
	if (mode && strcmp(mode, "partial") && strcmp(mode, "complete"))
		return es_errf(err, len, ES_MIG_EINVAL, "field 'mode' must be partial or complete");
	if (busy(z, ct))
		return es_errf(err, len, ES_MIG_EBUSY, "container \"%s\" is already migrating", ct);
	if (!named && es_zdm_sessions_new(z, req, sess, n, err, len))
		return ES_MIG_EINVAL;
	return ES_MIG_OK;
}

/* A new migration of req, not yet listed; NULL with err (and *e). */
static struct es_zdm_mig *mig_new(struct es_zdm *z, const struct es_zdm_request *req,
				  struct es_zdm_sess *sess, unsigned int n, char *err,
				  size_t err_len)
{
	struct es_zdm_mig *zm = calloc(1, sizeof(*zm));
	unsigned char rnd[8];
	int i;

	if (!zm || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		free(zm);
		es_errf(err, err_len, ES_MIG_EINTERNAL, "out of memory");
		return NULL;
	}
	zm->sess = sess;
	zm->n_sess = n;
	for (i = 0; i < 8; i++)
		sprintf(zm->id + 2 * i, "%02x", rnd[i]);
	snprintf(zm->key_text, sizeof(zm->key_text), "%s", zm->sess[0].key_text);
	snprintf(zm->container, sizeof(zm->container), "%s", req->container);
	snprintf(zm->to, sizeof(zm->to), "%s", req->to);
	snprintf(zm->url, sizeof(zm->url), "%s", es_mig_peer_find(z->mcfg, req->to)->url);
	zm->complete = req->mode && !strcmp(req->mode, "complete");
	zm->step_ns[ES_ZDM_REQUESTED] = es_realtime_ns();
	zm->z = z;
	return zm;
}

enum es_mig_err es_zdm_begin(struct es_zdm *z, const struct es_zdm_request *req,
			     struct es_zdm_mig **out, char *err, size_t err_len)
{
	struct es_zdm_sess *sess = NULL;
	struct es_zdm_mig *zm;
	enum es_mig_err e;
	unsigned int n = 0;
	pthread_t t;

	e = check_request(z, req, &sess, &n, err, err_len);
	if (e) {
		free(sess);
		return e;
	}
	zm = mig_new(z, req, sess, n, err, err_len);
	if (!zm) {
		free(sess);
		return ES_MIG_EINTERNAL;
	}
	if (!add_if_idle(z, zm)) {
		free(zm->sess);
		free(zm);
		return es_errf(err, err_len, ES_MIG_EBUSY, "container \"%s\" is already migrating",
			       req->container);
	}
	es_zdm_persist(z, zm);
	es_zdm_event(z, zm, "zdm_requested", json_pack("{s:s,s:s,s:s}", "mode",
						zm->complete ? "complete" : "partial", "from",
						z->node_name, "to", zm->to));
	if (pthread_create(&t, NULL, worker, zm)) {
		es_zdm_fail(z, zm, "cannot start the worker thread");
		es_zdm_set_step(z, zm, ES_ZDM_FAILED, NULL);
		return es_errf(err, err_len, ES_MIG_EINTERNAL, "cannot start the worker thread");
	}
	pthread_detach(t);
	*out = zm;
	return ES_MIG_OK;
}

struct es_zdm_mig *es_zdm_find(struct es_zdm *z, const char *id)
{
	struct es_zdm_mig *zm;

	pthread_mutex_lock(&z->lock);
	for (zm = z->list; zm; zm = zm->next)
		if (!strcmp(zm->id, id))
			break;
	pthread_mutex_unlock(&z->lock);
	return zm;
}

json_t *es_zdm_json(struct es_zdm *z, const struct es_zdm_mig *zm)
{
	json_t *j, *steps = json_object(), *eo;
	unsigned int replayed = 0, k;
	int i;

	pthread_mutex_lock(&z->lock);
	for (i = 0; i < ES_ZDM_STEP_MAX; i++)
		if (zm->step_ns[i])
			json_object_set_new(steps, es_zdm_step_name(i), json_integer(zm->step_ns[i]));
	for (k = 0; k < zm->n_sess; k++)
		replayed += zm->sess[k].replayed;
	/* hold_seq and cut_seq: the first session's; each one's in "sessions" */
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:i,s:i,s:o}", "id", zm->id,
		      "engine_id", zm->engine_id, "container", zm->container, "from",
		      z->node_name, "to", zm->to, "session", zm->key_text, "mode",
		      zm->complete ? "complete" : "partial", "step", es_zdm_step_name(zm->step),
		      "hold_seq", (json_int_t)zm->sess[0].hold_seq, "cut_seq",
		      (json_int_t)zm->sess[0].cut_seq, "held_sent", held_total(zm), "replayed",
		      replayed, "steps", steps);
	json_object_set_new(j, "sessions", es_zdm_sessions_json(zm, zm->n_sess > 1));
	json_object_set_new(j, "state", json_string(zm->step == ES_ZDM_DONE ? "done" :
						    zm->step == ES_ZDM_FAILED ? "failed" : "running"));
	if (zm->error[0])
		json_object_set_new(j, "error", json_string(zm->error));
	eo = es_zdm_verdict_json(zm);
	if (eo)
		json_object_set_new(j, "exactly_once", eo);
	pthread_mutex_unlock(&z->lock);
	if (zm->mg)
		json_object_set_new(j, "engine", es_mig_json(z->m, zm->mg));
	return j;
}

json_t *es_zdm_list_json(struct es_zdm *z)
{
	json_t *a = json_array();
	struct es_zdm_mig *zm;

	/*
	 * The head under the lock that add() sets it under: what it points
	 * at, and every next after it, was written before. Migrations are
	 * never taken off the list, so the walk needs no lock.
	 */
	pthread_mutex_lock(&z->lock);
	zm = z->list;
	pthread_mutex_unlock(&z->lock);
	for (; zm; zm = zm->next)
		json_array_append_new(a, es_zdm_json(z, zm));
	return a;
}

/* ---- an agent restarted mid-migration ---- */

static struct es_zdm_mig *load(struct es_zdm *z, const char *path)
{
	json_t *j = json_load_file(path, 0, NULL);
	const char *step = json_string_value(json_object_get(j, "step"));
	const char *to = json_string_value(json_object_get(j, "to"));
	const struct es_mig_peer *peer = to ? es_mig_peer_find(z->mcfg, to) : NULL;
	struct es_zdm_mig *zm = NULL;
	int i;

	if (!j || !step || !peer)
		goto out;
	zm = calloc(1, sizeof(*zm));
	if (!zm || es_zdm_sessions_load(j, zm)) {
		if (zm)
			free(zm->sess);
		free(zm);
		zm = NULL;
		goto out;
	}
	snprintf(zm->id, sizeof(zm->id), "%s", json_string_value(json_object_get(j, "id")) ?: "");
	snprintf(zm->engine_id, sizeof(zm->engine_id), "%s",
		 json_string_value(json_object_get(j, "engine_id")) ?: "");
	snprintf(zm->container, sizeof(zm->container), "%s",
		 json_string_value(json_object_get(j, "container")) ?: "");
	snprintf(zm->to, sizeof(zm->to), "%s", to);
	snprintf(zm->url, sizeof(zm->url), "%s", peer->url);
	zm->z = z;
	snprintf(zm->key_text, sizeof(zm->key_text), "%s", zm->sess[0].key_text);
	zm->complete = !strcmp(json_string_value(json_object_get(j, "mode")) ?: "", "complete");
	for (i = 0; i < ES_ZDM_STEP_MAX; i++)
		if (!strcmp(step, es_zdm_step_name(i)))
			zm->step = i;
	/* the step is recorded once every session was cut over */
	for (i = 0; zm->step >= ES_ZDM_CUT_OVER && zm->step != ES_ZDM_FAILED &&
		    i < (int)zm->n_sess; i++)
		zm->sess[i].cut = true;
out:
	json_decref(j);
	return zm;
}

/*
 * The agent died inside the engine's checkpoint, with the container paused
 * (the engine's own recovery resumes it first, at the migrator's start).
 */
static void resume_if_paused(struct es_zdm *z, struct es_zdm_mig *zm)
{
	char err[512];
	int ret = es_container_resume_if_paused(es_migrator_runtime(z->m), zm->container, err,
						sizeof(err));

	if (ret < 0)
		es_error("zdm_resume_failed", "container=%s error=\"%s\"", zm->container, err);
	else if (ret)
		es_zdm_event(z, zm, "zdm_container_resumed", NULL);
}

static void *recover_thread(void *arg)
{
	struct es_zdm_mig *zm = arg;
	struct es_zdm *z = zm->z;

	es_zdm_event(z, zm, "zdm_recovered", json_pack("{s:s}", "step", es_zdm_step_name(zm->step)));
	resume_if_paused(z, zm);
	/*
	 * Killed after the target ran the container, the target may have cut
	 * over already (the answer was lost): going on is the only way that
	 * cannot undo a cut-over. It fails (and aborts) if the target cannot.
	 */
	if (zm->step == ES_ZDM_RESTORED && (!cut_over(z, zm) || any_cut(z, zm)))
		complete(z, zm);
	else if (zm->step >= ES_ZDM_CUT_OVER) {
		complete(z, zm);
	} else {
		es_zdm_fail(z, zm, "the source agent restarted during step %s", es_zdm_step_name(zm->step));
		abort_migration(z, zm);
	}
	return NULL;
}

void es_zdm_recover(struct es_zdm *z)
{
	char dir[ES_PATH], path[ES_PATH + 300];
	struct es_zdm_mig *zm;
	struct dirent *de;
	pthread_t t;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/zdm", z->mcfg->state_dir);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (!strstr(de->d_name, ".json") || strstr(de->d_name, ".tmp"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		zm = load(z, path);
		if (!zm)
			continue;
		add(z, zm);
		if (zm->step >= ES_ZDM_DONE)
			continue;
		if (pthread_create(&t, NULL, recover_thread, zm))
			continue;
		pthread_detach(t);
	}
	if (d)
		closedir(d);
}
