// SPDX-License-Identifier: GPL-2.0-only
/*
 * Requests and replies lost or late on the tunnel between the nodes
 * (zdm_int.h; docs/migration.md, "The tunnel over a real WAN").
 *
 * Source side: the data plane delivers tunnelled requests to the old
 * container once each and in sequence; one that arrives past a missing one
 * is kept and the session's es_mig_remote entry turns REORDER. This thread
 * has the target send the missing requests again from its replay buffer
 * and delivers the kept ones in sequence.
 *
 * Target side: the data plane passes each source reply once (es_mig_rseen
 * remembers the ordinals that arrived) and notes the ones that did not
 * come; this thread has the source send them again from its copies
 * (es_mig_sent).
 *
 * Both are found by a scan of the maps, kicked by the data plane's events
 * and repeated every SCAN_MS (an event can be lost, the agent restarted,
 * a tail needs a probe). A
 * request or reply the other node no longer has, or that does not come
 * within gap_timeout_ms, is given up: what follows it goes on, and the loss
 * is logged as an error and an event, never silent.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "util/clock.h"
#include "util/log.h"
#include "zdm_int.h"

#define SCAN_MS		250	/* looked at without an event (a tail may need a probe) */
#define BUSY_MS		5	/* while a gap is open */
#define ASK_MS		50	/* between two requests for the same gap */
#define MAX_GAPS	64
#define PROBE_MS	300	/* a tail unanswered this long is sent once more */
/*
 * Then again after 2 times that and 4 times that, every 1.2 s from then
 * on: 9.3 s in all. Backing off further (2.4 s, 4.8 s) left a WAN cut of
 * 3 s at the cut-over with its next probe at 4.5 s, and a loaded CI run
 * found the old container's last answer after the target's 5 s wait
 * (cutover_timeout_ms): a reply given up, a migration failed after its
 * cut-over.
 */
#define PROBE_TRIES	9
#define PROBE_MAX_SHIFT	2
#define MAX_PROBES	1024

enum gap_kind { GAP_REQUESTS, GAP_REPLIES };

/* A gap being filled: since when, and when the other node was last asked. */
struct gap {
	struct es_mig_key	key;
	enum gap_kind		kind;
	__u64			from;
	int64_t			since_ms, asked_ms;
};

/*
 * A tail the WAN may have lost: a gap is only seen when something arrives
 * after it, and nothing may (the last requests before cut-over, the last
 * replies before the user stops). When the last one sent has gone
 * unanswered for PROBE_MS, it is sent once more: the other node drops it
 * as a duplicate, or finds the gap before it and asks for the rest. The
 * probe can be lost as well (at 5 % loss, one tail in 400 lost both), so
 * it is repeated, backing off, PROBE_TRIES times in all.
 */
struct probe {
	struct es_mig_key	key;
	enum gap_kind		kind;
	__u64			last, acked;	/* sent, and acknowledged, when it was seen */
	int64_t			since_ms;	/* seen so, or last probed */
	unsigned int		tries;
};

struct gaps {
	struct gap	g[MAX_GAPS];
	unsigned int	n;
	struct probe	p[MAX_PROBES];
	unsigned int	np;
};

static bool gap_is(const struct gap *g, enum gap_kind kind, const struct es_mig_key *k)
{
	return g->kind == kind && !memcmp(&g->key, k, sizeof(*k));
}

static struct gap *gap_find(struct gaps *gs, enum gap_kind kind, const struct es_mig_key *k,
			    __u64 from)
{
	struct gap fresh = { *k, kind, from, es_now_ms(), 0 };
	unsigned int i;

	for (i = 0; i < gs->n; i++)
		if (gap_is(&gs->g[i], kind, k)) {
			if (gs->g[i].from != from)
				gs->g[i] = fresh;
			return &gs->g[i];
		}
	if (gs->n == MAX_GAPS)
		return NULL;
	gs->g[gs->n] = fresh;
	return &gs->g[gs->n++];
}

static void gap_forget(struct gaps *gs, enum gap_kind kind, const struct es_mig_key *k)
{
	unsigned int i;

	for (i = 0; i < gs->n; i++)
		if (gap_is(&gs->g[i], kind, k))
			gs->g[i] = gs->g[--gs->n];
}

/* kind names the role: requests are chased by the source, replies by the target */
static void gap_event(struct es_zdm *z, enum gap_kind kind, const char *ev,
		      const struct es_mig_key *k, __u64 from, __u64 to)
{
	char key[ES_MIG_KEY_TEXT_LEN];

	es_mig_key_format(k, key, sizeof(key));
	es_migrator_event(z->m, kind == GAP_REQUESTS ? "source" : "target", "-", "-", ev,
			  json_pack("{s:s,s:I,s:I}", "session", key, "from", (json_int_t)from,
				    "to", (json_int_t)to));
}

