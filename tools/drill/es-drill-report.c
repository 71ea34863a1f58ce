// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-drill-report: the report of a migration drill (tools/drill/drill.sh). It
 * merges what the user saw (es-drill client's log and summary) with what
 * the agents logged (their event logs: zero-downtime steps and engine
 * phases) and the service's own counter:
 *   - requests sent, answered, lost, answered twice, out of order;
 *   - exactly-once: the service's final counter against the requests
 *     sent, and every reply's counter against its request number;
 *   - the migration's outcome and time per phase (event timestamps);
 *   - the old container stopped only after the new one ran and answered;
 *   - response time per request (JSON and an SVG plot, docs/drills.md)
 *     and the longest gap between consecutive replies.
 * Prints a table (or --json) and exits 0 when the drill passed.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "plot/svg_plot.h"
#include "tool/opts.h"

#define MAX_EVENT_FILES	4

struct rq {
	uint64_t	seq, sent, recv;	/* CLOCK_REALTIME ns; recv 0: lost */
	uint64_t	counter;
};

struct drill {
	struct rq	*r;
	size_t		n;
	json_t		*summary, *check, *site, *zdm, *events;
	const char	*zdm_id, *engine_id;
	json_t		*out;
};

static json_t *load_json(const char *path)
{
	json_error_t e;
	json_t *j = path ? json_load_file(path, 0, &e) : NULL;

	if (path && !j)
		fprintf(stderr, "es-drill-report: %s: %s\n", path, e.text);
	return j ?: json_object();
}

static int load_client(struct drill *d, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;

	if (!f) {
		fprintf(stderr, "es-drill-report: --client %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		json_t *j = json_loads(line, 0, NULL);

		/* a request that wants no reply has no time to report (es-drill --quiet-every) */
		if (!j || json_is_true(json_object_get(j, "quiet"))) {
			json_decref(j);
			continue;
		}
		if (d->n == cap) {
			cap = cap ? 2 * cap : 256;
			d->r = realloc(d->r, cap * sizeof(*d->r));
		}
		d->r[d->n++] = (struct rq){
			json_integer_value(json_object_get(j, "seq")),
			json_integer_value(json_object_get(j, "sent_ns")),
			json_integer_value(json_object_get(j, "recv_ns")),
			json_integer_value(json_object_get(j, "counter")),
		};
		json_decref(j);
	}
	fclose(f);
	return 0;
}

/* Every line of the event logs, sorted by time. */
static int by_ts(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "ts_ns"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "ts_ns"));

	return (x > y) - (x < y);
}

static void load_events(struct drill *d, const char **paths, int n)
{
	json_t **v = NULL;
	size_t cnt = 0, cap = 0, i;
	char line[4096];
	int k;

	for (k = 0; k < n; k++) {
		FILE *f = fopen(paths[k], "r");

		while (f && fgets(line, sizeof(line), f)) {
			json_t *j = json_loads(line, 0, NULL);

			if (!j)
				continue;
			if (cnt == cap) {
				cap = cap ? 2 * cap : 256;
				v = realloc(v, cap * sizeof(*v));
			}
			v[cnt++] = j;
		}
		if (f)
			fclose(f);
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), by_ts);
	d->events = json_array();
	for (i = 0; i < cnt; i++)
		json_array_append_new(d->events, v[i]);
	free(v);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool ours(struct drill *d, json_t *e)
{
	const char *m = str(e, "migration");

	return m && ((d->zdm_id && !strcmp(m, d->zdm_id)) ||
		     (d->engine_id && !strcmp(m, d->engine_id)));
}

/*
 * The migration of this drill: the first zero-downtime migration requested,
 * or with a retry (site.retry) the last one: the retry is what must succeed.
 */
static void find_ids(struct drill *d)
{
	bool last = json_is_true(json_object_get(d->site, "retry"));
	size_t i;
	json_t *e;

	json_array_foreach(d->events, i, e) {
		if ((!d->zdm_id || last) && !strcmp(str(e, "event") ?: "", "zdm_requested")) {
			d->zdm_id = str(e, "migration");
			d->engine_id = NULL;
		}
		if (d->zdm_id && !d->engine_id && !strcmp(str(e, "migration") ?: "", d->zdm_id) &&
		    str(e, "engine_migration"))
			d->engine_id = str(e, "engine_migration");
	}
}

