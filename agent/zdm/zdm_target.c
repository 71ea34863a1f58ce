// SPDX-License-Identifier: GPL-2.0-only
/*
 * The target's side of a zero-downtime migration: each data-plane step on
 * the user's session, asked by the source (zdm.c) through /v1/zdm/target/OP.
 * Each step answers the same when asked twice (the source asks again when
 * an answer was lost, e.g. across this agent's restart), so a step that
 * already happened reports where the session is instead of failing.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "util/log.h"
#include "net/tcp_info.h"
#include "net/tcp_destroy.h"
#include "replay/tcp_replay.h"
#include "net/netns.h"
#include "migctl/seal.h"
#include "zdm_int.h"

/*
 * After a TCP cut-over, how long the check waits for the restored stream
 * to reach what the old container sent (es_mig_tcp_verify_settled): the
 * user's ACK of the old container's last answer comes within a round trip;
 * 1 s was seen too short on a heavily loaded machine (docs/migration.md).
 */
#define SETTLE_MS	2000
/* UDP catch-up: the restored container is done with what it was given once it is this quiet. */
#define CATCHUP_QUIET_MS	20

struct op_ctx {
	struct es_zdm				*z;
	struct es_mig_key			key;
	char					key_text[ES_MIG_KEY_TEXT_LEN];
	const char				*id;
	const struct es_zdm_target_args		*a;
};

/* A refused step: {error} in its answer, the reason with -errno e's text in fmt (0: none). */
static enum es_mig_err answer(json_t **resp, enum es_mig_err why, const char *fmt, int e)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, e ? strerror(-e) : "");
	*resp = json_pack("{s:s}", "error", msg);
	return why;
}

static void log_ev(struct op_ctx *o, const char *ev, json_t *f)
{
	if (!f)
		f = json_object();
	json_object_set_new(f, "session", json_string(o->key_text));
	es_migrator_event(o->z->m, "target", o->id, o->a->container ?: "-", ev, f);
}

static json_t *session_json(struct op_ctx *o)
{
	struct es_mig_session s;
	json_t *j;

	if (es_mig_session_get(&o->z->dp, &o->key, &s))
		return json_pack("{s:s}", "state", "absent");
	j = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}",
			 "state", es_mig_state_name(s.seq_state >> ES_MIG_STATE_SHIFT),
			 "seq", (json_int_t)(s.seq_state & ES_MIG_SEQ_MASK),
			 "cursor", (json_int_t)s.cursor, "hold_seq", (json_int_t)s.hold_seq,
			 "replayed", (json_int_t)s.replayed, "cut_seq", (json_int_t)s.cut_seq,
			 "forwarded", (json_int_t)s.forwarded, "mirrored", (json_int_t)s.mirrored,
			 "old_replies", (json_int_t)s.old_replies,
			 "new_replies", (json_int_t)s.new_replies,
			 "reply_base", (json_int_t)s.reply_base,
			 "suppressed", (json_int_t)(s.suppressed_old + s.suppressed_new),
			 "held", (json_int_t)s.held, "abort_reason",
			 es_mig_abort_name(s.abort_reason));
	if (s.abort_reason)
		json_object_set_new(j, "abort_why", json_string(es_mig_abort_why(s.abort_reason)));
	return j;
}

static unsigned int state_now(struct op_ctx *o, struct es_mig_session *s)
{
	if (es_mig_session_get(&o->z->dp, &o->key, s))
		return ES_MIG_STATE_MAX;
	return s->seq_state >> ES_MIG_STATE_SHIFT;
}

/*
 * A step refused because the session is no longer where it should be
 * (-ESTALE): when the data plane gave it up itself, its reason ("replay
 * buffer full: ..."), not the errno's text.
 */
static enum es_mig_err refused(struct op_ctx *o, json_t **resp, const char *what, int e)
{
	struct es_mig_session s;
	char msg[320];

	if (e != -ESTALE || state_now(o, &s) != ES_MIG_ABORTED || !s.abort_reason)
		return answer(resp, ES_MIG_EBUSY, what, e);
	snprintf(msg, sizeof(msg), what, "");
	*resp = json_pack("{s:s++}", "error", msg, "the data plane gave the session up: ",
			  es_mig_abort_why(s.abort_reason));
	return ES_MIG_EBUSY;
}