/*
 * Ask the peer at peer_addr (tunnel address) to send kind from..to again:
 * the target its records (op resend), the source its reply copies;
 * *missing_to is where, from `from` on, it has them no more (0: `from` was
 * sent). -1 when it could not be asked.
 */
static int ask_resend(struct es_zdm *z, enum gap_kind kind, const struct es_mig_key *k,
		      const __u32 *peer_addr, __u64 from, __u64 to, __u64 *missing_to)
{
	const char *node = es_zdm_peer_by_addr(z, peer_addr);
	const struct es_mig_peer *peer = node ? es_mig_peer_find(z->mcfg, node) : NULL;
	char path[512], key[ES_MIG_KEY_TEXT_LEN], num[24], err[256];
	json_t *r = NULL;
	int code;

	*missing_to = 0;
	if (!peer)
		return -1;
	es_mig_key_format(k, key, sizeof(key));
	snprintf(path, sizeof(path), "/v1/zdm/%s/resend?x=1",
		 kind == GAP_REQUESTS ? "target" : "source");
	es_zdm_query_add(path, sizeof(path), "session", key);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)from);
	es_zdm_query_add(path, sizeof(path), "from", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)to);
	es_zdm_query_add(path, sizeof(path), "to", num);
	code = es_peer_json(es_migrator_peers(z->m), z->mcfg, peer->url, "POST", path, NULL,
			    z->mcfg->request_timeout_ms, &r, err, sizeof(err));
	*missing_to = json_integer_value(json_object_get(r, "missing_to"));
	json_decref(r);
	if (code != 200) {
		es_warn("zdm_resend_unanswered", "node=%s code=%d error=\"%s\"", node, code, err);
		return -1;
	}
	return 0;
}

static int skip_to(struct es_zdm *z, enum gap_kind kind, const struct es_mig_key *k, __u64 to)
{
	return kind == GAP_REQUESTS ? es_mig_src_skip(&z->dp, k, to) :
				      es_mig_reply_skip(&z->dp, k, to);
}

/* Give kind up to `to` up: what follows goes on, the loss is told. */
static void give_up(struct es_zdm *z, struct gaps *gs, enum gap_kind kind,
		    const struct es_mig_key *k, __u64 from, __u64 to, const char *why)
{
	const char *ev = kind == GAP_REQUESTS ? "zdm_requests_lost" : "zdm_replies_lost";
	char key[ES_MIG_KEY_TEXT_LEN];

	if (skip_to(z, kind, k, to))
		return;
	es_mig_key_format(k, key, sizeof(key));
	es_error(ev, "session=%s from=%llu to=%llu reason=\"%s\"", key,
		 (unsigned long long)from, (unsigned long long)to, why);
	gap_event(z, kind, ev, k, from, to);
	gap_forget(gs, kind, k);
}

/* A gap from..to of kind towards the peer at peer_addr: wait, ask again, or give up. */
static void chase(struct es_zdm *z, struct gaps *gs, enum gap_kind kind,
		  const struct es_mig_key *k, const __u32 *peer_addr, __u64 from, __u64 to)
{
	struct gap *g = gap_find(gs, kind, k, from);
	__u64 missing_to = 0;

	if (!g)
		return;
	if (es_now_ms() - g->since_ms >= z->cfg->gap_timeout_ms) {
		give_up(z, gs, kind, k, from, to, "not received again within gap_timeout_ms");
		return;
	}
	if (es_now_ms() - g->asked_ms < ASK_MS)
		return;
	if (!g->asked_ms)
		gap_event(z, kind, kind == GAP_REQUESTS ? "zdm_gap" : "zdm_reply_gap", k, from, to);
	g->asked_ms = es_now_ms();
	if (!ask_resend(z, kind, k, peer_addr, from, to, &missing_to) && missing_to >= from)
		give_up(z, gs, kind, k, from, missing_to, "the other node no longer has them");
}

/* True when the tail last..acked of kind for k has waited unchanged long enough to probe again. */
static bool probe_due(struct gaps *gs, enum gap_kind kind, const struct es_mig_key *k,
		      __u64 last, __u64 acked)
{
	struct probe *p = NULL;
	unsigned int i;

	for (i = 0; i < gs->np && !p; i++)
		if (gs->p[i].kind == kind && !memcmp(&gs->p[i].key, k, sizeof(*k)))
			p = &gs->p[i];
	if (!p && gs->np < MAX_PROBES)
		p = &gs->p[gs->np++];
	if (!p) {
		/* full: the entry left alone longest is a session long gone */
		p = &gs->p[0];
		for (i = 1; i < MAX_PROBES; i++)
			if (gs->p[i].since_ms < p->since_ms)
				p = &gs->p[i];
	}
	if (p->kind != kind || memcmp(&p->key, k, sizeof(*k)) || p->last != last ||
	    p->acked != acked) {
		*p = (struct probe){ *k, kind, last, acked, es_now_ms(), 0 };
		return false;
	}
	if (p->tries >= PROBE_TRIES || last <= acked ||
	    es_now_ms() - p->since_ms <
	    (int64_t)PROBE_MS << (p->tries < PROBE_MAX_SHIFT ? p->tries : PROBE_MAX_SHIFT))
		return false;
	p->tries++;
	p->since_ms = es_now_ms();
	return true;
}