/* Time of the first event named ev (of role, when given); 0 when absent. */
static uint64_t ev_ts(struct drill *d, const char *ev, const char *role)
{
	size_t i;
	json_t *e;

	json_array_foreach(d->events, i, e) {
		if (strcmp(str(e, "event") ?: "", ev) || (role && strcmp(str(e, "role") ?: "", role)))
			continue;
		if (ours(d, e) || !strcmp(ev, "zdm_handoff"))
			return json_integer_value(json_object_get(e, "ts_ns"));
	}
	return 0;
}

static json_t *ev_get(struct drill *d, const char *ev)
{
	size_t i;
	json_t *e;

	json_array_foreach(d->events, i, e)
		if (!strcmp(str(e, "event") ?: "", ev) && ours(d, e))
			return e;
	return NULL;
}

static const struct {
	const char	*name;
	const char	*from, *from_role, *to, *to_role;
} phases[] = {
	{ "handoff detected -> migration requested", "zdm_handoff", "target", "zdm_requested", NULL },
	{ "forwarding + mirroring set up", "zdm_requested", NULL, "zdm_forwarding", "target" },
	{ "checkpoint window (source hold .. release)", "zdm_hold", "source", "zdm_resumed", "source" },
	{ "checkpoint (CRIU, left running)", "checkpoint_start", "source", "checkpoint_end", "source" },
	{ "transfer", "transfer_start", "source", "transfer_end", "target" },
	{ "restore", "restore_start", "target", "restore_end", "target" },
	{ "replay + cut-over", "zdm_replay_start", "target", "zdm_cutover", "target" },
	{ "old container's last answer", "zdm_cutover", "target", "zdm_old_answered", "target" },
	{ "stop the old container", "zdm_old_answered", "target", "zdm_source_stopped", "source" },
	{ "total (handoff -> done)", "zdm_handoff", "target", "zdm_done", "source" },
};

static json_t *phase_table(struct drill *d)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		uint64_t s = ev_ts(d, phases[i].from, phases[i].from_role);
		uint64_t e = ev_ts(d, phases[i].to, phases[i].to_role);

		if (!e && !strcmp(phases[i].to, "zdm_done"))
			e = ev_ts(d, "zdm_failed", "source");
		json_array_append_new(a, json_pack("{s:s,s:o}", "phase", phases[i].name, "ms",
						   s && e && e >= s ? json_real((e - s) / 1e6) :
								      json_null()));
	}
	return a;
}

static double mean_rt(struct drill *d, uint64_t from, uint64_t to, size_t *n)
{
	double sum = 0;
	size_t i;

	*n = 0;
	for (i = 0; i < d->n; i++)
		if (d->r[i].recv && d->r[i].sent >= from && d->r[i].sent < to) {
			sum += (d->r[i].recv - d->r[i].sent) / 1e6;
			(*n)++;
		}
	return *n ? sum / *n : NAN;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The longest time between consecutive replies received in [from, to). */
static double max_gap_ms(struct drill *d, uint64_t from, uint64_t to)
{
	uint64_t *t = calloc(d->n + 1, sizeof(*t)), g = 0;
	size_t i, k = 0;

	for (i = 0; t && i < d->n; i++)
		if (d->r[i].recv && d->r[i].recv >= from && d->r[i].recv < to)
			t[k++] = d->r[i].recv;
	if (k)
		qsort(t, k, sizeof(*t), cmp_u64);
	for (i = 1; i < k; i++)
		if (t[i] - t[i - 1] > g)
			g = t[i] - t[i - 1];
	free(t);
	return g / 1e6;
}

static json_t *rt_json(double v)
{
	return isnan(v) ? json_null() : json_real(round(v * 1000) / 1000);
}

/* x of the request sent at time ts (for the plot's markers). */
static double seq_at(struct drill *d, uint64_t ts)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->r[i].sent >= ts)
			return d->r[i].seq;
	return d->n ? d->r[d->n - 1].seq : 0;
}