/* The service entry of the session's service. */
static struct es_mig_svc_key svc_of(const struct op_ctx *o)
{
	struct es_mig_svc_key sk = { .svc_port = o->key.svc_port, .proto = o->key.proto };

	memcpy(sk.svc_addr, o->key.svc_addr, sizeof(sk.svc_addr));
	return sk;
}

/*
 * The seal ends with the migration: at its first cut-over the entry goes
 * (new users are the restored container's, whose retransmitted SYNs now
 * pass), when it is given up new users go to the old container again.
 * Not sealed, the entry is left as it is (finish removes it).
 */
static void seal_lift(struct op_ctx *o, bool cut)
{
	struct es_mig_svc_key sk = svc_of(o);
	struct es_mig_svc svc;
	int ret;

	if (es_mig_service_get(&o->z->dp, &sk, &svc) || !(svc.flags & ES_MIG_SVC_HOLD))
		return;
	ret = cut ? es_mig_service_del(&o->z->dp, &sk) : es_mig_service_hold(&o->z->dp, &sk, false);
	log_ev(o, "zdm_seal_lifted", json_pack("{s:s,s:I,s:s}", "to", cut ? "restored" : "old",
					       "held_packets", (json_int_t)svc.held_new, "result",
					       ret ? strerror(-ret) : "ok"));
}

static enum es_mig_err op_start(struct op_ctx *o, json_t **resp)
{
	struct es_mig_session s;
	__u32 src[4];
	int ret;

	if (!o->a->source || es_mig_addr_parse(o->a->source, src))
		return answer(resp, ES_MIG_EINVAL, "field 'source' must be the source's tunnel address%s", 0);
	/*
	 * An earlier migration of this session that failed goes on with the
	 * same numbering (es_mig_start): the source's reply ordinals did.
	 */
	ret = es_mig_start(&o->z->dp, &o->key, src, true, o->z->cfg->replay_limit);
	if (ret == -EBUSY && state_now(o, &s) != ES_MIG_ABORTED)
		ret = 0;	/* asked again: it is past forwarding already */
	if (ret)
		return answer(resp, ES_MIG_EBUSY, "cannot forward the session: %s", ret);
	es_zdm_group_add(o->z, o->id, &o->key);
	state_now(o, &s);
	log_ev(o, "zdm_forwarding", json_pack("{s:I}", "seq",
					      (json_int_t)(s.seq_state & ES_MIG_SEQ_MASK)));
	return ES_MIG_OK;
}

/* A number argument of a step; false when given and not one. */
static bool num_arg(const char *text, unsigned long long *v)
{
	char *end = NULL;

	if (!text)
		return true;
	*v = strtoull(text, &end, 10);
	return *text && !*end;
}

/*
 * The source checkpointed behind its own hold and tells the last request
 * its image holds; without one, nothing had reached the old container
 * since forwarding began and the cursor set then stands. With it comes
 * the source's reply ordinal at the freeze, from which the restored
 * container's replies are numbered (one reply per request without it).
 */
static enum es_mig_err op_cursor(struct op_ctx *o, json_t **resp)
{
	const char *cur = o->a->cursor;
	unsigned long long c = 0, rb = 0;
	struct es_mig_session s;
	int ret = 0;

	if (!num_arg(cur, &c) || !num_arg(o->a->reply_base, &rb))
		return answer(resp, ES_MIG_EINVAL, "fields 'cursor' and 'reply_base' must be "
			      "numbers%s", 0);
	if (cur) {
		ret = es_mig_cursor_set(&o->z->dp, &o->key, c);
		/* asked again after a lost answer: it is set already */
		if (ret == -ESTALE && state_now(o, &s) < ES_MIG_ABORTED && s.cursor == c)
			ret = 0;
	} else if (state_now(o, &s) != ES_MIG_FORWARDING) {
		ret = -ESTALE;
	}
	if (!ret && o->a->reply_base)
		ret = es_mig_reply_base_set(&o->z->dp, &o->key, rb);
	if (ret)
		return refused(o, resp, "cannot set the cursor: %s", ret);
	state_now(o, &s);
	log_ev(o, "zdm_cursor", json_pack("{s:I,s:b,s:I}", "cursor", (json_int_t)s.cursor,
					  "from_source", cur != NULL, "reply_base",
					  (json_int_t)s.reply_base));
	return ES_MIG_OK;
}

