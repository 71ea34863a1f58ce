// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <edgeshift/session.h>
#include "bpf/accounting_skel.h"
#include "util/clock.h"
#include "util/fs_util.h"
#include "util/log.h"
#include "accounting.h"

#define ES_MAX_IFACES_FORGET	1024

#define ATTACHED_XDP	(1U << 0)
#define ATTACHED_TCX	(1U << 1)
#define ATTACHED_TCI	(1U << 2)

/* Pinned link names: links/<kind>_<ifindex>. */
enum link_kind { LINK_XDP, LINK_TC_INGRESS, LINK_TC_EGRESS, LINK_KINDS };
static const char *const link_prefix[LINK_KINDS] = { "xdp", "tci", "tcx" };

/* The pin directory must be on bpffs; mount the standard one when absent. */
static int ensure_bpffs(const char *pin_path, char *err, size_t err_len)
{
	struct statfs st;
	int ret;

	if (!strncmp(pin_path, "/sys/fs/bpf", 11) &&
	    (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC)) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			snprintf(err, err_len, "cannot mount bpffs at /sys/fs/bpf: %s",
				 strerror(errno));
			return -errno;
		}
		es_info("bpffs_mounted", "path=/sys/fs/bpf");
	}
	ret = es_mkdir_p(pin_path, 0700);
	if (ret) {
		snprintf(err, err_len, "cannot create pin directory %s: %s", pin_path,
			 strerror(-ret));
		return ret;
	}
	if (statfs(pin_path, &st) || st.f_type != BPF_FS_MAGIC) {
		snprintf(err, err_len, "pin directory %s is not on a bpf filesystem", pin_path);
		return -ENOTSUP;
	}
	return 0;
}

static void unpin_maps(const char *pin_path)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < ES_MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_path, es_map_name(i));
		unlink(path);
	}
	for (i = 0; i < ES_TBL_MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_path, es_tbl_map_name(i));
		unlink(path);
	}
}

__u32 es_acct_table_buckets(const struct es_acct_config *cfg)
{
	return cfg->slots ? es_tbl_buckets_for(cfg->session_map_size) : 0;
}

static const char *table_kind(__u32 buckets)
{
	return buckets ? "slots" : "maps";
}

/*
 * Decide what to do with maps already pinned: reuse them when they were
 * made by this layout with this size, otherwise refuse or drop them as the
 * config says. Old bytes are never read with new structs.
 */
static int check_existing_pins(struct es_datapath *dp, const struct es_acct_config *cfg,
			       char *err, size_t err_len)
{
	char path[PATH_MAX];
	struct es_meta meta = {};
	__u32 zero = 0;
	int fd, ok;

	snprintf(path, sizeof(path), "%s/es_meta", dp->pin_path);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	ok = !bpf_map_lookup_elem(fd, &zero, &meta) &&
	     meta.layout_version == ES_MAP_LAYOUT_VERSION &&
	     meta.session_map_size == cfg->session_map_size &&
	     meta.table_buckets == es_acct_table_buckets(cfg);
	close(fd);
	if (ok)
		return 0;
	if (cfg->on_layout_mismatch == ES_LAYOUT_REFUSE) {
		snprintf(err, err_len,
			 "pinned maps in %s have layout version %u, %u sessions and session_table "
			 "%s, this agent wants version %u, %u sessions and session_table %s; run "
			 "'edgeshiftd --cleanup' or set on_layout_mismatch to \"rebuild\"",
			 dp->pin_path, meta.layout_version, meta.session_map_size,
			 table_kind(meta.table_buckets), ES_MAP_LAYOUT_VERSION,
			 cfg->session_map_size, table_kind(cfg->slots));
		return -EPROTO;
	}
	es_warn("layout_mismatch_rebuild",
		"pin_path=%s pinned_version=%u pinned_sessions=%u pinned_table=%s version=%u "
		"sessions=%u table=%s", dp->pin_path, meta.layout_version, meta.session_map_size,
		table_kind(meta.table_buckets), ES_MAP_LAYOUT_VERSION, cfg->session_map_size,
		table_kind(cfg->slots));
	unpin_maps(dp->pin_path);
	dp->rebuilt = true;
	return 0;
}

/*
 * A pinned map whose definition differs from ours although es_meta matched
 * (a build that changed a struct without bumping the layout version) would
 * make the load fail. Decide before loading, so that a load failing for
 * another reason (verifier, memory) never costs the pinned totals.
 */
