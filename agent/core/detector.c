// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Detector's wiring: the events room knows no other room, and the
 * rooms that see things (accounting's collector, the migration event log,
 * the placement signals) know nothing of events. Core, above them all,
 * translates what they see into the plain records events.h takes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "util/clock.h"
#include "util/log.h"
#include "events/events.h"
#include "migration/migration.h"
#include "signals/signals.h"
#include "agent.h"

static void on_migration_record(void *arg, const json_t *rec)
{
	es_events_on_migration(arg, rec);
}

/* Which endpoint is the service: a configured one, else the lower port (the well-known one). */
static bool hi_is_service(const struct es_events_config *c, const struct es_session_key6 *k)
{
	unsigned int i;

	for (i = 0; i < c->n_services; i++) {
		const struct es_ev_service *v = &c->services[i];

		if (!memcmp(&v->addr, k->addr_hi, 16) && (!v->port || v->port == ntohs(k->port_hi)))
			return true;
		if (!memcmp(&v->addr, k->addr_lo, 16) && (!v->port || v->port == ntohs(k->port_lo)))
			return false;
	}
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return true;
	return ntohs(k->port_hi) <= ntohs(k->port_lo);
}

static const char *reason_name(int reason)
{
	return reason == ES_CLOSE_FIN ? "fin" : reason == ES_CLOSE_RST ? "rst" :
	       reason == ES_CLOSE_IDLE ? "idle" : "unknown";
}

/* "namespace/name" in buf, or NULL for an interface of no pod. */
static const char *pod_text(const char *ns, const char *name, char *buf, size_t len)
{
	if (!name[0])
		return NULL;
	snprintf(buf, len, "%s/%s", ns, name);
	return buf;
}

/* Called by the collector under acct.lock (accounting.h). */
static void on_session(void *arg, const struct es_session *s,
		       const struct es_session_counters *c, int reason)
{
	struct es_agent *a = arg;
	const struct es_attachment *att = es_datapath_find(&a->acct.dp, s->key.ifindex);
	const struct es_session_key6 *k = &s->key;
	bool hi = hi_is_service(&a->cfg.events, k);
	/* the data plane's monotonic stamps, on the wall clock for the event */
	uint64_t shift = es_realtime_ns() - es_now_ns();
	struct es_ev_session e = {
		.ifname = att ? att->info.ifname : NULL, .proto = k->proto,
		.client_port = ntohs(hi ? k->port_lo : k->port_hi),
		.service_port = ntohs(hi ? k->port_hi : k->port_lo),
		.first_ns = c->first_ns + shift, .last_ns = c->last_ns + shift,
		/* in: what arrived on the interface, out: what left through it */
		.packets_in = c->pkts[ES_DIR_RX], .packets_out = c->pkts[ES_DIR_TX],
		.bytes_in = c->bytes[ES_DIR_RX], .bytes_out = c->bytes[ES_DIR_TX],
		.reason = reason_name(reason),
	};
	char pod[330];

	memcpy(&e.client, hi ? k->addr_lo : k->addr_hi, 16);
	memcpy(&e.service, hi ? k->addr_hi : k->addr_lo, 16);
	if (att)
		e.pod = pod_text(att->info.pod_namespace, att->info.pod_name, pod, sizeof(pod));
	if (reason < 0)
		es_events_on_session_opened(a->events, &e);
	else
		es_events_on_session_closed(a->events, &e);
}

int es_agent_detector_start(struct es_agent *a, char *err, size_t len)
{
	if (!es_events_config_on(&a->cfg.events)) {
		if (a->cfg.events.configured)
			es_warn("events_off", "reason=\"no events.sink and no K_SINK\"");
		return 0;
	}
	a->events = es_events_open(&a->cfg.events, a->cfg.node_name, err, len);
	if (!a->events)
		return -EIO;
	if (a->mig)
		es_event_log_tap(&a->mig->log, on_migration_record, a->events);
	pthread_mutex_lock(&a->acct.lock);
	a->acct.on_session_arg = a;
	a->acct.on_session = on_session;
	pthread_mutex_unlock(&a->acct.lock);
	return 0;
}

/* Utilisation or latency events configured: the placement signals are read. */
static bool wants_signals(const struct es_events_config *c)
{
	int k;

	for (k = 0; k < ES_EV_LAT_KINDS; k++)
		if (c->latency_slo_ms[k] > 0)
			return true;
	return c->util_threshold > 0;
}

/* One interface's utilisation, named by its pod when it has one. */
static void iface_utilisation(struct es_agent *a, const struct es_iface_signal *i, double u)
{
	char buf[sizeof(i->pod_namespace) + sizeof(i->pod_name)];
	const char *pod = pod_text(i->pod_namespace, i->pod_name, buf, sizeof(buf));

	es_events_on_utilisation(a->events, &(struct es_ev_iface){ .pod = pod, .ifname = i->ifname,
								   .ifindex = i->ifindex }, u);
}

void es_agent_detector_sample(struct es_agent *a)
{
	struct es_node_view v;
	size_t i;

	if (!a->events || !a->signals || !wants_signals(&a->cfg.events) ||
	    es_node_view_compute(a->signals, &v))
		return;
	/* the data plane's latency kinds, in es_ev_lat_kinds' order */
	es_events_on_latency(a->events, "handshake", v.lat[ES_LAT_TCP_HANDSHAKE].p99_s * 1e3,
			     v.lat[ES_LAT_TCP_HANDSHAKE].samples);
	es_events_on_latency(a->events, "service", v.lat[ES_LAT_SERVICE].p99_s * 1e3,
			     v.lat[ES_LAT_SERVICE].samples);
	es_events_on_latency(a->events, "response", v.lat[ES_LAT_RESPONSE].p99_s * 1e3,
			     v.lat[ES_LAT_RESPONSE].samples);
	for (i = 0; i < v.n_ifaces; i++) {
		double u = v.ifaces[i].dir[ES_DIR_RX].utilisation;

		if (v.ifaces[i].dir[ES_DIR_TX].utilisation > u)
			u = v.ifaces[i].dir[ES_DIR_TX].utilisation;
		/* u < 0, capacity unknown this round: still there, no verdict */
		iface_utilisation(a, &v.ifaces[i], u);
	}
	/* the interfaces not given (gone) are forgotten */
	es_events_utilisation_round_end(a->events);
	es_node_view_free(&v);
}

void es_agent_detector_stop(struct es_agent *a)
{
	struct es_events *ev = a->events;

	if (!ev)
		return;
	pthread_mutex_lock(&a->acct.lock);
	a->acct.on_session = NULL;
	pthread_mutex_unlock(&a->acct.lock);
	if (a->mig)
		es_event_log_tap(&a->mig->log, NULL, NULL);
	a->events = NULL;
	es_events_close(ev);
}
