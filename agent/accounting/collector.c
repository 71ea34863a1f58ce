// SPDX-License-Identifier: GPL-2.0-only
/*
 * Collection of ended sessions. A session is collected when it was closed
 * (FIN both ways or RST) longer ago than closed_linger_ms, so trailing ACKs
 * still land in its entry, or when it has been idle for idle_timeout_ms.
 * Its final counters are read and deleted in one syscall and folded into the
 * pinned per-interface closed totals, so exported counters never go back.
 * With the slot table (session_table: slots) a session's slot is
 * reclaimed instead: marked during the scan, finished after one RCU grace
 * period for all of them (tbl_finish, docs/maps.md).
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include "util/clock.h"
#include "util/log.h"
#include "bpf/iface_counters.h"
#include "bpf/session_scan.h"
#include "bpf/session_top.h"
#include "json/session_index.h"
#include "accounting.h"

#define OPEN_CUT_SLACK_NS	(20 * 1000000ULL)

void es_accounting_init(struct es_accounting *acct, const struct es_acct_config *cfg)
{
	memset(acct, 0, sizeof(*acct));
	acct->cfg = cfg;
	pthread_mutex_init(&acct->lock, NULL);
}

int es_proto_slot(unsigned int proto)
{
	switch (proto) {
	case IPPROTO_TCP:	return 0;
	case IPPROTO_UDP:	return 1;
	case IPPROTO_ICMP:	return 2;
	case IPPROTO_ICMPV6:	return 3;
	default:		return -1;
	}
}

static int on_close_event(void *ctx, void *data, size_t len)
{
	const struct es_close_event *ev = data;
	struct es_accounting *acct = ctx;
	__u64 due;

	if (len < sizeof(*ev))
		return 0;
	due = ev->closed_ns + acct->cfg->closed_linger_ms * 1000000ULL;
	pthread_mutex_lock(&acct->lock);
	acct->gc.close_events++;
	if (!acct->close_due_ns || due < acct->close_due_ns)
		acct->close_due_ns = due;
	pthread_mutex_unlock(&acct->lock);
	return 0;
}

int es_collector_open(struct es_accounting *acct)
{
	/* RECLAIM slots an earlier agent left unfinished: the first scan finishes them */
	acct->tbl_pending = es_maps_slots(&acct->dp.maps);
	acct->events = ring_buffer__new(acct->dp.maps.fd[ES_MAP_EVENTS], on_close_event, acct,
					NULL);
	return acct->events ? 0 : -errno;
}

int es_collector_fd(struct es_accounting *acct)
{
	return ring_buffer__epoll_fd(acct->events);
}

void es_collector_consume(struct es_accounting *acct)
{
	ring_buffer__consume(acct->events);
}

void es_collector_close(struct es_accounting *acct)
{
	ring_buffer__free(acct->events);
	acct->events = NULL;
	free(acct->snap.ifaces);
	free(acct->snap.top);
	es_index_free(acct->snap.index);
	acct->snap.index = NULL;
}

static void fold_closed(struct es_accounting *acct, __u32 ifindex,
			const struct es_session_counters *c, int reason)
{
	int fd = acct->dp.maps.fd[ES_MAP_IFACE_CLOSED];
	struct es_iface_closed tot = {};
	int d;

	bpf_map_lookup_elem(fd, &ifindex, &tot);
	tot.deleted++;
	tot.sessions[reason]++;
	for (d = 0; d < ES_DIR_MAX; d++) {
		tot.pkts[d] += c->pkts[d];
		tot.bytes[d] += c->bytes[d];
	}
	bpf_map_update_elem(fd, &ifindex, &tot, BPF_ANY);
}

static void account_collected(struct es_accounting *acct, const struct es_session *s,
			      const struct es_session_counters *c, int reason);

/*
 * Read-and-delete the session; reason < 0 drops it without counting. A
 * session in the slot table is only marked here (LIVE to RECLAIM): the
 * scan's end finishes every marked slot after one grace period
 * (tbl_finish), with the reason its final entry gives.
 */
