// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sequence translation entries (xlate.h; docs/migration.md, "Connections
 * opened during the window"). The programs look es_mig_xlate up only while
 * es_mig_node_config.xlate is set: it is set before the first entry is
 * added and cleared once the map is empty, so no entry is ever skipped.
 */
#include <errno.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "xlate.h"

static int set_flag(const struct es_mig_dp *dp, __u32 on)
{
	struct es_mig_node_config cfg;
	struct es_mig_key k;
	__u32 zero = 0;

	/* off only with nothing left to translate */
	if (!on && !bpf_map_get_next_key(dp->xlate_fd, NULL, &k))
		return 0;
	if (bpf_map_lookup_elem(dp->config_fd, &zero, &cfg))
		return -errno;
	if (cfg.xlate == on)
		return 0;
	cfg.xlate = on;
	return bpf_map_update_elem(dp->config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
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
	return 0;
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

struct sweep {
	__u64		now_ns;
	unsigned int	linger_ms, idle_ms;
	bool		(*alive)(const struct es_mig_key *k, void *arg);
	void		*arg;
};

/* Is k's connection over, or gone quiet (and gone), as of now_ns? */
static bool expired(const struct sweep *w, const struct es_mig_key *k,
		    const struct es_mig_xlate *x)
{
	__u64 quiet = w->now_ns > x->last_ns ? w->now_ns - x->last_ns : 0;

	if (es_mig_xlate_closed(x) && quiet >= (__u64)w->linger_ms * 1000000)
		return true;
	if (!w->idle_ms || quiet < (__u64)w->idle_ms * 1000000)
		return false;
	return !w->alive || !w->alive(k, w->arg);
}

int es_mig_xlate_sweep(const struct es_mig_dp *dp, __u64 now_ns, unsigned int linger_ms,
		       unsigned int idle_ms,
		       bool (*alive)(const struct es_mig_key *k, void *arg), void *arg,
		       unsigned int *removed)
{
	struct sweep w = { now_ns, linger_ms, idle_ms, alive, arg };
	struct es_mig_key k, next;
	struct es_mig_xlate x;
	int ret, more;

	*removed = 0;
	more = !bpf_map_get_next_key(dp->xlate_fd, NULL, &k);
	while (more) {
		/* the successor first: a deleted key has none */
		more = !bpf_map_get_next_key(dp->xlate_fd, &k, &next);
		if (!bpf_map_lookup_elem(dp->xlate_fd, &k, &x) && expired(&w, &k, &x) &&
		    !bpf_map_delete_elem(dp->xlate_fd, &k))
			(*removed)++;
		k = next;
	}
	ret = set_flag(dp, 0);
	return ret;
}
