// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session commands: every change to a session goes through the
 * es_mig_ctl syscall program, so it is atomic against the packet path.
 * Also the node settings, the services, the source-side hold and the
 * replay buffer's records.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "util/clock.h"
#include "ctl.h"

#define MIG_WAIT_STEP_NS	(2 * 1000 * 1000)
/* Between looks at a record being made: the program takes microseconds. */
#define RECORD_POLL_US		20

int es_mig_config_get(const struct es_mig_dp *dp, struct es_mig_node_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(dp->config_fd, &zero, cfg) ? -errno : 0;
}

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;

/* How long an update waits for another process's: theirs take microseconds. */
#define PINS_LOCK_WAIT_NS	(2ULL * 1000 * 1000 * 1000)

/*
 * The pinned setting is shared with other processes (es-migctl beside
 * the agent), which the mutex does not order: their read-modify-writes
 * also take an exclusive flock on the pin directory, opened for each
 * update, so the lock goes with the process that dies holding it. A
 * handle without pins (a test's, a benchmark's) has no one to share with.
 * -ETIMEDOUT: another process held it PINS_LOCK_WAIT_NS. *fd: the locked
 * directory, or -1.
 */
static int pins_lock(const struct es_mig_dp *dp, int *fd)
{
	__u64 end = es_now_ns() + PINS_LOCK_WAIT_NS;
	int ret;

	*fd = -1;
	if (!dp->pin_path[0])
		return 0;
	*fd = open(dp->pin_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* pins removed under a running agent: no other process can open them either */
	if (*fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* bounded: a stopped es-migctl must not stall every hold of the agent */
	while ((ret = flock(*fd, LOCK_EX | LOCK_NB)) &&
	       (errno == EWOULDBLOCK || errno == EINTR) && es_now_ns() < end)
		usleep(50);
	if (!ret)
		return 0;
	ret = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	close(*fd);
	*fd = -1;
	return ret;
}

int es_mig_config_update(const struct es_mig_dp *dp,
			 bool (*fn)(struct es_mig_node_config *cfg, void *arg), void *arg)
{
	struct es_mig_node_config cfg = {};
	__u32 zero = 0;
	int ret, dir;

	pthread_mutex_lock(&config_lock);
	ret = pins_lock(dp, &dir);
	if (ret)
		goto out;
	if (bpf_map_lookup_elem(dp->config_fd, &zero, &cfg))
		ret = -errno;
	else if (fn(&cfg, arg) && bpf_map_update_elem(dp->config_fd, &zero, &cfg, BPF_ANY))
		ret = -errno;
	if (dir >= 0)
		close(dir);	/* the flock goes with it */
out:
	pthread_mutex_unlock(&config_lock);
	return ret;
}

struct active_arg {
	const struct es_mig_dp	*dp;
	bool			on;
};

/* Under the lock: off only when both maps are empty now. */
static bool active_fn(struct es_mig_node_config *cfg, void *arg)
{
	const struct active_arg *a = arg;
	__u8 key[sizeof(struct es_mig_key)];

	if (!a->on && (!bpf_map_get_next_key(a->dp->sessions_fd, NULL, key) ||
		       !bpf_map_get_next_key(a->dp->services_fd, NULL, key)))
		return false;
	if (cfg->active == a->on)
		return false;
	cfg->active = a->on;
	return true;
}

/*
 * The ingress program skips its lookups while nothing migrates: switch them
 * on before an entry exists (and again after, ctl.h), off once both maps
 * are empty.
 */
int es_mig_set_active(const struct es_mig_dp *dp, bool on)
{
	struct active_arg a = { .dp = dp, .on = on };

	return es_mig_config_update(dp, active_fn, &a);
}

struct node_arg {
	const __u32	*local_addr;
	__u16		tunnel_port_host;
	__u32		default_replay_limit;
};

static bool node_fn(struct es_mig_node_config *cfg, void *arg)
{
	const struct node_arg *a = arg;

	cfg->layout_version = ES_MIG_LAYOUT_VERSION;
	es_mig_addr_cpy(cfg->local_addr, a->local_addr);
	cfg->tunnel_port = htons(a->tunnel_port_host);
	cfg->default_replay_limit = a->default_replay_limit;
	return true;
}

int es_mig_config_set(const struct es_mig_dp *dp, const __u32 *local_addr,
		      __u16 tunnel_port_host, __u32 default_replay_limit)
{
	struct node_arg a = { local_addr, tunnel_port_host, default_replay_limit };

	return es_mig_config_update(dp, node_fn, &a);
}

int es_mig_service_set(const struct es_mig_dp *dp, const struct es_mig_svc_key *key,
		       const __u32 *node_addr, __u32 flags, __u32 replay_limit)
{
	struct es_mig_svc svc = {};

	/* Keep the handoff count of an entry being changed. */
	bpf_map_lookup_elem(dp->services_fd, key, &svc);
	es_mig_addr_cpy(svc.node_addr, node_addr);
	svc.flags = flags;
	svc.replay_limit = replay_limit;
	if (es_mig_set_active(dp, true))
		return -errno;
	if (bpf_map_update_elem(dp->services_fd, key, &svc, BPF_ANY))
		return -errno;
	return es_mig_set_active(dp, true);
}

int es_mig_service_del(const struct es_mig_dp *dp, const struct es_mig_svc_key *key)
{
	if (bpf_map_delete_elem(dp->services_fd, key))
		return -errno;
	return es_mig_set_active(dp, false);
}


/* ---- sessions ---- */

int es_mig_ctl(const struct es_mig_dp *dp, struct es_mig_cmd *cmd)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.ctx_in = cmd,
		.ctx_size_in = sizeof(*cmd),
	);

	if (bpf_prog_test_run_opts(dp->ctl_fd, &opts))
		return -errno;
	return (int)opts.retval;
}

