/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The events room, its only door: the Detector. What the node sees
 * (sessions, users attaching, handoffs, migration phases) becomes a
 * CloudEvents 1.0 event (ce.c), kept in an on-disk spool until the sink
 * acknowledges it (spool.c), posted by delivery threads following the
 * Knative Eventing data-plane contract: binary content mode by default,
 * retries on 404, 409, 429, 5xx and network errors, then a dead-letter
 * sink (deliver.c). The room knows nothing of the agent around it: main.c
 * feeds it through es_events_emit() and the source adapters (sources.c),
 * which take plain records, not the other rooms' structs. docs/events.md
 * lists every event and every configuration key.
 */
#ifndef EDGESHIFT_EVENTS_H
#define EDGESHIFT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <jansson.h>

#define ES_EV_URL_MAX		512
#define ES_EV_MAX_SERVICES	64
#define ES_EV_MAX_OVERRIDES	16
#define ES_EV_MAX_PARALLEL	64
#define ES_EV_LAT_KINDS		3	/* handshake, service, response (metrics.md) */

enum es_ev_mode {
	ES_EV_BINARY,		/* attributes in ce- headers, data as the body */
	ES_EV_STRUCTURED,	/* the whole event as application/cloudevents+json */
};

enum es_ev_backoff {
	ES_EV_EXPONENTIAL,	/* retry n waits backoffDelay * 2^(n-1) */
	ES_EV_LINEAR,		/* retry n waits backoffDelay * n */
};

/* The event types, one bit each in es_events_config.types. */
enum es_ev_type {
	ES_EV_USER_ATTACHED,
	ES_EV_SESSION_OPENED,
	ES_EV_SESSION_CLOSED,
	ES_EV_HANDOFF_SEEN,
	ES_EV_MIG_STARTED,
	ES_EV_MIG_CHECKPOINTED,
	ES_EV_MIG_RESTORED,
	ES_EV_MIG_CUTOVER,
	ES_EV_MIG_FAILED,
	ES_EV_UTIL_CROSSED,
	ES_EV_LATENCY_CROSSED,
	ES_EV_TYPES,
};

/* A configured service: an address and a port (0: any) of a protocol (0: any). */
struct es_ev_service {
	struct in6_addr	addr;		/* IPv4 as ::ffff:a.b.c.d */
	uint16_t	port;
	uint8_t		proto;
};

/* An extension attribute every event carries (K_CE_OVERRIDES). */
struct es_ev_override {
	char	name[24];
	char	value[128];
};

/* The "events" object of the agent configuration (docs/events.md). */
struct es_events_config {
	bool			configured;	/* the object was given */
	char			sink[ES_EV_URL_MAX];	/* "" : K_SINK, else off */
	char			dead_letter[ES_EV_URL_MAX];
	enum es_ev_mode		mode;
	char			spool_dir[256];	/* "": STATE_DIR/events */
	unsigned int		spool_max_events;
	unsigned int		parallelism;	/* events in flight, 1: in order */
	unsigned int		retry;
	enum es_ev_backoff	backoff;
	uint64_t		backoff_delay_ns;
	uint64_t		timeout_ns;
	uint32_t		types;		/* 1 << es_ev_type */
	struct es_ev_service	services[ES_EV_MAX_SERVICES];
	unsigned int		n_services;	/* 0: every service */
	double			util_threshold;	/* 0 < x <= 1; 0: off */
	double			latency_slo_ms[ES_EV_LAT_KINDS];	/* p99 bound; 0: off */
	struct es_ev_override	overrides[ES_EV_MAX_OVERRIDES];
	unsigned int		n_overrides;
};

void es_events_config_defaults(struct es_events_config *c);
/* The "events" object; 0, or -1 with "config: field 'events.X' ..." in err. */
int es_events_config_parse(struct es_events_config *c, json_t *v, char *err, size_t err_len);
/*
 * After the file and the flags: K_SINK when no sink is configured,
 * K_CE_OVERRIDES, the spool directory under state_dir. 0, or -1 with err.
 */
int es_events_config_finish(struct es_events_config *c, const char *state_dir, char *err,
			    size_t err_len);
/* A sink is known: the Detector runs. */
bool es_events_config_on(const struct es_events_config *c);

/* ISO-8601 duration ("PT0.5S", "PT1M", "P1DT2H") in ns; 0 or -1. */
int es_iso8601_duration(const char *s, uint64_t *ns);