static int check_pin_definitions(struct es_datapath *dp, const struct es_acct_config *cfg,
				 char *err, size_t err_len)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct bpf_map *map;
	bool same = true;
	int fd;

	bpf_object__for_each_map(map, dp->skel->obj) {
		if (bpf_map__is_internal(map) || !bpf_map__pin_path(map))
			continue;
		fd = bpf_obj_get(bpf_map__pin_path(map));
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_map_get_info_by_fd(fd, &info, &len))
			same &= info.type == bpf_map__type(map) &&
				info.key_size == bpf_map__key_size(map) &&
				info.value_size == bpf_map__value_size(map) &&
				info.max_entries == bpf_map__max_entries(map) &&
				info.map_flags == bpf_map__map_flags(map);
		close(fd);
	}
	if (same)
		return 0;
	if (cfg->on_layout_mismatch == ES_LAYOUT_REFUSE) {
		snprintf(err, err_len, "pinned maps in %s differ from this agent's definitions; "
			 "run 'edgeshiftd --cleanup' or set on_layout_mismatch to \"rebuild\"",
			 dp->pin_path);
		return -EPROTO;
	}
	es_warn("pinned_maps_incompatible_rebuild", "pin_path=%s", dp->pin_path);
	unpin_maps(dp->pin_path);
	dp->rebuilt = true;
	return 0;
}

static bool is_table_map(const struct bpf_map *map)
{
	return !strncmp(bpf_map__name(map), "es_tbl_", 7);
}

/* Every map is pinned, the slot table's only when it holds the sessions. */
static void set_pin_paths(struct es_datapath *dp, bool slots)
{
	char path[PATH_MAX];
	struct bpf_map *map;

	bpf_object__for_each_map(map, dp->skel->obj) {
		if (bpf_map__is_internal(map) || (!slots && is_table_map(map)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dp->pin_path, bpf_map__name(map));
		bpf_map__set_pin_path(map, path);
	}
}

static int write_meta(struct es_datapath *dp, const struct es_acct_config *cfg)
{
	struct es_meta meta = {};
	__u32 zero = 0;

	if (!bpf_map_lookup_elem(dp->maps.fd[ES_MAP_META], &zero, &meta) &&
	    meta.layout_version == ES_MAP_LAYOUT_VERSION)
		return 0;
	meta.layout_version = ES_MAP_LAYOUT_VERSION;
	meta.session_map_size = cfg->session_map_size;
	meta.table_buckets = es_acct_table_buckets(cfg);
	meta.created_realtime_ns = es_realtime_ns();
	return bpf_map_update_elem(dp->maps.fd[ES_MAP_META], &zero, &meta, BPF_ANY) ? -errno : 0;
}

static struct es_attachment *att_get(struct es_datapath *dp, __u32 ifindex, bool create)
{
	struct es_attachment *a;
	unsigned int i;

	for (i = 0; i < dp->n_att; i++) {
		if (dp->att[i].ifindex == ifindex)
			return &dp->att[i];
	}
	if (!create)
		return NULL;
	a = realloc(dp->att, (dp->n_att + 1) * sizeof(*a));
	if (!a)
		return NULL;
	dp->att = a;
	a = &dp->att[dp->n_att++];
	memset(a, 0, sizeof(*a));
	a->ifindex = ifindex;
	a->info.ifindex = ifindex;
	return a;
}

const struct es_attachment *es_datapath_find(const struct es_datapath *dp, __u32 ifindex)
{
	return att_get((struct es_datapath *)dp, ifindex, false);
}

static void link_pin_path(const struct es_datapath *dp, const char *kind, __u32 ifindex,
			  char *buf, size_t len)
{
	snprintf(buf, len, "%s/links/%s_%u", dp->pin_path, kind, ifindex);
}

/* The interface a pinned link is attached to, 0 when it is defunct. */
static __u32 link_ifindex(struct bpf_link *link)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_link_get_info_by_fd(bpf_link__fd(link), &info, &len))
		return 0;
	if (info.type == BPF_LINK_TYPE_XDP)
		return info.xdp.ifindex;
	if (info.type == BPF_LINK_TYPE_TCX)
		return info.tcx.ifindex;
	return 0;
}

