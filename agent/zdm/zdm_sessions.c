// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which sessions a zero-downtime migration keeps alive (zdm_int.h): the
 * ones named, or every established connection of the container's TCP
 * services; whether each can move at all; and their figures as one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "net/tcp_conns.h"
#include "net/udp_rqueue.h"
#include "net/netns.h"
#include "zdm_int.h"

/*
 * A UDP session's service must be a UDP socket on this node: a TCP service
 * named without "/tcp" would be accepted, forwarded as datagrams that are
 * not there, and reported done while its clients saw the whole migration
 * as an outage. The sockets are looked for in the namespace of the pod
 * holding the service address, or this agent's. A look that fails (the
 * pod's namespace gone, sock_diag refused) refuses the session too, with
 * why: a request that cannot be checked is not taken as one that passed.
 */
static int udp_served(struct es_zdm *z, const struct es_mig_key *k, char *err, size_t len)
{
	unsigned int socks = 0, any = 0;
	char a[ES_MIG_ENDPOINT_LEN];
	uint64_t bytes;
	int ns, ret;

	if (k->proto != IPPROTO_UDP)
		return 0;
	es_mig_endpoint_format(k->svc_addr, k->svc_port, a, sizeof(a));
	ns = es_zdm_netns_open(z, k->svc_addr);
	if (ns < ES_NETNS_OWN) {
		snprintf(err, len, "field 'session': cannot look for the UDP socket serving %s: "
			 "the network namespace of the pod holding it: %s", a, strerror(-ns));
		return -1;
	}
	ret = es_udp_rqueue(ns, es_mig_in6(k->svc_addr), k->svc_port, &bytes, &socks);
	if (!ret)
		ret = es_udp_rqueue(ns, NULL, k->svc_port, &bytes, &any);
	es_zdm_netns_close(ns);
	if (ret) {
		snprintf(err, len, "field 'session': cannot look for the UDP socket serving %s: %s",
			 a, strerror(-ret));
		return -1;
	}
	if (socks + any)
		return 0;
	snprintf(err, len, "field 'session': no UDP socket serves %s on this node (a TCP "
		 "service? name the session USER:PORT>SVC:PORT/tcp)", a);
	return -1;
}

/*
 * A TCP session moves with its connection only when CRIU carries the
 * established socket: without the container's tcp_established the
 * restored container would not have it, and the user's connection would
 * be reset at cut-over.
 */
static int tcp_carried(struct es_zdm *z, const struct es_mig_key *k, const char *ct, char *err,
		       size_t len)
{
	json_t *spec;
	bool ok;

	if (k->proto != IPPROTO_TCP || !ct || !es_safe_name(ct))
		return 0;
	spec = es_container_spec(es_migrator_runtime(z->m), ct);
	if (!spec)
		return 0;	/* the container check that follows names it */
	ok = json_is_true(json_object_get(spec, "tcp_established"));
	json_decref(spec);
	if (ok)
		return 0;
	snprintf(err, len, "field 'session': a TCP session needs container \"%s\" started with "
		 "\"tcp_established\": true (CRIU must carry its connections)", ct);
	return -1;
}

/* Is k one of the n sessions of v? */
static bool has_key(const struct es_zdm_sess *v, unsigned int n, const struct es_mig_key *k)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!memcmp(&v[i].key, k, sizeof(*k)))
			return true;
	return false;
}

/* The session of connection c to TCP service svc. */
static struct es_mig_key conn_key(const struct es_zdm_service *svc, const struct es_tcp_conn *c)
{
	struct es_mig_key k = { .user_port = c->rport, .svc_port = svc->port,
				.proto = IPPROTO_TCP };

	memcpy(k.user_addr, &c->raddr, sizeof(k.user_addr));
	memcpy(k.svc_addr, svc->addr, sizeof(k.svc_addr));
	return k;
}

static int add_key(struct es_zdm_sess *v, unsigned int *n, const struct es_mig_key *k,
		   char *err, size_t len)
{
	if (has_key(v, *n, k))
		return 0;	/* named twice: one session */
	if (*n == ES_ZDM_MAX_SESSIONS) {
		snprintf(err, len, "field 'session': more than %d sessions in one migration",
			 ES_ZDM_MAX_SESSIONS);
		return -1;
	}
	v[*n].key = *k;
	es_mig_key_format(k, v[*n].key_text, sizeof(v[*n].key_text));
	(*n)++;
	return 0;
}

