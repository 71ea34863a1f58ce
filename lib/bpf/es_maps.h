/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * File descriptors of the accounting maps, whether the agent just loaded
 * them or a tool opened them from the pin directory.
 */
#ifndef EDGESHIFT_ES_MAPS_H
#define EDGESHIFT_ES_MAPS_H

#define ES_DEFAULT_PIN_PATH	"/sys/fs/bpf/edgeshift"

enum es_map_id {
	ES_MAP_SESSIONS4,
	ES_MAP_SESSIONS6,
	ES_MAP_STATE4,
	ES_MAP_STATE6,
	ES_MAP_IFACE_TRAFFIC,
	ES_MAP_IFACE_STATS,
	ES_MAP_IFACE_CLOSED,
	ES_MAP_IFACES,
	ES_MAP_META,
	ES_MAP_EVENTS,
	ES_MAP_FLOW4,
	ES_MAP_FLOW6,
	ES_MAP_FLOW_TIMERS,
	ES_MAP_COUNT,
};

struct es_maps {
	int	fd[ES_MAP_COUNT];
	int	ncpus;		/* possible CPUs: per-CPU values come in this many copies */
};

/* Pinned name of a map, equal to its name in bpf/lib/maps.h. */
const char *es_map_name(enum es_map_id id);

/* Open every map pinned under pin_path; 0 or -errno (all closed on error). */
int es_maps_open_pinned(struct es_maps *m, const char *pin_path);
void es_maps_close(struct es_maps *m);

/* Check es_meta against ES_MAP_LAYOUT_VERSION: 0, or -EPROTO with a message. */
int es_maps_check_layout(const struct es_maps *m, char *msg, unsigned long msg_len);

#endif /* EDGESHIFT_ES_MAPS_H */