static struct bpf_program *link_prog(struct es_datapath *dp, enum link_kind k)
{
	if (k == LINK_XDP)
		return dp->skel->progs.es_xdp_ingress;
	if (k == LINK_TC_INGRESS)
		return dp->skel->progs.es_tc_ingress;
	return dp->skel->progs.es_tc_egress;
}

static int link_kind_of(const char *name)
{
	size_t len;
	int k;

	for (k = 0; k < LINK_KINDS; k++) {
		len = strlen(link_prefix[k]);
		if (!strncmp(name, link_prefix[k], len) && name[len] == '_')
			return k;
	}
	return -1;
}

/* Swap a pinned link to this agent's program: one atomic replace, no gap. */
static void adopt_link(struct es_datapath *dp, const char *name, enum link_kind k)
{
	char path[PATH_MAX];
	struct es_attachment *a;
	struct bpf_link *link;
	__u32 ifindex;

	snprintf(path, sizeof(path), "%s/links/%s", dp->pin_path, name);
	link = bpf_link__open(path);
	if (!link)
		return;
	ifindex = link_ifindex(link);
	a = ifindex ? att_get(dp, ifindex, true) : NULL;
	if (!a || (k == LINK_TC_EGRESS ? a->tcx != NULL : a->rx != NULL) ||
	    bpf_link__update_program(link, link_prog(dp, k))) {
		es_warn("stale_link_removed", "pin=%s", path);
		bpf_link__unpin(link);
		bpf_link__destroy(link);
		return;
	}
	a->adopted = true;
	if (k == LINK_TC_EGRESS) {
		a->tcx = link;
	} else {
		a->rx = link;
		a->rx_xdp = k == LINK_XDP;
	}
	bpf_map_lookup_elem(dp->maps.fd[ES_MAP_IFACES], &ifindex, &a->info);
	dp->adopted_links++;
}

static void adopt_links(struct es_datapath *dp)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int k;

	snprintf(path, sizeof(path), "%s/links", dp->pin_path);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		k = link_kind_of(de->d_name);
		if (k >= 0)
			adopt_link(dp, de->d_name, k);
	}
	closedir(dir);
}

static struct accounting *open_skeleton(void)
{
	struct accounting *skel;
	bool coarse;

	skel = es_accounting_open(&coarse);
	if (skel && coarse)
		es_warn("no_kernel_config", "clock=coarse_helper");
	return skel;
}

