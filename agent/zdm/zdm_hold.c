// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source-side hold of a zero-downtime migration (docs/migration.md,
 * "Exactly-once: the cursor"). The engine pauses the container for its
 * checkpoint; just before, tunnelled requests are held in the source's
 * data plane (es_mig_held) and the old container is let finish what it
 * was sent; just after the resume, the held requests are delivered in
 * order and the hold opens. Everything here is local to the source node:
 * no round trip to the target sits inside the window the user waits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include "util/log.h"
#include "net/udp_rqueue.h"
#include "net/netns.h"
#include "zdm_int.h"
#include "zdm_record.h"

#define POLL_MS		5
#define DRAIN_MS	1000
/*
 * An empty receive queue is read twice this far apart: a request the data
 * plane counted delivered may still be between it and the socket (one
 * softirq, microseconds) when the first look finds the queue empty.
 */
#define SETTLE_MS	2

/* The migration whose next pause of this container holds, or NULL. */
static struct es_zdm_mig *find(struct es_zdm *z, const char *name, bool holding)
{
	struct es_zdm_mig *zm;

	pthread_mutex_lock(&z->lock);
	for (zm = z->list; zm; zm = zm->next)
		if (!strcmp(zm->container, name) && zm->step < ES_ZDM_DONE &&
		    atomic_load(holding ? &zm->holding : &zm->quiesce))
			break;
	pthread_mutex_unlock(&z->lock);
	return zm;
}

