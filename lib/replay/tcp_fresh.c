// SPDX-License-Identifier: GPL-2.0-only
/*
 * A connection the user opened after the checkpoint, replayed from its SYN
 * (docs/migration.md, "Connections opened during the window"). The image
 * does not hold it; the restored container's listener accepts it from the
 * user's SYN and answers with an ISN and a timestamp clock of its own. The
 * data plane learns the sequence delta from that SYN-ACK (es_mig_xlate in
 * LEARN, set up here with the old ISN the user acknowledged), and this
 * file works out the timestamp delta, switches the translation on, and
 * translates every later segment it hands over the way the programs
 * translate the user's segments after cut-over.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include "util/clock.h"
#include "migctl/names.h"
#include "migctl/xlate.h"
#include "net/tcp_conns.h"
#include "inject.h"
#include "tcp_run.h"

#define TCP_SYN		0x02
#define TCP_ACK		0x10
#define OPT_SACK	5
#define OPT_TS		8
/*
 * The old container's TSval when the user's ACK of its SYN-ACK arrived was
 * that SYN-ACK's, older by the WAN's one-way time and the user's round
 * trip: the restored clock is set this much behind the old one's, so the
 * user never sees a timestamp go back (its PAWS check would drop the
 * segment); a jump forward is harmless. Timestamps tick in milliseconds.
 */
#define TS_MARGIN_MS	1000

/* The TCP header of the IP packet (4 or 6) in rec, and its length; NULL if it is none. */
static __u8 *tcp_hdr(struct es_mig_record *rec, __u32 *hlen)
{
	__u8 *p = rec->data;
	size_t ihl, l4len;
	__u8 proto;

	if (es_ip_l4(p, rec->len, &ihl, &l4len, &proto) || proto != IPPROTO_TCP || l4len < 20)
		return NULL;
	*hlen = (p[ihl + 12] >> 4) * 4;
	if (*hlen < 20 || *hlen > l4len)
		return NULL;
	return p + ihl;
}

/*
 * The option at h[*i] of the hlen-byte header h, *i moved past it; NULL at
 * the end of the options or when they are malformed (a walk stops there,
 * as the programs' does).
 */
static __u8 *next_opt(__u8 *h, __u32 hlen, __u32 *i)
{
	__u8 *o;

	while (*i < hlen && h[*i] == 1)
		(*i)++;
	if (*i >= hlen || !h[*i] || *i + 1 >= hlen || h[*i + 1] < 2 || *i + h[*i + 1] > hlen)
		return NULL;
	o = h + *i;
	*i += o[1];
	return o;
}

/* The timestamp option's value field in header h (hlen bytes), or NULL. */
static __u8 *ts_opt(__u8 *h, __u32 hlen)
{
	__u32 i = 20;
	__u8 *o;

	while ((o = next_opt(h, hlen, &i)))
		if (o[0] == OPT_TS && o[1] == 10)
			return o + 2;
	return NULL;
}

/*
 * The user's echo of an old container's TSval, in the restored socket's
 * clock: never before its first TSval nor past its clock now (Linux drops
 * a segment echoing what it never sent), as the programs do it.
 */
static __u32 echo(const struct tcp_run *r, __u32 ecr)
{
	__u64 now = es_now_ns();
	__u32 v = ecr + r->ts_delta;
	__u32 hi = r->ecr_lo + (__u32)(now > r->ecr_ns ? (now - r->ecr_ns) / 1000000 : 0);

	if ((__s32)(v - r->ecr_lo) < 0)
		v = r->ecr_lo;
	if ((__s32)(v - hi) > 0)
		v = hi;
	return v;
}

/* rec, a user's segment, in the restored socket's sequence space (as the programs do it). */
static void translate_in(const struct tcp_run *r, struct es_mig_record *rec)
{
	__u32 hlen, i = 20, j;
	__u8 *h = tcp_hdr(rec, &hlen), *o;

	if (!h || !(h[13] & TCP_ACK))
		return;
	es_put_be32(h + 8, es_be32(h + 8) + r->seq_delta);
	while ((o = next_opt(h, hlen, &i))) {
		if (o[0] == OPT_TS && o[1] == 10 && r->ts)
			es_put_be32(o + 6, echo(r, es_be32(o + 6)));
		for (j = 2; o[0] == OPT_SACK && j + 4 <= o[1]; j += 4)	/* every edge */
			es_put_be32(o + j, es_be32(o + j) + r->seq_delta);
	}
}

int es_tcp_fresh_inject(struct tcp_run *r, const struct es_mig_record *rec)
{
	struct es_mig_record copy;

	if (r->xl != ES_TCP_XL_ON)
		return es_mig_inject(r->fd, rec);
	copy = *rec;
	translate_in(r, &copy);
	return es_mig_inject(r->fd, &copy);
}