/* SESSION[,SESSION...] */
static int parse_list(const char *list, struct es_zdm_sess *v, unsigned int *n, char *err,
		      size_t len)
{
	char *copy = strdup(list), *save = NULL, *tok;
	struct es_mig_key k;
	int ret = copy ? 0 : -1;

	if (!copy)
		snprintf(err, len, "out of memory");
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !ret;
	     tok = strtok_r(NULL, ",", &save))
		ret = es_mig_key_parse(tok, &k, err, len) || add_key(v, n, &k, err, len) ? -1 : 0;
	free(copy);
	if (!ret && !*n) {
		snprintf(err, len, "field 'session': no session named");
		ret = -1;
	}
	return ret;
}

/* es_tcp_conns of svc in the namespace its container runs in. */
static int svc_conns(struct es_zdm *z, const struct es_zdm_service *svc, struct es_tcp_conn *c)
{
	int ns = es_zdm_netns_open(z, svc->addr), found = ns;

	if (ns >= ES_NETNS_OWN)
		found = es_tcp_conns(ns, es_mig_in6(svc->addr), svc->port, c,
				     ES_ZDM_MAX_SESSIONS);
	es_zdm_netns_close(ns);
	return found;
}

/* Every connection established to one TCP service of the container. */
static int service_conns(struct es_zdm *z, const struct es_zdm_service *svc,
			 struct es_zdm_sess *v, unsigned int *n, char *err, size_t len)
{
	struct es_tcp_conn c[ES_ZDM_MAX_SESSIONS];
	int found, i;

	found = svc_conns(z, svc, c);
	if (found < 0) {
		snprintf(err, len, "listing the connections of the container's service: %s",
			 strerror(-found));
		return -1;
	}
	/* more than fit: refused, not a migration that drops the rest */
	if (found > ES_ZDM_MAX_SESSIONS) {
		snprintf(err, len, "the container has %d connections, more than the %d one "
			 "migration keeps", found, ES_ZDM_MAX_SESSIONS);
		return -1;
	}
	for (i = 0; i < found; i++) {
		struct es_mig_key k = conn_key(svc, &c[i]);

		if (add_key(v, n, &k, err, len))
			return -1;
	}
	return 0;
}

/*
 * No session named: every connection of the container's TCP services
 * (zero_downtime.services). A UDP session has no connection to find: it
 * must be named.
 */
static int enumerate(struct es_zdm *z, const char *ct, struct es_zdm_sess *v, unsigned int *n,
		     char *err, size_t len)
{
	unsigned int i, services = 0;

	for (i = 0; i < z->cfg->n_services; i++) {
		const struct es_zdm_service *svc = &z->cfg->services[i];

		if (strcmp(svc->container, ct) || svc->proto != IPPROTO_TCP)
			continue;
		services++;
		if (service_conns(z, svc, v, n, err, len))
			return -1;
	}
	if (*n)
		return 0;
	snprintf(err, len, services ? "field 'session': container \"%s\" has no established "
		 "connection to move" : "field 'session': none named, and zero_downtime.services "
		 "lists no TCP service of container \"%s\" whose connections could be found", ct);
	return -1;
}

/*
 * fn(k) for every connection established to the container's TCP services
 * that zm does not carry; how many there were past the ones a listing
 * holds (ES_ZDM_MAX_SESSIONS a service), which fn never sees, or -errno
 * when a service's connections could not be listed (none of its are
 * seen: not the same as none there).
 */
static int each_uncarried(struct es_zdm *z, struct es_zdm_mig *zm,
			  void (*fn)(struct es_zdm *z, struct es_zdm_mig *zm,
				     const struct es_mig_key *k, void *arg), void *arg)
{
	struct es_tcp_conn c[ES_ZDM_MAX_SESSIONS];
	int found, j, past = 0, ret = 0;
	unsigned int i;

	for (i = 0; i < z->cfg->n_services; i++) {
		const struct es_zdm_service *svc = &z->cfg->services[i];

		if (strcmp(svc->container, zm->container) || svc->proto != IPPROTO_TCP)
			continue;
		found = svc_conns(z, svc, c);
		if (found < 0) {
			ret = found;
			continue;
		}
		for (j = 0; j < found && j < ES_ZDM_MAX_SESSIONS; j++) {
			struct es_mig_key k = conn_key(svc, &c[j]);

			/* keyed as the list at the start was: carried, or not */
			if (!has_key(zm->sess, zm->n_sess, &k))
				fn(z, zm, &k, arg);
		}
		if (found > ES_ZDM_MAX_SESSIONS)
			past += found - ES_ZDM_MAX_SESSIONS;
	}
	return ret ?: past;
}

