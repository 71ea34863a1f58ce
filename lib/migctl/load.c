// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading the migration object: its maps reuse the pins under one
 * directory (the accounting maps included), its programs are pinned there
 * too, so attaching, detaching and opening the handles work from any
 * process, a restarted agent included.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/accounting_skel.h"
#include "net/netns.h"
#include "load.h"
#include "upgrade.h"
#include "migration.skel.h"

static const char *const hook_prog[ES_MIG_HOOK_MAX] = {
	"es_mig_xdp_ingress", "es_mig_xdp_wan", "es_mig_tc_ctr", "es_mig_tc_ingress",
	"es_mig_tc_egress",
};
static const char *const hook_name[ES_MIG_HOOK_MAX] = { "user", "wan", "ctr", "usertc",
							 "egress" };
static const char *const prog_pins[] = {
	"es_mig_xdp_ingress", "es_mig_xdp_wan", "es_mig_tc_ctr", "es_mig_tc_ingress",
	"es_mig_tc_egress", "es_mig_ctl",
};

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

static void set_err(char *err, size_t len, const char *fmt, const char *a, int e)
{
	if (err && len)
		snprintf(err, len, fmt, a, strerror(e));
}

/*
 * Maps pinned by another object (the accounting agent) keep their size:
 * take it from the pin, so that libbpf reuses the pin instead of failing.
 */
static void size_like_pins(struct migration *skel, const char *pin_path)
{
	char path[PATH_MAX];
	struct bpf_map_info info;
	__u32 len;
	struct bpf_map *map;
	int fd;

	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_path, bpf_map__name(map));
		bpf_map__set_pin_path(map, path);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_map_get_info_by_fd(fd, &info, &len) && info.max_entries)
			bpf_map__set_max_entries(map, info.max_entries);
		close(fd);
	}
	/* scratch room of the programs that run now: nothing to keep or share */
	bpf_map__set_pin_path(skel->maps.es_mig_digest_room, NULL);
}

static const char *const table_maps[] = {
	"es_tbl_tags", "es_tbl_entries", "es_tbl_stats", "es_tbl_created",
};

/* Does the agent keep its sessions in the slot table? Its buckets, or 0. */
static __u32 agent_table(const char *pin_path)
{
	struct es_meta meta = {};
	char path[PATH_MAX];
	__u32 zero = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/es_meta", pin_path);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_map_lookup_elem(fd, &zero, &meta) || meta.layout_version != ES_MAP_LAYOUT_VERSION)
		meta.table_buckets = 0;
	close(fd);
	return meta.table_buckets;
}

/*
 * The XDP programs account too: into the agent's slot table when it has
 * one (its pins, sized by size_like_pins), else into the session maps,
 * with a table of one bucket that is never pinned (an agent with the maps
 * pins none, and one that later asks for the table must not find this).
 */
static void table_like_agent(struct migration *skel, const char *pin_path)
{
	__u32 buckets = agent_table(pin_path);
	struct bpf_map *map;
	size_t i;

	skel->rodata->es_tbl_on = buckets != 0;
	skel->rodata->es_tbl_nbuckets = buckets ? buckets : 2;
	if (buckets)
		return;
	bpf_map__set_max_entries(skel->maps.es_tbl_tags, 1);
	bpf_map__set_max_entries(skel->maps.es_tbl_entries, ES_TBL_BUCKET_SLOTS);
	bpf_map__set_max_entries(skel->maps.es_tbl_created, 1);
	for (i = 0; i < ARRAY_LEN(table_maps); i++) {
		map = bpf_object__find_map_by_name(skel->obj, table_maps[i]);
		if (map)
			bpf_map__set_pin_path(map, NULL);
	}
}

static int pin_programs(struct migration *skel, const char *pin_path)
{
	char path[PATH_MAX];
	struct bpf_program *prog;
	int ret;

	bpf_object__for_each_program(prog, skel->obj) {
		snprintf(path, sizeof(path), "%s/prog_%s", pin_path, bpf_program__name(prog));
		unlink(path);
		ret = bpf_program__pin(prog, path);
		if (ret)
			return ret;
	}
	return 0;
}