static void response_times(struct drill *d, json_t *out)
{
	uint64_t handoff = json_integer_value(json_object_get(d->summary, "handoff_ns"));
	uint64_t cut = ev_ts(d, "zdm_cutover", "target"), end = UINT64_MAX;
	uint64_t done = ev_ts(d, "zdm_done", "source") ?: ev_ts(d, "zdm_failed", "source"), ckpt;
	size_t n0, n1, n2, na, i;
	json_t *per = json_array();
	double rate = json_number_value(json_object_get(d->site, "rate"));

	if (!handoff)
		handoff = end;
	if (!cut)	/* no cut-over: the forwarding lasted to the end of the migration */
		cut = done ?: end;
	for (i = 0; i < d->n; i++)
		json_array_append_new(per, d->r[i].recv ?
			json_pack("{s:I,s:f}", "seq", (json_int_t)d->r[i].seq, "ms",
				  (d->r[i].recv - d->r[i].sent) / 1e6) :
			json_pack("{s:I,s:b}", "seq", (json_int_t)d->r[i].seq, "lost", 1));
	json_object_set_new(out, "response_time_ms", json_pack("{s:o,s:o,s:o,s:o}",
		"mean", rt_json(mean_rt(d, 0, end, &na)),
		"before_handoff", rt_json(mean_rt(d, 0, handoff, &n0)),
		"forwarding", rt_json(mean_rt(d, handoff, cut, &n1)),
		"after_cutover", ev_ts(d, "zdm_cutover", "target") ? rt_json(mean_rt(d, cut, end, &n2))
								   : json_null()));
	json_object_set_new(out, "max_gap_ms", json_pack("{s:o,s:o,s:o}",
		"before_handoff", rt_json(max_gap_ms(d, 0, handoff)),
		"during_migration", rt_json(handoff != end ? max_gap_ms(d, handoff, done ?: end) : NAN),
		"request_interval", rt_json(rate > 0 ? 1000 / rate : NAN)));
	json_object_set_new(out, "per_request", per);
	/*
	 * The request sent at each step, for plots and benchmarks, and the
	 * step's time (CLOCK_REALTIME ns, 0 when it did not happen). The
	 * checkpoint: the source's hold, or for TCP (no hold) the engine's.
	 */
	ckpt = ev_ts(d, "zdm_hold", "source") ?: ev_ts(d, "checkpoint_start", "source");
	json_object_set_new(out, "markers", json_pack("{s:f,s:f,s:f,s:I,s:I,s:I}",
		"handoff", handoff != end ? seq_at(d, handoff) : 0.0,
		"checkpoint", ckpt ? seq_at(d, ckpt) : 0.0,
		"cutover", ev_ts(d, "zdm_cutover", "target") ? seq_at(d, cut) : 0.0,
		"handoff_ns", (json_int_t)(handoff != end ? handoff : 0), "checkpoint_ns",
		(json_int_t)ckpt, "cutover_ns", (json_int_t)ev_ts(d, "zdm_cutover", "target")));
}

static int plot(struct drill *d, const char *path)
{
	double *x = calloc(d->n + 1, sizeof(double)), *y = calloc(d->n + 1, sizeof(double));
	double ymax = 1;
	uint64_t t;
	struct es_svg s;
	char title[200];
	size_t i;
	int ret;

	snprintf(title, sizeof(title), "Response time per request: %s migration, %g req/s, %g ms WAN RTT",
		 str(d->site, "mode") ?: "?", json_number_value(json_object_get(d->site, "rate")),
		 2 * json_number_value(json_object_get(d->site, "wan_delay_ms")));
	if (!x || !y || es_svg_open(&s, path, 900, 460, title)) {
		free(x);
		free(y);
		return -1;
	}
	for (i = 0; i < d->n; i++) {
		x[i] = d->r[i].seq;
		y[i] = d->r[i].recv ? (d->r[i].recv - d->r[i].sent) / 1e6 : NAN;
		if (!isnan(y[i]) && y[i] > ymax)
			ymax = y[i];
	}
	es_svg_axes(&s, 1, d->n ? d->r[d->n - 1].seq : 1, 0, ymax * 1.1, "request number",
		    "response time (ms)");
	if ((t = json_integer_value(json_object_get(d->summary, "handoff_ns"))))
		es_svg_marker(&s, seq_at(d, t), "handoff", "#7b3294", 0);
	if ((t = ev_ts(d, "zdm_hold", "source")))
		es_svg_marker(&s, seq_at(d, t), "checkpoint", "#666", 1);
	if ((t = ev_ts(d, "zdm_cutover", "target")))
		es_svg_marker(&s, seq_at(d, t), "cut-over", "#1b9e77", 0);
	if ((t = ev_ts(d, "zdm_failed", "source")))
		es_svg_marker(&s, seq_at(d, t), "migration failed", "#d7191c", 1);
	es_svg_line(&s, x, y, d->n, "#2060c0");
	for (i = 0; i < d->n; i++) {
		if (isnan(y[i]))
			es_svg_cross(&s, x[i], ymax * 1.05, "#d7191c");
		else if (d->n <= 400)
			es_svg_dot(&s, x[i], y[i], 2, "#2060c0");
	}
	es_svg_legend(&s, 0, "answered", "#2060c0");
	es_svg_legend(&s, 1, "lost (x)", "#d7191c");
	ret = es_svg_close(&s);
	free(x);
	free(y);
	return ret;
}

