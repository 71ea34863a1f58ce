/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The session test's datagrams, shared by `edgeshift session-test`, which
 * sends the sessions and the probes, and `es-session sink`, which counts
 * the sessions, echoes the probes and answers counter requests. One UDP
 * port carries all four kinds. Every field is big endian on the wire.
 */
#ifndef EDGESHIFT_SESSION_WIRE_H
#define EDGESHIFT_SESSION_WIRE_H

#include <stdint.h>
#include <string.h>
#include <endian.h>

#define ES_SW_MAGIC		0x45535354U	/* "ESST" */
#define ES_SW_PORT		7700
#define ES_SW_MAX_SESSIONS	256
#define ES_SW_HDR_LEN		32

enum es_sw_type {
	ES_SW_DATA	= 1,	/* session traffic; session = index, seq = per-session count */
	ES_SW_PROBE	= 2,	/* echoed unchanged; session = measurement window */
	ES_SW_STATS	= 3,	/* counters of sessions 0..session-1, seq = request id */
	ES_SW_STATS_REPLY = 4,	/* header of the request, then session x es_sw_counter */
};

/* The first ES_SW_HDR_LEN bytes of every datagram, in host order. */
struct es_sw_hdr {
	uint32_t	magic;		/* ES_SW_MAGIC */
	uint8_t		type;		/* enum es_sw_type */
	uint32_t	run_id;		/* one test run; a new one resets the sink */
	uint32_t	session;	/* meaning depends on type */
	uint64_t	seq;		/* meaning depends on type */
	uint64_t	ts_ns;		/* probe: sender's CLOCK_REALTIME at send */
};

/* What the sink counted for one session of the current run. */
struct es_sw_counter {
	uint64_t	packets;
	uint64_t	bytes;		/* UDP payload bytes */
};

static inline void es_sw_put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static inline void es_sw_put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static inline uint32_t es_sw_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static inline uint64_t es_sw_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

/* Layout: magic 0, type 4, 3 bytes zero, run_id 8, session 12, seq 16, ts_ns 24. */
static inline void es_sw_encode(uint8_t *buf, const struct es_sw_hdr *h)
{
	memset(buf, 0, ES_SW_HDR_LEN);
	es_sw_put32(buf, ES_SW_MAGIC);
	buf[4] = h->type;
	es_sw_put32(buf + 8, h->run_id);
	es_sw_put32(buf + 12, h->session);
	es_sw_put64(buf + 16, h->seq);
	es_sw_put64(buf + 24, h->ts_ns);
}

/* 0, or -1 when buf is too short or not ours. */
static inline int es_sw_decode(const uint8_t *buf, size_t len, struct es_sw_hdr *h)
{
	if (len < ES_SW_HDR_LEN || es_sw_get32(buf) != ES_SW_MAGIC)
		return -1;
	h->magic = ES_SW_MAGIC;
	h->type = buf[4];
	h->run_id = es_sw_get32(buf + 8);
	h->session = es_sw_get32(buf + 12);
	h->seq = es_sw_get64(buf + 16);
	h->ts_ns = es_sw_get64(buf + 24);
	return 0;
}

#endif
