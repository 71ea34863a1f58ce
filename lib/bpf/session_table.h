/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One session as readers see it: its counters (entry and flow cache) and
 * the shared state joined in. Sessions are streamed to readers (the agent's
 * API, metrics and collection, the CLI when the agent is down) by
 * session_scan.h.
 */
#ifndef EDGESHIFT_SESSION_TABLE_H
#define EDGESHIFT_SESSION_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <edgeshift/session.h>
#include "es_maps.h"

struct es_session {
	struct es_session_key6		key;	/* IPv4 stored as ::ffff:a.b.c.d */
	struct es_session_counters	c;	/* the entry plus the flow cache slots holding it */
	struct es_session_state		st;	/* zero unless has_state */
	int				family;	/* ES_FAMILY_INET or ES_FAMILY_INET6 */
	bool				has_state;
	bool				cached;	/* a flow cache slot holds it (counted in c) */
	__u32				slot;	/* its slot in the slot table, when slot_tag is set */
	__u32				slot_tag; /* that slot's tag word when read; 0: not in the table */
};

/* Bytes one CPU's copy of a per-CPU map value takes in user-space buffers. */
static inline size_t es_percpu_stride(size_t value_size)
{
	return (value_size + 7) & ~(size_t)7;
}


void es_key6_from_key4(struct es_session_key6 *k6, const struct es_session_key4 *k4);
void es_key4_from_key6(struct es_session_key4 *k4, const struct es_session_key6 *k6);

/* "addr:port" / "[addr]:port" of one endpoint (lo or hi) into buf. */
void es_session_endpoint(const struct es_session *s, bool hi, char *buf, size_t len);
const char *es_proto_name(unsigned int proto);
/* Parse "tcp", "udp", "icmp" or "icmpv6"; -1 if unknown. */
int es_proto_parse(const char *name);

static inline unsigned long long es_session_bytes(const struct es_session *s)
{
	return s->c.bytes[ES_DIR_RX] + s->c.bytes[ES_DIR_TX];
}

static inline unsigned long long es_session_pkts(const struct es_session *s)
{
	return s->c.pkts[ES_DIR_RX] + s->c.pkts[ES_DIR_TX];
}

#endif /* EDGESHIFT_SESSION_TABLE_H */