/*
 * The old container stopped only after the new one answered: a check of a
 * cut-over. Without one it does not apply (passed null, with the reason),
 * unless the old container stopped all the same, which fails it.
 */
static json_t *stop_check(struct drill *d, const char *state, bool order_ok, json_t *oa)
{
	bool cut = ev_ts(d, "zdm_cutover", "target");
	bool stopped = ev_ts(d, "zdm_source_stopped", "source");
	json_t *all = oa ? json_boolean(json_is_true(json_object_get(oa, "all"))) : json_null();

	if (!strcmp(state, "done") || cut || stopped)
		return json_pack("{s:b,s:b,s:o}", "applicable", 1, "passed", order_ok,
				 "old_answered_all_before_stop", all);
	return json_pack("{s:b,s:n,s:s,s:o}", "applicable", 0, "passed", "reason",
			 !strcmp(state, "none") ? "no migration: nothing was cut over" :
			 "the migration did not cut over: the old container kept serving",
			 "old_answered_all_before_stop", all);
}


/*
 * Connections opened once the checkpoint was taken (drill --late-connections):
 * a migration done carried them, so none may have lost, doubled or reset a
 * request, or read a wrong counter. A failed one leaves them to the old
 * container, and what they saw is reported only.
 */
static bool late_carried(json_t *lc, const char *state)
{
	json_t *opened = json_object_get(lc, "opened");

	if (!json_is_object(lc) || strcmp(state, "done"))
		return true;
	/* a connection that failed to open left no summary: missing from the count */
	if (json_is_integer(opened) &&
	    json_integer_value(opened) != json_integer_value(json_object_get(lc, "connections")))
		return false;
	return json_integer_value(json_object_get(lc, "sent")) ==
	       json_integer_value(json_object_get(lc, "answered")) &&
	       !json_integer_value(json_object_get(lc, "lost")) &&
	       !json_integer_value(json_object_get(lc, "answered_twice")) &&
	       !json_integer_value(json_object_get(lc, "resets")) &&
	       !json_integer_value(json_object_get(lc, "replies_with_wrong_counter"));
}

/*
 * Whether an injected fault struck where it was meant to: a fault that
 * waits for a phase's event (an agent killed, the WAN cut) must have seen
 * it, else it struck at no known step and the drill tested nothing of
 * that step. The others (restore_fail and the limits) wait for nothing.
 * Also says, in out, where it struck.
 */
static bool fault_landed(struct drill *d, const char *fault, json_t *out)
{
	json_t *fl = json_object_get(d->site, "fault_landing");
	bool waits = !strncmp(fault, "kill_", 5) || !strcmp(fault, "target_dies") ||
		     !strcmp(fault, "wan_outage");

	if (!waits)
		return true;
	json_object_set(out, "fault_landing", fl ?: json_null());
	return json_is_true(json_object_get(fl, "phase_seen"));
}

