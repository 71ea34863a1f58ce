// SPDX-License-Identifier: GPL-2.0-only
/* The migrator of one agent: its runtime, event log and migrations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/clock.h"
#include "util/log.h"
#include "util/fs_util.h"
#include "http/http_client.h"
#include "migrate.h"
#include "criu_conf.h"
#include "peer_tcp.h"

int es_migrator_init(struct es_migrator *m, const struct es_mig_config *cfg, const char *node,
		     char *err, size_t err_len)
{
	char path[ES_PATH];
	int ret;

	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	snprintf(m->node, sizeof(m->node), "%s", node);
	pthread_mutex_init(&m->lock, NULL);
	es_cond_init_mono(&m->changed);	/* es_mig_wait, es_mig_in_status */
	pthread_mutex_init(&m->peers_lock, NULL);
	ret = es_runtime_init(&m->rt, cfg, node);
	if (ret) {
		snprintf(err, err_len, "state_dir %s: %s", cfg->state_dir, strerror(-ret));
		return ret;
	}
	es_runtime_recover(&m->rt);
	ret = es_criu_conf_install(cfg, err, err_len);
	if (ret)
		return ret;
	if (cfg->event_log[0])
		snprintf(path, sizeof(path), "%s", cfg->event_log);
	else
		snprintf(path, sizeof(path), "%s/events.log", cfg->state_dir);
	ret = es_event_log_open(&m->log, path, node);
	if (ret) {
		snprintf(err, err_len, "event_log %s: %s", path, strerror(-ret));
		return ret;
	}
	if (es_peer_tcp_attach(&m->peer_tcp, cfg, err, err_len))
		return -EINVAL;
	es_mig_fault_init();
	if (!cfg->token[0])
		es_info("migration_api_disabled", "reason=\"no migration.token configured\"");
	return 0;
}

void es_migrator_close(struct es_migrator *m)
{
	es_mig_in_pods_close(m);
	es_event_log_close(&m->log);
	es_peer_tcp_detach(&m->peer_tcp);
}

struct es_runtime *es_migrator_runtime(struct es_migrator *m)
{
	return &m->rt;
}

/*
 * The pool is made on the first request to a peer, not at start: making it
 * loads libcurl and initialises its TLS library, about 2.4 MB of resident
 * memory that a node which never migrates should not carry.
 */
struct es_http_pool *es_migrator_peers(struct es_migrator *m)
{
	struct es_http_pool *p;

	pthread_mutex_lock(&m->peers_lock);
	if (!m->peers_made) {
		m->peers = es_http_pool_new();
		m->peers_made = true;
	}
	p = m->peers;
	pthread_mutex_unlock(&m->peers_lock);
	return p;
}

void es_migrator_event(struct es_migrator *m, const char *role, const char *migration,
		       const char *container, const char *event, json_t *fields)
{
	es_event(&m->log, role, migration, container, event, fields);
}

struct es_migration *es_mig_find(struct es_migrator *m, const char *id)
{
	struct es_migration *mg;

	pthread_mutex_lock(&m->lock);
	for (mg = m->list; mg; mg = mg->next)
		if (!strcmp(mg->id, id))
			break;
	pthread_mutex_unlock(&m->lock);
	return mg;
}

const char *const es_mig_object_names[ES_MIG_OBJECTS] = { "image", "layer", "checkpoint" };
const char *const es_mig_phase_names[ES_PH_MAX] = { "checkpoint", "transfer", "restore",
						    "stop_source" };

static const char *state_name(enum es_mig_state s)
{
	static const char *const names[] = { "running", "restored", "done", "failed" };

	return names[s];
}

static json_t *phase_json(const char *name, const struct es_mig_phase *p)
{
	json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:I}", "name", name,
			      "start_ns", (json_int_t)p->start_ns, "end_ns", (json_int_t)p->end_ns,
			      "bytes", (json_int_t)p->bytes, "raw_bytes", (json_int_t)p->raw_bytes);

	if (p->end_ns)
		json_object_set_new(j, "ms", json_real((p->end_ns - p->start_ns) / 1e6));
	return j;
}

