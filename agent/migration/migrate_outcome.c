// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source learns the outcome of the target's restore by asking for it
 * (GET /v1/migrations/incoming/ID) rather than from the answer to the
 * restore request: a restore may take longer than any connection stays
 * idle, and an answer can be lost on the way. The source decides only on
 * what the target says it runs:
 *
 *   running    the migration succeeded (even if the 202 was lost)
 *   failed     the target removed what it made: the migration failed
 *   absent     the target holds nothing of it (its agent restarted): failed
 *   no answer  until restore_timeout_ms + request_timeout_ms: the outcome is
 *              lost; the source asks the target to remove its copy and
 *              retries that for resolve_timeout_ms. Only if the target
 *              never confirms does the migration end with target_state
 *              "unknown" and an "unresolved" event: the one case where a
 *              copy may run on both nodes, and it is said loudly.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/clock.h"
#include "util/log.h"
#include "transfer.h"
#include "migrate.h"

static void set_error(struct es_migrator *m, struct es_migration *mg, const char *target_state,
		      const char *fmt, const char *a, const char *b)
{
	pthread_mutex_lock(&m->lock);
	snprintf(mg->error, sizeof(mg->error), fmt, a, b);
	mg->target_state = target_state;
	pthread_mutex_unlock(&m->lock);
}

/*
 * How long the target may hold a status request open (a long poll): well
 * inside the request's own timeout.
 */
unsigned int es_mig_wait_ms(const struct es_migrator *m)
{
	unsigned int w = m->cfg->request_timeout_ms / 2;

	return w > 5000 ? 5000 : w;
}

/* The target's status answer: 1 running, -1 failed or absent (mg->error set), 0 restoring. */
static int restore_outcome(struct es_migrator *m, struct es_migration *mg, json_t *resp,
			   bool posted)
{
	const char *state = json_string_value(json_object_get(resp, "state"));

	if (!state)
		return 0;
	if (!strcmp(state, "running")) {
		pthread_mutex_lock(&m->lock);
		mg->restore_target_ms = json_real_value(json_object_get(resp, "restore_ms"));
		mg->target_state = "running";
		pthread_mutex_unlock(&m->lock);
		return 1;
	}
	if (!strcmp(state, "failed")) {
		set_error(m, mg, "absent", "restore at %s: %.400s", mg->to,
			  json_string_value(json_object_get(resp, "error")) ?: "failed");
		return -1;
	}
	if (!strcmp(state, "absent")) {
		set_error(m, mg, "absent", "restore at %s: %s", mg->to,
			  posted ? "the target lost the migration (its agent restarted?, or the "
				   "long-polled restore request never reached it)"
				 : "the restore request went unanswered and never started");
		return -1;
	}
	return 0;
}

int es_mig_restore_answer(struct es_migrator *m, struct es_migration *mg, int code, json_t *resp)
{
	if (!es_peer_done(code) || !json_string_value(json_object_get(resp, "state")))
		return 0;
	return restore_outcome(m, mg, resp, true);
}

/* 1: running, -1: failed or absent (mg->error set), 0: still restoring or no answer. */
static int ask_outcome(struct es_migrator *m, struct es_migration *mg, bool posted, char *err,
		       size_t err_len)
{
	json_t *resp = NULL;
	char path[256];
	int code, ret = 0;

	snprintf(path, sizeof(path), "/v1/migrations/incoming/%s?wait_ms=%u", mg->id, es_mig_wait_ms(m));
	code = es_peer_json(es_migrator_peers(m), m->cfg, mg->url, "GET", path, NULL,
			    m->cfg->request_timeout_ms, &resp, err, err_len);
	if (!es_peer_done(code) || !json_string_value(json_object_get(resp, "state"))) {
		if (code)
			snprintf(err, err_len, "HTTP %d without a state", code);
	} else {
		ret = restore_outcome(m, mg, resp, posted);
	}
	json_decref(resp);
	return ret;
}

int es_mig_await_restore(struct es_migrator *m, struct es_migration *mg, bool posted)
{
	int64_t deadline = es_now_ms() + m->cfg->restore_timeout_ms + m->cfg->request_timeout_ms;
	char err[512] = "no answer";
	char limit[32];
	int ret;

	int64_t asked;

	for (;;) {
		asked = es_now_ms();
		ret = ask_outcome(m, mg, posted, err, sizeof(err));
		if (ret)
			return ret > 0 ? 0 : -1;
		if (es_now_ms() >= deadline)
			break;
		/* no long poll (no answer, or an older target): pace the questions */
		if (es_now_ms() - asked < m->cfg->poll_interval_ms)
			usleep((m->cfg->poll_interval_ms - (es_now_ms() - asked)) * 1000);
	}
	snprintf(limit, sizeof(limit), "%u", m->cfg->restore_timeout_ms + m->cfg->request_timeout_ms);
	set_error(m, mg, "unknown", "restore at %s: no outcome within %s ms", mg->to, limit);
	es_warn("restore_outcome_lost", "id=%s target=%s last_error=\"%s\"", mg->id, mg->to, err);
	return -1;
}

bool es_mig_abort_target(struct es_migrator *m, struct es_migration *mg, bool settle)
{
	int64_t deadline = es_now_ms() + (settle ? m->cfg->resolve_timeout_ms : 0);
	unsigned int pause_ms = m->cfg->poll_interval_ms;
	char path[256], err[512];
	size_t n;

	snprintf(path, sizeof(path), "/v1/migrations/incoming/%s", mg->id);
	for (;;) {
		if (es_peer_done(es_peer_json(es_migrator_peers(m), m->cfg, mg->url, "DELETE", path, NULL,
					      m->cfg->request_timeout_ms, NULL, err, sizeof(err)))) {
			if (settle) {
				pthread_mutex_lock(&m->lock);
				mg->target_state = "absent";
				pthread_mutex_unlock(&m->lock);
			}
			return true;
		}
		if (es_now_ms() >= deadline)
			break;
		usleep(pause_ms * 1000);
		pause_ms = pause_ms * 2 > 2000 ? 2000 : pause_ms * 2;
	}
	es_warn("migration_abort_unanswered", "id=%s target=%s error=\"%s\"", mg->id, mg->to, err);
	if (!settle)
		return false;
	pthread_mutex_lock(&m->lock);
	mg->target_state = "unknown";
	n = strlen(mg->error);
	snprintf(mg->error + n, sizeof(mg->error) - n, "; UNRESOLVED: %s may run %s too "
		 "(ask GET /v1/migrations/incoming/%s there, remove it with DELETE)",
		 mg->to, mg->container, mg->id);
	pthread_mutex_unlock(&m->lock);
	es_event(&m->log, "source", mg->id, mg->container, "unresolved",
		 json_pack("{s:s,s:s}", "to", mg->to, "reason", err));
	return false;
}