int es_tcp_fresh_detect(struct tcp_run *r)
{
	struct es_mig_record rec;
	struct es_mig_xlate x;
	__u32 hlen;
	__u8 *h;
	int in_image;

	if (!es_mig_xlate_get(r->dp, r->key, &x)) {
		/* a second call (cut-over after catch-up): go on from where the first left it */
		r->xl = x.flags & ES_MIG_XLATE_LEARN ? ES_TCP_XL_LEARN : ES_TCP_XL_ON;
		r->seq_delta = x.seq_delta;
		r->ts_delta = x.ts_delta;
		r->ts = x.flags & ES_MIG_XLATE_TS;
		r->ecr_lo = x.new_tsval;
		r->ecr_ns = x.new_ns;
		return 1;
	}
	if (r->cursor || es_mig_record_wait(r->dp, r->key, r->next, &rec))
		return 0;
	h = tcp_hdr(&rec, &hlen);
	if (!h || (h[13] & (TCP_SYN | TCP_ACK)) != TCP_SYN)
		return 0;
	/*
	 * Opened after forwarding began but accepted before the dump, it is
	 * in the image: the restored container has its socket, which takes
	 * the replay as any restored one does (its SYN a duplicate). A
	 * listing that failed says neither: taken for "in the image", the
	 * replay would wait for a socket that is not there until it timed out.
	 */
	in_image = es_tcp_conn_exists(r->dp->ct_netns, es_mig_in6(r->key->svc_addr),
				      r->key->svc_port, es_mig_in6(r->key->user_addr),
				      r->key->user_port);
	return in_image < 0 ? in_image : !in_image;
}

/*
 * The user's first segment acknowledging the old container's SYN-ACK:
 * the old ISN (its ACK less one), the old SYN-ACK's TSval (its echo) and
 * when it came. -EAGAIN while the buffer has none yet.
 */
static int old_handshake(struct tcp_run *r, __u64 head, __u32 *isn, __u32 *tsval, bool *ts,
			 __u64 *at_ns)
{
	struct es_mig_record rec;
	__u32 hlen;
	__u64 seq;
	__u8 *h, *o;
	int ret;

	for (seq = r->cursor + 1; seq <= head; seq++) {
		/* one being made may be that ACK: a later segment's may acknowledge more */
		ret = es_mig_record_wait(r->dp, r->key, seq, &rec);
		if (ret == -ENODATA || ret == -ENOENT)
			continue;
		if (ret)
			return ret;
		h = tcp_hdr(&rec, &hlen);
		if (!h || !(h[13] & TCP_ACK))
			continue;
		*isn = es_be32(h + 8) - 1;
		o = ts_opt(h, hlen);
		*ts = o != NULL;
		*tsval = o ? es_be32(o + 4) : 0;
		*at_ns = rec.ts_ns;
		return 0;
	}
	return -EAGAIN;
}

/*
 * The old handshake, once: found when the SYN is handed, or again after a
 * restart (the records stay until the session finishes).
 */
static int old_known(struct tcp_run *r, __u64 head)
{
	__u32 isn;
	int ret;

	if (r->old_known)
		return 0;
	ret = old_handshake(r, head, &isn, &r->old_tsval, &r->old_ts, &r->old_ns);
	r->old_known = !ret;
	return ret;
}

/* The SYN-ACK came: the timestamp delta, and the translation on. 1, 0 not yet, or -errno. */
static int activate(struct tcp_run *r, __u64 head)
{
	struct es_mig_xlate x;
	__u64 ms;
	int ret;

	ret = es_mig_xlate_get(r->dp, r->key, &x);
	if (ret)
		return ret;
	if (!(x.learned & ES_MIG_XLATE_LEARNED))
		return 0;
	ret = old_known(r, head);
	if (ret)
		return ret == -EAGAIN ? -EPROTO : ret;
	if (r->old_ts != !!(x.learned & ES_MIG_XLATE_NEW_TS))
		return -EPROTO;	/* the two SYN-ACKs negotiated otherwise */
	r->ts = r->old_ts;
	ms = x.new_ns > r->old_ns ? (x.new_ns - r->old_ns) / 1000000 : 0;
	r->ts_delta = x.new_tsval - r->old_tsval - (__u32)ms - TS_MARGIN_MS;
	r->seq_delta = x.seq_delta;
	r->ecr_lo = x.new_tsval;
	r->ecr_ns = x.new_ns;
	ret = es_mig_xlate_activate(r->dp, r->key, r->ts_delta, r->ts);
	if (ret)
		return ret;
	r->xl = ES_TCP_XL_ON;
	return 1;
}

int es_tcp_fresh_step(struct tcp_run *r, __u64 head)
{
	__u32 isn, tsval;
	__u64 at_ns;
	bool ts;
	int ret;

	if (r->xl == ES_TCP_XL_LEARN)
		return activate(r, head);
	/* the old ISN first: the user's ACK of the old SYN-ACK must be in the buffer */
	ret = old_handshake(r, head, &isn, &tsval, &ts, &at_ns);
	if (ret)
		return ret == -EAGAIN ? 0 : ret;
	r->old_known = true;
	r->old_ts = ts;
	r->old_tsval = tsval;
	r->old_ns = at_ns;
	ret = es_mig_xlate_learn(r->dp, r->key, isn);
	if (ret)
		return ret;
	r->xl = ES_TCP_XL_LEARN;
	return ES_TCP_FRESH_SYN;
}