/* The test build's verify_timed_out fault: once per agent run. */
static atomic_bool verify_faked;

/*
 * The exactly-once check of the replayed requests (es_mig_verify), as the
 * answer carries it; old_end: the source's final reply count (es_mig_verify).
 */
static json_t *verdict_json(struct op_ctx *o, unsigned int wait_ms, __u64 old_end)
{
	struct es_mig_verdict v;
	json_t *j;

	if (es_mig_verify(&o->z->dp, &o->key, wait_ms, old_end, &v))
		return json_pack("{s:b,s:s}", "passed", 0, "error", "no session entry");
	/*
	 * The test build can say that the agent's first check timed out, as a
	 * WAN cut at the cut-over makes it (drill --fault verify_timed_out):
	 * the source must ask again, not report a failure.
	 */
	if (es_mig_fault("verify_timed_out") && !atomic_exchange(&verify_faked, true)) {
		v.timed_out = true;
		v.passed = false;
	}
	j = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:b}", "replayed",
		      (json_int_t)v.replayed, "replies", (json_int_t)v.replies, "reply_base",
		      (json_int_t)v.reply_base, "answered_by_both", (json_int_t)v.both,
		      "answered_by_one", (json_int_t)v.one, "unanswered", (json_int_t)v.none,
		      "claims_missing", (json_int_t)v.missing, "suppressed",
		      (json_int_t)v.suppressed, "claims_failed", (json_int_t)v.claims_failed,
		      "replies_diverged", (json_int_t)v.diverged,
		      "timed_out", v.timed_out, "passed", v.passed);
	log_ev(o, "zdm_verified", json_deep_copy(j));
	return j;
}

/*
 * TCP: the restored container's stream against the old one's
 * (es_mig_tcp_verify_settled: up to settle_ms for the restored stream to
 * reach the old one's), logged as ev unless NULL.
 */
static json_t *tcp_verdict_json(struct op_ctx *o, const char *ev, unsigned int settle_ms)
{
	struct es_mig_tcp_verdict v;
	json_t *j;

	if (es_mig_tcp_verify_settled(&o->z->dp, &o->key, settle_ms, &v))
		return json_pack("{s:b,s:s}", "passed", 0, "error", "no session entry");
	j = json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:b}",
		      "protocol", "tcp",
		      "block_bytes", ES_MIG_TCP_BLOCK, "blocks_matched", (json_int_t)v.matched,
		      "blocks_diverged", (json_int_t)v.diverged, "segments_unhashed",
		      (json_int_t)v.unhashed, "bytes_both_sent", (json_int_t)v.overlap,
		      "bytes_in_whole_blocks", (json_int_t)v.whole,
		      "bytes_compared", (json_int_t)v.compared, "old_snd_nxt",
		      (json_int_t)v.old_snd_nxt, "new_snd_nxt", (json_int_t)v.new_snd_nxt,
		      "new_ack", (json_int_t)v.new_ack, "old_late_segments", (json_int_t)v.old_late,
		      "caught_up", v.caught_up, "passed", v.passed);
	if (ev)
		log_ev(o, ev, json_deep_copy(j));
	return j;
}

/*
 * The check again, for a source agent that restarted after cut-over and
 * lost the answer, or whose first answer timed out. A UDP source sends
 * its reply count (replies) once the old container has stopped: a
 * service that answered the last requests with no datagram sent no reply
 * after cut_seq for the first check to wait for.
 */
static enum es_mig_err op_verify(struct op_ctx *o, json_t **resp)
{
	unsigned long long end = ES_MIG_OLD_END_UNKNOWN;

	if (!num_arg(o->a->replies, &end))
		return answer(resp, ES_MIG_EINVAL, "field 'replies' must be a number%s", 0);
	*resp = json_pack("{s:o}", "exactly_once", o->key.proto == IPPROTO_TCP ?
			  tcp_verdict_json(o, "zdm_verified", 0) :
			  verdict_json(o, o->z->cfg->cutover_timeout_ms, end));
	return ES_MIG_OK;
}

/*
 * A replay that timed out: the restored socket's own TCP state (its
 * window, what it has in flight, its retransmission back-off), which says
 * why it stopped short of the old container's output. Empty when it
 * cannot be read.
 */