int es_mig_session_get(const struct es_mig_dp *dp, const struct es_mig_key *key,
		       struct es_mig_session *s)
{
	return bpf_map_lookup_elem(dp->sessions_fd, key, s) ? -errno : 0;
}

int es_mig_cmd_run(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 op,
		   struct es_mig_cmd *cmd)
{
	cmd->key = *key;
	cmd->op = op;
	return es_mig_ctl(dp, cmd);
}

int es_mig_set_state(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 from,
		     __u32 to, __u64 expect, __u64 *seq_state)
{
	struct es_mig_cmd cmd = { .from = from, .to = to, .expect_seq = expect };
	int ret = es_mig_cmd_run(dp, key, ES_MIG_CMD_SET_STATE, &cmd);

	if (seq_state)
		*seq_state = cmd.seq_state;
	return ret;
}

int es_mig_set_value(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 op,
		     __u64 value)
{
	struct es_mig_cmd cmd = { .value = value };

	return es_mig_cmd_run(dp, key, op, &cmd);
}

int es_mig_start(const struct es_mig_dp *dp, const struct es_mig_key *key,
		 const __u32 *source_addr, bool mirror, __u32 replay_limit)
{
	struct es_mig_cmd cmd = {
		.to = ES_MIG_FORWARDING,
		.flags = mirror ? ES_MIG_F_MIRROR : 0,
		.replay_limit = replay_limit,
	};
	struct es_mig_session s;
	unsigned int st;
	int ret;

	es_mig_addr_cpy(cmd.source_addr, source_addr);
	ret = es_mig_set_active(dp, true);
	if (ret)
		return ret;
	ret = es_mig_cmd_run(dp, key, ES_MIG_CMD_CREATE, &cmd);
	if (!ret)
		ret = es_mig_set_active(dp, true);
	if (ret != -EEXIST)
		return ret;
	/* Made on handoff detection: take it over where it is. */
	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	st = es_mig_state_of(s.seq_state);
	/*
	 * A retry after a failed migration: the source's reply ordinals went
	 * on, so must we. The failed one's claims go first (its restored
	 * container is gone; ABORTED makes none).
	 */
	if (st == ES_MIG_ABORTED) {
		es_mig_claims_delete(dp, key, 0, ES_MIG_SEQ_MASK);
		return es_mig_cmd_run(dp, key, ES_MIG_CMD_RESTART, &cmd);
	}
	if (st != ES_MIG_NONE && st != ES_MIG_FORWARDING)
		return -EBUSY;
	/* Earlier requests were not buffered; they precede any checkpoint. */
	ret = es_mig_set_value(dp, key, ES_MIG_CMD_SET_CURSOR, es_mig_seq_of(s.seq_state));
	if (!ret)
		ret = es_mig_cmd_run(dp, key, ES_MIG_CMD_CONFIGURE, &cmd);
	if (!ret && st == ES_MIG_NONE)
		ret = es_mig_set_state(dp, key, ES_MIG_NONE, ES_MIG_FORWARDING, ES_MIG_ANY_SEQ, NULL);
	return ret;
}

