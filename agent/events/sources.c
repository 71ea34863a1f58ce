// SPDX-License-Identifier: GPL-2.0-only
/*
 * The adapters from what the other rooms record to events: a migration
 * event log record to its phase, a session from the accounting collector
 * to session.opened / session.closed / user.attached, an interface's
 * utilisation to utilisation.crossed. They take plain records (events.h),
 * so this room depends on no other room.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include "util/log.h"
#include "events_int.h"

/* The event log's names (event_log.h, zdm) for each phase; NULL ends. */
static const struct {
	const char	*event;
	const char	*step;	/* zdm_step: the step it reached */
	enum es_ev_type	type;
} phases[] = {
	{ "requested", NULL, ES_EV_MIG_STARTED },
	{ "zdm_requested", NULL, ES_EV_MIG_STARTED },
	{ "checkpoint_end", NULL, ES_EV_MIG_CHECKPOINTED },
	{ "zdm_step", "checkpointed", ES_EV_MIG_CHECKPOINTED },
	{ "restore_end", NULL, ES_EV_MIG_RESTORED },
	{ "zdm_step", "restored", ES_EV_MIG_RESTORED },
	{ "source_stopped", NULL, ES_EV_MIG_CUTOVER },
	{ "zdm_cutover", NULL, ES_EV_MIG_CUTOVER },
	{ "failed", NULL, ES_EV_MIG_FAILED },
	{ "zdm_failed", NULL, ES_EV_MIG_FAILED },
	{ "zdm_handoff", NULL, ES_EV_HANDOFF_SEEN },
	{ NULL, NULL, 0 },
};

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int phase_of(const json_t *rec)
{
	const char *event = str(rec, "event"), *step;
	int i;

	step = str(json_object_get(rec, "detail") ?: rec, "step") ?: str(rec, "step");
	for (i = 0; event && phases[i].event; i++) {
		if (strcmp(event, phases[i].event))
			continue;
		if (!phases[i].step || (step && !strcmp(step, phases[i].step)))
			return phases[i].type;
	}
	return -1;
}

void es_events_on_migration(struct es_events *ev, const json_t *rec)
{
	static const char *const drop[] = { "v", "ts", "node", NULL };
	const char *mig = str(rec, "migration"), *ct = str(rec, "container");
	char subject[256], src[160] = "";
	json_t *data;
	int type, i;

	type = ev ? phase_of(rec) : -1;
	if (type < 0)
		return;
	data = json_deep_copy(rec);
	for (i = 0; drop[i]; i++)
		json_object_del(data, drop[i]);
	/* a failed migration's data without its reason is not its event: not built */
	if (data && type == ES_EV_MIG_FAILED && !json_object_get(data, "reason") &&
	    json_object_set_new(data, "reason", json_string("unknown"))) {
		json_decref(data);
		data = NULL;
	}
	if (type == ES_EV_HANDOFF_SEEN) {
		/*
		 * The event log's session key as es_mig_key_format writes it,
		 * "10.0.0.1:40000>10.96.0.10:80/tcp", under sessions/. The key
		 * holds no space; one would become '/' to keep the subject a path.
		 */
		snprintf(subject, sizeof(subject), "sessions/%s", str(rec, "session") ?: "-");
		for (i = 0; subject[i]; i++)
			subject[i] = subject[i] == ' ' ? '/' : subject[i];
	} else {
		snprintf(subject, sizeof(subject), "migrations/%s", mig ?: "-");
	}
	if (ct && strcmp(ct, "-"))
		snprintf(src, sizeof(src), "containers/%s", ct);
	es_events_emit(ev, type, src[0] ? src : NULL, subject, data);
}

static bool is_v4(const struct in6_addr *a)
{
	static const unsigned char pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(a->s6_addr, pfx, sizeof(pfx));
}