json_t *es_mig_json(struct es_migrator *m, struct es_migration *mg)
{
	json_t *j, *phases = json_array(), *objs = json_object();
	uint64_t end = 0, tr_start;
	double rate = 0;
	int i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < ES_PH_MAX; i++)
		if (mg->ph[i].start_ns)
			json_array_append_new(phases, phase_json(es_mig_phase_names[i], &mg->ph[i]));
	for (i = 0; i < ES_MIG_OBJECTS; i++)
		if (mg->obj[i].present)
			json_object_set_new(objs, mg->obj[i].name,
					    json_pack("{s:I,s:I,s:s}", "bytes",
						      (json_int_t)mg->obj[i].bytes, "raw_bytes",
						      (json_int_t)mg->obj[i].raw_bytes, "sha256",
						      mg->obj[i].sha256));
	tr_start = mg->ph[ES_PH_TRANSFER].start_ns;
	if (tr_start) {
		uint64_t t = mg->ph[ES_PH_TRANSFER].end_ns;

		if (!t)
			t = es_realtime_ns();
		if (t > tr_start)
			rate = mg->bytes_sent / ((t - tr_start) / 1e9);
	}
	if (mg->ph[ES_PH_RESTORE].end_ns)
		end = mg->ph[ES_PH_RESTORE].end_ns;
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:f,s:f,s:I,s:o,s:o,s:b}",
		      "id", mg->id, "container", mg->container, "from", m->node, "to", mg->to,
		      "mode", mg->complete ? "complete" : "partial", "state", state_name(mg->state),
		      "phase", mg->phase, "bytes_sent", (json_int_t)mg->bytes_sent,
		      "bytes_total", (json_int_t)mg->bytes_total, "rate_bps", rate,
		      "freeze_ms", mg->freeze_ns / 1e6, "requested_ns", (json_int_t)mg->requested_ns,
		      "phases", phases, "objects", objs, "image_sent", mg->obj[0].present);
	if (end)
		json_object_set_new(j, "migration_ms", json_real((end - mg->requested_ns) / 1e6));
	if (mg->restore_target_ms)
		json_object_set_new(j, "target_restore_ms", json_real(mg->restore_target_ms));
	if (mg->error[0])
		json_object_set_new(j, "error", json_string(mg->error));
	if (mg->target_state)
		json_object_set_new(j, "target_state", json_string(mg->target_state));
	pthread_mutex_unlock(&m->lock);
	return j;
}

json_t *es_mig_list_json(struct es_migrator *m)
{
	json_t *a = json_array();
	struct es_migration *mg, *next;

	pthread_mutex_lock(&m->lock);
	mg = m->list;
	pthread_mutex_unlock(&m->lock);
	for (; mg; mg = next) {
		json_array_append_new(a, es_mig_json(m, mg));
		pthread_mutex_lock(&m->lock);
		next = mg->next;
		pthread_mutex_unlock(&m->lock);
	}
	return a;
}

void es_migrator_set_pause_hooks(struct es_migrator *m,
				 int (*before_pause)(void *arg, const char *name, char *err,
						     size_t err_len),
				 void (*before_resume)(void *arg, const char *name),
				 void (*after_resume)(void *arg, const char *name), void *arg)
{
	m->rt.quiesce_arg = arg;
	m->rt.before_resume = before_resume;
	m->rt.after_resume = after_resume;
	m->rt.before_pause = before_pause;
}

void es_migrator_set_checkpoint_hook(struct es_migrator *m,
				     int (*checkpointed)(void *arg, const char *name, char *err,
							 size_t err_len), void *arg)
{
	m->checkpointed_arg = arg;
	m->checkpointed = checkpointed;
}

enum es_mig_state es_mig_state_get(struct es_migrator *m, struct es_migration *mg)
{
	enum es_mig_state st;

	pthread_mutex_lock(&m->lock);
	st = mg->state;
	pthread_mutex_unlock(&m->lock);
	return st;
}

/* 1 reached, -1 failed before it, 0 not yet. Called with m->lock held. */
static int milestone(const struct es_migration *mg, enum es_mig_milestone what)
{
	if (mg->state == ES_MIG_FAILED && what != ES_MIG_AT_END)
		return -1;
	switch (what) {
	case ES_MIG_AT_CHECKPOINT:
		return mg->ph[ES_PH_CHECKPOINT].end_ns != 0;
	case ES_MIG_AT_RESTORED:
		return mg->state == ES_MIG_RESTORED ||
		       (mg->ph[ES_PH_RESTORE].end_ns && mg->state != ES_MIG_RUNNING);
	default:
		return mg->state != ES_MIG_RUNNING;
	}
}

int es_mig_wait(struct es_migrator *m, struct es_migration *mg, enum es_mig_milestone what,
		unsigned int timeout_ms, char *err, size_t err_len)
{
	struct timespec until = es_mono_deadline(timeout_ms);
	int ret, wr = 0;

	pthread_mutex_lock(&m->lock);
	while (!(ret = milestone(mg, what)) && wr != ETIMEDOUT)
		wr = pthread_cond_timedwait(&m->changed, &m->lock, &until);
	if (ret < 0)
		snprintf(err, err_len, "%s", mg->error);
	pthread_mutex_unlock(&m->lock);
	return ret > 0 ? 0 : ret < 0 ? -ECANCELED : -ETIMEDOUT;
}