static void restored_socket(struct op_ctx *o, char *buf, size_t len)
{
	struct es_tcp_tuple t = { .laddr = *es_mig_in6(o->key.svc_addr),
				  .raddr = *es_mig_in6(o->key.user_addr),
				  .lport = o->key.svc_port, .rport = o->key.user_port };
	struct tcp_info ti;
	int ns, r;

	ns = es_zdm_netns_open(o->z, o->key.svc_addr);
	r = ns < ES_NETNS_OWN ? ns : es_tcp_conn_info(ns, &t, &ti);
	es_zdm_netns_close(ns);
	if (r < 0)
		snprintf(buf, len, "; the restored socket's state cannot be read: %s",
			 strerror(-r));
	else if (!r)
		snprintf(buf, len, "; no restored socket with its state (gone, or closing)");
	else
		snprintf(buf, len, "; the restored socket: state %u, congestion state %u, "
			 "cwnd %u, %u segments unacknowledged, %u retransmitted, back-off %u, "
			 "rto %u us, the user's window %u, %u bytes not sent",
			 ti.tcpi_state, ti.tcpi_ca_state,
			 ti.tcpi_snd_cwnd, ti.tcpi_unacked, ti.tcpi_retrans, ti.tcpi_backoff,
			 ti.tcpi_rto, ti.tcpi_snd_wnd, ti.tcpi_notsent_bytes);
}

/* The replay's failure, as the answer says it. */
static enum es_mig_err replay_failed(struct op_ctx *o, json_t **resp, int ret,
				     const struct es_mig_tcp_replay *r)
{
	struct es_mig_session s;
	char msg[768] = "", why[320], sock[256] = "";

	if (state_now(o, &s) == ES_MIG_ABORTED)
		snprintf(msg, sizeof(msg), "the data plane gave the migration up: %s",
			 es_mig_abort_why(s.abort_reason));
	else if (ret == -ESTALE && es_zdm_group_aborted(o->z, o->id, why, sizeof(why)))
		snprintf(msg, sizeof(msg), "the data plane gave the migration up: %s", why);
	else if (ret == -ETIMEDOUT)
		restored_socket(o, sock, sizeof(sock));
	if (!msg[0])
		snprintf(msg, sizeof(msg), "cannot replay the TCP session: %s (handed over %u "
			 "segments, %u again, %u probes, %u acknowledgements lowered; the restored "
			 "socket acknowledged up to %u of the user's %u and sent up to %u of the old "
			 "container's %u; tcp_seen 0x%x%s)", strerror(-ret), r->injected, r->again,
			 r->probes, r->acks_lowered, s.new_ack, r->user_end, s.new_snd_nxt,
			 s.old_snd_nxt, s.tcp_seen, sock);
	*resp = json_pack("{s:s}", "error", msg);
	return ES_MIG_EBUSY;
}

/*
 * TCP: hand the restored socket the user's segments, their ACKs kept
 * within what it has sent (lib/replay/tcp_replay.h), and cut over once it
 * has caught up with the user and with the old container.
 */
static enum es_mig_err op_cutover_tcp(struct op_ctx *o, json_t **resp)
{
	struct es_mig_tcp_replay r;
	struct es_mig_session s;
	int ret;

	log_ev(o, "zdm_replay_start", NULL);
	ret = es_zdm_group_replay(o->z, o->id, &o->key, true, NULL, &r);
	if (ret == -ESTALE && state_now(o, &s) == ES_MIG_CUTOVER)
		ret = 0;	/* asked again after a lost answer */
	if (ret)
		return replay_failed(o, resp, ret, &r);
	seal_lift(o, true);
	state_now(o, &s);
	log_ev(o, "zdm_cutover", json_pack("{s:i,s:i,s:i,s:i,s:I,s:I,s:i}", "replayed",
					   r.injected, "handed_again", r.again, "probes", r.probes,
					   "acks_lowered", r.acks_lowered, "cut_seq",
					   (json_int_t)s.cut_seq, "cursor", (json_int_t)s.cursor,
					   "hole_wait_ms", r.hole_wait_ms));
	*resp = json_pack("{s:i,s:I,s:I,s:b,s:o}", "replayed", r.injected, "cut_seq",
			  (json_int_t)s.cut_seq, "cursor", (json_int_t)s.cursor, "old_answered_all", 1,
			  "exactly_once", tcp_verdict_json(o, "zdm_verified", SETTLE_MS));
	return ES_MIG_OK;
}

