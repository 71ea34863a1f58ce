// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TCP sessions of one service replayed together, in the order their
 * segments arrived (tcp_replay.h). Per session the replay is the one of
 * tcp_replay.c (probing, acknowledgements kept within the socket's
 * output, rewinding after a drop); what this adds is which session hands
 * over next, and when.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "util/clock.h"
#include "tcp_run.h"

/*
 * A segment the restored container did not answer within this long (part
 * of a request, a pure ACK's worth) lets the next one go anyway.
 */
#define GATE_MS		10
/*
 * The same when the socket has output the user has not acknowledged yet:
 * its answer may be written and held back (Nagle's algorithm holds a small
 * segment while one is unacknowledged, as it held the old container's,
 * whose ACK came a round trip later), so it shows only with a later
 * segment's ACK. Waiting GATE_MS for each such segment bounded the replay
 * to 100 requests a second, fewer than the users sent (the HTTP plan's 21
 * connections: 235 a second), and the catch-up never ended. A server reads
 * a request well within this.
 */
#define GATE_HELD_US	1000
#define GATE_POLL_NS	100000	/* between looks while a segment awaits its answer */

#define COPY_LOOKAHEAD	256	/* records looked at for a later copy of a segment */

/* What the look-ahead needs of a record, read once (the ring below). */
struct copy {
	__u64	seq;		/* the record's; 0: slot empty */
	__u64	ts;
	__u32	start, end;
	bool	data;
};

/* One session of the group. */
struct member {
	struct tcp_run		r;
	struct es_mig_session	s;
	__u64			head;
	__u64			ts_seq, ts;	/* arrival time of segment ts_seq, cached */
	bool			bytes;		/* and whether it brings bytes (may turn false) */
	bool			switched;
	struct copy		ring[COPY_LOOKAHEAD];	/* by seq % COPY_LOOKAHEAD */
};

struct group {
	struct member		*m;
	unsigned int		n;
	int			gate;		/* session whose segment awaits its answer; -1 */
	__u32			gate_snd;	/* its new_snd_nxt when handed */
	__u64			gate_ns;	/* when handed */
	bool			gate_unacked;	/* the socket had output not acknowledged then */
};

/* Every session as the data plane has it; -ESTALE when one left the replay. */
static int refresh(struct group *g)
{
	unsigned int i, st;
	int ret;

	for (i = 0; i < g->n; i++) {
		if (g->m[i].switched)
			continue;
		ret = es_mig_session_get(g->m[i].r.dp, g->m[i].r.key, &g->m[i].s);
		if (ret)
			return ret;
		st = g->m[i].s.seq_state >> ES_MIG_STATE_SHIFT;
		if (st != ES_MIG_REPLAYING)
			return -ESTALE;
		g->m[i].head = es_mig_seq_of(g->m[i].s.seq_state);
		es_tcp_run_boot(&g->m[i].r, &g->m[i].s);
	}
	return 0;
}

/* No segment awaits its answer, or it was answered, or it waited long enough. */
static bool gate_open(const struct group *g, __u64 now)
{
	return g->gate < 0 || after(g->m[g->gate].s.new_snd_nxt, g->gate_snd) ||
	       now - g->gate_ns >= (g->gate_unacked ? GATE_HELD_US * 1000ULL :
				    GATE_MS * 1000000ULL);
}

/* Record seq of session m, from the ring or the replay buffer; NULL if missing. */
static const struct copy *copy_at(struct member *m, __u64 seq)
{
	struct copy *c = &m->ring[seq % COPY_LOOKAHEAD];
	struct es_mig_record rec;

	if (c->seq == seq)
		return c;
	if (es_mig_record_get(m->r.dp, m->r.key, seq, &rec))
		return NULL;
	c->seq = seq;
	c->ts = rec.ts_ns;
	c->data = es_tcp_run_data_range(&rec, &c->start, &c->end);
	return c;
}

/*
 * When the old container took the segment at r.next: the arrival of the
 * latest copy of its first byte. A copy the old container dropped (CRIU's
 * network lock during the dump, a loss on the way) came again with the
 * user's retransmission, which may carry more (Linux merges segments it
 * retransmits), and that is the copy it took: in the order of the users'
 * retransmission timers, not of the first copies.
 */
static __u64 last_copy_ts(struct member *m, const struct es_mig_record *first)
{
	const struct copy *c;
	__u64 ts = first->ts_ns, seq;
	__u32 start, end;

	if (!es_tcp_run_data_range(first, &start, &end))
		return ts;
	for (seq = m->r.next + 1; seq <= m->head && seq < m->r.next + COPY_LOOKAHEAD; seq++) {
		c = copy_at(m, seq);
		if (c && c->data && !after(c->start, start) && after(c->end, start) && c->ts > ts)
			ts = c->ts;
	}
	return ts;
}

/* Session i's next segment read (its arrival time, whether it brings bytes); -1 if missing. */
static int peek(struct group *g, unsigned int i)
{
	struct member *m = &g->m[i];
	struct es_mig_record rec;

	if (m->ts_seq == m->r.next)
		return 0;
	/* one being made is waited for: skipped, a later one would go before it */
	if (es_mig_record_wait(m->r.dp, m->r.key, m->r.next, &rec))
		return -1;
	m->ts_seq = m->r.next;
	m->ts = rec.ts_ns;
	m->bytes = es_tcp_run_brings_bytes(&m->s, &rec);
	if (m->bytes)
		m->ts = last_copy_ts(m, &rec);
	return 0;
}