static void addr_text(const struct in6_addr *a, uint16_t port, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	if (is_v4(a)) {
		inet_ntop(AF_INET, &a->s6_addr[12], s, sizeof(s));
		snprintf(buf, len, "%s:%u", s, port);
	} else {
		inet_ntop(AF_INET6, a, s, sizeof(s));
		snprintf(buf, len, "[%s]:%u", s, port);
	}
}

static const char *proto_name(uint8_t p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_ICMP ? "icmp" :
	       p == IPPROTO_ICMPV6 ? "icmpv6" : "other";
}

/* A configured service of the session, or NULL; every service when none is configured. */
static bool service_wanted(const struct es_events_config *c, const struct es_ev_session *s)
{
	unsigned int i;

	if (!c->n_services)
		return true;
	for (i = 0; i < c->n_services; i++) {
		const struct es_ev_service *v = &c->services[i];

		if (!memcmp(&v->addr, &s->service, sizeof(v->addr)) &&
		    (!v->port || v->port == s->service_port) && (!v->proto || v->proto == s->proto))
			return true;
	}
	return false;
}

/* NULL when any field cannot be built: a session's event without a field is not built */
static json_t *session_data(const struct es_ev_session *s, bool totals)
{
	char client[64], service[64];
	json_t *d;

	addr_text(&s->client, s->client_port, client, sizeof(client));
	addr_text(&s->service, s->service_port, service, sizeof(service));
	/* s*: no "pod" for the node's own interfaces */
	d = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s*}", "protocol", proto_name(s->proto),
		      "client", client, "service", service, "interface", s->ifname ?: "",
		      "first_seen_ns", (json_int_t)s->first_ns, "pod", s->pod);
	if (d && totals &&
	    json_object_update_new(d, json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:s}",
						"last_seen_ns", (json_int_t)s->last_ns,
						"duration_ms",
						(json_int_t)((s->last_ns - s->first_ns) / 1000000),
						"packets_in", (json_int_t)s->packets_in,
						"packets_out", (json_int_t)s->packets_out,
						"bytes_in", (json_int_t)s->bytes_in,
						"bytes_out", (json_int_t)s->bytes_out,
						"reason", s->reason ?: "unknown"))) {
		json_decref(d);
		d = NULL;
	}
	return d;
}

static void session_subject(const struct es_ev_session *s, char *buf, size_t len)
{
	char client[64], service[64];

	addr_text(&s->client, s->client_port, client, sizeof(client));
	addr_text(&s->service, s->service_port, service, sizeof(service));
	snprintf(buf, len, "sessions/%s/%s/%s", proto_name(s->proto), client, service);
}

/* "pods/" + a pod's "namespace/name": no pod's source cut short */
#define ES_EV_SRC_LEN	(5 + ES_EV_POD_LEN)

static void where(const struct es_ev_session *s, char *buf, size_t len)
{
	if (s->pod)
		snprintf(buf, len, "pods/%s", s->pod);
	else
		snprintf(buf, len, "interfaces/%s", s->ifname ?: "-");
}

/* FNV-1a of the (user address, service address, port): the user.attached memory. */
static uint64_t pair_hash(const struct es_ev_session *s)
{
	const unsigned char *parts[2] = { s->client.s6_addr, s->service.s6_addr };
	uint64_t h = 1469598103934665603ULL;
	int i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 16; j++)
			h = (h ^ parts[i][j]) * 1099511628211ULL;
	h = (h ^ s->service_port) * 1099511628211ULL;
	return h ?: 1;
}

/*
 * The first session of a user address to a service is the user attaching.
 * A bounded table: a forgotten pair (overwritten by another) announces
 * again, never silently drops an attachment.
 */
static bool first_of_user(struct es_events *ev, const struct es_ev_session *s)
{
	uint64_t h = pair_hash(s);
	uint64_t *slot = &ev->seen[h % ES_EV_SEEN_SLOTS];
	bool first;

	pthread_mutex_lock(&ev->src_lock);
	first = *slot != h;
	*slot = h;
	pthread_mutex_unlock(&ev->src_lock);
	return first;
}

