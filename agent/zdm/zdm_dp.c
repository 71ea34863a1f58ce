// SPDX-License-Identifier: GPL-2.0-only
/*
 * The migration data plane of one node, as the agent runs it: loaded into
 * the agent's pin directory (sharing the accounting maps), attached to the
 * configured interfaces (adopting the links a previous agent pinned), the
 * services of other nodes registered for handoff detection, and its events
 * read: a handoff starts a migration when the policy says so; translation
 * entries of connections that ended are swept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <bpf/libbpf.h>
#include "util/clock.h"
#include "util/log.h"
#include "migctl/seal.h"
#include "migctl/xlate.h"
#include "net/neigh.h"
#include "net/netns.h"
#include "net/tcp_conns.h"
#include "zdm_int.h"
#include "zdm_record.h"

#define XLATE_SWEEP_MS		1000
#define XLATE_LINGER_MS		120000
#define XLATE_IDLE_MS		60000

/* Attach unless a previous agent's link is still pinned (it keeps working). */
static int attach(struct es_zdm *z, enum es_mig_hook hook, const char *ifname, char *err,
		  size_t len)
{
	unsigned int ifx = if_nametoindex(ifname);
	char path[512];
	int ret;

	if (!ifx) {
		snprintf(err, len, "zero_downtime: no interface %s", ifname);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "%s/links/mig_%s_%u", z->pin_path,
		 es_mig_hook_name(hook), ifx);
	if (!access(path, F_OK)) {
		/* an earlier agent's link: this agent's program takes its place, no gap */
		ret = es_mig_link_update(z->pin_path, hook, ifx);
		if (!ret) {
			es_info("zdm_link_adopted", "hook=%s dev=%s", es_mig_hook_name(hook), ifname);
			return 0;
		}
		es_warn("zdm_link_replaced", "hook=%s dev=%s error=\"%s\"", es_mig_hook_name(hook),
			ifname, strerror(-ret));
		es_mig_detach(z->pin_path, hook, ifx);
	}
	return es_mig_attach(z->pin_path, hook, ifx, err, len);
}

static int attach_all(struct es_zdm *z, char *err, size_t len)
{
	const struct es_zdm_config *c = z->cfg;
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < c->n_user; i++) {
		ret = attach(z, ES_MIG_HOOK_USER_TC, c->user_ifaces[i], err, len);
		if (!ret)
			ret = attach(z, ES_MIG_HOOK_EGRESS, c->user_ifaces[i], err, len);
	}
	for (i = 0; !ret && i < c->n_wan; i++)
		ret = attach(z, ES_MIG_HOOK_WAN, c->wan_ifaces[i], err, len);
	for (i = 0; !ret && i < c->n_pod; i++)
		ret = attach(z, ES_MIG_HOOK_CTR, c->pod_ifaces[i], err, len);
	return ret;
}

/*
 * Services that run on other nodes: a user arriving here for one is a
 * handoff. 0, or -errno with err saying which service could not be
 * written (a full map): its users would not be followed.
 */