/* Deliver what the hold kept of each UDP session and open it. */
int es_zdm_hold_release(struct es_zdm *z, struct es_zdm_mig *zm)
{
	unsigned int i, sent, lost, total = 0;
	struct es_mig_dp dp;
	int ret, first = 0;

	if (!z->dp_ready)
		return 0;
	for (i = 0; i < zm->n_sess; i++) {
		if (zm->sess[i].key.proto != IPPROTO_UDP)
			continue;
		sent = 0;
		lost = 0;
		pthread_mutex_lock(&z->gap_lock);
		ret = es_zdm_ct_dp(z, &zm->sess[i].key, &dp) ?:
		      es_mig_src_release(&dp, &zm->sess[i].key, &sent, &lost);
		es_zdm_ct_dp_put(&dp);
		pthread_mutex_unlock(&z->gap_lock);
		if (lost)
			es_zdm_requests_lost(&zm->sess[i].key, lost);
		if (ret == -ESTALE || ret == -ENOENT)
			ret = 0;	/* not holding */
		if (ret == -EINPROGRESS) {
			/* a request is missing: the rest wait for it (zdm_gap.c) */
			es_zdm_gap_kick(z);
			ret = 0;
		}
		zm->sess[i].held_sent += sent;
		total += sent;
		if (ret && !first)
			first = ret;
	}
	atomic_store(&zm->holding, false);
	if (first)
		es_error("zdm_release_failed", "id=%s error=\"%s\"", zm->id, strerror(-first));
	else
		es_zdm_event(z, zm, "zdm_resumed", json_pack("{s:i}", "held_sent", total));
	return first;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * The UDP receive queue of k's service in namespace ns: sockets bound to
 * its address or to the any address (es_udp_rqueue counts both).
 */
static int rqueue(int ns, const struct es_mig_key *k, uint64_t *bytes, unsigned int *socks)
{
	return es_udp_rqueue(ns, es_mig_in6(k->svc_addr), k->svc_port, bytes, socks);
}

/*
 * The old container answered everything it was delivered; confirm its
 * socket's receive queue is empty, since a CRIU image drops it. The
 * container's namespace is looked up once, not at every poll.
 */
static int drain(struct es_zdm *z, struct es_zdm_mig *zm, const struct es_mig_key *k)
{
	int ns = es_zdm_netns_open(z, k->svc_addr), ret = ns < ES_NETNS_OWN ? ns : 0;
	unsigned int socks = 0, waited;
	bool settled = false;
	uint64_t bytes = 0;

	for (waited = 0; !ret && waited <= DRAIN_MS; waited += POLL_MS) {
		ret = rqueue(ns, k, &bytes, &socks);
		if (ret || (!bytes && settled))
			break;
		settled = !bytes;
		sleep_ms(settled ? SETTLE_MS : POLL_MS);
	}
	es_zdm_netns_close(ns);
	if (ret)
		return es_zdm_fail(z, zm, "reading the service's receive queue: %s",
				   strerror(-ret));
	if (bytes)
		return es_zdm_fail(z, zm, "the service's receive queue kept %llu bytes",
				   (unsigned long long)bytes);
	es_zdm_event(z, zm, "zdm_drained", json_pack("{s:i}", "sockets", socks));
	return 0;
}

static int refuse(struct es_zdm *z, struct es_zdm_mig *zm, const struct es_zdm_sess *s,
		  char *err, size_t len, const char *what, int e)
{
	snprintf(err, len, "source-side hold of session %s: %s: %s", s->key_text, what,
		 strerror(-e));
	es_zdm_hold_release(z, zm);
	return e;
}

/* Hold every UDP session's tunnelled requests; the first request each holds in *hold_at. */
static int hold_all(struct es_zdm *z, struct es_zdm_mig *zm, __u64 *hold_at, char *err,
		    size_t len)
{
	unsigned int i;
	__u32 peer[4];
	int ret = 0;

	es_zdm_peer_addr(z, zm->to, peer);	/* all zero when unknown, as before the entry */
	/* not between a delivery of the gap thread and its count (zdm.h) */
	pthread_mutex_lock(&z->gap_lock);
	for (i = 0; !ret && i < zm->n_sess; i++)
		if (zm->sess[i].key.proto == IPPROTO_UDP)
			ret = es_mig_src_hold(&z->dp, &zm->sess[i].key, peer, &hold_at[i]);
	pthread_mutex_unlock(&z->gap_lock);
	atomic_store(&zm->holding, true);
	if (ret)
		return refuse(z, zm, &zm->sess[i - 1], err, len, "cannot hold", ret);
	return 0;
}

/* The old container answered all one session was sent; its cursor noted. */
static int quiet_one(struct es_zdm *z, struct es_zdm_mig *zm, struct es_zdm_sess *s,
		     __u64 hold_at, char *err, size_t len)
{
	__u64 cursor = 0;
	int ret;

	ret = es_mig_src_wait_quiet(&z->dp, &s->key, hold_at, z->cfg->hold_timeout_ms);
	if (ret)
		return refuse(z, zm, s, err, len, "the old container did not answer every request",
			      ret);
	if (drain(z, zm, &s->key))
		return refuse(z, zm, s, err, len, zm->error, -EBUSY);
	ret = es_mig_src_cursor(&z->dp, &s->key, &cursor);
	if (ret)
		return refuse(z, zm, s, err, len, "a request could not be held", ret);
	s->keep_cursor = cursor == ES_MIG_ANY_SEQ;
	s->hold_seq = s->keep_cursor ? 0 : cursor;
	return 0;
}

/* Before the pause: hold, let the old container answer all it got, note the cursors. */
static int before_pause(void *arg, const char *name, char *err, size_t len)
{
	struct es_zdm *z = arg;
	struct es_zdm_mig *zm = find(z, name, false);
	__u64 hold_at[ES_ZDM_MAX_SESSIONS] = { 0 };
	unsigned int i;
	int ret;

	if (!zm)
		return 0;
	atomic_store(&zm->quiesce, false);
	ret = hold_all(z, zm, hold_at, err, len);
	if (ret)
		return ret;
	es_zdm_event(z, zm, "zdm_hold", json_pack("{s:I}", "hold_at", (json_int_t)hold_at[0]));
	for (i = 0; i < zm->n_sess; i++) {
		if (zm->sess[i].key.proto != IPPROTO_UDP)
			continue;
		ret = quiet_one(z, zm, &zm->sess[i], hold_at[i], err, len);
		if (ret)
			return ret;
	}
	es_zdm_set_step(z, zm, ES_ZDM_HELD, json_pack("{s:I,s:I,s:b}", "hold_at",
						      (json_int_t)hold_at[0], "cursor",
						      (json_int_t)zm->sess[0].hold_seq, "keep_cursor",
						      zm->sess[0].keep_cursor));
	return 0;
}

/*
 * Still frozen after the checkpoint: each UDP session's reply ordinal now
 * is the old container's last before the image, where the restored one
 * takes up the numbering (es_mig_session.reply_base). No entry: it sent
 * none through the tunnel yet.
 */
static void before_resume(void *arg, const char *name)
{
	struct es_zdm *z = arg;
	struct es_zdm_mig *zm = find(z, name, true);
	struct es_mig_remote r;
	unsigned int i;

	for (i = 0; zm && z->dp_ready && i < zm->n_sess; i++) {
		if (zm->sess[i].key.proto != IPPROTO_UDP)
			continue;
		if (es_mig_remote_get(&z->dp, &zm->sess[i].key, &r))
			r.replies = 0;
		zm->sess[i].reply_base = r.replies;
		zm->sess[i].has_reply_base = true;
	}
}

/* After the resume (or a failed pause): deliver what was held, open. */
static void after_resume(void *arg, const char *name)
{
	struct es_zdm *z = arg;
	struct es_zdm_mig *zm = find(z, name, true);

	if (zm)
		es_zdm_hold_release(z, zm);
}

void es_zdm_hold_install(struct es_zdm *z)
{
	es_migrator_set_pause_hooks(z->m, before_pause, before_resume, after_resume, z);
}