void es_events_on_session_opened(struct es_events *ev, const struct es_ev_session *s)
{
	char subject[256], src[ES_EV_SRC_LEN], client[64], service[64];

	if (!ev || !service_wanted(&ev->cfg, s))
		return;
	session_subject(s, subject, sizeof(subject));
	where(s, src, sizeof(src));
	if ((ev->cfg.types & (1U << ES_EV_USER_ATTACHED)) && first_of_user(ev, s)) {
		char user[128];

		addr_text(&s->client, 0, client, sizeof(client));
		*strrchr(client, ':') = '\0';	/* the user is the address, not the port */
		addr_text(&s->service, s->service_port, service, sizeof(service));
		snprintf(user, sizeof(user), "users/%s", client);
		es_events_emit(ev, ES_EV_USER_ATTACHED, src, user,
			       json_pack("{s:s,s:s,s:s,s:s,s:I}", "user", client, "service", service,
					 "protocol", proto_name(s->proto), "interface",
					 s->ifname ?: "", "first_packet_ns", (json_int_t)s->first_ns));
	}
	es_events_emit(ev, ES_EV_SESSION_OPENED, src, subject, session_data(s, false));
}

void es_events_on_session_closed(struct es_events *ev, const struct es_ev_session *s)
{
	char subject[256], src[ES_EV_SRC_LEN];

	if (!ev || !service_wanted(&ev->cfg, s))
		return;
	session_subject(s, subject, sizeof(subject));
	where(s, src, sizeof(src));
	es_events_emit(ev, ES_EV_SESSION_CLOSED, src, subject, session_data(s, true));
}

/* A fresh state for f: below until told otherwise (a first report above is a crossing). */
static void util_name(struct es_ev_util_state *st, const struct es_ev_iface *f)
{
	*st = (struct es_ev_util_state){ .above = false, .ifindex = f->ifindex };
	snprintf(st->pod, sizeof(st->pod), "%s", f->pod);
	snprintf(st->ifname, sizeof(st->ifname), "%s", f->ifname);
}

/*
 * The interface's state, marked as reported this round. The table holds
 * the interfaces of the last round and of this one (the round's end
 * forgets the others); a newcomer that finds it full has no state this
 * round and is noted for the round's end to count. One that cannot be
 * judged (judged false: its capacity unknown) keeps a state it has and
 * takes none.
 */
static struct es_ev_util_state *util_state(struct es_events *ev, const struct es_ev_iface *f,
					   bool judged)
{
	struct es_ev_util_state *st = NULL, *u;
	unsigned int i;

	for (i = 0; i < ev->n_util && !st; i++) {
		u = &ev->util[i];
		if (u->ifindex == f->ifindex && !strcmp(u->ifname, f->ifname) &&
		    !strcmp(u->pod, f->pod))
			st = u;
	}
	if (!st && !judged)
		return NULL;
	if (!st && ev->n_util < ES_EV_UTIL_IFACES) {
		st = &ev->util[ev->n_util++];
		util_name(st, f);
	}
	if (st)
		st->seen = true;
	else if (!ev->util_missed++)
		util_name(&ev->util_missed_if, f);
	return st;
}

/* Keeps the interfaces reported this round, in order; their number. */
static unsigned int util_sweep(struct es_events *ev)
{
	unsigned int i, n = 0;

	for (i = 0; i < ev->n_util; i++) {
		if (!ev->util[i].seen)
			continue;
		if (n != i)
			ev->util[n] = ev->util[i];
		ev->util[n++].seen = false;
	}
	ev->n_util = n;
	return n;
}