/* The verdict: nothing lost or doubled, exactly-once, and the right outcome. */
static bool verdict(struct drill *d, json_t *out)
{
	json_int_t sent = json_integer_value(json_object_get(d->summary, "sent"));
	json_int_t lost = json_integer_value(json_object_get(d->summary, "lost"));
	json_int_t dup = json_integer_value(json_object_get(d->summary, "answered_twice"));
	json_int_t resets = json_integer_value(json_object_get(d->summary, "resets"));
	json_int_t ctr = json_integer_value(json_object_get(d->check, "counter"));
	const char *fault = str(d->site, "fault") ?: "none";
	const char *state = str(d->site, "migration_state") ?: "";
	/*
	 * A retry after the fault must succeed. A service whose replies carry
	 * the time is found out when the two containers' bytes differ
	 * (docs/migration.md, "What is enforced"): that migration must fail
	 * cleanly.
	 */
	bool expect_fail = (!json_is_true(json_object_get(d->site, "retry")) &&
			    (!strcmp(fault, "restore_fail") || !strcmp(fault, "target_dies") ||
			     !strcmp(fault, "buffer_full"))) ||
			   json_is_true(json_object_get(d->site, "service_clock"));
	bool retry = json_is_true(json_object_get(d->site, "retry"));
	/* an agent restarted or the WAN cut: done or failed, as long as nothing was lost */
	bool restart = (!strncmp(fault, "kill_", 5) || !strcmp(fault, "wan_outage")) && !retry;
	uint64_t stop = ev_ts(d, "zdm_source_stopped", "source");
	uint64_t cut = ev_ts(d, "zdm_cutover", "target"), rst = ev_ts(d, "restore_end", "target");
	json_t *oa = ev_get(d, "zdm_old_answered");
	json_t *oc = json_object_get(d->site, "other_connections");
	json_t *ab = json_object_get(d->site, "ab");
	/*
	 * ab's connections share one key: the replay may reach the restored
	 * container in another order (each on its own; in arrival order too
	 * when the old container read two requests that came together in
	 * another order), which is found before any cut-over and gives the
	 * migration up; if the order held, it is done.
	 */
	bool shared = json_integer_value(json_object_get(ab, "concurrency")) > 1;
	size_t i, wrong = 0;
	bool order_ok, outcome_ok, counter_ok, others_ok, ab_ok, late_ok, landed;

	for (i = 0; i < d->n; i++)
		if (d->r[i].recv && d->r[i].counter != d->r[i].seq)
			wrong++;
	counter_ok = ctr == sent && !wrong && json_is_true(json_object_get(d->check, "memory_intact"));
	/* the user's other connections: each as the first (their keys: memory_intact) */
	others_ok = !json_is_object(oc) ||
		    (!json_integer_value(json_object_get(oc, "lost")) &&
		     !json_integer_value(json_object_get(oc, "answered_twice")) &&
		     !json_integer_value(json_object_get(oc, "resets")) &&
		     !json_integer_value(json_object_get(oc, "replies_with_wrong_counter")));
	if (json_is_object(oc))
		json_object_set(out, "other_connections", oc);
	late_ok = late_carried(json_object_get(d->site, "late_connections"), state);
	/* ab -k through the migration: the drill script held its figures to the server's */
	ab_ok = !json_is_object(ab) || json_is_true(json_object_get(ab, "passed"));
	if (json_is_object(ab))
		json_object_set(out, "ab", ab);
	order_ok = !strcmp(state, "done") ? stop > cut && cut > rst && rst &&
		   json_integer_value(json_object_get(d->site, "old_running")) == 0 &&
		   json_integer_value(json_object_get(d->site, "new_running")) == 1 :
		   !stop || (cut && stop > cut);	/* no cut-over: the old one stays */
	if (expect_fail)
		outcome_ok = !strcmp(state, "failed") &&
			     json_integer_value(json_object_get(d->site, "old_running")) == 1;
	else if (!json_integer_value(json_object_get(d->site, "handoff_at")))
		outcome_ok = !strcmp(state, "none");	/* the run without migration */
	else if (restart || shared)
		outcome_ok = !strcmp(state, "done") || !strcmp(state, "failed");
	else
		outcome_ok = !strcmp(state, "done");
	json_object_set_new(out, "expected_state", json_string(
		expect_fail ? "failed" : !json_integer_value(json_object_get(d->site, "handoff_at")) ?
		"none" : restart || shared ? "done or failed" : "done"));
	json_object_set_new(out, "exactly_once", json_pack("{s:I,s:I,s:b,s:I,s:b}", "final_counter",
		ctr, "requests_sent", sent, "memory_intact",
		json_is_true(json_object_get(d->check, "memory_intact")), "replies_with_wrong_counter",
		(json_int_t)wrong, "passed", counter_ok));
	json_object_set_new(out, "old_stopped_after_new", stop_check(d, state, order_ok, oa));
	json_object_set_new(out, "outcome_as_expected", json_boolean(outcome_ok));
	landed = fault_landed(d, fault, out);
	/* TCP: the user's one connection lived through it */
	return !lost && !dup && !resets && counter_ok && others_ok && ab_ok && late_ok && order_ok &&
	       outcome_ok && landed;
}

