// SPDX-License-Identifier: GPL-2.0-only
/* The record of a zero-downtime migration: step, events, progress file (zdm_record.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "util/clock.h"
#include "util/errf.h"
#include "util/log.h"
#include "zdm_record.h"

static const char *const step_names[ES_ZDM_STEP_MAX] = {
	"requested", "forwarding", "held", "checkpointed", "resumed", "restored", "cut_over",
	"source_stopped", "done", "failed",
};

const char *es_zdm_step_name(enum es_zdm_step s)
{
	return s < ES_ZDM_STEP_MAX ? step_names[s] : "unknown";
}

static void state_path(struct es_zdm *z, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/zdm/%s.json", z->mcfg->state_dir, id);
}

void es_zdm_persist(struct es_zdm *z, struct es_zdm_mig *zm)
{
	char path[ES_PATH], tmp[ES_PATH + 8];
	json_t *j;

	snprintf(path, sizeof(path), "%s/zdm", z->mcfg->state_dir);
	mkdir(path, 0700);
	state_path(z, zm->id, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	pthread_mutex_lock(&z->lock);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s}", "id", zm->id, "engine_id",
		      zm->engine_id, "container", zm->container, "to", zm->to, "session",
		      zm->key_text, "mode", zm->complete ? "complete" : "partial", "step",
		      step_names[zm->step], "sessions", es_zdm_sessions_json(zm, false), "error",
		      zm->error);
	pthread_mutex_unlock(&z->lock);
	/* a restarted agent would resume from an older step: say so */
	if (!j || json_dump_file(j, tmp, JSON_COMPACT) || rename(tmp, path))
		es_error("zdm_persist_failed", "id=%s step=%s path=%s error=\"%s\"", zm->id,
			 step_names[zm->step], path, j ? strerror(errno) : "out of memory");
	json_decref(j);
}

void es_zdm_event(struct es_zdm *z, struct es_zdm_mig *zm, const char *ev, json_t *f)
{
	if (!f)
		f = json_object();
	json_object_set_new(f, "session", json_string(zm->key_text));
	if (zm->n_sess > 1)
		json_object_set_new(f, "sessions", json_integer(zm->n_sess));
	if (zm->engine_id[0])
		json_object_set_new(f, "engine_migration", json_string(zm->engine_id));
	es_migrator_event(z->m, "source", zm->id, zm->container, ev, f);
}

void es_zdm_set_step(struct es_zdm *z, struct es_zdm_mig *zm, enum es_zdm_step s, json_t *f)
{
	pthread_mutex_lock(&z->lock);
	zm->step = s;
	zm->step_ns[s] = es_realtime_ns();
	pthread_mutex_unlock(&z->lock);
	es_zdm_persist(z, zm);
	es_zdm_event(z, zm, s == ES_ZDM_DONE ? "zdm_done" : s == ES_ZDM_FAILED ? "zdm_failed" :
			    s == ES_ZDM_SOURCE_STOPPED ? "zdm_source_stopped" : "zdm_step",
		     json_pack("{s:s,s:o}", "step", step_names[s], "detail", f ?: json_object()));
}

void es_zdm_set_error(struct es_zdm *z, struct es_zdm_mig *zm, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&z->lock);
	va_start(ap, fmt);
	vsnprintf(zm->error, sizeof(zm->error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&z->lock);
}

int es_zdm_fail(struct es_zdm *z, struct es_zdm_mig *zm, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&z->lock);
	if (!zm->error[0]) {
		va_start(ap, fmt);
		es_verrf(zm->error, sizeof(zm->error), -1, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&z->lock);
	return -1;
}