void es_events_utilisation_round_end(struct es_events *ev)
{
	struct es_ev_util_state first;
	unsigned int missed;
	bool log;

	if (!ev || ev->cfg.util_threshold <= 0)
		return;
	pthread_mutex_lock(&ev->src_lock);
	/*
	 * A newcomer that missed room a gone interface held gets it next
	 * round: only one that the live interfaces keep out is untracked.
	 */
	missed = util_sweep(ev) == ES_EV_UTIL_IFACES ? ev->util_missed : 0;
	ev->util_missed = 0;
	/* once: a full table stays full round after round; the counter says how long */
	log = missed && !ev->util_full_logged;
	if (log)
		ev->util_full_logged = true;
	first = ev->util_missed_if;
	pthread_mutex_unlock(&ev->src_lock);
	if (!missed)
		return;
	atomic_fetch_add(&ev->util_untracked, missed);
	if (log)
		es_warn("utilisation_untracked",
			"ifname=%s ifindex=%u pod=\"%s\" untracked=%u tracked=%d "
			"reason=\"table full, logged once\"", first.ifname, first.ifindex,
			first.pod, missed, ES_EV_UTIL_IFACES);
}

void es_events_on_utilisation(struct es_events *ev, const struct es_ev_iface *f, double util)
{
	char src[ES_EV_SRC_LEN], subject[32];
	const char *pod = f->pod ?: "", *ifname = f->ifname;
	struct es_ev_iface key = { .pod = pod, .ifname = ifname, .ifindex = f->ifindex };
	struct es_ev_util_state *st;
	bool above, crossed = false;
	json_t *data;

	if (!ev || ev->cfg.util_threshold <= 0)
		return;
	above = util >= ev->cfg.util_threshold;
	pthread_mutex_lock(&ev->src_lock);
	st = util_state(ev, &key, util >= 0);
	/*
	 * A capacity unknown for a while (its speed unreadable while the
	 * carrier is down) keeps the state: forgotten, an interface above
	 * the threshold would be announced up again with no down between.
	 */
	if (st && util >= 0 && st->above != above) {
		st->above = above;
		crossed = true;
	}
	pthread_mutex_unlock(&ev->src_lock);
	if (!crossed)
		return;
	snprintf(subject, sizeof(subject), "interfaces/%s", ifname);
	/* a pod's interface comes from its pod, as its sessions' events do */
	if (*pod)
		snprintf(src, sizeof(src), "pods/%s", pod);
	else
		snprintf(src, sizeof(src), "%s", subject);
	/* NULL (counted as not built) when a name is not UTF-8, which the kernel allows */
	data = json_pack("{s:s,s:s,s:f,s:f,s:s*}", "interface", ifname, "direction",
			 above ? "up" : "down", "utilisation", util, "threshold",
			 ev->cfg.util_threshold, "pod", *pod ? pod : NULL);
	es_events_emit(ev, ES_EV_UTIL_CROSSED, src, subject, data);
}

void es_events_on_latency(struct es_events *ev, const char *kind, double p99_ms,
			  uint64_t samples)
{
	bool above, crossed = false;
	char subject[32];
	double slo;
	int k;

	for (k = 0; ev && k < ES_EV_LAT_KINDS && strcmp(kind, es_ev_lat_kinds[k]); k++)
		;
	/* no samples in the window: no verdict, the state stays */
	if (!ev || k == ES_EV_LAT_KINDS || !(slo = ev->cfg.latency_slo_ms[k]) || !samples)
		return;
	above = p99_ms > slo;
	pthread_mutex_lock(&ev->src_lock);
	if (ev->lat_above[k] != above) {
		ev->lat_above[k] = above;
		crossed = true;
	}
	pthread_mutex_unlock(&ev->src_lock);
	snprintf(subject, sizeof(subject), "latency/%s", kind);
	if (crossed)
		es_events_emit(ev, ES_EV_LATENCY_CROSSED, NULL, subject,
			       json_pack("{s:s,s:s,s:f,s:f,s:I}", "kind", kind, "direction",
					 above ? "up" : "down", "p99_ms", p99_ms, "slo_ms", slo,
					 "samples", (json_int_t)samples));
}