int es_datapath_open(struct es_datapath *dp, const char *pin_path,
		     const struct es_acct_config *cfg, char *err, size_t err_len)
{
	char path[PATH_MAX];
	int ret;

	memset(dp, 0, sizeof(*dp));
	snprintf(dp->pin_path, sizeof(dp->pin_path), "%s", pin_path);
	if (libbpf_num_possible_cpus() <= 0) {
		snprintf(err, err_len, "cannot read the number of possible CPUs");
		return -EINVAL;
	}
	ret = ensure_bpffs(dp->pin_path, err, err_len);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/links", dp->pin_path);
	ret = es_mkdir_p(path, 0700);
	if (ret) {
		snprintf(err, err_len, "cannot create %s: %s", path, strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "%s/es_meta", dp->pin_path);
	dp->created = access(path, F_OK) != 0;
	ret = check_existing_pins(dp, cfg, err, err_len);
	if (ret)
		return ret;
	dp->skel = open_skeleton();
	if (!dp->skel) {
		snprintf(err, err_len, "cannot open the BPF object: %s", strerror(errno));
		return -errno;
	}
	es_accounting_size_sessions(dp->skel, cfg->session_map_size);
	es_accounting_set_table(dp->skel, es_acct_table_buckets(cfg));
	es_accounting_set_rr_latency(dp->skel, !cfg->no_request_latency);
	es_accounting_set_tcp_rr_latency(dp->skel, cfg->tcp_request_latency);
	set_pin_paths(dp, cfg->slots);
	ret = check_pin_definitions(dp, cfg, err, err_len);
	if (ret)
		goto fail;
	ret = accounting__load(dp->skel);
	if (ret) {
		snprintf(err, err_len, "cannot load the BPF programs or reuse the pins in %s: %s",
			 dp->pin_path, strerror(-ret));
		goto fail;
	}
	es_maps_from_skel(&dp->maps, dp->skel);	/* ncpus checked at open */
	ret = cfg->slots ? es_maps_map_table(&dp->maps) : 0;
	if (ret) {
		snprintf(err, err_len, "cannot map the slot table: %s", strerror(-ret));
		goto fail;
	}
	ret = write_meta(dp, cfg);
	if (ret) {
		snprintf(err, err_len, "cannot write es_meta: %s", strerror(-ret));
		goto fail;
	}
	adopt_links(dp);
	dp->created = dp->created && !dp->adopted_links;
	return 0;
fail:
	es_slot_table_unmap(&dp->maps.tbl);
	accounting__destroy(dp->skel);
	dp->skel = NULL;
	return ret;
}

/* A path too long to keep leaves the namespace unknown, never truncated into another one. */
static void netns_fill(struct es_attachment *a, const char *netns)
{
	if (!netns)
		return;
	if (strlen(netns) >= sizeof(a->netns)) {
		es_warn("pod_netns_unkept", "ifindex=%u netns_len=%zu max=%zu", a->ifindex,
			strlen(netns), sizeof(a->netns) - 1);
		return;
	}
	strcpy(a->netns, netns);
}

static void info_fill(struct es_attachment *a, const char *ifname,
		      const struct es_iface_owner *owner)
{
	memset(a->info.ifname, 0, sizeof(a->info.ifname));
	snprintf(a->info.ifname, sizeof(a->info.ifname), "%s", ifname);
	memset(a->info.pod_namespace, 0, sizeof(a->info.pod_namespace));
	memset(a->info.pod_name, 0, sizeof(a->info.pod_name));
	a->netns[0] = '\0';
	if (owner) {
		snprintf(a->info.pod_namespace, sizeof(a->info.pod_namespace), "%s",
			 owner->pod_namespace);
		snprintf(a->info.pod_name, sizeof(a->info.pod_name), "%s", owner->pod_name);
		netns_fill(a, owner->netns);
	}
	a->info.ifindex = a->ifindex;
	a->info.attached = (a->rx ? (a->rx_xdp ? ATTACHED_XDP : ATTACHED_TCI) : 0) |
			   (a->tcx ? ATTACHED_TCX : 0);
}

static struct bpf_link *attach_one(struct es_datapath *dp, enum link_kind k, __u32 ifindex)
{
	char path[PATH_MAX];
	struct bpf_link *link;
	int err;

	if (k == LINK_XDP)
		link = bpf_program__attach_xdp(link_prog(dp, k), ifindex);
	else
		link = bpf_program__attach_tcx(link_prog(dp, k), ifindex, NULL);
	if (!link)
		return NULL;
	link_pin_path(dp, link_prefix[k], ifindex, path, sizeof(path));
	unlink(path);
	err = bpf_link__pin(link, path);
	if (err) {
		bpf_link__destroy(link);
		errno = -err;
		return NULL;
	}
	return link;
}

static void drop_link(struct bpf_link **link);

/*
 * A receive hook of the other kind is replaced new-first: packets in the
 * instant both run are counted twice rather than lost.
 */
static int attach_rx(struct es_datapath *dp, struct es_attachment *a, bool want_xdp)
{
	struct bpf_link *old = NULL, *link;

	if (a->rx && !link_ifindex(a->rx))
		drop_link(&a->rx);	/* its interface went away unseen */
	if (a->rx && a->rx_xdp == want_xdp)
		return 0;
	if (a->rx)
		old = a->rx;
	link = attach_one(dp, want_xdp ? LINK_XDP : LINK_TC_INGRESS, a->ifindex);
	if (!link)
		return -errno;
	a->rx = link;
	a->rx_xdp = want_xdp;
	drop_link(&old);
	return 0;
}

int es_datapath_attach(struct es_datapath *dp, __u32 ifindex, const char *ifname,
		       const struct es_iface_owner *owner, bool want_xdp)
{
	struct es_attachment *a = att_get(dp, ifindex, true);
	bool was_complete;
	int err;

	if (!a)
		return -ENOMEM;
	was_complete = a->wanted && a->rx && a->tcx && a->rx_xdp == want_xdp;
	a->wanted = true;
	err = attach_rx(dp, a, want_xdp);
	if (!err && !a->tcx) {
		a->tcx = attach_one(dp, LINK_TC_EGRESS, ifindex);
		if (!a->tcx)
			err = -errno;
	}
	info_fill(a, ifname, owner);
	bpf_map_update_elem(dp->maps.fd[ES_MAP_IFACES], &ifindex, &a->info, BPF_ANY);
	if (err)
		es_error("attach_failed", "ifname=%s ifindex=%u error=\"%s\"", ifname, ifindex,
			 strerror(-err));
	else if (!was_complete)
		es_info("attached", "ifname=%s ifindex=%u rx_hook=%s pod=%s%s%s adopted=%d",
			ifname, ifindex, a->rx_xdp ? "xdp" : "tc", a->info.pod_namespace,
			a->info.pod_name[0] ? "/" : "-", a->info.pod_name, a->adopted);
	return err;
}

/*
 * Whether the link's pin still holds this very link: a pod's pooled
 * ifindex may already carry the next pod's pins when the first is dropped.
 */
static bool pin_holds(struct bpf_link *link)
{
	struct bpf_link_info pinned = {}, ours = {};
	__u32 len_p = sizeof(pinned), len_o = sizeof(ours);
	const char *path = bpf_link__pin_path(link);
	bool same;
	int fd;

	fd = path ? bpf_obj_get(path) : -1;
	if (fd < 0)
		return false;
	same = !bpf_link_get_info_by_fd(fd, &pinned, &len_p) &&
	       !bpf_link_get_info_by_fd(bpf_link__fd(link), &ours, &len_o) && pinned.id == ours.id;
	close(fd);
	return same;
}

static void drop_link(struct bpf_link **link)
{
	if (!*link)
		return;
	if (pin_holds(*link))
		bpf_link__unpin(*link);
	bpf_link__destroy(*link);
	*link = NULL;
}

static void forget_iface(struct es_datapath *dp, __u32 ifindex)
{
	struct es_iface_traffic *zero;
	size_t stride = sizeof(struct es_iface_traffic);

	bpf_map_delete_elem(dp->maps.fd[ES_MAP_IFACE_STATS], &ifindex);
	bpf_map_delete_elem(dp->maps.fd[ES_MAP_IFACE_CLOSED], &ifindex);
	if (ifindex >= ES_IFINDEX_FAST)
		return;
	/* A reused ifindex must start from zero, not from its predecessor. */
	zero = calloc(dp->maps.ncpus, stride);
	if (zero)
		bpf_map_update_elem(dp->maps.fd[ES_MAP_IFACE_TRAFFIC], &ifindex, zero, BPF_ANY);
	free(zero);
}

void es_datapath_detach(struct es_datapath *dp, __u32 ifindex, bool forget_counters)
{
	struct es_attachment *a = att_get(dp, ifindex, false);

	if (!a)
		return;
	drop_link(&a->rx);
	drop_link(&a->tcx);
	bpf_map_delete_elem(dp->maps.fd[ES_MAP_IFACES], &ifindex);
	if (forget_counters)
		forget_iface(dp, ifindex);
	es_info("detached", "ifname=%s ifindex=%u", a->info.ifname, ifindex);
	*a = dp->att[--dp->n_att];
}

static void forget_unattached(struct es_datapath *dp, enum es_map_id id)
{
	__u32 key, next, *prev = NULL, stale[ES_MAX_IFACES_FORGET];
	unsigned int n = 0, i;

	while (n < ES_MAX_IFACES_FORGET &&
	       !bpf_map_get_next_key(dp->maps.fd[id], prev, &next)) {
		key = next;
		prev = &key;
		if (!att_get(dp, key, false))
			stale[n++] = key;
	}
	for (i = 0; i < n; i++) {
		bpf_map_delete_elem(dp->maps.fd[ES_MAP_IFACES], &stale[i]);
		forget_iface(dp, stale[i]);
	}
}

void es_datapath_drop_unwanted(struct es_datapath *dp)
{
	struct es_iface_traffic *v, *zero;
	unsigned int i = 0;
	__u32 ifx;
	int cpu;

	while (i < dp->n_att) {
		if (dp->att[i].wanted)
			i++;
		else
			es_datapath_detach(dp, dp->att[i].ifindex, false);
	}
	/*
	 * Interfaces that went away while no agent ran left their counters
	 * behind; an interface that reuses the ifindex must not inherit them.
	 */
	forget_unattached(dp, ES_MAP_IFACE_STATS);
	forget_unattached(dp, ES_MAP_IFACE_CLOSED);
	forget_unattached(dp, ES_MAP_IFACES);
	v = calloc(dp->maps.ncpus, sizeof(*v));
	zero = calloc(dp->maps.ncpus, sizeof(*zero));
	for (ifx = 1; v && zero && ifx < ES_IFINDEX_FAST; ifx++) {
		if (att_get(dp, ifx, false) ||
		    bpf_map_lookup_elem(dp->maps.fd[ES_MAP_IFACE_TRAFFIC], &ifx, v))
			continue;
		for (cpu = 0; cpu < dp->maps.ncpus; cpu++) {
			if (v[cpu].pkts[0] || v[cpu].pkts[1]) {
				bpf_map_update_elem(dp->maps.fd[ES_MAP_IFACE_TRAFFIC], &ifx, zero,
						    BPF_ANY);
				break;
			}
		}
	}
	free(v);
	free(zero);
}

void es_datapath_close(struct es_datapath *dp)
{
	unsigned int i;

	/* Links stay pinned: closing our fds leaves the programs attached. */
	for (i = 0; i < dp->n_att; i++) {
		if (dp->att[i].rx)
			bpf_link__destroy(dp->att[i].rx);
		if (dp->att[i].tcx)
			bpf_link__destroy(dp->att[i].tcx);
	}
	free(dp->att);
	dp->att = NULL;
	dp->n_att = 0;
	es_slot_table_unmap(&dp->maps.tbl);
	accounting__destroy(dp->skel);
	dp->skel = NULL;
}

int es_datapath_cleanup(const char *pin_path)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/links", pin_path);
	dir = opendir(path);
	if (dir) {
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/links/%s", pin_path, de->d_name);
			unlink(path);
		}
		closedir(dir);
		snprintf(path, sizeof(path), "%s/links", pin_path);
		rmdir(path);
	}
	unpin_maps(pin_path);
	if (rmdir(pin_path) && errno != ENOENT)
		return -errno;
	return 0;
}