/* A group of the user's connections added up: n of them, what they saw. */
static void print_conns(const char *label, json_int_t n, const char *what, json_t *p)
{
	printf("  %s %lld %s: sent %lld  lost %lld  answered twice %lld  reset %lld  "
	       "wrong counter %lld\n", label, (long long)n, what,
	       json_integer_value(json_object_get(p, "sent")),
	       json_integer_value(json_object_get(p, "lost")),
	       json_integer_value(json_object_get(p, "answered_twice")),
	       json_integer_value(json_object_get(p, "resets")),
	       json_integer_value(json_object_get(p, "replies_with_wrong_counter")));
}

/* One response-time figure, left out when nothing was measured (no such period). */
static void print_rt(json_t *rt, const char *key, const char *label, char sep)
{
	json_t *v = json_object_get(rt, key);

	if (json_is_number(v))
		printf("%c %s %.1f", sep, label, json_number_value(v));
}

static long long num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* The load client's figures against the server's counter (drill.sh --ab, --redis-benchmark) */
static void print_ab(json_t *ab)
{
	const char *tool = str(ab, "tool") ?: "ab";

	if (!json_is_object(ab))
		return;
	if (!strcmp(tool, "ab"))
		printf("  ab -k -c %lld     complete %lld of %lld  failed %lld  non-2xx %lld  ",
		       num(ab, "concurrency"), num(ab, "complete"), num(ab, "requests"),
		       num(ab, "failed"), num(ab, "non_2xx"));
	else	/* redis-benchmark counts no failures: it exits 1 on the first */
		printf("  %s -c %lld  complete %lld of %lld  ", tool, num(ab, "concurrency"),
		       num(ab, "complete"), num(ab, "requests"));
	printf("exit %lld  server's counter %lld  connections migrated %lld: %s\n",
	       num(ab, "exit_status"), num(ab, "counter"), num(ab, "migrated"),
	       json_is_true(json_object_get(ab, "passed")) ? "PASSED" : "FAILED");
}