int es_mig_hold(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *hold_seq)
{
	__u64 ss = 0;
	int ret;

	ret = es_mig_set_state(dp, key, ES_MIG_FORWARDING, ES_MIG_HOLD, ES_MIG_ANY_SEQ, &ss);
	if (hold_seq)
		*hold_seq = es_mig_seq_of(ss);
	return ret;
}

/* Look at the session until done(s, arg) holds; -ETIMEDOUT after timeout_ms. */
static int wait_until(const struct es_mig_dp *dp, const struct es_mig_key *key,
		      unsigned int timeout_ms,
		      bool (*done)(const struct es_mig_session *s, __u64 arg), __u64 arg)
{
	__u64 end = es_now_ns() + timeout_ms * 1000000ULL;
	struct timespec step = { 0, MIG_WAIT_STEP_NS };
	struct es_mig_session s;
	int ret;

	for (;;) {
		ret = es_mig_session_get(dp, key, &s);
		if (ret)
			return ret;
		if (done(&s, arg))
			return 0;
		if (es_now_ns() >= end)
			return -ETIMEDOUT;
		nanosleep(&step, NULL);
	}
}

static bool answered_up_to(const struct es_mig_session *s, __u64 hold_seq)
{
	return s->old_replies >= hold_seq;
}

int es_mig_wait_answered(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 __u64 hold_seq, unsigned int timeout_ms)
{
	return wait_until(dp, key, timeout_ms, answered_up_to, hold_seq);
}

/*
 * The old container answered all it was sent: nothing was sent to it
 * after the cursor, or a reply it sent after it was delivered cut_seq came
 * back (src_acked), or (old_end: the source's count once the old
 * container stopped) the last reply it sent came. One the WAN
 * lost below it may still be on its way again: the claims tell
 * (es_mig_verify), not old_base, which the data plane moves only a few
 * ordinals a reply.
 */
static bool old_done(const struct es_mig_session *s, __u64 old_end)
{
	return s->cut_seq <= s->cursor || s->src_acked >= s->cut_seq ||
	       (old_end != ES_MIG_OLD_END_UNKNOWN &&
		(s->old_replies >= old_end || s->reply_base >= old_end));
}

int es_mig_wait_old_done(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 unsigned int timeout_ms)
{
	return wait_until(dp, key, timeout_ms, old_done, ES_MIG_OLD_END_UNKNOWN);
}

/* A count that is looked at again and again: has it stayed for ms? */
struct quiet {
	__u64	last, moved;
};

static bool quiet_for(struct quiet *q, __u64 count, unsigned int ms)
{
	__u64 now = es_now_ns();

	if (!q->moved || count != q->last) {
		q->last = count;
		q->moved = now;
	}
	return now - q->moved >= ms * 1000000ULL;
}

int es_mig_wait_new_quiet(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  unsigned int quiet_ms, unsigned int timeout_ms, struct es_mig_session *s)
{
	__u64 end = es_now_ns() + timeout_ms * 1000000ULL;
	struct timespec step = { 0, MIG_WAIT_STEP_NS };
	struct quiet q = {};
	int ret;

	for (;;) {
		ret = es_mig_session_get(dp, key, s);
		if (ret || s->replies_diverged)
			return ret;
		if (quiet_for(&q, s->new_replies, quiet_ms))
			return 0;
		if (es_now_ns() >= end)
			return -ETIMEDOUT;
		nanosleep(&step, NULL);
	}
}

/* The old container's copies of every reply the restored one sent are in, or a pair differed. */
static bool old_caught_up(const struct es_mig_session *s, __u64 unused)
{
	(void)unused;
	return s->replies_diverged || s->old_replies >= s->reply_base + s->new_replies;
}