/* A tcx link attached at ifindex (in the namespace of the one who asks) as type. */
static bool tcx_link_at(struct bpf_link *link, __u32 ifindex, enum bpf_attach_type type)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	return !bpf_link_get_info_by_fd(bpf_link__fd(link), &info, &len) &&
	       info.type == BPF_LINK_TYPE_TCX && info.tcx.ifindex == ifindex &&
	       info.tcx.attach_type == type;
}

int es_datapath_adopt_pod(struct es_datapath *dp, __u32 ifindex, const char *ifname,
			  const struct es_iface_owner *owner)
{
	static const enum link_kind kinds[2] = { LINK_TC_INGRESS, LINK_TC_EGRESS };
	static const enum bpf_attach_type types[2] = { BPF_TCX_INGRESS, BPF_TCX_EGRESS };
	struct es_attachment *a = att_get(dp, ifindex, false);
	struct bpf_link *link[2] = {};
	char path[PATH_MAX];
	int k, err = 0;

	if (a && ((a->rx && link_ifindex(a->rx)) || (a->tcx && link_ifindex(a->tcx))))
		return -EBUSY;	/* live links of our own: es_datapath_attach decides */
	for (k = 0; k < 2 && !err; k++) {
		link_pin_path(dp, link_prefix[kinds[k]], ifindex, path, sizeof(path));
		link[k] = bpf_link__open(path);
		/* the same program is a no-op; another one is swapped in place, no RCU wait */
		if (!link[k] || !tcx_link_at(link[k], ifindex, types[k]) ||
		    bpf_link__update_program(link[k], link_prog(dp, kinds[k])))
			err = -ENOENT;
	}
	if (!err)
		a = att_get(dp, ifindex, true);
	if (err || !a) {
		for (k = 0; k < 2; k++)
			if (link[k])
				bpf_link__destroy(link[k]);	/* closes; the pins stay */
		return err ?: -ENOMEM;
	}
	drop_link(&a->rx);	/* defunct: their interface went away unseen */
	drop_link(&a->tcx);
	a->rx = link[0];
	a->rx_xdp = false;
	a->tcx = link[1];
	a->wanted = true;
	a->adopted = true;
	info_fill(a, ifname, owner);
	bpf_map_update_elem(dp->maps.fd[ES_MAP_IFACES], &ifindex, &a->info, BPF_ANY);
	es_info("attached", "ifname=%s ifindex=%u rx_hook=tc pod=%s%s%s adopted=1", ifname,
		ifindex, a->info.pod_namespace, a->info.pod_name[0] ? "/" : "-", a->info.pod_name);
	return 0;
}