/*
 * UDP: replay what is buffered and compare the restored container's
 * replies with the old one's, before the cut-over: until then the user
 * gets the old container's copies only, so a service found not
 * deterministic here is given up with nothing of the restored one shown.
 */
static enum es_mig_err op_catchup_udp(struct op_ctx *o, json_t **resp)
{
	const char *timed_out = NULL;
	unsigned int replayed = 0;
	struct es_mig_session s;
	char msg[256];
	struct es_mig_dp dp;
	int ret;

	/* asked again by a source that lost the answer to its cut-over: compared before it */
	if (state_now(o, &s) == ES_MIG_CUTOVER) {
		*resp = json_pack("{s:i,s:I}", "replayed", 0, "compared",
				  (json_int_t)s.new_replies);
		return ES_MIG_OK;
	}
	log_ev(o, "zdm_replay_start", json_pack("{s:b}", "cut", 0));
	ret = es_zdm_ct_dp(o->z, &o->key, &dp) ?: es_mig_replay_catchup(&dp, &o->key, &replayed);
	es_zdm_ct_dp_put(&dp);
	if (ret)
		return refused(o, resp, "cannot replay: %s", ret);
	/*
	 * A wait that times out does not stop the catch-up (a service may
	 * stop answering); the check after the cut-over still counts every
	 * pair. The event says which wait it was.
	 */
	ret = es_mig_wait_new_quiet(&o->z->dp, &o->key, CATCHUP_QUIET_MS,
				    o->z->cfg->cutover_timeout_ms, &s);
	if (ret == -ETIMEDOUT)
		timed_out = "restored_container_quiet";
	if (!ret || ret == -ETIMEDOUT)
		ret = es_mig_compared_set(&o->z->dp, &o->key, o->z->cfg->cutover_timeout_ms, &s);
	if (ret == -ETIMEDOUT)
		timed_out = timed_out ? "both" : "old_copies";
	if (ret && ret != -ETIMEDOUT)
		return refused(o, resp, "cannot compare the replies: %s", ret);
	log_ev(o, "zdm_compared", json_pack("{s:i,s:I,s:I,s:I,s:s?}", "replayed", replayed,
					    "new_replies", (json_int_t)s.new_replies,
					    "old_replies",
					    (json_int_t)(s.old_replies - s.reply_base),
					    "diverged", (json_int_t)s.replies_diverged,
					    "wait_timed_out", timed_out));
	if (s.replies_diverged) {
		snprintf(msg, sizeof(msg), "the restored container's replies differ from the old "
			 "one's (%llu of them): the service does not answer the same requests "
			 "with the same datagrams (docs/migration.md, \"Which reply is which\")",
			 (unsigned long long)s.replies_diverged);
		*resp = json_pack("{s:s}", "error", msg);
		return ES_MIG_EBUSY;
	}
	*resp = json_pack("{s:i,s:I}", "replayed", replayed, "compared",
			  (json_int_t)s.new_replies);
	return ES_MIG_OK;
}

/*
 * TCP: replay until the restored socket has caught up with the user and
 * the old container, and leave the session there, not cut over: the
 * source cuts no connection of a container over before every one has
 * been compared this far (state the connections share shows as a
 * divergence here, while the old container still serves them all). UDP:
 * op_catchup_udp.
 */
static enum es_mig_err op_catchup(struct op_ctx *o, json_t **resp)
{
	struct es_mig_tcp_replay r;
	bool shared;
	int ret;

	if (o->key.proto != IPPROTO_TCP)
		return op_catchup_udp(o, resp);
	log_ev(o, "zdm_replay_start", json_pack("{s:b}", "cut", 0));
	ret = es_zdm_group_replay(o->z, o->id, &o->key, false, &shared, &r);
	if (ret)
		return replay_failed(o, resp, ret, &r);
	log_ev(o, "zdm_caught_up", json_pack("{s:i,s:i,s:i,s:b}", "replayed", r.injected,
					     "handed_again", r.again, "probes", r.probes,
					     "shared", shared));
	*resp = json_pack("{s:i,s:o}", "replayed", r.injected, "streams",
			  tcp_verdict_json(o, NULL, 0));
	return ES_MIG_OK;
}