int es_mig_compared_set(const struct es_mig_dp *dp, const struct es_mig_key *key,
			unsigned int timeout_ms, struct es_mig_session *s)
{
	struct es_mig_cmd cmd = {};
	int ret;

	ret = wait_until(dp, key, timeout_ms, old_caught_up, 0);
	if (ret && ret != -ETIMEDOUT)
		return ret;
	ret = es_mig_session_get(dp, key, s);
	if (ret || s->replies_diverged)
		return ret;
	cmd.flags = s->flags | ES_MIG_F_COMPARED;
	return es_mig_cmd_run(dp, key, ES_MIG_CMD_CONFIGURE, &cmd);
}

/* The old container's replies past reply_base: the overlap both containers send. */
static __u64 overlap(const struct es_mig_session *s)
{
	return s->old_replies > s->reply_base ? s->old_replies - s->reply_base : 0;
}

/* Both containers sent the whole overlap: the condition the verdict waits for. */
static bool all_answered(const struct es_mig_session *s, __u64 old_end)
{
	return old_done(s, old_end) && s->new_replies >= overlap(s);
}

/* Counts the claims of the ordinals reply_base+1 .. old_replies into v. */
static void count_claims(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 const struct es_mig_session *s, struct es_mig_verdict *v)
{
	struct es_mig_record_key rk = { .session = *key };
	struct es_mig_rclaim c;

	v->both = v->one = v->none = v->missing = 0;
	v->replayed = s->cut_seq - s->cursor;
	v->replies = overlap(s);
	v->reply_base = s->reply_base;
	v->claims_failed = s->claims_failed;
	v->diverged = s->replies_diverged;
	v->suppressed = s->suppressed_old + s->suppressed_new;
	for (rk.seq = s->reply_base + 1; rk.seq <= s->old_replies; rk.seq++) {
		if (bpf_map_lookup_elem(dp->rclaim_fd, &rk, &c))
			v->missing++;
		else if ((c.answered & ES_MIG_ANS_OLD) && (c.answered & ES_MIG_ANS_NEW_ANY))
			v->both++;
		else if (c.answered & (ES_MIG_ANS_OLD | ES_MIG_ANS_NEW_ANY))
			v->one++;
		else
			v->none++;
	}
}

static bool verdict_holds(const struct es_mig_verdict *v)
{
	return v->both == v->replies && v->suppressed == v->replies && !v->claims_failed &&
	       !v->diverged;
}

/*
 * The counters only say when to look: old_replies is the highest ordinal
 * the source sent back, and over a lossy WAN a lower one is still on its
 * way (sent again) when the highest arrives. The records are the verdict,
 * so they are counted again until every one is claimed twice or time is up.
 */
int es_mig_verify(const struct es_mig_dp *dp, const struct es_mig_key *key,
		  unsigned int timeout_ms, __u64 old_end, struct es_mig_verdict *v)
{
	__u64 end = es_now_ns() + timeout_ms * 1000000ULL;
	struct timespec step = { 0, MIG_WAIT_STEP_NS };
	struct es_mig_session s;
	int ret;

	memset(v, 0, sizeof(*v));
	for (;;) {
		ret = es_mig_session_get(dp, key, &s);
		if (ret)
			return ret;
		if (all_answered(&s, old_end)) {
			count_claims(dp, key, &s, v);
			if (verdict_holds(v))
				break;
		}
		if (es_now_ns() >= end) {
			v->timed_out = true;
			count_claims(dp, key, &s, v);
			break;
		}
		nanosleep(&step, NULL);
	}
	v->passed = !v->timed_out && verdict_holds(v);
	return 0;
}

int es_mig_cursor_set(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 cursor)
{
	struct es_mig_session s;
	int ret;

	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	if (es_mig_state_of(s.seq_state) != ES_MIG_FORWARDING)
		return -ESTALE;
	if (cursor > es_mig_seq_of(s.seq_state))
		return -ERANGE;
	ret = es_mig_set_value(dp, key, ES_MIG_CMD_SET_CURSOR, cursor);
	if (!ret)
		es_mig_records_delete(dp, key, 1, cursor);
	return ret;
}

int es_mig_reply_base_set(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 base)
{
	int ret = es_mig_set_value(dp, key, ES_MIG_CMD_SET_REPLY_BASE, base);

	if (!ret)
		es_mig_claims_delete(dp, key, 0, base);
	return ret;
}
/* ---- the source-side hold ---- */

