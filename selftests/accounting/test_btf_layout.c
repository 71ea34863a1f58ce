// SPDX-License-Identifier: GPL-2.0-only
/*
 * The structs of include/edgeshift/session.h are read by user space with
 * the C compiler's layout and written by BPF code with clang's. They agree
 * only if neither compiler inserts padding, so compare the BTF that clang
 * put into accounting.bpf.o with offsetof()/sizeof() of this compiler,
 * member by member, and check the maps use the sizes user space assumes.
 */
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <edgeshift/session.h>
#include <edgeshift/migration.h>
#include <edgeshift/slot_table.h>
#include "bpf/accounting_skel.h"
#include "harness.h"

struct member_desc {
	const char	*name;
	size_t		offset;
	size_t		size;
};

struct struct_desc {
	const char			*name;
	size_t				size;
	const struct member_desc	*members;
	unsigned int			n_members;
};

#define MEMBER(s, m) \
	{ #m, offsetof(struct s, m), sizeof(((struct s *)0)->m) }

/* A table of the C layout of struct s and a test comparing it with BTF. */
#define LAYOUT_TEST(s, ...)						\
	static const struct member_desc s##_members[] = { __VA_ARGS__ };	\
	static const struct struct_desc s##_desc = {			\
		#s, sizeof(struct s), s##_members,			\
		sizeof(s##_members) / sizeof(s##_members[0]),		\
	};								\
	TEST(layout_##s)

/* build/selftests/test_btf_layout -> build/<object> */
static struct btf *load_object_btf(const char *object)
{
	char exe[PATH_MAX], obj[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct btf *btf;

	ASSERT_GT(n, 0, "readlink /proc/self/exe");
	exe[n] = '\0';
	snprintf(obj, sizeof(obj), "%s/../%s", dirname(exe), object);
	btf = btf__parse(obj, NULL);
	if (!btf)
		TEST_LOG("cannot parse BTF of %s", obj);
	ASSERT_OK_PTR(btf, "btf__parse(object)");
	return btf;
}

static const struct member_desc *find_member(const struct struct_desc *d,
					     const char *name)
{
	unsigned int i;

	for (i = 0; i < d->n_members; i++)
		if (!strcmp(d->members[i].name, name))
			return &d->members[i];
	return NULL;
}

/* The C side alone: the table lists every member and C adds no padding. */
static void check_c_layout(const struct struct_desc *d)
{
	size_t sum = 0, end = 0;
	unsigned int i;

	for (i = 0; i < d->n_members; i++) {
		EXPECT_EQ(d->members[i].offset, end, d->members[i].name);
		end = d->members[i].offset + d->members[i].size;
		sum += d->members[i].size;
	}
	EXPECT_EQ(sum, d->size, "C: sum of member sizes vs sizeof");
}

static void check_btf_member(struct btf *btf, const struct btf_type *t,
			     unsigned int i, const struct struct_desc *d,
			     size_t *btf_end)
{
	const struct btf_member *m = btf_members(t) + i;
	const char *name = btf__name_by_offset(btf, m->name_off);
	const struct member_desc *c = find_member(d, name ? name : "");
	__u32 bit_off = btf_member_bit_offset(t, i);
	long long size = btf__resolve_size(btf, m->type);
	char what[128];

	if (!c) {
		TEST_LOG("%s: BTF member '%s' has no C counterpart", d->name, name);
		EXPECT_TRUE(c, "member known to C");
		return;
	}
	snprintf(what, sizeof(what), "%s.%s bit offset", d->name, name);
	EXPECT_EQ(bit_off, c->offset * 8, what);
	snprintf(what, sizeof(what), "%s.%s bitfield size", d->name, name);
	EXPECT_EQ(btf_member_bitfield_size(t, i), 0, what);
	snprintf(what, sizeof(what), "%s.%s BTF size", d->name, name);
	EXPECT_EQ(size, (long long)c->size, what);
	/* A hole before this member is padding, even if the sizes add up. */
	snprintf(what, sizeof(what), "%s.%s starts where the previous ends", d->name, name);
	EXPECT_EQ((size_t)bit_off, *btf_end * 8, what);
	if (size > 0)
		*btf_end = bit_off / 8 + size;
}

static void check_layout_in(const struct struct_desc *d, const char *object)
{
	struct btf *btf = load_object_btf(object);
	const struct btf_type *t;
	size_t btf_end = 0, sum = 0;
	unsigned int i;
	__s32 id;

	check_c_layout(d);
	id = btf__find_by_name_kind(btf, d->name, BTF_KIND_STRUCT);
	if (id <= 0)
		TEST_LOG("struct %s is not in the BTF of %s", d->name, object);
	ASSERT_GT(id, 0, "BTF type id");
	t = btf__type_by_id(btf, id);
	ASSERT_OK_PTR(t, "btf__type_by_id");
	EXPECT_EQ(t->size, d->size, "BTF struct size vs sizeof");
	EXPECT_EQ(btf_vlen(t), d->n_members, "BTF member count vs C table");
	for (i = 0; i < btf_vlen(t); i++) {
		check_btf_member(btf, t, i, d, &btf_end);
		sum += btf__resolve_size(btf, btf_members(t)[i].type);
	}
	EXPECT_EQ(sum, (size_t)t->size, "BTF: sum of member sizes vs struct size");
	btf__free(btf);
}

static void check_layout(const struct struct_desc *d)
{
	check_layout_in(d, "accounting.bpf.o");
}

LAYOUT_TEST(es_session_key4,
	MEMBER(es_session_key4, addr_lo),
	MEMBER(es_session_key4, addr_hi),
	MEMBER(es_session_key4, port_lo),
	MEMBER(es_session_key4, port_hi),
	MEMBER(es_session_key4, ifindex),
	MEMBER(es_session_key4, proto),
	MEMBER(es_session_key4, reserved))
{
	check_layout(&es_session_key4_desc);
}

LAYOUT_TEST(es_session_key6,
	MEMBER(es_session_key6, addr_lo),
	MEMBER(es_session_key6, addr_hi),
	MEMBER(es_session_key6, port_lo),
	MEMBER(es_session_key6, port_hi),
	MEMBER(es_session_key6, ifindex),
	MEMBER(es_session_key6, proto),
	MEMBER(es_session_key6, reserved))
{
	check_layout(&es_session_key6_desc);
}

LAYOUT_TEST(es_session_counters,
	MEMBER(es_session_counters, pkts),
	MEMBER(es_session_counters, bytes),
	MEMBER(es_session_counters, first_ns),
	MEMBER(es_session_counters, last_ns),
	MEMBER(es_session_counters, tcp_flags),
	MEMBER(es_session_counters, reserved))
{
	check_layout(&es_session_counters_desc);
}

LAYOUT_TEST(es_session_state,
	MEMBER(es_session_state, created_ns),
	MEMBER(es_session_state, closed_ns),
	MEMBER(es_session_state, hs_ts_ns),
	MEMBER(es_session_state, req_ts_ns),
	MEMBER(es_session_state, tcp_rtt_ns),
	MEMBER(es_session_state, lat_last_ns),
	MEMBER(es_session_state, lat_sum_ns),
	MEMBER(es_session_state, lat_max_ns),
	MEMBER(es_session_state, lat_count),
	MEMBER(es_session_state, flags))
{
	check_layout(&es_session_state_desc);
}

LAYOUT_TEST(es_iface_traffic,
	MEMBER(es_iface_traffic, pkts),
	MEMBER(es_iface_traffic, bytes))
{
	check_layout(&es_iface_traffic_desc);
}

LAYOUT_TEST(es_iface_stats,
	MEMBER(es_iface_stats, pkts),
	MEMBER(es_iface_stats, bytes),
	MEMBER(es_iface_stats, skipped),
	MEMBER(es_iface_stats, sessions_created),
	MEMBER(es_iface_stats, lat_count),
	MEMBER(es_iface_stats, lat_sum_ns),
	MEMBER(es_iface_stats, lat_hist),
	MEMBER(es_iface_stats, close_events_lost))
{
	check_layout(&es_iface_stats_desc);
}

LAYOUT_TEST(es_iface_closed,
	MEMBER(es_iface_closed, sessions),
	MEMBER(es_iface_closed, pkts),
	MEMBER(es_iface_closed, bytes),
	MEMBER(es_iface_closed, deleted))
{
	check_layout(&es_iface_closed_desc);
}

LAYOUT_TEST(es_close_event,
	MEMBER(es_close_event, key),
	MEMBER(es_close_event, family),
	MEMBER(es_close_event, flags),
	MEMBER(es_close_event, reserved),
	MEMBER(es_close_event, closed_ns))
{
	/*
	 * Only a stack local on the BPF side, which gives it no BTF of its
	 * own: the object must carry the type some other way.
	 */
	check_layout(&es_close_event_desc);
}

LAYOUT_TEST(es_meta,
	MEMBER(es_meta, layout_version),
	MEMBER(es_meta, session_map_size),
	MEMBER(es_meta, created_realtime_ns),
	MEMBER(es_meta, table_buckets),
	MEMBER(es_meta, reserved))
{
	check_layout(&es_meta_desc);
}

LAYOUT_TEST(es_iface_info,
	MEMBER(es_iface_info, ifname),
	MEMBER(es_iface_info, pod_namespace),
	MEMBER(es_iface_info, pod_name),
	MEMBER(es_iface_info, ifindex),
	MEMBER(es_iface_info, attached))
{
	check_layout(&es_iface_info_desc);
}

LAYOUT_TEST(es_flow_counts,
	MEMBER(es_flow_counts, pkts),
	MEMBER(es_flow_counts, bytes),
	MEMBER(es_flow_counts, last_ns),
	MEMBER(es_flow_counts, tcp_flags),
	MEMBER(es_flow_counts, valid),
	MEMBER(es_flow_counts, reserved))
{
	check_layout(&es_flow_counts_desc);
}

LAYOUT_TEST(es_flow_slot4,
	MEMBER(es_flow_slot4, key),
	MEMBER(es_flow_slot4, tbl_slot),
	MEMBER(es_flow_slot4, n))
{
	check_layout(&es_flow_slot4_desc);
}

LAYOUT_TEST(es_flow_slot6,
	MEMBER(es_flow_slot6, key),
	MEMBER(es_flow_slot6, tbl_slot),
	MEMBER(es_flow_slot6, n))
{
	check_layout(&es_flow_slot6_desc);
}

LAYOUT_TEST(es_flow_timer,
	MEMBER(es_flow_timer, timer),
	MEMBER(es_flow_timer, armed),
	MEMBER(es_flow_timer, reserved))
{
	check_layout(&es_flow_timer_desc);
}

struct map_desc {
	const char	*name;
	size_t		key_size;
	size_t		value_size;
	const char	*value_type;	/* BTF name of the value, NULL if none */
};

static const struct map_desc map_descs[] = {
	{ "es_sessions4", sizeof(struct es_session_key4),
	  sizeof(struct es_session_counters), "es_session_counters" },
	{ "es_sessions6", sizeof(struct es_session_key6),
	  sizeof(struct es_session_counters), "es_session_counters" },
	{ "es_session_state4", sizeof(struct es_session_key4),
	  sizeof(struct es_session_state), "es_session_state" },
	{ "es_session_state6", sizeof(struct es_session_key6),
	  sizeof(struct es_session_state), "es_session_state" },
	{ "es_iface_traffic", sizeof(__u32), sizeof(struct es_iface_traffic),
	  "es_iface_traffic" },
	{ "es_iface_stats", sizeof(__u32), sizeof(struct es_iface_stats),
	  "es_iface_stats" },
	{ "es_iface_closed", sizeof(__u32), sizeof(struct es_iface_closed),
	  "es_iface_closed" },
	{ "es_ifaces", sizeof(__u32), sizeof(struct es_iface_info), "es_iface_info" },
	{ "es_meta", sizeof(__u32), sizeof(struct es_meta), "es_meta" },
	{ "es_events", 0, 0, NULL },
	{ "es_flow_cache4", sizeof(__u32), sizeof(struct es_flow_slot4), "es_flow_slot4" },
	{ "es_flow_cache6", sizeof(__u32), sizeof(struct es_flow_slot6), "es_flow_slot6" },
	{ "es_flow_timers", sizeof(__u32), sizeof(struct es_flow_timer), "es_flow_timer" },
};

#define N_MAP_DESCS (sizeof(map_descs) / sizeof(map_descs[0]))

static struct bpf_map *find_map(struct accounting *skel, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(skel->obj, name);

	if (!map)
		TEST_LOG("map %s not in the skeleton", name);
	ASSERT_OK_PTR(map, "bpf_object__find_map_by_name");
	return map;
}

/* Sizes as libbpf derives them from the object, before any load. */
TEST(map_sizes_opened)
{
	struct accounting *skel = es_accounting_open(NULL);
	unsigned int i;
	char what[128];

	ASSERT_OK_PTR(skel, "accounting__open");
	for (i = 0; i < N_MAP_DESCS; i++) {
		const struct map_desc *d = &map_descs[i];
		struct bpf_map *map = find_map(skel, d->name);

		snprintf(what, sizeof(what), "%s key_size", d->name);
		EXPECT_EQ(bpf_map__key_size(map), d->key_size, what);
		snprintf(what, sizeof(what), "%s value_size", d->name);
		EXPECT_EQ(bpf_map__value_size(map), d->value_size, what);
	}
	accounting__destroy(skel);
}

static void check_loaded_map(struct accounting *skel, const struct map_desc *d)
{
	struct bpf_map *map = find_map(skel, d->name);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	const struct btf_type *t;
	struct btf *btf;
	char what[128];

	ASSERT_OK(bpf_map_get_info_by_fd(bpf_map__fd(map), &info, &len),
		  "bpf_map_get_info_by_fd");
	snprintf(what, sizeof(what), "%s kernel key_size", d->name);
	EXPECT_EQ(info.key_size, d->key_size, what);
	snprintf(what, sizeof(what), "%s kernel value_size", d->name);
	EXPECT_EQ(info.value_size, d->value_size, what);
	if (!d->value_type)
		return;
	/* The value type the kernel knows is the struct user space reads. */
	btf = bpf_object__btf(skel->obj);
	ASSERT_OK_PTR(btf, "bpf_object__btf");
	t = btf__type_by_id(btf, bpf_map__btf_value_type_id(map));
	snprintf(what, sizeof(what), "%s has a BTF value type", d->name);
	ASSERT_OK_PTR(t, what);
	snprintf(what, sizeof(what), "%s BTF value type is struct %s", d->name,
		 d->value_type);
	EXPECT_TRUE(btf_is_struct(t) &&
		    !strcmp(btf__name_by_offset(btf, t->name_off), d->value_type),
		    what);
}

/* Sizes as the kernel created the maps. */
TEST(map_sizes_loaded)
{
	struct accounting *skel;
	unsigned int i;

	es_harness_require_root();
	skel = es_accounting_open(NULL);
	ASSERT_OK_PTR(skel, "accounting__open");
	bpf_map__set_max_entries(skel->maps.es_sessions4, 1024);
	bpf_map__set_max_entries(skel->maps.es_sessions6, 1024);
	bpf_map__set_max_entries(skel->maps.es_session_state4, 1024);
	bpf_map__set_max_entries(skel->maps.es_session_state6, 1024);
	ASSERT_OK(accounting__load(skel), "accounting__load");
	for (i = 0; i < N_MAP_DESCS; i++)
		check_loaded_map(skel, &map_descs[i]);
	accounting__destroy(skel);
}

/* The slot table candidate (include/edgeshift/slot_table.h) against its object. */
LAYOUT_TEST(es_tbl_bucket, MEMBER(es_tbl_bucket, tag), MEMBER(es_tbl_bucket, overflow))
{
	check_layout_in(&es_tbl_bucket_desc, "bench_table.bpf.o");
}

LAYOUT_TEST(es_tbl_entry,
	MEMBER(es_tbl_entry, key), MEMBER(es_tbl_entry, v6),
	MEMBER(es_tbl_entry, c), MEMBER(es_tbl_entry, st))
{
	check_layout_in(&es_tbl_entry_desc, "bench_table.bpf.o");
}

LAYOUT_TEST(es_tbl_stats,
	MEMBER(es_tbl_stats, created), MEMBER(es_tbl_stats, no_slot),
	MEMBER(es_tbl_stats, busy), MEMBER(es_tbl_stats, in_second))
{
	check_layout_in(&es_tbl_stats_desc, "bench_table.bpf.o");
}

/* The migration ABI (include/edgeshift/migration.h) against migration.bpf.o. */
LAYOUT_TEST(es_mig_key,
	MEMBER(es_mig_key, user_addr), MEMBER(es_mig_key, svc_addr),
	MEMBER(es_mig_key, user_port), MEMBER(es_mig_key, svc_port),
	MEMBER(es_mig_key, proto), MEMBER(es_mig_key, reserved))
{
	check_layout_in(&es_mig_key_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_session,
	MEMBER(es_mig_session, seq_state), MEMBER(es_mig_session, source_addr),
	MEMBER(es_mig_session, flags), MEMBER(es_mig_session, reserved0),
	MEMBER(es_mig_session, cursor),
	MEMBER(es_mig_session, replayed), MEMBER(es_mig_session, cut_seq),
	MEMBER(es_mig_session, hold_seq), MEMBER(es_mig_session, replay_limit),
	MEMBER(es_mig_session, abort_reason), MEMBER(es_mig_session, abort_seq),
	MEMBER(es_mig_session, forwarded), MEMBER(es_mig_session, mirrored),
	MEMBER(es_mig_session, held), MEMBER(es_mig_session, old_replies),
	MEMBER(es_mig_session, new_replies), MEMBER(es_mig_session, suppressed_old),
	MEMBER(es_mig_session, suppressed_new), MEMBER(es_mig_session, passed_local),
	MEMBER(es_mig_session, fwd_errors), MEMBER(es_mig_session, created_ns),
	MEMBER(es_mig_session, changed_ns), MEMBER(es_mig_session, fwd_base),
	MEMBER(es_mig_session, old_base), MEMBER(es_mig_session, dup_replies),
	MEMBER(es_mig_session, replies_lost), MEMBER(es_mig_session, src_acked),
	MEMBER(es_mig_session, old_snd_nxt), MEMBER(es_mig_session, new_snd_nxt),
	MEMBER(es_mig_session, new_ack), MEMBER(es_mig_session, tcp_seen),
	MEMBER(es_mig_session, old_hashed), MEMBER(es_mig_session, new_hashed),
	MEMBER(es_mig_session, old_from), MEMBER(es_mig_session, new_from),
	MEMBER(es_mig_session, tcp_matched), MEMBER(es_mig_session, tcp_diverged),
	MEMBER(es_mig_session, tcp_unhashed), MEMBER(es_mig_session, tcp_old_late),
	MEMBER(es_mig_session, old_cut_nxt), MEMBER(es_mig_session, reserved2),
	MEMBER(es_mig_session, reply_base), MEMBER(es_mig_session, claims_failed),
	MEMBER(es_mig_session, replies_diverged))
{
	check_layout_in(&es_mig_session_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_rclaim,
	MEMBER(es_mig_rclaim, answered), MEMBER(es_mig_rclaim, digest))
{
	check_layout_in(&es_mig_rclaim_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_tcpblk_key,
	MEMBER(es_mig_tcpblk_key, session), MEMBER(es_mig_tcpblk_key, block),
	MEMBER(es_mig_tcpblk_key, reserved))
{
	check_layout_in(&es_mig_tcpblk_key_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_tcpblk,
	MEMBER(es_mig_tcpblk, sum_old), MEMBER(es_mig_tcpblk, sum_new),
	MEMBER(es_mig_tcpblk, count_old), MEMBER(es_mig_tcpblk, count_new),
	MEMBER(es_mig_tcpblk, compared), MEMBER(es_mig_tcpblk, reserved),
	MEMBER(es_mig_tcpblk, mask_old), MEMBER(es_mig_tcpblk, mask_new))
{
	check_layout_in(&es_mig_tcpblk_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_record_key,
	MEMBER(es_mig_record_key, session), MEMBER(es_mig_record_key, seq))
{
	check_layout_in(&es_mig_record_key_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_record,
	MEMBER(es_mig_record, ts_ns), MEMBER(es_mig_record, len),
	MEMBER(es_mig_record, answered), MEMBER(es_mig_record, data),
	MEMBER(es_mig_record, reserved))
{
	check_layout_in(&es_mig_record_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_svc_key,
	MEMBER(es_mig_svc_key, svc_addr), MEMBER(es_mig_svc_key, svc_port),
	MEMBER(es_mig_svc_key, proto), MEMBER(es_mig_svc_key, reserved))
{
	check_layout_in(&es_mig_svc_key_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_svc,
	MEMBER(es_mig_svc, node_addr), MEMBER(es_mig_svc, flags),
	MEMBER(es_mig_svc, replay_limit), MEMBER(es_mig_svc, handoffs),
	MEMBER(es_mig_svc, held_new), MEMBER(es_mig_svc, sealed_ns))
{
	check_layout_in(&es_mig_svc_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_node_config,
	MEMBER(es_mig_node_config, layout_version), MEMBER(es_mig_node_config, local_addr),
	MEMBER(es_mig_node_config, tunnel_port), MEMBER(es_mig_node_config, reserved),
	MEMBER(es_mig_node_config, default_replay_limit), MEMBER(es_mig_node_config, active),
	MEMBER(es_mig_node_config, xlate))
{
	check_layout_in(&es_mig_node_config_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_xlate,
	MEMBER(es_mig_xlate, seq_delta), MEMBER(es_mig_xlate, ts_delta),
	MEMBER(es_mig_xlate, flags), MEMBER(es_mig_xlate, closed),
	MEMBER(es_mig_xlate, old_isn), MEMBER(es_mig_xlate, new_isn),
	MEMBER(es_mig_xlate, new_tsval), MEMBER(es_mig_xlate, learned),
	MEMBER(es_mig_xlate, new_ns), MEMBER(es_mig_xlate, in_segs), MEMBER(es_mig_xlate, out_segs),
	MEMBER(es_mig_xlate, bad_opts), MEMBER(es_mig_xlate, last_ns))
{
	check_layout_in(&es_mig_xlate_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_remote,
	MEMBER(es_mig_remote, peer_addr), MEMBER(es_mig_remote, flags),
	MEMBER(es_mig_remote, reserved),
	MEMBER(es_mig_remote, delivered), MEMBER(es_mig_remote, last_seq),
	MEMBER(es_mig_remote, replies), MEMBER(es_mig_remote, errors),
	MEMBER(es_mig_remote, created_ns), MEMBER(es_mig_remote, hold),
	MEMBER(es_mig_remote, hold_at), MEMBER(es_mig_remote, held),
	MEMBER(es_mig_remote, released), MEMBER(es_mig_remote, hold_ns),
	MEMBER(es_mig_remote, dup), MEMBER(es_mig_remote, gaps),
	MEMBER(es_mig_remote, skipped), MEMBER(es_mig_remote, prev_addr),
	MEMBER(es_mig_remote, prev_last_seq), MEMBER(es_mig_remote, prev_seen))
{
	check_layout_in(&es_mig_remote_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_held,
	MEMBER(es_mig_held, seq), MEMBER(es_mig_held, ts_ns),
	MEMBER(es_mig_held, len), MEMBER(es_mig_held, reserved),
	MEMBER(es_mig_held, data), MEMBER(es_mig_held, reserved2))
{
	check_layout_in(&es_mig_held_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_event,
	MEMBER(es_mig_event, key), MEMBER(es_mig_event, type),
	MEMBER(es_mig_event, reason), MEMBER(es_mig_event, node_addr),
	MEMBER(es_mig_event, seq),
	MEMBER(es_mig_event, ts_ns))
{
	check_layout_in(&es_mig_event_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_tunhdr,
	MEMBER(es_mig_tunhdr, magic), MEMBER(es_mig_tunhdr, version),
	MEMBER(es_mig_tunhdr, type), MEMBER(es_mig_tunhdr, base),
	MEMBER(es_mig_tunhdr, seq))
{
	check_layout_in(&es_mig_tunhdr_desc, "migration.bpf.o");
}

LAYOUT_TEST(es_mig_cmd,
	MEMBER(es_mig_cmd, key), MEMBER(es_mig_cmd, op), MEMBER(es_mig_cmd, from),
	MEMBER(es_mig_cmd, to), MEMBER(es_mig_cmd, flags), MEMBER(es_mig_cmd, source_addr),
	MEMBER(es_mig_cmd, replay_limit), MEMBER(es_mig_cmd, reserved),
	MEMBER(es_mig_cmd, expect_seq),
	MEMBER(es_mig_cmd, value), MEMBER(es_mig_cmd, seq_state))
{
	check_layout_in(&es_mig_cmd_desc, "migration.bpf.o");
}

TEST_HARNESS_MAIN
