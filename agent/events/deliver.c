// SPDX-License-Identifier: GPL-2.0-only
/*
 * The delivery threads (events.parallelism, 1 by default: in order): the
 * spool's records to the sink by HTTP POST, as the Knative Eventing
 * data-plane contract has it, each thread with a connection of its own. A 2xx
 * acknowledges. 404, 409, 429, 5xx and network errors are retried `retry`
 * times, retry n after backoffDelay * 2^(n-1) (exponential) or
 * backoffDelay * n (linear); other answers are not retried. Then the
 * dead-letter sink gets the event with Knative's knativeerror*
 * extensions. An event neither sink took for a reason worth retrying
 * stays in the spool and its schedule starts again: an outage loses
 * nothing. An event the sink refused (a 4xx not retried) and no
 * dead-letter sink took is dropped and counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "http/http_client.h"
#include "util/clock.h"
#include "util/log.h"
#include "events_int.h"

#define BACKOFF_MAX_NS	(3600ULL * NSEC_PER_SEC)
/* the least wait before a kept event is tried again */
#define KEEP_PAUSE_NS	(100ULL * NSEC_PER_MSEC)

const double es_ev_lat_bounds[ES_EV_LAT_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 300,
};

struct target {
	const char		*url;
	struct es_http_conn	*conn;	/* kept alive between events */
};

static bool retryable(long status)
{
	return status == 0 || status == 404 || status == 409 || status == 429 ||
	       (status >= 500 && status <= 599);
}

static uint64_t backoff_ns(const struct es_events_config *c, unsigned int n)
{
	uint64_t d = c->backoff_delay_ns;

	if (c->backoff == ES_EV_LINEAR)
		d *= n;
	else
		d = n - 1 >= 40 ? BACKOFF_MAX_NS : d << (n - 1);
	return d > BACKOFF_MAX_NS || d < c->backoff_delay_ns ? BACKOFF_MAX_NS : d;
}