int es_mig_remote_get(const struct es_mig_dp *dp, const struct es_mig_key *key,
		      struct es_mig_remote *r)
{
	return bpf_map_lookup_elem(dp->remote_fd, key, r) ? -errno : 0;
}

/* NO_BASE: the first tunnelled request still sets last_seq from its header */
static void src_fresh(struct es_mig_remote *r, const __u32 *peer_addr)
{
	memset(r, 0, sizeof(*r));
	r->flags = ES_MIG_RF_NO_BASE;
	r->created_ns = es_now_ns();
	memcpy(r->peer_addr, peer_addr, sizeof(r->peer_addr));
}

int es_mig_src_open(const struct es_mig_dp *dp, const struct es_mig_key *key,
		    const __u32 *peer_addr)
{
	struct es_mig_remote r;

	src_fresh(&r, peer_addr);
	if (bpf_map_update_elem(dp->remote_fd, key, &r, BPF_NOEXIST) && errno != EEXIST)
		return -errno;
	return 0;
}

int es_mig_src_retarget(const struct es_mig_dp *dp, const struct es_mig_key *key,
			const __u32 *peer_addr)
{
	struct es_mig_remote old, r;

	if (bpf_map_lookup_elem(dp->remote_fd, key, &old))
		return errno == ENOENT ? 0 : -errno;
	if (!memcmp(old.peer_addr, peer_addr, sizeof(old.peer_addr)))
		return 0;
	src_fresh(&r, peer_addr);
	memcpy(r.prev_addr, old.peer_addr, sizeof(r.prev_addr));
	r.prev_last_seq = old.flags & ES_MIG_RF_NO_BASE ? 0 : old.last_seq;
	/*
	 * A request between the two may make the entry again: from the new
	 * target, it names it; from the old one, the new target's first
	 * request moves it (the data plane's shift). Either way it heals.
	 */
	bpf_map_delete_elem(dp->remote_fd, key);
	if (bpf_map_update_elem(dp->remote_fd, key, &r, BPF_NOEXIST) && errno != EEXIST)
		return -errno;
	return 0;
}

int es_mig_src_hold(const struct es_mig_dp *dp, const struct es_mig_key *key,
		    const __u32 *peer_addr, __u64 *hold_at)
{
	struct es_mig_cmd cmd = {};
	struct es_mig_remote r;
	int ret;

	es_mig_addr_cpy(cmd.source_addr, peer_addr);
	ret = es_mig_set_active(dp, true);
	if (!ret)
		ret = es_mig_cmd_run(dp, key, ES_MIG_CMD_SRC_HOLD, &cmd);
	if (!ret)
		ret = es_mig_set_active(dp, true);
	if (ret && ret != -ESTALE)
		return ret;
	ret = es_mig_remote_get(dp, key, &r);
	if (!ret && hold_at)
		*hold_at = r.hold_at;
	return ret;
}

int es_mig_src_wait_quiet(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  __u64 hold_at, unsigned int timeout_ms)
{
	const struct timespec step = { .tv_nsec = 200 * 1000 };
	__u64 end = es_now_ns() + timeout_ms * 1000000ULL;
	struct es_mig_remote r;
	struct quiet q = {};
	int ret;

	for (;;) {
		ret = es_mig_remote_get(dp, key, &r);
		if (ret)
			return ret;
		if (r.replies >= hold_at || quiet_for(&q, r.replies, ES_MIG_SRC_QUIET_MS))
			return 0;
		if (es_now_ns() >= end)
			return -ETIMEDOUT;
		nanosleep(&step, NULL);
	}
}

int es_mig_src_cursor(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *cursor)
{
	struct es_mig_remote r;
	int ret;

	ret = es_mig_remote_get(dp, key, &r);
	if (ret)
		return ret;
	/*
	 * A request given up (ES_MIG_RF_SKIPPED) is not in the target's buffer
	 * either: neither container gets it, the cursor stays exact.
	 */
	if (r.flags & ES_MIG_RF_HOLD_BROKEN)
		return -EPROTO;
	/* every request up to last_seq was delivered, in sequence */
	*cursor = r.flags & ES_MIG_RF_NO_BASE ? ES_MIG_ANY_SEQ : r.last_seq;
	return 0;
}