static void collect(struct es_accounting *acct, const struct es_session *s, int reason)
{
	bool v6 = s->family == ES_FAMILY_INET6;
	struct es_maps *m = &acct->dp.maps;
	struct es_session_counters c;
	struct es_session_key4 k4;
	const void *key = &s->key;

	if (es_maps_slots(m)) {
		if (s->slot_tag && !es_slot_table_mark(&m->tbl, s->slot, s->slot_tag))
			acct->tbl_pending = true;
		return;	/* a slot that changed since the read is looked at next scan */
	}
	if (!v6) {
		es_key4_from_key6(&k4, &s->key);
		key = &k4;
	}
	if (bpf_map_lookup_and_delete_elem(m->fd[v6 ? ES_MAP_SESSIONS6 : ES_MAP_SESSIONS4],
					   key, &c))
		return;	/* evicted meanwhile: nothing left to fold */
	bpf_map_delete_elem(m->fd[v6 ? ES_MAP_STATE6 : ES_MAP_STATE4], key);
	if (reason < 0)
		return;	/* its interface not attached: no series to fold it into */
	account_collected(acct, s, &c, reason);
}

/* A collected session's final counters into the closed totals and the tap. */
static void account_collected(struct es_accounting *acct, const struct es_session *s,
			      const struct es_session_counters *c, int reason)
{
	acct->gc.collected[reason]++;
	fold_closed(acct, s->key.ifindex, c, reason);
	if (acct->on_session) {
		/* opened and ended between two scans: it opens first */
		if (c->first_ns > acct->open_cut_ns)
			acct->on_session(acct->on_session_arg, s, c, -1);
		acct->on_session(acct->on_session_arg, s, c, reason);
	}
}

/* A reclaimed slot's final entry, folded as a collected session; under no lock. */
static int fold_slot(__u32 slot, __u32 tag, const struct es_tbl_entry *e, void *arg)
{
	struct es_accounting *acct = arg;
	struct es_session s;
	int reason = ES_CLOSE_IDLE;

	es_session_from_slot(&s, slot, tag, e);
	if (e->st.flags & ES_STATE_CLOSED)
		reason = e->st.flags & ES_STATE_RST ? ES_CLOSE_RST : ES_CLOSE_FIN;
	pthread_mutex_lock(&acct->lock);
	/* its interface gone: freed, folded nowhere */
	if (es_datapath_find(&acct->dp, s.key.ifindex))
		account_collected(acct, &s, &e->c, reason);
	pthread_mutex_unlock(&acct->lock);
	return 0;
}

/*
 * The end of the slot table's reclaim (docs/maps.md): one RCU grace period
 * for every slot the scan marked, then each RECLAIM slot's final counts
 * folded and the slot freed, a predecessor's unfinished ones too. Where
 * membarrier refuses, the slots stay RECLAIM (no packet adds to them, no
 * reader counts them) and the next scan tries again.
 */
static void tbl_finish(struct es_accounting *acct)
{
	int err;

	if (!es_maps_slots(&acct->dp.maps) || !acct->tbl_pending)
		return;
	err = es_slot_table_grace();
	if (err) {
		es_warn("slot_reclaim_deferred", "error=\"membarrier: %s\"", strerror(-err));
		return;
	}
	acct->tbl_pending = false;
	es_slot_table_finish_all(&acct->dp.maps.tbl, fold_slot, acct);
}

/*
 * A session a flow cache slot holds is never collected: its slot may
 * still count packets that the entry does not have. Its CPU's sweep folds
 * and frees an idle slot within two sweeps.
 */
static int close_reason(const struct es_accounting *acct, const struct es_session *s, __u64 now)
{
	__u64 linger = acct->cfg->closed_linger_ms * 1000000ULL;
	__u64 idle = acct->cfg->idle_timeout_ms * 1000000ULL;

	if (s->cached)
		return -1;
	if (s->has_state && (s->st.flags & ES_STATE_CLOSED))
		return s->st.closed_ns && s->st.closed_ns + linger <= now ?
		       (s->st.flags & ES_STATE_RST ? ES_CLOSE_RST : ES_CLOSE_FIN) : -1;
	/* last_ns 0: inserted this instant, its first packet not yet counted. */
	if (s->c.last_ns && s->c.last_ns + idle <= now)
		return ES_CLOSE_IDLE;
	return -1;
}

/*
 * When a closed session that is still lingering becomes due, else 0; one
 * a slot still holds is looked at again after the next sweep.
 */
static __u64 closed_due(const struct es_accounting *acct, const struct es_session *s,
			__u64 now)
{
	__u64 due;

	if (!s->has_state || !(s->st.flags & ES_STATE_CLOSED) || !s->st.closed_ns)
		return 0;
	due = s->st.closed_ns + acct->cfg->closed_linger_ms * 1000000ULL;
	if (s->cached && due < now + ES_FLOW_SWEEP_NS)
		due = now + ES_FLOW_SWEEP_NS;
	return due;
}