static int write_layout(struct migration *skel)
{
	struct es_mig_node_config cfg = {};
	__u32 zero = 0;
	int fd = bpf_map__fd(skel->maps.es_mig_config);

	if (!bpf_map_lookup_elem(fd, &zero, &cfg) && cfg.layout_version == ES_MIG_LAYOUT_VERSION)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.layout_version = ES_MIG_LAYOUT_VERSION;
	return bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

int es_mig_load(const char *pin_path, struct es_mig_load_opts *opts,
		struct migration **skelp, char *err, size_t err_len)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	unsigned int rebuilt_from;
	struct migration *skel;
	int ret;

	if (mkdir(pin_path, 0700) && errno != EEXIST) {
		ret = -errno;
		set_err(err, err_len, "cannot create pin directory %s: %s", pin_path, errno);
		return ret;
	}
	ret = es_mig_pins_upgrade(pin_path, &rebuilt_from, err, err_len);
	if (ret < 0)
		return ret;
	if (opts) {
		opts->rebuilt = ret == 1;
		opts->rebuilt_from = rebuilt_from;
	}
	if (es_kernel_config_missing())
		oo.kconfig = ES_KCONFIG_FALLBACK;
	skel = migration__open_opts(&oo);
	if (!skel) {
		ret = -errno;
		set_err(err, err_len, "cannot open the migration object%s: %s", "", errno);
		return ret;
	}
	if (opts && opts->sessions) {
		bpf_map__set_max_entries(skel->maps.es_mig_sessions, opts->sessions);
		bpf_map__set_max_entries(skel->maps.es_mig_remote, opts->sessions);
	}
	if (opts && opts->records)
		bpf_map__set_max_entries(skel->maps.es_mig_replay, opts->records);
	size_like_pins(skel, pin_path);
	table_like_agent(skel, pin_path);
	ret = migration__load(skel);
	if (ret) {
		set_err(err, err_len, "cannot load the migration programs or reuse the pins in %s: %s",
			pin_path, -ret);
		goto fail;
	}
	ret = write_layout(skel);
	if (!ret)
		ret = pin_programs(skel, pin_path);
	if (ret) {
		set_err(err, err_len, "cannot pin the migration programs in %s: %s", pin_path, -ret);
		goto fail;
	}
	*skelp = skel;
	return 0;
fail:
	migration__destroy(skel);
	return ret;
}

void es_mig_unload(struct migration *skel)
{
	migration__destroy(skel);
}

const char *es_mig_hook_name(enum es_mig_hook hook)
{
	return hook < ES_MIG_HOOK_MAX ? hook_name[hook] : "unknown";
}

static void link_path(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex,
		      char *buf, size_t len)
{
	snprintf(buf, len, "%s/links/mig_%s_%u", pin_path, hook_name[hook], ifindex);
}

int es_mig_attach(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex,
		  char *err, size_t err_len)
{
	char path[PATH_MAX];
	int prog_fd, link_fd, ret;

	if (hook >= ES_MIG_HOOK_MAX)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/prog_%s", pin_path, hook_prog[hook]);
	prog_fd = bpf_obj_get(path);
	if (prog_fd < 0) {
		ret = -errno;
		set_err(err, err_len, "no pinned program %s: %s (load first)", path, errno);
		return ret;
	}
	link_fd = bpf_link_create(prog_fd, ifindex,
				  hook == ES_MIG_HOOK_USER || hook == ES_MIG_HOOK_WAN ? BPF_XDP :
				  hook == ES_MIG_HOOK_EGRESS ? BPF_TCX_EGRESS : BPF_TCX_INGRESS,
				  NULL);
	close(prog_fd);
	if (link_fd < 0) {
		ret = -errno;
		set_err(err, err_len, "cannot attach %s: %s", hook_prog[hook], errno);
		return ret;
	}
	snprintf(path, sizeof(path), "%s/links", pin_path);
	mkdir(path, 0700);
	link_path(pin_path, hook, ifindex, path, sizeof(path));
	unlink(path);
	ret = bpf_obj_pin(link_fd, path) ? -errno : 0;
	if (ret)
		set_err(err, err_len, "cannot pin link %s: %s", path, -ret);
	close(link_fd);
	return ret;
}

