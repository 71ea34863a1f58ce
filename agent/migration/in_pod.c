// SPDX-License-Identifier: GPL-2.0-only
/*
 * A pod made while the objects travel (migration.pod_network): the target
 * runs the CNI ADD of an incoming container in a thread from its prepare
 * on, so that the restore finds the pod's namespace wired instead of
 * waiting for the ADD after the last byte (50-70 ms for IPv4 here, 1.4-1.8
 * s for IPv6, whose addresses wait for duplicate address detection). The
 * restore adopts it (es_mig_in_pod_take); a migration aborted, superseded
 * or failed before its restore ran DELs it (es_mig_in_pod_drop). The
 * record is in memory: an agent that restarts in between forgets it, and
 * the restore then ADDs as before (es_pod_net_add first DELs what an
 * earlier agent left under the name).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/clock.h"
#include "util/log.h"
#include "migrate.h"
#include "pod_net.h"

struct es_mig_in_pod {
	struct es_migrator	*m;
	char			id[40];
	char			container[64];
	json_t			*spec;
	pthread_t		t;
	int			ret;
	char			err[512];
	struct es_mig_in_pod	*next;
};

static void *pod_main(void *arg)
{
	struct es_mig_in_pod *p = arg;
	int64_t t0 = es_now_ms();

	p->ret = es_pod_net_add(p->m->cfg, p->container, p->spec, p->err, sizeof(p->err));
	if (p->ret)
		es_warn("pod_network_prepare_failed", "id=%s name=%s error=\"%s\"", p->id,
			p->container, p->err);
	else
		es_info("pod_network_prepared", "id=%s name=%s ms=%lld", p->id, p->container,
			(long long)(es_now_ms() - t0));
	return NULL;
}

/* Unlist the record of migration id (with id NULL, of container ct; both NULL, any); or NULL. */
static struct es_mig_in_pod *unlist(struct es_migrator *m, const char *id, const char *ct)
{
	struct es_mig_in_pod **pp, *p;

	pthread_mutex_lock(&m->lock);
	for (pp = &m->pods; (p = *pp); pp = &p->next)
		if (id ? !strcmp(p->id, id) : !ct || !strcmp(p->container, ct))
			break;
	if (p)
		*pp = p->next;
	pthread_mutex_unlock(&m->lock);
	return p;
}

/* Wait for its ADD; DEL what it made unless a container of the name owns the pod now. */
static void settle(struct es_migrator *m, struct es_mig_in_pod *p, bool del)
{
	pthread_join(p->t, NULL);
	if (del && !p->ret && !es_container_exists(&m->rt, p->container)) {
		es_pod_net_del(m->cfg, p->container);
		es_info("pod_network_dropped", "id=%s name=%s", p->id, p->container);
	}
	json_decref(p->spec);
	free(p);
}

void es_mig_in_pod_start(struct es_migrator *m, const char *id, const char *ct, json_t *spec)
{
	struct es_mig_in_pod *p;

	if (!m->cfg->pod_conf)
		return;
	/* an earlier migration of the name, superseded: its pod goes first */
	while ((p = unlist(m, NULL, ct)))
		settle(m, p, true);
	p = calloc(1, sizeof(*p));
	if (!p)
		return;	/* the restore ADDs then */
	p->m = m;
	snprintf(p->id, sizeof(p->id), "%s", id);
	snprintf(p->container, sizeof(p->container), "%s", ct);
	p->spec = json_incref(spec);
	if (pthread_create(&p->t, NULL, pod_main, p)) {
		json_decref(p->spec);
		free(p);
		return;
	}
	pthread_mutex_lock(&m->lock);
	p->next = m->pods;
	m->pods = p;
	pthread_mutex_unlock(&m->lock);
}

bool es_mig_in_pod_take(struct es_migrator *m, const char *id)
{
	struct es_mig_in_pod *p = unlist(m, id, NULL);
	bool ready;

	if (!p)
		return false;
	pthread_join(p->t, NULL);
	ready = !p->ret;	/* a failed ADD cleaned up after itself: the restore tries again */
	json_decref(p->spec);
	free(p);
	return ready;
}

void es_mig_in_pod_drop(struct es_migrator *m, const char *id)
{
	struct es_mig_in_pod *p = unlist(m, id, NULL);

	if (p)
		settle(m, p, true);
}

void es_mig_in_pods_close(struct es_migrator *m)
{
	struct es_mig_in_pod *p;

	while ((p = unlist(m, NULL, NULL)))
		settle(m, p, false);
}
