// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sequence translation entries (xlate.h; docs/migration.md, "Connections
 * opened during the window"). The programs look es_mig_xlate up only while
 * es_mig_node_config.xlate is set: it is set before the first entry is
 * added and cleared once the map is empty, so no entry is ever skipped.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "ctl.h"
#include "xlate.h"

struct flag_arg {
	const struct es_mig_dp	*dp;
	__u32			on;
};

/* Under es_mig_config_update's lock: off only with nothing left to translate now. */
static bool flag_fn(struct es_mig_node_config *cfg, void *arg)
{
	const struct flag_arg *a = arg;
	struct es_mig_key k;

	if (!a->on && !bpf_map_get_next_key(a->dp->xlate_fd, NULL, &k))
		return false;
	if (cfg->xlate == a->on)
		return false;
	cfg->xlate = a->on;
	return true;
}

static int set_flag(const struct es_mig_dp *dp, __u32 on)
{
	struct flag_arg a = { .dp = dp, .on = on };

	return es_mig_config_update(dp, flag_fn, &a);
}

static int add(const struct es_mig_dp *dp, const struct es_mig_key *k,
	       const struct es_mig_xlate *x)
{
	int ret;

	if (k->proto != IPPROTO_TCP)
		return -EINVAL;
	ret = set_flag(dp, 1);
	if (ret)
		return ret;
	if (bpf_map_update_elem(dp->xlate_fd, k, x, BPF_NOEXIST)) {
		ret = -errno;
		set_flag(dp, 0);
		return ret;
	}
	/* again: an off that looked at the map just before the entry came */
	return set_flag(dp, 1);
}

int es_mig_xlate_add(const struct es_mig_dp *dp, const struct es_mig_key *k, __u32 seq_delta,
		     __u32 ts_delta, __u32 flags)
{
	struct es_mig_xlate x = { .seq_delta = seq_delta, .ts_delta = ts_delta, .flags = flags };

	if (flags & ~ES_MIG_XLATE_TS)
		return -EINVAL;
	return add(dp, k, &x);
}

int es_mig_xlate_learn(const struct es_mig_dp *dp, const struct es_mig_key *k, __u32 old_isn)
{
	struct es_mig_xlate x = { .flags = ES_MIG_XLATE_LEARN, .old_isn = old_isn };

	return add(dp, k, &x);
}

int es_mig_xlate_activate(const struct es_mig_dp *dp, const struct es_mig_key *k, __u32 ts_delta,
			  bool ts)
{
	struct es_mig_xlate x;

	if (bpf_map_lookup_elem(dp->xlate_fd, k, &x))
		return -errno;
	if (!(x.learned & ES_MIG_XLATE_LEARNED))
		return -EAGAIN;
	/*
	 * A whole-value update: the programs' counts of the instants between
	 * the read and the write may be lost, the deltas cannot (only the
	 * SYN-ACK, already learned, writes one).
	 */
	x.ts_delta = ts_delta;
	x.flags = (x.flags & ~ES_MIG_XLATE_LEARN) | (ts ? ES_MIG_XLATE_TS : 0);
	return bpf_map_update_elem(dp->xlate_fd, k, &x, BPF_EXIST) ? -errno : 0;
}

int es_mig_xlate_get(const struct es_mig_dp *dp, const struct es_mig_key *k,
		     struct es_mig_xlate *x)
{
	return bpf_map_lookup_elem(dp->xlate_fd, k, x) ? -errno : 0;
}

int es_mig_xlate_del(const struct es_mig_dp *dp, const struct es_mig_key *k)
{
	if (bpf_map_delete_elem(dp->xlate_fd, k))
		return -errno;
	return set_flag(dp, 0);
}

bool es_mig_xlate_closed(const struct es_mig_xlate *x)
{
	return (x->closed & ES_MIG_XLATE_RST) ||
	       (x->closed & (ES_MIG_XLATE_FIN_IN | ES_MIG_XLATE_FIN_OUT)) ==
		       (ES_MIG_XLATE_FIN_IN | ES_MIG_XLATE_FIN_OUT);
}

/* Idle entries whose connection is asked about in one go: one socket dump per sweep. */
#define SWEEP_ASK	256

enum fate { KEEP, DROP, ASK };

/* What becomes of k's entry x as of now_ns: closed and lingered, idle (ask), or kept. */
static enum fate fate(const struct es_mig_xlate *x, __u64 now_ns, unsigned int linger_ms,
		      unsigned int idle_ms)
{
	__u64 quiet = now_ns > x->last_ns ? now_ns - x->last_ns : 0;

	if (es_mig_xlate_closed(x) && quiet >= (__u64)linger_ms * 1000000)
		return DROP;
	if (!idle_ms || quiet < (__u64)idle_ms * 1000000)
		return KEEP;
	return ASK;
}

static void drop(const struct es_mig_dp *dp, const struct es_mig_key *k, unsigned int *removed)
{
	if (!bpf_map_delete_elem(dp->xlate_fd, k))
		(*removed)++;
}

int es_mig_xlate_sweep(const struct es_mig_dp *dp, __u64 now_ns, unsigned int linger_ms,
		       unsigned int idle_ms, es_mig_xlate_alive_fn alive, void *arg,
		       unsigned int *removed)
{
	struct es_mig_key k, next, ask[SWEEP_ASK];
	bool live[SWEEP_ASK];
	struct es_mig_xlate x;
	unsigned int n = 0, i;
	int more;

	*removed = 0;
	more = !bpf_map_get_next_key(dp->xlate_fd, NULL, &k);
	while (more) {
		/* the successor first: a deleted key has none */
		more = !bpf_map_get_next_key(dp->xlate_fd, &k, &next);
		switch (bpf_map_lookup_elem(dp->xlate_fd, &k, &x) ? KEEP :
			fate(&x, now_ns, linger_ms, idle_ms)) {
		case DROP:
			drop(dp, &k, removed);
			break;
		case ASK:
			if (n < SWEEP_ASK)	/* the rest at the next sweep */
				ask[n++] = k;
			break;
		case KEEP:
			break;
		}
		k = next;
	}
	memset(live, 0, sizeof(live));
	if (n && alive)
		alive(ask, n, live, arg);
	for (i = 0; i < n; i++)
		if (!live[i])
			drop(dp, &ask[i], removed);
	return set_flag(dp, 0);
}