/* The reverse-DNS name of a type, "io.edgeshift.session.opened". */
const char *es_ev_type_name(enum es_ev_type t);

struct es_events;

/* Opens the spool (recovering what a killed agent left) and starts delivery. */
struct es_events *es_events_open(const struct es_events_config *cfg, const char *node,
				 char *err, size_t err_len);
/* Stops delivery; what is not delivered stays in the spool for the next start. */
void es_events_close(struct es_events *ev);

/*
 * One event: its type, where it happened (appended to the node's source,
 * may be NULL), what it is about, and its data (consumed; NULL: its
 * builder failed). Spooled before it returns; 0, -ENOBUFS when the spool
 * is full (counted, the event dropped), -EPERM when its type is not
 * configured, -EINVAL when the data or the record cannot be built (an
 * allocation failed, a text is not UTF-8: counted), or -errno (-ENOSPC:
 * the disk is full; counted as a write error). NULL ev is a no-op
 * returning -EPERM.
 */
int es_events_emit(struct es_events *ev, enum es_ev_type type, const char *where,
		   const char *subject, json_t *data);

/* The counters of /metrics, for tools and tests. */
struct es_events_stats {
	uint64_t	emitted, delivered, retried, dead_lettered, attempts, dropped;
	uint64_t	dropped_full;	/* of dropped: the spool held spool_max_events */
	uint64_t	dropped_write;	/* of dropped: the spool could not be written */
	uint64_t	dropped_build;	/* of dropped: the event could not be built */
	uint64_t	util_untracked;	/* interfaces left out of a round: 64 tracked */
	uint64_t	spool_depth;
};
void es_events_stats(struct es_events *ev, struct es_events_stats *st);

/* Prometheus series of the room (emitted, delivered, retried, ...). */
void es_events_render_metrics(FILE *f, struct es_events *ev, const char *node);

/* ---- sources.c: the adapters the composition root wires to the other rooms ---- */

/* A migration event log record (event_log.h's line as JSON), mapped to its phase. */
void es_events_on_migration(struct es_events *ev, const json_t *rec);

/* A session as the accounting collector sees it; addresses as IPv4-mapped IPv6. */
struct es_ev_session {
	const char	*ifname;
	const char	*pod;		/* "ns/name" or NULL */
	uint8_t		proto;
	struct in6_addr	client, service;
	uint16_t	client_port, service_port;
	uint64_t	first_ns, last_ns;	/* CLOCK_REALTIME */
	uint64_t	packets_in, packets_out, bytes_in, bytes_out;
	const char	*reason;	/* closed: "fin", "rst", "idle", ... */
};

void es_events_on_session_opened(struct es_events *ev, const struct es_ev_session *s);
void es_events_on_session_closed(struct es_events *ev, const struct es_ev_session *s);

/*
 * An interface as the Detector tells interfaces apart: its pod, its name
 * and its ifindex (edgeshift-cni names every pod's interface by
 * CNI_IFNAME, and a pod outside Kubernetes has no pod name, so two pods'
 * eth0 differ by ifindex alone: edgeshift-cni gives each pod interface a
 * node-wide unique one).
 */
struct es_ev_iface {
	const char	*pod;		/* "namespace/name"; NULL or "" for the node's own */
	const char	*ifname;
	uint32_t	ifindex;
};

/*
 * An interface's utilisation (0..1; below 0: capacity unknown, the
 * interface is still there) this window; emits when the threshold
 * is crossed. A round gives every interface's, then ends: the interfaces
 * not given in a round are forgotten, so the 64 tracked at once are the
 * live ones (pods come and go). One that finds 64
 * live ones tracked is left out that round and counted (util_untracked).
 */
void es_events_on_utilisation(struct es_events *ev, const struct es_ev_iface *f, double util);
void es_events_utilisation_round_end(struct es_events *ev);
/*
 * The node's p99 latency of one kind ("handshake", "service", "response")
 * over the signals window, from samples; emits when it crosses the SLO.
 */
void es_events_on_latency(struct es_events *ev, const char *kind, double p99_ms,
			  uint64_t samples);
/* The names of the latency kinds, in es_events_config.latency_slo_ms order. */
extern const char *const es_ev_lat_kinds[ES_EV_LAT_KINDS];

#endif /* EDGESHIFT_EVENTS_H */