/* Sleeps ns unless the agent stops first; false when it does. */
static bool pause_ns(struct es_events *ev, uint64_t ns)
{
	struct es_spool *sp = &ev->spool;
	struct timespec ts;
	uint64_t until;

	clock_gettime(CLOCK_REALTIME, &ts);
	until = ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec + ns;
	ts.tv_sec = until / NSEC_PER_SEC;
	ts.tv_nsec = until % NSEC_PER_SEC;
	pthread_mutex_lock(&sp->lock);
	while (!atomic_load(&ev->stop) &&
	       pthread_cond_timedwait(&sp->cond, &sp->lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&sp->lock);
	return !atomic_load(&ev->stop);
}

/* One POST: the HTTP status, or 0 when none arrived. */
static long post(struct es_events *ev, struct target *t, const struct es_ce_msg *m)
{
	struct es_http_request req = {
		.url = t->url, .body = m->body, .content_type = m->content_type,
		.headers = m->hdr, .conn = t->conn, .connect_ms = 5000,
		.total_ms = ev->cfg.timeout_ns / NSEC_PER_MSEC,
		/*
		 * A sink may answer a 2xx with a reply event of any size, and
		 * accepted is accepted: a bound on the body made a large reply
		 * a network error, retried and dead-lettered.
		 */
		.discard_answer = true,
	};
	struct es_http_response resp;
	char err[256];
	long status;

	atomic_fetch_add(&ev->attempts, 1);
	if (es_http_perform(&req, &resp, err, sizeof(err))) {
		es_debug("event_post_failed", "url=\"%s\" id=%s error=\"%s\"", t->url, m->id, err);
		return 0;
	}
	status = resp.status;
	es_http_response_free(&resp);
	return status;
}

/* The first try and `retry` retries: the last status. false when the agent stops. */
static bool send_with_retries(struct es_events *ev, struct target *t,
			      const struct es_ce_msg *m, long *status)
{
	unsigned int n;

	for (n = 0;; n++) {
		*status = post(ev, t, m);
		if ((*status >= 200 && *status <= 299) || !retryable(*status) ||
		    n == ev->cfg.retry)
			return true;
		atomic_fetch_add(&ev->retried, 1);
		if (!pause_ns(ev, backoff_ns(&ev->cfg, n + 1)))
			return false;
	}
}

static void observe_latency(struct es_events *ev, uint64_t emitted_ns)
{
	double s = (double)(es_realtime_ns() - emitted_ns) / 1e9, old;
	int i;

	if (s < 0)
		s = 0;
	for (i = 0; i < ES_EV_LAT_BUCKETS && s > es_ev_lat_bounds[i]; i++)
		;
	atomic_fetch_add(&ev->lat_bucket[i], 1);
	atomic_fetch_add(&ev->lat_count, 1);
	old = atomic_load(&ev->lat_sum);
	while (!atomic_compare_exchange_weak(&ev->lat_sum, &old, old + s))
		;
}

static bool ok(long status)
{
	return status >= 200 && status <= 299;
}

/* The dead-letter form: the event with why it could not be delivered. */
static int dead_letter_msg(struct es_events *ev, json_t *rec, long status, struct es_ce_msg *m)
{
	json_t *extra = json_pack("{s:s,s:s}", "knativeerrordest", ev->cfg.sink,
				  "knativeerrorcode", status ? "" : "network");
	int ret;

	if (status)
		json_object_set_new(extra, "knativeerrorcode", json_sprintf("%ld", status));
	ret = es_ce_message(rec, ev->cfg.mode, extra, m);
	json_decref(extra);
	return ret;
}

enum outcome { DONE, KEEP, STOPPED };

/* One spooled record through sink and dead-letter sink. */
static enum outcome deliver_record(struct es_events *ev, struct target *sink,
				   struct target *dls, json_t *rec, const struct es_ce_msg *m)
{
	struct es_ce_msg dm;
	long status, dstatus;
	uint64_t pause;
	bool sent;

	if (!send_with_retries(ev, sink, m, &status))
		return STOPPED;
	if (ok(status)) {
		atomic_fetch_add(&ev->delivered, 1);
		observe_latency(ev, m->emitted_ns);
		return DONE;
	}
	if (dls->url[0] && !dead_letter_msg(ev, rec, status, &dm)) {
		sent = send_with_retries(ev, dls, &dm, &dstatus);
		es_ce_message_free(&dm);
		if (!sent)
			return STOPPED;
		if (ok(dstatus)) {
			atomic_fetch_add(&ev->dead_lettered, 1);
			es_info("event_dead_lettered", "id=%s status=%ld", m->id, status);
			return DONE;
		}
	}
	if (!retryable(status) && !dls->url[0]) {
		atomic_fetch_add(&ev->dropped[ES_EV_DROP_REJECTED], 1);
		es_warn("event_rejected", "id=%s status=%ld reason=\"not retried, no "
			"deadLetterSink\"", m->id, status);
		return DONE;
	}
	/*
	 * Nothing took it for a reason that may pass: wait the longest
	 * backoff, at least KEEP_PAUSE_NS (a backoffDelay of PT0S would
	 * post and log in a tight loop through an outage), start again.
	 */
	es_warn("event_undelivered", "id=%s status=%ld action=kept_in_spool", m->id, status);
	pause = backoff_ns(&ev->cfg, ev->cfg.retry + 1);
	return pause_ns(ev, pause > KEEP_PAUSE_NS ? pause : KEEP_PAUSE_NS) ? KEEP : STOPPED;
}

struct worker {
	struct es_events	*ev;
	struct target		sink, dls;
};

/* One record to its end: acknowledged, or left in the spool when the agent stops. */
static bool one(struct worker *w, struct es_spool_rec *r)
{
	struct es_events *ev = w->ev;
	struct es_ce_msg m;
	enum outcome o;
	json_t *rec;

	rec = json_loadb(r->line, r->n, 0, NULL);
	if (!rec || es_ce_message(rec, ev->cfg.mode, NULL, &m)) {
		atomic_fetch_add(&ev->dropped[ES_EV_DROP_CORRUPT], 1);
		es_warn("events_spool_record_corrupt", "bytes=%zu", r->n);
		es_spool_done(&ev->spool, r);
		json_decref(rec);
		return true;
	}
	do
		o = deliver_record(ev, &w->sink, &w->dls, rec, &m);
	while (o == KEEP);
	if (o == DONE)
		es_spool_done(&ev->spool, r);
	else
		es_spool_drop(r);
	es_ce_message_free(&m);
	json_decref(rec);
	return o == DONE;
}

static void *deliver_main(void *arg)
{
	struct worker *w = arg;
	struct es_events *ev = w->ev;
	struct es_spool_rec r;
	int ret;

	w->sink = (struct target){ ev->cfg.sink, es_http_conn_new() };
	w->dls = (struct target){ ev->cfg.dead_letter, es_http_conn_new() };
	while (es_spool_wait(&ev->spool, &ev->stop)) {
		es_spool_sync(&ev->spool);	/* durable before posted */
		ret = es_spool_take(&ev->spool, &r);
		if (ret < 0)
			es_error("events_spool_read_failed", "error=\"%s\"", strerror(-ret));
		if (ret <= 0) {
			if (!pause_ns(ev, NSEC_PER_SEC / 10))
				break;
			continue;
		}
		if (!one(w, &r))
			break;
	}
	es_http_conn_free(w->sink.conn);
	es_http_conn_free(w->dls.conn);
	free(w);
	return NULL;
}

int es_deliver_start(struct es_events *ev)
{
	struct worker *w;
	unsigned int i;
	int ret;

	for (i = 0; i < ev->cfg.parallelism; i++) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return -ENOMEM;
		w->ev = ev;
		ret = pthread_create(&ev->threads[i], NULL, deliver_main, w);
		if (ret) {
			free(w);
			return -ret;
		}
		ev->n_threads++;
	}
	return 0;
}

void es_deliver_stop(struct es_events *ev)
{
	unsigned int i;

	pthread_mutex_lock(&ev->spool.lock);
	atomic_store(&ev->stop, true);
	pthread_cond_broadcast(&ev->spool.cond);
	pthread_mutex_unlock(&ev->spool.lock);
	for (i = 0; i < ev->n_threads; i++)
		pthread_join(ev->threads[i], NULL);
	ev->n_threads = 0;
}