/*
 * The session whose next segment arrived first; with quiet, one whose next
 * segment brings no bytes (handed at once: it changes nothing the service
 * sees, and its ACK may be what the restored socket waits for to send).
 * -1 when none.
 */
static int first_due(struct group *g, bool quiet)
{
	unsigned int i;
	int best = -1;

	for (i = 0; i < g->n; i++) {
		if (g->m[i].switched || g->m[i].r.next > g->m[i].head)
			continue;
		if (peek(g, i))
			return quiet ? -1 : (int)i;	/* hand_next says what is wrong */
		if (quiet && !g->m[i].bytes && g->m[i].r.booted)
			return i;
		if (!quiet && (best < 0 || g->m[i].ts < g->m[best].ts))
			best = i;
	}
	return best;
}

/*
 * Hand over a segment that brings no bytes, at once; else the one that
 * arrived first, if the one before was answered.
 */
static int hand_first(struct group *g, __u64 now, bool *handed)
{
	int i, ret;

	*handed = false;
	i = first_due(g, true);
	if (i >= 0) {
		ret = es_tcp_run_hand_next(&g->m[i].r, &g->m[i].s);
		*handed = ret > 0;
		return ret < 0 ? ret : 0;
	}
	if (!gate_open(g, now))
		return 0;
	g->gate = -1;
	i = first_due(g, false);
	if (i < 0)
		return 0;
	ret = es_tcp_run_hand_next(&g->m[i].r, &g->m[i].s);
	if (ret <= 0)
		return ret;
	*handed = true;
	if (g->m[i].r.last_data) {
		g->gate = i;
		g->gate_snd = g->m[i].s.new_snd_nxt;
		g->gate_ns = now;
		g->gate_unacked = es_tcp_run_output_unacked(&g->m[i].r, &g->m[i].s);
	}
	return 0;
}

/* Caught up, all: 1; with cut, each switched (a segment came meanwhile: 0). */
static int try_finish(struct group *g)
{
	unsigned int i;
	__u64 ss;
	int ret, left = 0;

	for (i = 0; i < g->n; i++)
		if (!g->m[i].switched && !es_tcp_run_caught_up(&g->m[i].r, &g->m[i].s, g->m[i].head))
			return 0;
	if (!g->m[0].r.cut)
		return 1;
	for (i = 0; i < g->n; i++)
		if (!g->m[i].switched && !es_tcp_run_holes_filled(&g->m[i].r, &g->m[i].s))
			return 0;
	for (i = 0; i < g->n; i++) {
		if (g->m[i].switched)
			continue;
		ret = es_mig_set_state(g->m[i].r.dp, g->m[i].r.key, ES_MIG_REPLAYING, ES_MIG_CUTOVER,
				       g->m[i].head, &ss);
		if (ret == -EAGAIN) {
			left++;
			continue;
		}
		if (ret)
			return ret;
		g->m[i].switched = true;
		es_tcp_run_cut_done(&g->m[i].r, g->m[i].head);
	}
	return !left;
}

static void pause_ns(__u64 ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };

	nanosleep(&ts, NULL);
}

static int group_loop(struct group *g, unsigned int timeout_ms)
{
	__u64 deadline = es_now_ns() + timeout_ms * 1000000ULL, now;
	unsigned int i;
	bool handed;
	int ret;

	for (;;) {
		now = es_now_ns();
		if (now > deadline)
			return -ETIMEDOUT;
		ret = refresh(g);
		for (i = 0; !ret && i < g->n; i++)
			g->m[i].r.now = now;
		if (!ret)
			ret = hand_first(g, now, &handed);
		for (i = 0; !ret && i < g->n; i++) {
			if (g->m[i].switched)
				continue;
			if (g->m[i].r.next > g->m[i].head)
				ret = es_tcp_run_all_handed(&g->m[i].r, &g->m[i].s);
			if (g->m[i].r.booted)
				es_tcp_run_rewind_if_stalled(&g->m[i].r, &g->m[i].s);
		}
		if (!ret && !handed && g->gate < 0)
			ret = try_finish(g);
		if (ret)
			return ret < 0 ? ret : 0;
		if (!handed)
			pause_ns(g->gate >= 0 ? GATE_POLL_NS : 1000000ULL);
	}
}

static void group_free(struct group *g)
{
	unsigned int i;

	for (i = 0; g->m && i < g->n; i++)
		if (g->m[i].r.fd >= 0)
			close(g->m[i].r.fd);
	free(g->m);
}

int es_mig_tcp_replay_group(const struct es_mig_dp *dp, const struct es_mig_key *keys,
			    unsigned int n, unsigned int timeout_ms, bool cut,
			    struct es_mig_tcp_replay *out)
{
	struct group g = { 0 };
	unsigned int i;
	int ret;

	memset(out, 0, n * sizeof(*out));
	g.n = n;
	g.gate = -1;
	g.m = calloc(n, sizeof(*g.m));
	ret = g.m ? 0 : -ENOMEM;
	for (i = 0; g.m && i < n; i++)
		g.m[i].r = (struct tcp_run){ .dp = dp, .key = &keys[i], .out = &out[i], .cut = cut,
					     .fd = -1 };
	for (i = 0; !ret && i < n; i++) {
		ret = es_tcp_run_begin(&g.m[i].r);
		ret = ret < 0 ? ret : 0;
	}
	if (!ret)
		ret = group_loop(&g, timeout_ms);
	group_free(&g);
	return ret;
}