static void print_table(json_t *o)
{
	json_t *req = json_object_get(o, "requests"), *mig = json_object_get(o, "migration");
	json_t *eo = json_object_get(o, "exactly_once"), *rt = json_object_get(o, "response_time_ms");
	json_t *gap = json_object_get(o, "max_gap_ms"), *p;
	size_t i;

	printf("\n  requests        sent %lld  answered %lld  lost %lld  answered twice %lld  out of order %lld",
	       json_integer_value(json_object_get(req, "sent")),
	       json_integer_value(json_object_get(req, "answered")),
	       json_integer_value(json_object_get(req, "lost")),
	       json_integer_value(json_object_get(req, "answered_twice")),
	       json_integer_value(json_object_get(req, "out_of_order")));
	if (json_integer_value(json_object_get(req, "quiet")))
		printf("  wanting no reply %lld",
		       json_integer_value(json_object_get(req, "quiet")));
	if (strcmp(str(req, "protocol") ?: "udp", "udp"))
		printf("  (one %s connection, %s)", str(req, "protocol"),
		       json_integer_value(json_object_get(req, "resets")) ? "RESET or closed" :
		       "never reset");
	printf("\n");
	p = json_object_get(o, "other_connections");
	if (json_is_object(p))
		print_conns("other connections",
			    json_integer_value(json_object_get(p, "connections")) - 1, "more", p);
	p = json_object_get(json_object_get(o, "site"), "late_connections");
	if (json_is_object(p))
		print_conns("late connections", json_integer_value(json_object_get(p, "connections")),
			    "opened after the checkpoint", p);
	print_ab(json_object_get(o, "ab"));
	printf("  exactly once    final counter %lld for %lld requests, %lld replies with a wrong counter: %s\n",
	       json_integer_value(json_object_get(eo, "final_counter")),
	       json_integer_value(json_object_get(eo, "requests_sent")),
	       json_integer_value(json_object_get(eo, "replies_with_wrong_counter")),
	       json_is_true(json_object_get(eo, "passed")) ? "PASSED" : "FAILED");
	printf("  migration       %s (%s mode)%s%s  replayed %lld  cursor %lld  cut at %lld\n",
	       str(mig, "state") ?: "?", str(mig, "mode") ?: "?", str(mig, "error") ? ": " : "",
	       str(mig, "error") ?: "", json_integer_value(json_object_get(mig, "replayed")),
	       json_integer_value(json_object_get(mig, "hold_seq")),
	       json_integer_value(json_object_get(mig, "cut_seq")));
	p = json_object_get(mig, "agents_exactly_once");
	if (p && !strcmp(str(p, "protocol") ?: "udp", "tcp"))
		printf("  agents' check   TCP streams: %lld of the %lld bytes both containers sent "
		       "compared the same, %lld blocks different, %lld segments not hashed; restored "
		       "caught up: %s; %s\n",
		       json_integer_value(json_object_get(p, "bytes_compared")),
		       json_integer_value(json_object_get(p, "bytes_both_sent")),
		       json_integer_value(json_object_get(p, "blocks_diverged")),
		       json_integer_value(json_object_get(p, "segments_unhashed")),
		       json_is_true(json_object_get(p, "caught_up")) ? "yes" : "NO",
		       json_is_true(json_object_get(p, "passed")) &&
		       json_is_true(json_object_get(p, "source_agrees")) ? "PASSED" : "FAILED");
	else if (p)
		printf("  agents' check   %lld replayed, %lld of %lld replies sent by both "
		       "containers, %lld second copies dropped, source delivered up to %lld: %s\n",
		       json_integer_value(json_object_get(p, "replayed")),
		       json_integer_value(json_object_get(p, "answered_by_both")),
		       json_integer_value(json_object_get(p, "replies")),
		       json_integer_value(json_object_get(p, "suppressed")),
		       json_integer_value(json_object_get(p, "source_last_seq")),
		       json_is_true(json_object_get(p, "passed")) &&
		       json_is_true(json_object_get(p, "source_agrees")) ? "PASSED" : "FAILED");
	p = json_object_get(o, "fault_landing");
	if (json_is_object(p))
		printf("  fault           struck after %s: %s%s\n", str(p, "phase_event") ?: "?",
		       json_is_true(json_object_get(p, "phase_seen")) ? "seen" : "NOT SEEN",
		       json_is_true(json_object_get(p, "migration_ended_first")) ?
		       ", the migration had ended" : "");
	p = json_object_get(o, "old_stopped_after_new");
	if (json_is_null(json_object_get(p, "passed")))
		printf("  old stopped after the new one answered: not applicable (%s)\n",
		       str(p, "reason") ?: "no cut-over");
	else
		printf("  old stopped after the new one answered: %s\n",
		       json_is_true(json_object_get(p, "passed")) ? "yes" : "NO");
	printf("  response time   mean %.1f ms", json_number_value(json_object_get(rt, "mean")));
	print_rt(rt, "before_handoff", "before handoff", ';');
	print_rt(rt, "forwarding", "forwarding", ',');
	print_rt(rt, "after_cutover", "after cut-over", ',');
	printf("\n");
	printf("  longest gap     between replies: %.1f ms during the migration, %.1f ms before (interval %.1f ms)\n",
	       json_number_value(json_object_get(gap, "during_migration")),
	       json_number_value(json_object_get(gap, "before_handoff")),
	       json_number_value(json_object_get(gap, "request_interval")));
	printf("\n  %-42s %10s\n", "phase", "ms");
	json_array_foreach(json_object_get(o, "phases"), i, p) {
		json_t *ms = json_object_get(p, "ms");

		if (json_is_number(ms))
			printf("  %-42s %10.1f\n", str(p, "phase"), json_number_value(ms));
		else
			printf("  %-42s %10s\n", str(p, "phase"), "-");
	}
	/* a drill that passes with a failed migration says the failure was the point */
	printf("\n  drill %s (migration %s, expected %s)\n",
	       json_is_true(json_object_get(o, "passed")) ? "PASSED" : "FAILED",
	       str(mig, "state") ?: "?", str(o, "expected_state") ?: "?");
}