static struct es_iface_active *active_slot(struct es_snapshot *snap, __u32 ifindex)
{
	size_t i;

	for (i = 0; i < snap->n_ifaces; i++) {
		if (snap->ifaces[i].ifindex == ifindex)
			return &snap->ifaces[i];
	}
	return NULL;
}

static int cmp_bytes_desc(const struct es_session *x, const struct es_session *y,
			  const void *arg)
{
	unsigned long long a = es_session_bytes(x), b = es_session_bytes(y);

	(void)arg;
	return a < b ? 1 : a > b ? -1 : 0;
}

/* One collection scan: what it found alive, streamed session by session. */
struct gc_scan {
	struct es_accounting	*acct;
	struct es_snapshot	snap;
	struct es_session_top	top;	/* largest sessions: per-session metrics */
	struct es_session_index	*index;	/* the listings it can answer */
	__u64			now;
	__u64			next_due;	/* earliest lingering close */
	__u64			cut;		/* sessions first seen up to here are announced */
	struct {
		__u32	ifindex;
		bool	gone;
	}			seen[16];	/* unattached interfaces looked up */
	unsigned int		n_seen;
};

/* Under the lock: the interfaces attached when the scan starts. */
static void gc_scan_init(struct gc_scan *g, struct es_accounting *acct)
{
	struct es_snapshot *snap = &g->snap;
	size_t i;

	memset(g, 0, sizeof(*g));
	g->acct = acct;
	snap->n_ifaces = acct->dp.n_att;
	snap->ifaces = calloc(snap->n_ifaces + 1, sizeof(*snap->ifaces));
	if (!snap->ifaces)
		snap->n_ifaces = 0;
	for (i = 0; i < snap->n_ifaces; i++)
		snap->ifaces[i].ifindex = acct->dp.att[i].ifindex;
	es_top_init(&g->top, acct->cfg->per_session_metrics ? acct->cfg->per_session_max : 0,
		    cmp_bytes_desc, NULL);
}

static void count_live(struct gc_scan *g, const struct es_session *s)
{
	struct es_iface_active *ia = active_slot(&g->snap, s->key.ifindex);
	int slot = es_proto_slot(s->key.proto);

	g->snap.entries[s->family == ES_FAMILY_INET6]++;
	if (ia && slot >= 0)
		ia->active[slot]++;
}

/*
 * Whether an interface the agent has not attached is gone. Its sessions
 * are dropped then: a new interface may reuse the ifindex. One that exists
 * (the WAN interface the migration object accounts on) keeps its sessions
 * until they are due, like any other; they have no series to fold into.
 * Asked once per interface and scan, not per session; an error other than
 * "no such interface" keeps them.
 */
static bool iface_gone(struct gc_scan *g, __u32 ifindex)
{
	char name[IF_NAMESIZE];
	unsigned int i;
	bool gone;

	for (i = 0; i < g->n_seen; i++) {
		if (g->seen[i].ifindex == ifindex)
			return g->seen[i].gone;
	}
	gone = !if_indextoname(ifindex, name) && (errno == ENXIO || errno == ENODEV);
	if (g->n_seen < sizeof(g->seen) / sizeof(g->seen[0])) {
		g->seen[g->n_seen].ifindex = ifindex;
		g->seen[g->n_seen++].gone = gone;
	}
	return gone;
}

/* Collect s if it ended, else count it alive; the lock is held per session. */
static int gc_visit(struct es_session *s, void *arg)
{
	struct gc_scan *g = arg;
	struct es_accounting *acct = g->acct;
	const struct es_attachment *attached;
	int reason = -1;
	bool alive = false;
	__u64 due;

	pthread_mutex_lock(&acct->lock);
	attached = es_datapath_find(&acct->dp, s->key.ifindex);
	if (!attached && iface_gone(g, s->key.ifindex)) {
		collect(acct, s, -1);	/* fold it nowhere */
	} else if ((reason = close_reason(acct, s, g->now)) >= 0) {
		collect(acct, s, attached ? reason : -1);
	} else {
		due = closed_due(acct, s, g->now);
		if (due && (!g->next_due || due < g->next_due))
			g->next_due = due;
		count_live(g, s);
		alive = true;
		/* announced only where its end will be: on an attached interface */
		if (attached && acct->on_session && s->c.first_ns > acct->open_cut_ns &&
		    s->c.first_ns <= g->cut)
			acct->on_session(acct->on_session_arg, s, &s->c, -1);
	}
	pthread_mutex_unlock(&acct->lock);
	if (!alive)
		return 0;
	if (es_index_add(g->index, s))
		return -ENOMEM;
	return acct->cfg->per_session_metrics ? es_top_add(&g->top, s) : 0;
}