/* Replay, cut over, then wait for the old container's answer to the last request it got. */
static enum es_mig_err op_cutover(struct op_ctx *o, json_t **resp)
{
	struct es_mig_session s;
	unsigned int replayed = 0;
	struct es_mig_dp dp;
	int ret;

	if (o->key.proto == IPPROTO_TCP)
		return op_cutover_tcp(o, resp);
	log_ev(o, "zdm_replay_start", NULL);
	ret = es_zdm_ct_dp(o->z, &o->key, &dp) ?: es_mig_replay_cutover(&dp, &o->key, &replayed);
	es_zdm_ct_dp_put(&dp);
	if (ret == -ESTALE && state_now(o, &s) == ES_MIG_CUTOVER)
		ret = 0;
	if (ret)
		return refused(o, resp, "cannot replay and cut over: %s", ret);
	if (state_now(o, &s) != ES_MIG_CUTOVER)
		return answer(resp, ES_MIG_EBUSY, "session not cut over%s", 0);
	log_ev(o, "zdm_cutover", json_pack("{s:i,s:I,s:I}", "replayed", replayed, "cut_seq",
					   (json_int_t)s.cut_seq, "cursor", (json_int_t)s.cursor));
	replayed = s.cut_seq - s.cursor;	/* the catch-up's too */
	ret = es_mig_wait_old_done(&o->z->dp, &o->key, o->z->cfg->cutover_timeout_ms);
	log_ev(o, "zdm_old_answered", json_pack("{s:b}", "all", !ret));
	*resp = json_pack("{s:i,s:I,s:I,s:b,s:o}", "replayed", replayed, "cut_seq",
			  (json_int_t)s.cut_seq, "cursor", (json_int_t)s.cursor, "old_answered_all",
			  /* the old side's wait is spent already: the check does not wait it twice */
			  !ret, "exactly_once",
			  verdict_json(o, ret ? 0 : o->z->cfg->cutover_timeout_ms,
				       ES_MIG_OLD_END_UNKNOWN));
	return ES_MIG_OK;
}

/*
 * The source closes the set of connections the migration carries: new
 * users of the session's service are held here from now on (their SYNs
 * dropped, sent again by their TCP), and every connection this node
 * forwarded since the migration began here is named, so that the source
 * takes in those it does not carry yet (docs/migration.md, "The seal").
 */
static enum es_mig_err op_seal(struct op_ctx *o, json_t **resp)
{
	struct es_mig_svc_key sk = svc_of(o);
	char text[ES_MIG_KEY_TEXT_LEN];
	struct es_mig_key *keys;
	json_t *list;
	__u64 since;
	int n, i, ret;

	if (o->key.proto != IPPROTO_TCP)
		return answer(resp, ES_MIG_EINVAL, "only a TCP service is sealed%s", 0);
	if (!es_zdm_group_since(o->z, o->id, &since))
		return answer(resp, ES_MIG_ENOENT, "the migration is not known here (this agent "
			      "started after it began)%s", 0);
	ret = es_mig_service_hold(&o->z->dp, &sk, true);
	if (ret)
		return answer(resp, ES_MIG_EINTERNAL, "cannot hold the service's new users: %s", ret);
	keys = calloc(ES_ZDM_MAX_SESSIONS, sizeof(*keys));
	n = keys ? es_mig_service_forwarded(&o->z->dp, &sk, since, keys, ES_ZDM_MAX_SESSIONS) :
		   -ENOMEM;
	if (n < 0) {
		free(keys);
		seal_lift(o, false);
		return answer(resp, ES_MIG_EINTERNAL, "cannot list the forwarded connections: %s", n);
	}
	list = json_array();
	for (i = 0; i < n && i < ES_ZDM_MAX_SESSIONS; i++) {
		es_mig_key_format(&keys[i], text, sizeof(text));
		json_array_append_new(list, json_string(text));
	}
	free(keys);
	log_ev(o, "zdm_sealed", json_pack("{s:i}", "forwarded", n));
	*resp = json_pack("{s:o,s:i}", "sessions", list, "forwarded", n);
	return ES_MIG_OK;
}