struct uncarried {
	unsigned int	n;
	char		*first;
	size_t		len;
};

static void count_one(struct es_zdm *z, struct es_zdm_mig *zm, const struct es_mig_key *k,
		      void *arg)
{
	struct uncarried *u = arg;

	(void)z;
	(void)zm;
	if (!u->n++)
		es_mig_key_format(k, u->first, u->len);
}

int es_zdm_unmoved_connections(struct es_zdm *z, struct es_zdm_mig *zm, char *first, size_t len)
{
	struct uncarried u = { 0, first, len };
	int past = each_uncarried(z, zm, count_one, &u);

	if (past < 0)
		return past;
	/* more than were listed: every one past the list is one too */
	return u.n + past;
}

static void add_one(struct es_zdm *z, struct es_zdm_mig *zm, const struct es_mig_key *k,
		    void *arg)
{
	unsigned int before = zm->n_sess;

	/* beyond the limit it stays unmoved, and complete() reports it */
	pthread_mutex_lock(&z->lock);
	add_key(zm->sess, &zm->n_sess, k, NULL, 0);
	if (zm->n_sess > before)
		zm->sess[before].keep_cursor = true;	/* TCP: nothing held */
	pthread_mutex_unlock(&z->lock);
	if (zm->n_sess > before)
		count_one(z, zm, k, arg);
}

unsigned int es_zdm_sessions_add_late(struct es_zdm *z, struct es_zdm_mig *zm, char *first,
				      size_t len)
{
	struct uncarried u = { 0, first, len };

	/* a listing that failed adds none: the count before the stop says so (complete()) */
	each_uncarried(z, zm, add_one, &u);
	return u.n;
}

unsigned int es_zdm_sessions_add_keys(struct es_zdm *z, struct es_zdm_mig *zm, json_t *keys,
				      char *first, size_t len)
{
	struct uncarried u = { 0, first, len };
	struct es_mig_key k;
	char err[128];
	size_t i;
	json_t *v;

	json_array_foreach(keys, i, v)
		if (json_is_string(v) &&
		    !es_mig_key_parse(json_string_value(v), &k, err, sizeof(err)))
			add_one(z, zm, &k, &u);
	return u.n;
}

int es_zdm_sessions_new(struct es_zdm *z, const struct es_zdm_request *req,
			struct es_zdm_sess **out, unsigned int *n, char *err, size_t len)
{
	struct es_zdm_sess *v = calloc(ES_ZDM_MAX_SESSIONS, sizeof(*v));
	unsigned int i;
	int ret;

	*n = 0;
	if (!v) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	if (req->session && *req->session) {
		ret = parse_list(req->session, v, n, err, len);
	} else if (req->container && es_safe_name(req->container)) {
		ret = enumerate(z, req->container, v, n, err, len);
	} else {
		snprintf(err, len, "field 'container': \"%s\" is not a container name",
			 req->container ?: "");
		ret = -1;
	}
	for (i = 0; !ret && i < *n; i++)
		ret = udp_served(z, &v[i].key, err, len) ||
		      tcp_carried(z, &v[i].key, req->container, err, len) ? -1 : 0;
	if (ret) {
		free(v);
		return -1;
	}
	*out = v;
	return 0;
}

/* The counts of a session's check that add up across sessions. */
static bool summed(const char *name)
{
	static const char *const counts[] = {
		"replayed", "replies", "answered_by_both", "answered_by_one", "unanswered",
		"claims_missing", "claims_failed", "replies_diverged", "suppressed",
		"blocks_matched", "blocks_diverged",
		"segments_unhashed", "bytes_both_sent", "bytes_in_whole_blocks", "bytes_compared",
	};
	size_t i;

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if (!strcmp(name, counts[i]))
			return true;
	return false;
}

