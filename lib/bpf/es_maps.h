/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * File descriptors of the accounting maps, whether the agent just loaded
 * them or a tool opened them from the pin directory.
 */
#ifndef EDGESHIFT_ES_MAPS_H
#define EDGESHIFT_ES_MAPS_H

#include <stdbool.h>
#include "slot_reader.h"

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

/*
 * The slot table's maps (include/edgeshift/slot_table.h): pinned only by
 * an agent whose configuration says session_table: slots, and then they
 * hold the sessions in place of the session maps (es_sessions4/6 and
 * es_session_state4/6).
 */
enum es_tbl_map_id {
	ES_TBL_MAP_TAGS,
	ES_TBL_MAP_ENTRIES,
	ES_TBL_MAP_STATS,
	ES_TBL_MAP_CREATED,
	ES_TBL_MAP_COUNT,
};

struct es_maps {
	int	fd[ES_MAP_COUNT];
	int	ncpus;		/* possible CPUs: per-CPU values come in this many copies */
	int	tbl_fd[ES_TBL_MAP_COUNT];	/* from pins: > 0 only when the table holds the
						 * sessions; from a skeleton: always */
	struct es_slot_table	tbl;	/* mapped then (tbl.nbuckets > 0), else zero */
};

/* Whether the sessions are in the slot table (mapped) rather than the session maps. */
static inline bool es_maps_slots(const struct es_maps *m)
{
	return m->tbl.nbuckets != 0;
}

/* Pinned name of a slot table map, equal to its name in bpf/lib/slot_table.h. */
const char *es_tbl_map_name(enum es_tbl_map_id id);

/* Map the table whose fds are in tbl_fd; 0 or -errno. */
int es_maps_map_table(struct es_maps *m);

/* Pinned name of a map, equal to its name in bpf/lib/maps.h. */
const char *es_map_name(enum es_map_id id);

/*
 * Open every map pinned under pin_path, and the slot table's maps (mapped)
 * when es_meta says the table holds the sessions; 0 or -errno (all
 * closed on error).
 */
int es_maps_open_pinned(struct es_maps *m, const char *pin_path);
/* Close the fds and unmap the table (fds owned by a skeleton: unmap it alone, es_slot_table_unmap). */
void es_maps_close(struct es_maps *m);

/* Check es_meta against ES_MAP_LAYOUT_VERSION: 0, or -EPROTO with a message. */
int es_maps_check_layout(const struct es_maps *m, char *msg, unsigned long msg_len);

#endif /* EDGESHIFT_ES_MAPS_H */
