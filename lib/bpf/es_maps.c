// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <edgeshift/session.h>
#include "es_maps.h"

static const char *const map_names[ES_MAP_COUNT] = {
	[ES_MAP_SESSIONS4]	= "es_sessions4",
	[ES_MAP_SESSIONS6]	= "es_sessions6",
	[ES_MAP_STATE4]		= "es_session_state4",
	[ES_MAP_STATE6]		= "es_session_state6",
	[ES_MAP_IFACE_TRAFFIC]	= "es_iface_traffic",
	[ES_MAP_IFACE_STATS]	= "es_iface_stats",
	[ES_MAP_IFACE_CLOSED]	= "es_iface_closed",
	[ES_MAP_IFACES]		= "es_ifaces",
	[ES_MAP_META]		= "es_meta",
	[ES_MAP_EVENTS]		= "es_events",
	[ES_MAP_FLOW4]		= "es_flow_cache4",
	[ES_MAP_FLOW6]		= "es_flow_cache6",
	[ES_MAP_FLOW_TIMERS]	= "es_flow_timers",
};

static const char *const tbl_map_names[ES_TBL_MAP_COUNT] = {
	[ES_TBL_MAP_TAGS]	= "es_tbl_tags",
	[ES_TBL_MAP_ENTRIES]	= "es_tbl_entries",
	[ES_TBL_MAP_STATS]	= "es_tbl_stats",
	[ES_TBL_MAP_CREATED]	= "es_tbl_created",
};

const char *es_map_name(enum es_map_id id)
{
	return id < ES_MAP_COUNT ? map_names[id] : "?";
}

const char *es_tbl_map_name(enum es_tbl_map_id id)
{
	return id < ES_TBL_MAP_COUNT ? tbl_map_names[id] : "?";
}

static void close_fds(int *fd, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (fd[i] > 0)
			close(fd[i]);
		fd[i] = -1;
	}
}

void es_maps_close(struct es_maps *m)
{
	close_fds(m->fd, ES_MAP_COUNT);
	close_fds(m->tbl_fd, ES_TBL_MAP_COUNT);
	es_slot_table_unmap(&m->tbl);
}

int es_maps_map_table(struct es_maps *m)
{
	return es_slot_table_map(&m->tbl, m->tbl_fd[ES_TBL_MAP_TAGS],
				 m->tbl_fd[ES_TBL_MAP_ENTRIES]);
}

static int open_one(const char *pin_path, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_path, name);
	return bpf_obj_get(path);
}

/* The table's pins, when es_meta (of this layout) says it holds the sessions. */
static int open_table(struct es_maps *m, const char *pin_path)
{
	struct es_meta meta = {};
	__u32 zero = 0;
	int i;

	if (bpf_map_lookup_elem(m->fd[ES_MAP_META], &zero, &meta) ||
	    meta.layout_version != ES_MAP_LAYOUT_VERSION || !meta.table_buckets)
		return 0;
	for (i = 0; i < ES_TBL_MAP_COUNT; i++) {
		m->tbl_fd[i] = open_one(pin_path, tbl_map_names[i]);
		if (m->tbl_fd[i] < 0)
			return -errno;
	}
	return es_maps_map_table(m);
}

int es_maps_open_pinned(struct es_maps *m, const char *pin_path)
{
	int i, err;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < ES_MAP_COUNT; i++)
		m->fd[i] = -1;
	for (i = 0; i < ES_TBL_MAP_COUNT; i++)
		m->tbl_fd[i] = -1;
	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus <= 0)
		return -EINVAL;
	for (i = 0; i < ES_MAP_COUNT; i++) {
		m->fd[i] = open_one(pin_path, map_names[i]);
		if (m->fd[i] < 0) {
			err = -errno;
			es_maps_close(m);
			return err;
		}
	}
	err = open_table(m, pin_path);
	if (err)
		es_maps_close(m);
	return err;
}

int es_maps_check_layout(const struct es_maps *m, char *msg, unsigned long msg_len)
{
	struct es_meta meta = {};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->fd[ES_MAP_META], &zero, &meta)) {
		snprintf(msg, msg_len, "cannot read es_meta: %m");
		return -errno;
	}
	if (meta.layout_version != ES_MAP_LAYOUT_VERSION) {
		snprintf(msg, msg_len,
			 "pinned maps have layout version %u, this binary reads version %u",
			 meta.layout_version, ES_MAP_LAYOUT_VERSION);
		return -EPROTO;
	}
	return 0;
}
