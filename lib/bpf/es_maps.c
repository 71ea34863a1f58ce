// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <stdio.h>
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

const char *es_map_name(enum es_map_id id)
{
	return id < ES_MAP_COUNT ? map_names[id] : "?";
}

void es_maps_close(struct es_maps *m)
{
	int i;

	for (i = 0; i < ES_MAP_COUNT; i++) {
		if (m->fd[i] > 0)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
}

int es_maps_open_pinned(struct es_maps *m, const char *pin_path)
{
	char path[PATH_MAX];
	int i, err;

	for (i = 0; i < ES_MAP_COUNT; i++)
		m->fd[i] = -1;
	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus <= 0)
		return -EINVAL;
	for (i = 0; i < ES_MAP_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_path, map_names[i]);
		m->fd[i] = bpf_obj_get(path);
		if (m->fd[i] < 0) {
			err = -errno;
			es_maps_close(m);
			return err;
		}
	}
	return 0;
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