int es_mig_src_gap(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *from,
		   __u64 *to)
{
	struct es_mig_record_key k, next;
	struct es_mig_remote r;
	__u64 low = ES_MIG_ANY_SEQ;
	int ret;

	ret = es_mig_remote_get(dp, key, &r);
	if (ret)
		return ret;
	/* a scan of the whole map: it holds a few hundred requests at most */
	for (ret = bpf_map_get_next_key(dp->held_fd, NULL, &next); !ret;
	     ret = bpf_map_get_next_key(dp->held_fd, &k, &next)) {
		k = next;
		if (!memcmp(&k.session, key, sizeof(*key)) && k.seq > r.last_seq && k.seq < low)
			low = k.seq;
	}
	if (low == ES_MIG_ANY_SEQ)
		return -ENOENT;
	*from = r.last_seq + 1;
	*to = low - 1;
	return 0;
}

static bool rseen(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 seq)
{
	struct es_mig_record_key rk = { .session = *key, .seq = seq };
	__u32 v;

	return !bpf_map_lookup_elem(dp->rseen_fd, &rk, &v);
}

int es_mig_reply_catch_up(const struct es_mig_dp *dp, const struct es_mig_key *key)
{
	struct es_mig_cmd cmd = { .expect_seq = 0 };	/* none given up */
	struct es_mig_session s;
	__u64 seq;
	int ret;

	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	for (seq = s.old_base; seq + 1 < s.old_replies && seq - s.old_base < ES_MIG_CATCH_UP &&
	     rseen(dp, key, seq + 1); seq++)
		;
	if (seq == s.old_base)
		return 0;
	cmd.value = seq;
	ret = es_mig_cmd_run(dp, key, ES_MIG_CMD_REPLY_SKIP, &cmd);
	return ret == -ESTALE ? 0 : ret;	/* a reply moved it as far meanwhile */
}

int es_mig_reply_gap(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *from,
		     __u64 *to)
{
	struct es_mig_session s;
	int ret;

	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	/* the base lags by what the next reply (or es_mig_reply_catch_up) moves it over */
	if (s.old_replies <= s.old_base || rseen(dp, key, s.old_base + 1))
		return -ENOENT;
	*from = *to = s.old_base + 1;
	while (*to + 1 < s.old_replies && !rseen(dp, key, *to + 1))
		(*to)++;
	return 0;
}

int es_mig_reply_skip(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 to)
{
	struct es_mig_cmd cmd = { .value = to };
	struct es_mig_session s;
	__u64 seq;
	int ret;

	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	for (seq = s.old_base + 1; seq <= to; seq++)
		cmd.expect_seq += !rseen(dp, key, seq);
	return es_mig_cmd_run(dp, key, ES_MIG_CMD_REPLY_SKIP, &cmd);
}

int es_mig_src_skip(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 to)
{
	struct es_mig_cmd cmd = { .value = to };

	return es_mig_cmd_run(dp, key, ES_MIG_CMD_SRC_SKIP, &cmd);
}

/* ---- the replay buffer ---- */

/*
 * The value at k in map fd, whose *len (in val) the program writes last:
 * -EAGAIN while it is 0. Once seen written it is read again: the kernel's
 * copy of the value may have read the bytes after len before the program
 * wrote them (a string copy's loads need not be in order), a copy made
 * after len was seen holds them all.
 */
static int read_written(int fd, const void *k, void *val, const __u32 *len)
{
	if (bpf_map_lookup_elem(fd, k, val))
		return -errno;
	if (!*len)
		return -EAGAIN;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return bpf_map_lookup_elem(fd, k, val) ? -errno : 0;
}

/* A pause before the next look at an entry being made; -ENODATA once past until_ns. */
static int pause_until(__u64 until_ns)
{
	struct timespec pause = { .tv_nsec = RECORD_POLL_US * 1000L };

	if (es_now_ns() > until_ns)
		return -ENODATA;
	nanosleep(&pause, NULL);
	return 0;
}

int es_mig_record_get(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 seq,
		      struct es_mig_record *rec)
{
	struct es_mig_record_key rk = { .session = *key, .seq = seq };
	int ret = read_written(dp->replay_fd, &rk, rec, &rec->len);