/*
 * Several sessions' checks as one: counts added, flags each one's, passed
 * when each passed; sequence numbers, which mean nothing added, left out.
 */
static void merge_into(json_t *sum, json_t *eo)
{
	const char *name;
	json_t *v, *have;

	json_object_foreach(eo, name, v) {
		have = json_object_get(sum, name);
		if (json_is_integer(v) && !summed(name) && strcmp(name, "block_bytes"))
			continue;
		if (json_is_integer(v) && summed(name))
			json_object_set_new(sum, name, json_integer(json_integer_value(have) +
								    json_integer_value(v)));
		else if (json_is_boolean(v) && !strcmp(name, "timed_out"))
			json_object_set_new(sum, name, json_boolean(json_is_true(have) ||
								    json_is_true(v)));
		else if (json_is_boolean(v))	/* caught_up, source_agrees: each one's */
			json_object_set_new(sum, name, json_boolean((!have || json_is_true(have)) &&
								    json_is_true(v)));
		else if (!have)
			json_object_set_new(sum, name, json_deep_copy(v));
	}
}

json_t *es_zdm_verdict_json(const struct es_zdm_mig *zm)
{
	unsigned int i, passed = 0, checked = 0;
	json_t *sum;

	/* copies: the check is still written to while the answer is sent */
	if (zm->n_sess == 1)
		return json_deep_copy(zm->sess[0].exactly_once);
	sum = json_object();
	for (i = 0; i < zm->n_sess; i++) {
		json_t *eo = zm->sess[i].exactly_once;

		if (!eo)
			continue;
		checked++;
		passed += json_is_true(json_object_get(eo, "passed"));
		merge_into(sum, eo);
	}
	if (!checked) {
		json_decref(sum);
		return NULL;
	}
	json_object_set_new(sum, "sessions", json_integer(zm->n_sess));
	json_object_set_new(sum, "sessions_checked", json_integer(checked));
	json_object_set_new(sum, "sessions_passed", json_integer(passed));
	json_object_set_new(sum, "passed", json_boolean(passed == zm->n_sess));
	return sum;
}

json_t *es_zdm_sessions_json(const struct es_zdm_mig *zm, bool verdicts)
{
	json_t *a = json_array(), *o;
	unsigned int i;

	for (i = 0; i < zm->n_sess; i++) {
		const struct es_zdm_sess *s = &zm->sess[i];

		o = json_pack("{s:s,s:I,s:I,s:i,s:i,s:b}", "session", s->key_text, "hold_seq",
			      (json_int_t)s->hold_seq, "cut_seq", (json_int_t)s->cut_seq,
			      "held_sent", s->held_sent, "replayed", s->replayed, "cut_over", s->cut);
		if (verdicts && s->exactly_once)
			json_object_set_new(o, "exactly_once", json_deep_copy(s->exactly_once));
		json_array_append_new(a, o);
	}
	return a;
}

/* One session of a progress file: a "sessions" entry, or the whole file of an older agent. */
static int load_one(json_t *o, struct es_zdm_mig *zm)
{
	struct es_zdm_sess *s;
	struct es_mig_key k;
	unsigned int before = zm->n_sess;

	if (es_mig_key_parse(json_string_value(json_object_get(o, "session")) ?: "", &k, NULL, 0) ||
	    add_key(zm->sess, &zm->n_sess, &k, NULL, 0))
		return -1;
	if (zm->n_sess == before)
		return 0;	/* listed twice */
	s = &zm->sess[zm->n_sess - 1];
	s->hold_seq = json_integer_value(json_object_get(o, "hold_seq"));
	s->cut_seq = json_integer_value(json_object_get(o, "cut_seq"));
	s->cut = json_is_true(json_object_get(o, "cut_over"));
	return 0;
}

int es_zdm_sessions_load(json_t *j, struct es_zdm_mig *zm)
{
	json_t *a = json_object_get(j, "sessions"), *o;
	size_t i;

	zm->sess = calloc(ES_ZDM_MAX_SESSIONS, sizeof(*zm->sess));
	if (!zm->sess || json_array_size(a) > ES_ZDM_MAX_SESSIONS)
		return -1;
	/* written before a migration had several sessions: one, in the file itself */
	if (!json_array_size(a))
		return load_one(j, zm);
	json_array_foreach(a, i, o)
		if (load_one(o, zm))
			return -1;
	return 0;
}