int es_mig_link_update(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex)
{
	char path[PATH_MAX];
	int link_fd, prog_fd, ret;

	if (hook >= ES_MIG_HOOK_MAX)
		return -EINVAL;
	link_path(pin_path, hook, ifindex, path, sizeof(path));
	link_fd = bpf_obj_get(path);
	if (link_fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/prog_%s", pin_path, hook_prog[hook]);
	prog_fd = bpf_obj_get(path);
	if (prog_fd < 0) {
		ret = -errno;
		close(link_fd);
		return ret;
	}
	/* the same program again is a no-op; another one takes its place at once */
	ret = bpf_link_update(link_fd, prog_fd, NULL) ? -errno : 0;
	close(prog_fd);
	close(link_fd);
	return ret;
}

int es_mig_detach(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex)
{
	char path[PATH_MAX];

	if (hook >= ES_MIG_HOOK_MAX)
		return -EINVAL;
	link_path(pin_path, hook, ifindex, path, sizeof(path));
	return unlink(path) ? -errno : 0;
}

static int open_pin(const char *pin_path, const char *name, char *err, size_t err_len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_path, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		set_err(err, err_len, "cannot open pin %s: %s", path, errno);
	return fd;
}

int es_mig_dp_open(struct es_mig_dp *dp, const char *pin_path, char *err, size_t err_len)
{
	int *fds[] = { &dp->sessions_fd, &dp->replay_fd, &dp->services_fd, &dp->remote_fd,
		       &dp->config_fd, &dp->events_fd, &dp->held_fd, &dp->sent_fd,
		       &dp->rseen_fd, &dp->tcpblk_fd, &dp->xlate_fd, &dp->rclaim_fd };
	struct es_mig_node_config cfg = {};
	__u32 zero = 0;
	size_t i;

	memset(dp, 0, sizeof(*dp));
	snprintf(dp->pin_path, sizeof(dp->pin_path), "%s", pin_path);
	dp->ctl_fd = -1;
	dp->ct_netns = ES_NETNS_OWN;
	for (i = 0; i < ARRAY_LEN(fds); i++)
		*fds[i] = -1;
	dp->ctl_fd = open_pin(pin_path, "prog_es_mig_ctl", err, err_len);
	if (dp->ctl_fd < 0)
		goto fail;
	for (i = 0; i < ARRAY_LEN(fds); i++) {
		*fds[i] = open_pin(pin_path, es_mig_map_pins[i], err, err_len);
		if (*fds[i] < 0)
			goto fail;
	}
	if (bpf_map_lookup_elem(dp->config_fd, &zero, &cfg) ||
	    cfg.layout_version != ES_MIG_LAYOUT_VERSION) {
		if (err)
			snprintf(err, err_len, "pinned migration maps in %s have layout %u, not %u",
				 pin_path, cfg.layout_version, ES_MIG_LAYOUT_VERSION);
		errno = EPROTO;
		goto fail;
	}
	return 0;
fail:
	i = errno;
	es_mig_dp_close(dp);
	return -(int)i;
}

void es_mig_dp_close(struct es_mig_dp *dp)
{
	int *fds[] = { &dp->ctl_fd, &dp->sessions_fd, &dp->replay_fd, &dp->services_fd,
		       &dp->remote_fd, &dp->config_fd, &dp->events_fd, &dp->held_fd,
		       &dp->sent_fd, &dp->rseen_fd, &dp->tcpblk_fd, &dp->xlate_fd,
		       &dp->rclaim_fd };
	size_t i;

	for (i = 0; i < ARRAY_LEN(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

void es_mig_dp_from_skel(struct es_mig_dp *dp, struct migration *skel)
{
	memset(dp, 0, sizeof(*dp));
	dp->ctl_fd = bpf_program__fd(skel->progs.es_mig_ctl);
	dp->sessions_fd = bpf_map__fd(skel->maps.es_mig_sessions);
	dp->replay_fd = bpf_map__fd(skel->maps.es_mig_replay);
	dp->services_fd = bpf_map__fd(skel->maps.es_mig_services);
	dp->remote_fd = bpf_map__fd(skel->maps.es_mig_remote);
	dp->config_fd = bpf_map__fd(skel->maps.es_mig_config);
	dp->events_fd = bpf_map__fd(skel->maps.es_mig_events);
	dp->held_fd = bpf_map__fd(skel->maps.es_mig_held);
	dp->sent_fd = bpf_map__fd(skel->maps.es_mig_sent);
	dp->rseen_fd = bpf_map__fd(skel->maps.es_mig_rseen);
	dp->tcpblk_fd = bpf_map__fd(skel->maps.es_mig_tcpblk);
	dp->xlate_fd = bpf_map__fd(skel->maps.es_mig_xlate);
	dp->rclaim_fd = bpf_map__fd(skel->maps.es_mig_rclaim);
	dp->ct_netns = ES_NETNS_OWN;
}

int es_mig_cleanup_pins(const char *pin_path)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t i;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/links", pin_path);
	dir = opendir(path);
	while (dir && (de = readdir(dir))) {
		if (strncmp(de->d_name, "mig_", 4))
			continue;
		snprintf(path, sizeof(path), "%s/links/%s", pin_path, de->d_name);
		unlink(path);
	}
	if (dir)
		closedir(dir);
	for (i = 0; i < ARRAY_LEN(prog_pins); i++) {
		snprintf(path, sizeof(path), "%s/prog_%s", pin_path, prog_pins[i]);
		unlink(path);
	}
	for (i = 0; i < es_mig_n_map_pins; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_path, es_mig_map_pins[i]);
		unlink(path);
	}
	return 0;
}