	return !ret && rec->len == ES_MIG_NO_COPY ? -ENODATA : ret;
}

int es_mig_held_get(int map_fd, const struct es_mig_record_key *k, struct es_mig_held *h)
{
	__u64 until = es_now_ns() + ES_MIG_RECORD_WAIT_MS * 1000000ULL;
	int ret;

	while ((ret = read_written(map_fd, k, h, &h->len)) == -EAGAIN) {
		ret = pause_until(until);
		if (ret)
			break;
	}
	return ret;
}

/*
 * Will record seq be there? A numbered request's past the cursor (those
 * up to it are deleted at the resume) of a session that mirrors: 0, or
 * -ENOENT when none will be. Aborted, the agent deletes what the source
 * delivered and a failed copy makes none: only the held requests, which
 * have no other copy, are waited for. Cut over, later numbers pass to the
 * restored container unrecorded.
 */
static int record_due(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 seq)
{
	struct es_mig_session s;
	unsigned int st;
	int ret = es_mig_session_get(dp, key, &s);

	if (ret)
		return ret;
	st = es_mig_state_of(s.seq_state);
	if (seq > es_mig_seq_of(s.seq_state) || seq <= s.cursor || !(s.flags & ES_MIG_F_MIRROR))
		return -ENOENT;
	if (st == ES_MIG_ABORTED && !((s.flags & ES_MIG_F_ABORT_HELD) && seq > s.hold_seq &&
				      seq <= s.abort_seq))
		return -ENOENT;
	if (st == ES_MIG_CUTOVER && seq > s.cut_seq)
		return -ENOENT;
	return 0;
}

int es_mig_record_wait_until(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 seq,
			     struct es_mig_record *rec, __u64 until_ns)
{
	int ret;

	for (;;) {
		ret = es_mig_record_get(dp, key, seq, rec);
		if (ret == -ENOENT)
			ret = record_due(dp, key, seq) ?: -EAGAIN;	/* due: on its way */
		if (ret != -EAGAIN)
			return ret;
		ret = pause_until(until_ns);
		if (ret)
			return ret;
	}
}

int es_mig_record_wait(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 seq,
		       struct es_mig_record *rec)
{
	return es_mig_record_wait_until(dp, key, seq, rec,
					es_now_ns() + ES_MIG_RECORD_WAIT_MS * 1000000ULL);
}

/*
 * Visit the session's keys in map fd (es_mig_replay, es_mig_rclaim); delete
 * them when del. Count, or -errno.
 */
static int keys_scan(int fd, const struct es_mig_key *key, __u64 from, __u64 to, bool del,
		     __u64 *lowest, __u64 *highest)
{
	struct es_mig_record_key cur, next, *prev = NULL, *hits = NULL, *h;
	size_t n = 0, cap = 0, i;
	int ret = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		cur = next;
		prev = &cur;
		if (memcmp(&cur.session, key, sizeof(*key)) || cur.seq < from || cur.seq > to)
			continue;
		if (lowest && (!n || cur.seq < *lowest))
			*lowest = cur.seq;
		if (highest && (!n || cur.seq > *highest))
			*highest = cur.seq;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			h = realloc(hits, cap * sizeof(*hits));
			if (!h) {
				ret = -ENOMEM;
				goto out;
			}
			hits = h;
		}
		hits[n++] = cur;
	}
	/* Deleting while walking would restart the walk at the bucket's head. */
	for (i = 0; del && i < n; i++)
		bpf_map_delete_elem(fd, &hits[i]);
	ret = n;
out:
	free(hits);
	return ret;
}

int es_mig_records_delete(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  __u64 from, __u64 to)
{
	return keys_scan(dp->replay_fd, key, from, to, true, NULL, NULL);
}

int es_mig_claims_delete(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 __u64 from, __u64 to)
{
	return keys_scan(dp->rclaim_fd, key, from, to, true, NULL, NULL);
}

int es_mig_records_count(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 __u64 *lowest, __u64 *highest)
{
	*lowest = *highest = 0;
	return keys_scan(dp->replay_fd, key, 0, ES_MIG_SEQ_MASK, false, lowest, highest);
}
