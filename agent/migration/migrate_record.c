// SPDX-License-Identifier: GPL-2.0-only
/*
 * A source's migration on disk while its worker runs (STATE/outgoing/ID.json),
 * so an agent killed in the middle can end it at its next start: the
 * container it left paused runs again, the target removes what it staged
 * or restored (the migration failed), or, once the target ran it and the
 * source was being stopped, the stop is finished (done). The record goes
 * when the worker ends, or when the restarted agent has settled it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/fs_util.h"
#include "util/log.h"
#include "migrate.h"

static void record_path(const struct es_migrator *m, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/outgoing%s%s%s", m->cfg->state_dir, id ? "/" : "", id ?: "",
		 id ? ".json" : "");
}

void es_mig_record_save(struct es_migrator *m, struct es_migration *mg)
{
	char path[ES_PATH + 64], tmp[ES_PATH + 80];
	json_t *j;
	char *s;
	int err = -ENOMEM;

	if (!mg->recorded)
		return;
	j = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:I,s:b}", "id", mg->id, "container",
		      mg->container, "to", mg->to, "mode", mg->complete ? "complete" : "partial",
		      "stop_source", mg->stop_source, "phase", mg->phase, "requested_ns",
		      (json_int_t)mg->requested_ns, "restore_started",
		      mg->ph[ES_PH_RESTORE].start_ns != 0);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	record_path(m, mg->id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* a crash mid-write leaves the previous record whole */
	if (s)
		err = es_write_file(tmp, s, strlen(s));
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		es_warn("migration_record_failed", "id=%s error=\"%s\"", mg->id, strerror(-err));
	free(s);
	json_decref(j);
}

void es_mig_record_drop(struct es_migrator *m, struct es_migration *mg)
{
	char path[ES_PATH + 64];

	mg->recorded = false;
	record_path(m, mg->id, path, sizeof(path));
	unlink(path);
}

/* The migration of record j, listed as running (its phase "recovering"); NULL if unusable. */
static struct es_migration *load(struct es_migrator *m, json_t *j)
{
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *ct = json_string_value(json_object_get(j, "container"));
	const char *to = json_string_value(json_object_get(j, "to"));
	const struct es_mig_peer *peer = to ? es_mig_peer_find(m->cfg, to) : NULL;
	struct es_migration *mg;

	if (!id || !ct || !es_safe_name(ct) || !peer || strlen(id) >= sizeof(mg->id))
		return NULL;
	mg = calloc(1, sizeof(*mg));
	if (!mg)
		return NULL;
	snprintf(mg->id, sizeof(mg->id), "%s", id);
	snprintf(mg->container, sizeof(mg->container), "%s", ct);
	snprintf(mg->to, sizeof(mg->to), "%s", to);
	snprintf(mg->url, sizeof(mg->url), "%s", peer->url);
	mg->complete = !strcmp(json_string_value(json_object_get(j, "mode")) ?: "", "complete");
	mg->stop_source = json_is_true(json_object_get(j, "stop_source"));
	mg->requested_ns = json_integer_value(json_object_get(j, "requested_ns"));
	mg->phase = "recovering";
	mg->recorded = true;
	return mg;
}

/* The phase name of a record, as the static string mg->phase must point to. */
static const char *phase_of(const char *was)
{
	static const char *const known[] = { "requested", "checkpoint", "transfer", "restore",
					     "stop_source" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(was, known[i]))
			return known[i];
	return "recovering";
}

struct recovery {
	struct es_migrator	*m;
	struct es_migration	*mg;
	char			was[32];	/* the phase the agent died in */
	bool			restore_started;
};

static void settle(struct es_migrator *m, struct es_migration *mg, enum es_mig_state st,
		   const char *phase)
{
	pthread_mutex_lock(&m->lock);
	mg->state = st;
	mg->phase = phase;
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
}

static void *recover_main(void *arg)
{
	struct recovery *r = arg;
	struct es_migrator *m = r->m;
	struct es_migration *mg = r->mg;
	int ret;

	es_event(&m->log, "source", mg->id, mg->container, "recovered",
		 json_pack("{s:s}", "phase", r->was));
	if (!strcmp(r->was, "stop_source")) {
		/* the target ran it (the stop follows the restore): finish the stop */
		ret = es_container_destroy(&m->rt, mg->container);
		if (!ret) {
			settle(m, mg, ES_MIG_DONE, "done");
			es_event(&m->log, "source", mg->id, mg->container, "source_stopped", NULL);
			goto out;
		}
		snprintf(mg->error, sizeof(mg->error), "stopping %s: %s", mg->container,
			 strerror(-ret));
		settle(m, mg, ES_MIG_FAILED, "stop_source");
	} else {
		snprintf(mg->error, sizeof(mg->error),
			 "the source agent restarted during phase %s", r->was);
		es_mig_abort_target(m, mg, r->restore_started);
		settle(m, mg, ES_MIG_FAILED, phase_of(r->was));
	}
	es_event(&m->log, "source", mg->id, mg->container, "failed",
		 json_pack("{s:s,s:s}", "phase", r->was, "reason", mg->error));
out:
	es_mig_record_drop(m, mg);
	free(r);
	return NULL;
}

/* Start settling record j: the container resumed now, the rest in a thread. */
static void recover_one(struct es_migrator *m, json_t *j)
{
	struct es_migration *mg = load(m, j);
	struct recovery *r = mg ? calloc(1, sizeof(*r)) : NULL;
	char err[512];
	pthread_t t;

	if (!r) {
		free(mg);
		return;
	}
	r->m = m;
	r->mg = mg;
	snprintf(r->was, sizeof(r->was), "%s", json_string_value(json_object_get(j, "phase")) ?: "");
	r->restore_started = json_is_true(json_object_get(j, "restore_started"));
	mg->spec = es_container_spec(&m->rt, mg->container);
	if (es_container_resume_if_paused(&m->rt, mg->container, err, sizeof(err)) < 0)
		es_error("container_resume_failed", "name=%s error=\"%s\"", mg->container, err);
	mg->next = m->list;
	m->list = mg;
	if (pthread_create(&t, NULL, recover_main, r)) {
		snprintf(mg->error, sizeof(mg->error), "cannot start the recovery thread");
		mg->state = ES_MIG_FAILED;
		free(r);
		return;
	}
	pthread_detach(t);
}

void es_mig_record_recover(struct es_migrator *m)
{
	char dir[ES_PATH], path[ES_PATH + 300];
	struct dirent *de;
	json_t *j;
	DIR *d;

	record_path(m, NULL, dir, sizeof(dir));
	es_mkdir_p(dir, 0700);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".json")) {
			unlink(path);	/* a record half-written */
			continue;
		}
		j = json_load_file(path, 0, NULL);
		if (j)
			recover_one(m, j);
		else
			unlink(path);
		json_decref(j);
	}
	if (d)
		closedir(d);
}