/* The service is local now: no more forwarding for it; the buffer goes. */
static enum es_mig_err op_finish(struct op_ctx *o, json_t **resp)
{
	struct es_mig_svc_key sk = svc_of(o);
	struct es_mig_session s = {};
	unsigned int n = 0;
	int ret;

	es_mig_service_del(&o->z->dp, &sk);
	/* the old container is stopped: its late segments are all in by now */
	es_mig_session_get(&o->z->dp, &o->key, &s);
	ret = es_mig_finish(&o->z->dp, &o->key, &n);
	if (ret && ret != -ENOENT)
		return answer(resp, ES_MIG_EINTERNAL, "cannot delete the session: %s", ret);
	log_ev(o, "zdm_finished", json_pack("{s:i,s:I,s:I}", "records_deleted", n,
					   "old_late_segments", (json_int_t)s.tcp_old_late,
					   "old_suppressed", (json_int_t)s.suppressed_old));
	*resp = json_pack("{s:i}", "records_deleted", n);
	return ES_MIG_OK;
}

/* Bounds a resend: the other node asks for one gap at a time. */
#define RESEND_MAX	4096

static int parse_seq(const char *s, unsigned long long *out)
{
	char *end = NULL;

	if (!s || !*s)
		return -1;
	*out = strtoull(s, &end, 10);
	return *end ? -1 : 0;
}

int es_zdm_seq_range(const char *from, const char *to, __u64 *f, __u64 *t)
{
	unsigned long long a, b;

	if (parse_seq(from, &a) || parse_seq(to, &b) || !a || b < a || b - a >= RESEND_MAX)
		return -1;
	*f = a;
	*t = b;
	return 0;
}

/*
 * TCP: the restored container's copy of the connection, if it left one
 * (an orphan in FIN-WAIT after its container was removed), is aborted:
 * it holds the connection's address pair, and a retry's restore could
 * not connect its socket back ("Cannot assign requested address"). The
 * user's side is the old container's until cut-over, so nothing of the
 * user's is here.
 */
static void forget_restored_connection(struct op_ctx *o)
{
	int ret, ns;

	if (o->key.proto != IPPROTO_TCP)
		return;
	ns = es_zdm_netns_open(o->z, o->key.svc_addr);
	ret = ns < ES_NETNS_OWN ? ns :
	      es_tcp_destroy(ns, es_mig_in6(o->key.svc_addr), o->key.svc_port,
			     es_mig_in6(o->key.user_addr), o->key.user_port);
	es_zdm_netns_close(ns);
	if (ret != -ENOENT)
		log_ev(o, "zdm_restored_connection_closed", json_pack("{s:s}", "result",
		       ret ? strerror(-ret) : "closed"));
}

/*
 * Give up: requests keep going to the source (held ones are sent), the
 * buffer is dropped and a restored container, if any, is removed. The
 * entry stays, ABORTED: the session keeps being forwarded and raises no
 * new handoff (no automatic retry loop); a later start replaces it.
 */
static enum es_mig_err op_abort(struct op_ctx *o, json_t **resp)
{
	struct es_runtime *rt = es_migrator_runtime(o->z->m);
	const char *ct = o->a->remove;
	unsigned long long upto = 0;
	struct es_mig_session s;
	unsigned int n = 0;
	int ret;

	ret = es_mig_abort(&o->z->dp, &o->key);
	if (ret == -ESTALE && state_now(o, &s) == ES_MIG_CUTOVER)
		return answer(resp, ES_MIG_EBUSY, "already cut over: the old container may be gone%s", 0);
	if (ret && ret != -ESTALE && ret != -ENOENT)
		return answer(resp, ES_MIG_EINTERNAL, "cannot abort the session: %s", ret);
	/*
	 * Records past what the source delivered stay: the WAN may have lost
	 * them on the way and the source asks for them again (resend); the
	 * next cursor or finish deletes them.
	 */
	ret = es_mig_records_delete(&o->z->dp, &o->key, 0, parse_seq(o->a->delivered, &upto) ?
				    ES_MIG_SEQ_MASK : upto);
	n = ret > 0 ? ret : 0;
	ret = 0;
	if (ct && es_safe_name(ct) && es_container_exists(rt, ct))
		ret = es_container_destroy(rt, ct);
	forget_restored_connection(o);
	seal_lift(o, false);
	log_ev(o, "zdm_aborted", json_pack("{s:i,s:s,s:s?}", "records_dropped", n, "reason",
					   o->a->reason ?: "asked by the source", "remove_error",
					   ret ? strerror(-ret) : NULL));
	/* the session is given up all the same; the source asks again with the next one */
	if (ret)
		return answer(resp, ES_MIG_EINTERNAL, "cannot remove the restored container: %s",
			      ret);
	*resp = json_pack("{s:i}", "records_dropped", n);
	return ES_MIG_OK;
}