struct report_args {
	const char		*client, *summary, *check, *site, *zdm;
	const char		*json_out, *svg;
	struct es_opt_multi	events;
	bool			json;
};

#define F(field)	ES_OPT_AT(struct report_args, field)
static const struct es_opt report_opts[] = {
	ES_OPT_STR(F(client), "client", 0, "LOG", "the client's log, one JSON line per request",
		   .required = true),
	ES_OPT_STR(F(summary), "summary", 0, "JSON", "the client's summary", .required = true),
	ES_OPT_MULTI(F(events), "events", 0, "LOG", "a node's migration events; repeatable"),
	ES_OPT_STR(F(check), "check", 0, "JSON", "the service's counter at the end"),
	ES_OPT_STR(F(site), "site", 0, "JSON", "the drill's settings and outcome"),
	ES_OPT_STR(F(zdm), "zdm", 0, "JSON", "the agent's zero-downtime migrations"),
	ES_OPT_STR(F(json_out), "json-out", 0, "FILE", "write the report as JSON"),
	ES_OPT_STR(F(svg), "svg", 0, "FILE", "plot the response times"),
	ES_OPT_BOOL(F(json), "json", 0, "print the report as JSON"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "es-drill-report",
	.opts	= report_opts,
	.usage	= "--client LOG --summary JSON [--events LOG]... [--check JSON]\n"
		  "       [--site JSON] [--zdm JSON] [--json-out FILE] [--svg FILE] [--json]",
};

int main(int argc, char **argv)
{
	struct report_args a = { };
	struct drill d = {};
	int n, n_ev;
	bool passed;
	json_t *out, *zm;

	n = es_opts_parse(&cli, argc, argv, &a);
	if (n <= 0)
		return n ? 2 : 0;
	n_ev = a.events.n < MAX_EVENT_FILES ? a.events.n : MAX_EVENT_FILES;
	if (load_client(&d, a.client))
		return 1;
	d.summary = load_json(a.summary);
	d.check = load_json(a.check);
	d.site = load_json(a.site);
	d.zdm = load_json(a.zdm);
	load_events(&d, a.events.v, n_ev);
	find_ids(&d);
	zm = json_is_array(d.zdm) ? json_array_get(d.zdm, 0) : NULL;
	out = json_pack("{s:O,s:O}", "site", d.site, "requests", d.summary);
	json_object_set_new(out, "migration", zm ? json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:O}",
		"id", json_object_get(zm, "id"), "state", json_object_get(zm, "state"),
		"mode", json_object_get(zm, "mode"), "hold_seq", json_object_get(zm, "hold_seq"),
		"cut_seq", json_object_get(zm, "cut_seq"), "held_sent", json_object_get(zm, "held_sent"),
		"replayed", json_object_get(zm, "replayed"),
		"error", json_object_get(zm, "error") ?: json_null()) :
		json_pack("{s:s}", "state", "none"));
	/* the agents' own exactly-once check, next to the client's */
	if (zm && json_object_get(zm, "exactly_once"))
		json_object_set(json_object_get(out, "migration"), "agents_exactly_once",
				json_object_get(zm, "exactly_once"));
	json_object_set_new(out, "phases", phase_table(&d));
	response_times(&d, out);
	passed = verdict(&d, out);
	json_object_set_new(out, "passed", json_boolean(passed));
	if (a.svg && plot(&d, a.svg))
		fprintf(stderr, "es-drill-report: cannot write %s\n", a.svg);
	if (a.json_out)
		json_dump_file(out, a.json_out, JSON_INDENT(1));
	if (a.json) {
		json_object_del(out, "per_request");
		json_dumpf(out, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		print_table(out);
		if (a.svg)
			printf("  plot            %s\n", a.svg);
		if (a.json_out)
			printf("  report (JSON)   %s\n", a.json_out);
	}
	return passed ? 0 : 1;
}