static __u64 sum_created(struct es_accounting *acct)
{
	struct es_iface_stats st;
	__u64 total = 0;
	unsigned int i;

	for (i = 0; i < acct->dp.n_att; i++) {
		es_iface_read_stats(&acct->dp.maps, acct->dp.att[i].ifindex, &st);
		total += st.sessions_created;
	}
	return total;
}

static __u64 sum_deleted(struct es_accounting *acct)
{
	struct es_iface_closed c;
	__u64 total = 0;
	unsigned int i;

	for (i = 0; i < acct->dp.n_att; i++) {
		if (!bpf_map_lookup_elem(acct->dp.maps.fd[ES_MAP_IFACE_CLOSED],
					 &acct->dp.att[i].ifindex, &c))
			total += c.deleted;
	}
	return total;
}

/*
 * LRU evictions are not reported by the kernel: what was created and is
 * neither alive nor collected by us was evicted. created is read before
 * the table, so a session created meanwhile counts as live but not as
 * created: the estimate errs low, never high.
 */
static void update_evictions(struct es_accounting *acct, const struct es_snapshot *snap,
			     __u64 created)
{
	__u64 deleted = sum_deleted(acct);
	__u64 live = snap->entries[0] + snap->entries[1];

	if (created > deleted + live && created - deleted - live > acct->gc.evictions)
		acct->gc.evictions = created - deleted - live;
}

/* Publish the scan's snapshot; under the lock. */
static void snapshot_swap(struct es_accounting *acct, struct gc_scan *g, __u64 created)
{
	struct es_snapshot old = acct->snap;

	es_top_sort(&g->top);
	g->snap.top = g->top.v;
	g->snap.n_top = g->top.n;
	g->top.v = NULL;
	g->snap.taken_mono_ns = g->now;
	g->snap.index = g->index;
	g->index = NULL;
	update_evictions(acct, &g->snap, created);
	acct->snap = g->snap;
	free(old.ifaces);
	free(old.top);
	es_index_free(old.index);
}

/*
 * The scan streams the session maps in batches (memory: one batch, the
 * closed sessions' state and the per-session top list) and decides on each
 * session as it passes.
 */
void es_collector_run(struct es_accounting *acct)
{
	__u64 start = es_now_ns(), created;
	struct gc_scan g;
	int err;

	pthread_mutex_lock(&acct->lock);
	created = sum_created(acct);
	gc_scan_init(&g, acct);
	pthread_mutex_unlock(&acct->lock);
	g.now = es_now_ns();
	/*
	 * The data plane stamps first packets with the coarse clock, up to a
	 * tick behind: a session just newer than the cut waits for the next
	 * scan, so none is announced twice or missed.
	 */
	g.cut = g.now - OPEN_CUT_SLACK_NS;
	if (!acct->open_cut_ns)
		acct->open_cut_ns = start;	/* what was there before the agent is not new */
	g.index = es_index_new(g.now);
	err = g.index ? es_session_scan(&acct->dp.maps, ES_SCAN_CLOSED_STATE, gc_visit, &g) :
			-ENOMEM;
	if (!err)
		err = es_index_finish(g.index);
	tbl_finish(acct);
	pthread_mutex_lock(&acct->lock);
	if (err) {
		es_warn("gc_read_failed", "error=\"%s\"", strerror(-err));
		free(g.snap.ifaces);
		/* Not again at once: the next periodic scan retries. */
		acct->close_due_ns = 0;
	} else {
		snapshot_swap(acct, &g, created);
		acct->open_cut_ns = g.cut;
		/* Closes still lingering, and any event that came after the read. */
		if (g.next_due && (!acct->close_due_ns || acct->close_due_ns <= g.now ||
				   g.next_due < acct->close_due_ns))
			acct->close_due_ns = g.next_due;
		else if (acct->close_due_ns <= g.now)
			acct->close_due_ns = 0;
	}
	acct->gc.runs++;
	acct->gc.last_duration_ns = es_now_ns() - start;
	pthread_mutex_unlock(&acct->lock);
	es_top_free(&g.top);
	es_index_free(g.index);
}