/* Source side: the last reply sent once more, if it went unacknowledged. */
static void probe_replies(struct es_zdm *z, struct gaps *gs, const struct es_mig_key *k,
			  const struct es_mig_remote *r)
{
	unsigned int sent = 0;
	__u64 missing = 0;

	/* the target acknowledges nothing to the source: the count standing still will do */
	if (r->replies && probe_due(gs, GAP_REPLIES, k, r->replies, 0))
		es_mig_send_replies(&z->dp, k, r->replies, r->replies, &sent, &missing);
}

/* Target side: the last request forwarded once more, if the source's replies do not cover it. */
static void probe_requests(struct es_zdm *z, struct gaps *gs, const struct es_mig_key *k,
			   const struct es_mig_session *s)
{
	unsigned int st = s->seq_state >> ES_MIG_STATE_SHIFT, sent = 0;
	__u64 last = st == ES_MIG_CUTOVER ? s->cut_seq : s->seq_state & ES_MIG_SEQ_MASK;

	if (st != ES_MIG_FORWARDING && st != ES_MIG_REPLAYING && st != ES_MIG_CUTOVER &&
	    st != ES_MIG_ABORTED)
		return;
	if (probe_due(gs, GAP_REQUESTS, k, last, s->src_acked))
		es_mig_send_records(&z->dp, k, last, last, &sent, NULL);
}

void es_zdm_requests_lost(const struct es_mig_key *k, unsigned int n)
{
	char key[ES_MIG_KEY_TEXT_LEN];

	es_mig_key_format(k, key, sizeof(key));
	es_error("zdm_requests_lost", "session=%s requests=%u reason=\"kept during the hold "
		 "without their bytes (longer than a record, or unreadable): never delivered to "
		 "the old container\"", key, n);
}

/* Source side, one REORDER entry: deliver what is in sequence, chase the missing. */
static void fill_requests(struct es_zdm *z, struct gaps *gs, const struct es_mig_key *k)
{
	struct es_mig_remote r;
	struct es_mig_dp dp;
	unsigned int sent = 0, lost = 0;
	__u64 from, to;
	int ret = -ESTALE;

	pthread_mutex_lock(&z->gap_lock);
	if (!es_mig_remote_get(&z->dp, k, &r) &&
	    r.hold >> ES_MIG_STATE_SHIFT == ES_MIG_SRC_REORDER) {
		/* delivered into the old container's namespace */
		ret = es_zdm_ct_dp(z, k, &dp) ?: es_mig_src_drain(&dp, k, &sent, &lost);
		es_zdm_ct_dp_put(&dp);
	}
	pthread_mutex_unlock(&z->gap_lock);
	if (lost)
		es_zdm_requests_lost(k, lost);
	if (ret != -EINPROGRESS) {
		if (!ret)
			gap_forget(gs, GAP_REQUESTS, k);
		return;
	}
	if (!es_mig_src_gap(&z->dp, k, &from, &to))
		chase(z, gs, GAP_REQUESTS, k, r.peer_addr, from, to);
}

/*
 * Target side, one session whose base is below its latest reply: move the
 * base over what arrived, chase the first gap. true: one is open (rescan
 * soon).
 */
static bool fill_replies(struct es_zdm *z, struct gaps *gs, const struct es_mig_key *k,
			 const struct es_mig_session *s)
{
	__u64 from, to;

	es_mig_reply_catch_up(&z->dp, k);
	if (es_mig_reply_gap(&z->dp, k, &from, &to)) {
		gap_forget(gs, GAP_REPLIES, k);
		return false;
	}
	chase(z, gs, GAP_REPLIES, k, s->source_addr, from, to);
	return true;
}

/*
 * An ABORTED session is still forwarded, and its requests still kept until
 * the source has them in sequence (src_acked, from its replies): drop the
 * records it acknowledged.
 */
static void trim_aborted(struct es_zdm *z, const struct es_mig_key *k,
			 const struct es_mig_session *s)
{
	if (s->seq_state >> ES_MIG_STATE_SHIFT == ES_MIG_ABORTED && s->src_acked)
		es_mig_records_delete(&z->dp, k, 0, s->src_acked);
}