static int register_services(struct es_zdm *z, char *err, size_t len)
{
	unsigned int i;
	int ret;

	for (i = 0; i < z->cfg->n_services; i++) {
		const struct es_zdm_service *s = &z->cfg->services[i];
		struct es_mig_svc_key k = { .svc_port = s->port, .proto = s->proto };
		__u32 node[4];

		memcpy(k.svc_addr, s->addr, sizeof(k.svc_addr));

		if (!strcmp(s->node, z->node_name))
			continue;
		if (es_zdm_peer_addr(z, s->node, node)) {
			es_warn("zdm_service_unknown_node", "container=%s node=%s", s->container,
				s->node);
			continue;
		}
		ret = es_mig_service_set(&z->dp, &k, node, ES_MIG_SVC_FORWARD | ES_MIG_SVC_MIRROR,
					 z->cfg->replay_limit);
		if (ret) {
			snprintf(err, len, "zero_downtime: cannot register service %u of container "
				 "%s on node %s: %s", i, s->container, s->node, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/*
 * The next hop to every other node kept resolved by the kernel: the first
 * packets a handoff tunnels there, and the replies tunnelled back, would
 * otherwise wait for ARP across the WAN. Left in place when the agent
 * stops, as the data plane is: forwarding goes on without the agent.
 */
static void keep_peer_neighbours(struct es_zdm *z)
{
	const char *name;
	struct es_neigh n;
	unsigned int i;
	__u32 addr[4];
	int ret;

	for (i = 0; i < z->mcfg->n_peers; i++) {
		name = z->mcfg->peers[i].name;
		if (!strcmp(name, z->node_name) || es_zdm_peer_addr(z, name, addr))
			continue;
		ret = es_neigh_keep(es_mig_in6(addr), &n);
		if (ret)
			es_warn("zdm_neighbour_failed", "node=%s error=\"%s\"", name,
				strerror(-ret));
		else
			es_info("zdm_neighbour", "node=%s ifindex=%d managed=%d", name, n.ifindex,
				n.managed);
	}
}

struct handoff {
	struct es_zdm		*z;
	struct es_mig_event	ev;
};

/* Ask the node running the service to migrate it here: the user reassociated with this node. */
static void *handoff_thread(void *arg)
{
	struct handoff *h = arg;
	struct es_zdm *z = h->z;
	const struct es_zdm_service *svc;
	const struct es_mig_peer *peer;
	const char *node;
	char key[ES_MIG_KEY_TEXT_LEN], path[512], err[512];
	json_t *resp = NULL;
	int code;

	es_mig_key_format(&h->ev.key, key, sizeof(key));
	node = es_zdm_peer_by_addr(z, h->ev.node_addr);
	svc = es_zdm_service_find(z->cfg, h->ev.key.proto, h->ev.key.svc_addr,
				  h->ev.key.svc_port);
	peer = node ? es_mig_peer_find(z->mcfg, node) : NULL;
	if (!peer || !svc) {
		es_warn("zdm_handoff_ignored", "session=%s reason=\"no peer or service for it\"", key);
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/zdm/migrations?x=1");
	es_zdm_query_add(path, sizeof(path), "container", svc->container);
	es_zdm_query_add(path, sizeof(path), "to", z->node_name);
	/*
	 * A TCP service's user moves with all its connections: the source
	 * takes every one of the container's (zdm_sessions.c). A UDP session
	 * has no connection the source could find: it is named.
	 */
	if (h->ev.key.proto != IPPROTO_TCP)
		es_zdm_query_add(path, sizeof(path), "session", key);
	es_zdm_query_add(path, sizeof(path), "mode", z->cfg->complete ? "complete" : "partial");
	code = es_zdm_peer_call(z, peer->url, "POST", path, &resp, err, sizeof(err));
	if (!es_peer_accepted(code))
		es_warn("zdm_handoff_refused", "session=%s source=%s code=%d error=\"%s\"", key,
			node, code, err);
	else
		es_info("zdm_handoff_migration", "session=%s source=%s id=%s", key, node,
			json_string_value(json_object_get(resp, "id")) ?: "?");
	json_decref(resp);
out:
	free(h);
	return NULL;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct es_zdm *z = ctx;
	const struct es_mig_event *ev = data;
	char key[ES_MIG_KEY_TEXT_LEN], node[INET6_ADDRSTRLEN];
	struct handoff *h;
	pthread_t t;

	if (size < sizeof(*ev))
		return 0;
	es_mig_key_format(&ev->key, key, sizeof(key));
	es_mig_addr_format(ev->node_addr, node, sizeof(node));
	if (ev->type == ES_MIG_EV_ABORT) {
		es_migrator_event(z->m, "target", "-", "-", "zdm_dp_abort",
				  json_pack("{s:s,s:s,s:I}", "session", key, "reason",
					    es_mig_abort_name(ev->reason), "seq",
					    (json_int_t)ev->seq));
		return 0;
	}
	if (ev->type == ES_MIG_EV_GAP || ev->type == ES_MIG_EV_REPLY_GAP) {
		es_zdm_gap_kick(z);
		return 0;
	}
	if (ev->type != ES_MIG_EV_HANDOFF)
		return 0;
	es_migrator_event(z->m, "target", "-", "-", "zdm_handoff",
			  json_pack("{s:s,s:s,s:I,s:b}", "session", key, "source_node", node,
				    "seq", (json_int_t)ev->seq, "auto", z->cfg->auto_migrate));
	if (!z->cfg->auto_migrate)
		return 0;
	h = malloc(sizeof(*h));
	if (!h)
		return 0;
	*h = (struct handoff){ z, *ev };
	if (pthread_create(&t, NULL, handoff_thread, h))
		free(h);
	else
		pthread_detach(t);
	return 0;
}

/*
 * Does the restored container still hold each connection? One sock_diag
 * dump per service address (its pod's namespace, or this one); when it
 * cannot be told, the connection is kept.
 */
static void conns_alive(const struct es_mig_key *keys, unsigned int n, bool *alive, void *arg)
{
	struct es_tcp_tuple *t = calloc(n, sizeof(*t));
	unsigned int *at = calloc(n, sizeof(*at)), i, j, m;
	bool *seen = calloc(n, sizeof(*seen)), *found = calloc(n, sizeof(*found));
	int ns;

	memset(alive, 1, n * sizeof(*alive));
	for (i = 0; t && at && seen && found && i < n; i++) {
		if (seen[i])
			continue;
		for (j = i, m = 0; j < n; j++) {
			if (seen[j] || !es_mig_addr_eq(keys[j].svc_addr, keys[i].svc_addr))
				continue;
			seen[j] = true;
			at[m] = j;
			t[m++] = (struct es_tcp_tuple){ .laddr = *es_mig_in6(keys[j].svc_addr),
						       .raddr = *es_mig_in6(keys[j].user_addr),
						       .lport = keys[j].svc_port,
						       .rport = keys[j].user_port };
		}
		ns = es_zdm_netns_open(arg, keys[i].svc_addr);
		if (ns >= ES_NETNS_OWN && !es_tcp_conns_exist(ns, t, m, found))
			for (j = 0; j < m; j++)
				alive[at[j]] = found[j];
		es_zdm_netns_close(ns);
	}
	free(t);
	free(at);
	free(seen);
	free(found);
}

/*
 * Translated connections (es_mig_xlate) that ended: closed both ways or
 * reset and quiet for twice the longest segment lifetime Linux keeps
 * (TIME_WAIT's 60 s), or quiet for XLATE_IDLE_MS with no socket left.
 */
static void sweep_xlate(struct es_zdm *z)
{
	unsigned int removed = 0;

	if (es_mig_xlate_sweep(&z->dp, es_now_ns(), XLATE_LINGER_MS, XLATE_IDLE_MS, conns_alive,
			       z, &removed) == 0 && removed)
		es_info("zdm_xlate_swept", "entries=%u", removed);
}

/*
 * A seal outliving its migration (the source died or lost this node
 * between its seal and its cut-over) would keep holding new users: lifted
 * after twice the cut-over's timeout and 5 s more, so they reach the old
 * container again (docs/migration.md, "The seal").
 */
static void sweep_seals(struct es_zdm *z)
{
	__u64 max_ns = (2ULL * z->cfg->cutover_timeout_ms + 5000) * 1000000ULL;
	int n = es_mig_seals_expire(&z->dp, max_ns);

	if (n > 0)
		es_warn("zdm_seal_expired", "services=%d max_ms=%llu", n,
			(unsigned long long)(max_ns / 1000000));
}

static void *events_thread(void *arg)
{
	struct es_zdm *z = arg;
	struct ring_buffer *rb = ring_buffer__new(z->dp.events_fd, on_event, z, NULL);
	int64_t swept = 0;

	if (!rb) {
		es_error("zdm_events_failed", "error=\"%s\"", strerror(errno));
		return NULL;
	}
	while (!atomic_load(&z->stopping)) {
		ring_buffer__poll(rb, 200);
		/* the translations' and the seals' sweeps, once a second */
		if (es_now_ms() - swept >= XLATE_SWEEP_MS) {
			swept = es_now_ms();
			sweep_xlate(z);
			sweep_seals(z);
		}
	}
	ring_buffer__free(rb);
	return NULL;
}

int es_zdm_start(struct es_zdm *z, const struct es_zdm_params *p, char *err, size_t err_len)
{
	struct es_mig_load_opts lo = {};
	int ret;

	memset(z, 0, sizeof(*z));
	z->cfg = p->cfg;
	z->mcfg = p->mig;
	z->node_name = p->node_name;
	z->pin_path = p->pin_path;
	z->m = p->m;
	atomic_init(&z->stopping, false);
	pthread_mutex_init(&z->lock, NULL);
	/* the hold takes it whether or not the gap thread runs */
	pthread_mutex_init(&z->gap_lock, NULL);
	pthread_mutex_init(&z->group_lock, NULL);
	if (!z->cfg->enabled)
		return 0;
	lo.records = z->cfg->records;
	ret = es_mig_load(z->pin_path, &lo, &z->skel, err, err_len);
	if (ret)
		return ret;
	ret = es_mig_dp_open(&z->dp, z->pin_path, err, err_len);
	if (ret) {
		es_mig_unload(z->skel);
		z->skel = NULL;
		return ret;
	}
	if (lo.rebuilt)
		es_warn("zdm_layout_rebuilt", "pin_path=%s old=%u new=%u", z->pin_path,
			lo.rebuilt_from, ES_MIG_LAYOUT_VERSION);
	z->dp_ready = true;
	ret = es_mig_config_set(&z->dp, z->cfg->tunnel_addr, z->cfg->tunnel_port,
				z->cfg->replay_limit);
	if (ret) {
		snprintf(err, err_len, "zero_downtime: cannot write es_mig_config: %s",
			 strerror(-ret));
		return ret;
	}
	ret = attach_all(z, err, err_len) ?: register_services(z, err, err_len);
	if (ret)
		return ret;
	keep_peer_neighbours(z);
	if (pthread_create(&z->events_thread, NULL, events_thread, z)) {
		snprintf(err, err_len, "zero_downtime: cannot start the events thread");
		return -EAGAIN;
	}
	z->events_running = true;
	es_info("zdm_ready", "pin_path=%s user_ifaces=%u wan_ifaces=%u services=%u auto=%d t=%llu",
		z->pin_path, z->cfg->n_user, z->cfg->n_wan, z->cfg->n_services,
		z->cfg->auto_migrate, (unsigned long long)es_realtime_ns());
	if (es_zdm_gap_start(z)) {
		snprintf(err, err_len, "zero_downtime: cannot start the gap thread");
		return -EAGAIN;
	}
	es_zdm_hold_install(z);
	es_zdm_checkpoint_hook_install(z);
	es_zdm_recover(z);
	return 0;
}

void es_zdm_stop(struct es_zdm *z)
{
	if (!z->dp_ready)
		return;
	atomic_store(&z->stopping, true);
	/* a start that failed before the thread (an interface missing) stops here too */
	if (z->events_running)
		pthread_join(z->events_thread, NULL);
	z->events_running = false;
	es_zdm_gap_stop(z);
	/* pins and links stay: the data plane keeps forwarding without the agent */
	es_mig_dp_close(&z->dp);
	es_mig_unload(z->skel);
	z->dp_ready = false;
}
