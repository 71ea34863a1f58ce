/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A point-in-time copy of every session in the accounting maps, with the
 * per-CPU counters merged and the shared state joined in. Used by the
 * agent (API, metrics, collection) and by the CLI when the agent is down.
 */
#ifndef EDGESHIFT_SESSION_TABLE_H
#define EDGESHIFT_SESSION_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <edgeshift/session.h>
#include "es_maps.h"

struct es_session {
	struct es_session_key6		key;	/* IPv4 stored as ::ffff:a.b.c.d */
	struct es_session_counters	c;	/* summed over CPUs */
	struct es_session_state		st;	/* zero unless has_state */
	int				family;	/* ES_FAMILY_INET or ES_FAMILY_INET6 */
	bool				has_state;
};

struct es_session_table {
	struct es_session	*v;
	size_t			n;
};

/* Bytes one CPU's copy of a per-CPU map value takes in user-space buffers. */
static inline size_t es_percpu_stride(size_t value_size)
{
	return (value_size + 7) & ~(size_t)7;
}

/* Read all sessions; 0 or -errno. The table must be freed. */
int es_session_table_read(struct es_session_table *t, const struct es_maps *m);
void es_session_table_free(struct es_session_table *t);

/* Merge ncpus per-CPU copies of a counters value (stride: 8-byte rounded). */
void es_counters_merge(struct es_session_counters *out, const void *percpu, int ncpus);

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

/*
 * Read every entry of a hash map with the batch API. keys and values are
 * allocated (value_len bytes per entry, per-CPU copies included); 0 or
 * -errno.
 */
int es_map_read_all(int fd, size_t key_len, size_t value_len, void **keys, void **values,
		    size_t *count);

#endif /* EDGESHIFT_SESSION_TABLE_H */