/* Every session with a gap on this node; true when one is left open. */
static bool scan(struct es_zdm *z, struct gaps *gs)
{
	struct es_mig_key k, next;
	struct es_mig_session s;
	struct es_mig_remote r;
	bool open = false;
	int ret;

	for (ret = bpf_map_get_next_key(z->dp.remote_fd, NULL, &next); !ret;
	     ret = bpf_map_get_next_key(z->dp.remote_fd, &k, &next)) {
		k = next;
		if (bpf_map_lookup_elem(z->dp.remote_fd, &k, &r))
			continue;
		/* TCP retransmits the old container's segments itself: no copies, no gaps */
		if (k.proto != IPPROTO_TCP)
			probe_replies(z, gs, &k, &r);
		if (r.hold >> ES_MIG_STATE_SHIFT != ES_MIG_SRC_REORDER)
			continue;
		fill_requests(z, gs, &k);
		open = true;
	}
	for (ret = bpf_map_get_next_key(z->dp.sessions_fd, NULL, &next); !ret;
	     ret = bpf_map_get_next_key(z->dp.sessions_fd, &k, &next)) {
		k = next;
		if (bpf_map_lookup_elem(z->dp.sessions_fd, &k, &s))
			continue;
		trim_aborted(z, &k, &s);
		probe_requests(z, gs, &k, &s);
		if (k.proto == IPPROTO_TCP || s.old_replies <= s.old_base)
			continue;
		open |= fill_replies(z, gs, &k, &s);
	}
	return open;
}

static void *gap_thread(void *arg)
{
	struct es_zdm *z = arg;
	struct gaps gs = { .n = 0 };
	struct timespec until;
	bool open = false;

	pthread_mutex_lock(&z->lock);
	while (!atomic_load(&z->stopping)) {
		if (!z->gap_kicked) {
			until = es_mono_deadline(open ? BUSY_MS : SCAN_MS);
			pthread_cond_timedwait(&z->gap_cond, &z->lock, &until);
		}
		z->gap_kicked = false;
		pthread_mutex_unlock(&z->lock);
		open = scan(z, &gs);
		pthread_mutex_lock(&z->lock);
	}
	pthread_mutex_unlock(&z->lock);
	return NULL;
}

int es_zdm_gap_start(struct es_zdm *z)
{
	if (es_cond_init_mono(&z->gap_cond) || pthread_create(&z->gap_thread, NULL, gap_thread, z))
		return -EAGAIN;
	z->gap_running = true;
	return 0;
}

void es_zdm_gap_kick(struct es_zdm *z)
{
	pthread_mutex_lock(&z->lock);
	z->gap_kicked = true;
	pthread_cond_signal(&z->gap_cond);
	pthread_mutex_unlock(&z->lock);
}

void es_zdm_gap_stop(struct es_zdm *z)
{
	if (!z->gap_running)
		return;
	z->gap_running = false;
	es_zdm_gap_kick(z);
	pthread_join(z->gap_thread, NULL);
}

/* A refused source step: {error} in its answer. */
static enum es_mig_err refuse(json_t **resp, enum es_mig_err e, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*resp = json_pack("{s:s}", "error", msg);
	return e;
}

/*
 * Source side, asked by the target (/v1/zdm/source/resend): send the
 * copies of replies from..to again; missing_to says from where none is left.
 */
enum es_mig_err es_zdm_source_op(struct es_zdm *z, const char *op,
				 const struct es_zdm_target_args *a, json_t **resp)
{
	__u64 from, to, missing_to = 0;
	struct es_mig_key k;
	unsigned int sent = 0;
	char err[256];
	int ret;

	*resp = NULL;
	if (strcmp(op, "resend"))
		return refuse(resp, ES_MIG_ENOENT, "unknown source step (resend)");
	if (es_mig_key_parse(a->session ?: "", &k, err, sizeof(err)))
		return refuse(resp, ES_MIG_EINVAL, "%s", err);
	if (es_zdm_seq_range(a->from, a->to, &from, &to))
		return refuse(resp, ES_MIG_EINVAL, "fields 'from' and 'to' must be ordinals, "
				    "from <= to, at most 4096 apart");
	ret = es_mig_send_replies(&z->dp, &k, from, to, &sent, &missing_to);
	if (ret)
		return refuse(resp, ret == -ENOENT ? ES_MIG_ENOENT : ES_MIG_EINTERNAL,
				    "cannot send the replies again: %s", strerror(-ret));
	gap_event(z, GAP_REQUESTS, "zdm_replies_resent", &k, from, to);
	*resp = json_pack("{s:i,s:I}", "sent", sent, "missing_to", (json_int_t)missing_to);
	return ES_MIG_OK;
}