/*
 * The last of the records from `from` on that the buffer no longer has (or
 * whose copy failed), up to `to`.
 */
static __u64 missing_run(struct op_ctx *o, __u64 from, __u64 to)
{
	struct es_mig_record rec;
	int ret;

	for (; from < to; from++) {
		ret = es_mig_record_get(&o->z->dp, &o->key, from + 1, &rec);
		if (ret != -ENOENT && ret != -ENODATA)
			break;
	}
	return from;
}

/*
 * The source misses requests from..to (lost or late on the WAN): send the
 * ones the replay buffer still holds again, in order. The answer says up
 * to where, from `from` on, they are gone for good (missing_to, 0 when
 * `from` was sent), so the source gives those up at once instead of
 * waiting for them.
 */
static enum es_mig_err op_resend(struct op_ctx *o, json_t **resp)
{
	__u64 from, to, missing = 0, seq;
	unsigned int sent = 0;
	int ret;

	if (es_zdm_seq_range(o->a->from, o->a->to, &from, &to))
		return answer(resp, ES_MIG_EINVAL, "fields 'from' and 'to' must be sequence numbers, "
			      "from <= to, at most 4096 apart%s", 0);
	ret = es_mig_send_records(&o->z->dp, &o->key, from, to, &sent, &missing);
	if (ret)
		return answer(resp, ES_MIG_EINTERNAL, "cannot send the records again: %s", ret);
	seq = missing == from ? missing_run(o, from, to) : 0;
	log_ev(o, "zdm_resent", json_pack("{s:I,s:I,s:i,s:I}", "from", (json_int_t)from, "to",
					  (json_int_t)to, "sent", sent, "missing_to",
					  (json_int_t)seq));
	*resp = json_pack("{s:i,s:I}", "sent", sent, "missing_to", (json_int_t)seq);
	return ES_MIG_OK;
}

enum es_mig_err es_zdm_target_op(struct es_zdm *z, const char *op,
				 const struct es_zdm_target_args *a, json_t **resp)
{
	struct op_ctx o = { .z = z, .a = a, .id = a->id ?: "-" };
	enum es_mig_err code;
	char err[256];

	*resp = NULL;
	if (!z->dp_ready)
		return answer(resp, ES_MIG_EUNAVAIL, "this agent has no zero_downtime data plane%s", 0);
	if (es_mig_key_parse(a->session ?: "", &o.key, err, sizeof(err))) {
		*resp = json_pack("{s:s}", "error", err);
		return ES_MIG_EINVAL;
	}
	es_mig_key_format(&o.key, o.key_text, sizeof(o.key_text));
	if (!strcmp(op, "start"))
		code = op_start(&o, resp);
	else if (!strcmp(op, "cursor"))
		code = op_cursor(&o, resp);
	else if (!strcmp(op, "catchup"))
		code = op_catchup(&o, resp);
	else if (!strcmp(op, "cutover"))
		code = op_cutover(&o, resp);
	else if (!strcmp(op, "finish"))
		code = op_finish(&o, resp);
	else if (!strcmp(op, "seal"))
		code = op_seal(&o, resp);
	else if (!strcmp(op, "abort"))
		code = op_abort(&o, resp);
	else if (!strcmp(op, "resend"))
		code = op_resend(&o, resp);
	else if (!strcmp(op, "verify"))
		code = op_verify(&o, resp);
	else if (!strcmp(op, "status"))
		code = ES_MIG_OK;
	else
		return answer(resp, ES_MIG_ENOENT, "unknown step (start, cursor, catchup, seal, cutover, finish, "
			      "abort, resend, verify, status)%s", 0);
	if (!*resp)
		*resp = json_object();
	json_object_set_new(*resp, "session", session_json(&o));
	return code;
}
