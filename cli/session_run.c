// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session test's steps: add a session, let the queue settle, then
 * measure for the step length what the sessions offered, what the sink
 * received and the probes' round trips. The sink's counters are read with
 * a request that travels behind the sessions' datagrams through the same
 * queue, so a snapshot counts exactly what was sent before it (less what
 * the path dropped).
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "sesstest/session_pacer.h"
#include "session_test.h"
#include "tool/tool_util.h"

#define STATS_TRIES		10
#define STATS_WAIT_MS		300
#define ECHO_GRACE_NS		(100 * NSEC_PER_MSEC)

struct snapshot {
	uint64_t		t;		/* when the request left */
	uint64_t		offered_packets[ES_SW_MAX_SESSIONS];
	uint64_t		offered_bytes[ES_SW_MAX_SESSIONS];
	uint64_t		send_errors;
	struct es_sw_counter	rx[ES_SW_MAX_SESSIONS];
};

struct st_ctx {
	const struct st_opts	*o;
	struct sockaddr_storage	dst;
	socklen_t		dst_len;
	uint32_t		run_id;
	int			ctl;		/* counter requests */
	uint64_t		req_id;
	struct es_pacer		*pacer;
	struct st_probe		probe;
	struct es_tool_progress	progress;
};

static int resolve(const struct st_opts *o, struct st_ctx *c)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	char port[8];
	int err;

	snprintf(port, sizeof(port), "%u", o->port);
	err = getaddrinfo(o->to, port, &hints, &ai);
	if (err) {
		fprintf(stderr, "edgeshift session-test: --to %s: %s\n", o->to, gai_strerror(err));
		return -1;
	}
	memcpy(&c->dst, ai->ai_addr, ai->ai_addrlen);
	c->dst_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int read_reply(struct st_ctx *c, uint32_t n, struct snapshot *s)
{
	uint8_t buf[ES_SW_HDR_LEN + ES_SW_MAX_SESSIONS * 16];
	struct es_sw_hdr h;
	uint32_t i;
	ssize_t len;

	while ((len = recv(c->ctl, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		if (es_sw_decode(buf, len, &h) || h.type != ES_SW_STATS_REPLY ||
		    h.run_id != c->run_id || h.seq != c->req_id || h.session != n ||
		    (size_t)len < ES_SW_HDR_LEN + n * 16)
			continue;	/* a late answer to an earlier try */
		for (i = 0; i < n; i++) {
			s->rx[i].packets = es_sw_get64(buf + ES_SW_HDR_LEN + i * 16);
			s->rx[i].bytes = es_sw_get64(buf + ES_SW_HDR_LEN + i * 16 + 8);
		}
		return 0;
	}
	return -1;
}

/* The sink's counters of sessions 0..n-1 and ours, as of one moment. */
static int snapshot(struct st_ctx *c, uint32_t n, struct snapshot *s)
{
	uint8_t req[ES_SW_HDR_LEN];
	struct pollfd pfd = { .fd = c->ctl, .events = POLLIN };
	struct es_sw_hdr h = { .type = ES_SW_STATS, .run_id = c->run_id, .session = n };
	uint64_t deadline, errs;
	uint32_t i;
	int try;

	for (try = 0; try < STATS_TRIES; try++) {
		h.seq = ++c->req_id;
		es_sw_encode(req, &h);
		s->send_errors = 0;
		for (i = 0; i < n; i++) {
			es_pacer_counters(c->pacer, i, &s->offered_packets[i], &s->offered_bytes[i],
					  &errs);
			s->send_errors += errs;
		}
		s->t = es_now_ns();
		send(c->ctl, req, sizeof(req), 0);
		deadline = s->t + STATS_WAIT_MS * NSEC_PER_MSEC;
		while (es_now_ns() < deadline) {
			if (poll(&pfd, 1, 10) > 0 && !read_reply(c, n, s))
				return 0;
			if (es_tool_stop_signal())
				return -EINTR;
		}
	}
	fprintf(stderr, "edgeshift session-test: no answer from the sink at %s port %u "
		"(is `es-session sink` running there?)\n", c->o->to, c->o->port);
	return -ETIMEDOUT;
}

static void rates(const struct st_opts *o, const struct snapshot *a, const struct snapshot *b,
		  uint32_t n, struct st_step *st)
{
	uint64_t off_pk = 0, off_by = 0, rx_pk = 0, rx_by = 0, by;
	uint32_t i;

	st->secs = es_tool_secs(b->t - a->t);
	st->session_min_mbit = 1e18;
	st->session_max_mbit = 0;
	for (i = 0; i < n; i++) {
		off_pk += b->offered_packets[i] - a->offered_packets[i];
		off_by += b->offered_bytes[i] - a->offered_bytes[i];
		rx_pk += b->rx[i].packets - a->rx[i].packets;
		by = b->rx[i].bytes - a->rx[i].bytes;
		rx_by += by;
		st->session_mbit[i] = by * 8 / st->secs / 1e6;
		if (st->session_mbit[i] < st->session_min_mbit)
			st->session_min_mbit = st->session_mbit[i];
		if (st->session_mbit[i] > st->session_max_mbit)
			st->session_max_mbit = st->session_mbit[i];
	}
	st->sessions = n;
	st->offered_mbit = off_by * 8 / st->secs / 1e6;
	st->achieved_mbit = rx_by * 8 / st->secs / 1e6;
	st->loss = off_pk && rx_pk < off_pk ? 1 - (double)rx_pk / off_pk : 0;
	st->send_errors = b->send_errors - a->send_errors;
	(void)o;
}

static int wait_s(struct st_ctx *c, double secs, uint32_t n, const char *what)
{
	uint64_t end = es_now_ns() + secs * NSEC_PER_SEC, now;

	while ((now = es_now_ns()) < end) {
		if (es_tool_stop_signal())
			return -EINTR;
		es_tool_progress(&c->progress, "%u sessions: %s, %.1f s left", n, what,
				 es_tool_secs(end - now));
		es_tool_sleep_ns(end - now < 50 * NSEC_PER_MSEC ? end - now : 50 * NSEC_PER_MSEC);
	}
	return 0;
}

/*
 * One window: the pacer's and the sink's counters before and after, the
 * probes between, and how late the pacer ran. A pacer that fell behind
 * sends its late datagrams in a burst, so a stall of the client can show
 * as queueing and loss that belong to no path.
 */
static int measure(struct st_ctx *c, uint32_t n, struct st_step *st)
{
	struct snapshot *a = calloc(2, sizeof(*a)), *b = a + 1;
	int err;

	if (!a)
		return -ENOMEM;
	err = snapshot(c, n, a);
	if (err)
		goto out;
	if (c->o->progress_json)
		st_emit_event("measuring", json_pack("{s:i,s:f}", "sessions", (int)n,
						     "seconds", c->o->step_s));
	es_pacer_take_late(c->pacer);
	st_probe_open(&c->probe, n);
	err = wait_s(c, c->o->step_s, n, "measuring");
	st_probe_stop_sending(&c->probe);
	if (!err)
		err = snapshot(c, n, b);
	st->client_late_us = es_pacer_take_late(c->pacer) / 1e3;
	es_tool_sleep_until(b->t + ECHO_GRACE_NS);
	st_probe_close(&c->probe, &st->lat);
	if (err)
		goto out;
	rates(c->o, a, b, n, st);
	st->slo_met = st->lat.probes_answered &&
		      st_stat_value(&st->lat, c->o->slo_stat) <= c->o->slo_us;
out:
	free(a);
	return err;
}

static bool sender_late(const struct st_ctx *c, const struct st_step *st)
{
	return c->o->max_late_ms > 0 && st->client_late_us > c->o->max_late_ms * 1e3;
}

/* Add the n-th session, settle, measure; again while the sender was late. */
static int run_step(struct st_ctx *c, uint32_t n, struct st_step *st)
{
	uint32_t tries = 0;
	int err;

	err = es_pacer_add(c->pacer);
	if (err < 0)
		return err;
	if (c->o->progress_json)
		st_emit_event("session_added", json_pack("{s:i}", "sessions", (int)n));
	for (;;) {
		err = wait_s(c, c->o->settle_s, n, "settling");
		if (!err)
			err = measure(c, n, st);
		if (err || !sender_late(c, st))
			break;
		if (tries == c->o->remeasure) {
			st->client_stalled = true;
			break;
		}
		tries++;
		es_tool_progress_clear(&c->progress);
		fprintf(stderr, "session-test: %3u sessions: the client fell %.1f ms behind its "
			"schedule (over %.1f ms): measuring the step again\n", n,
			st->client_late_us / 1e3, c->o->max_late_ms);
		if (c->o->progress_json)
			st_emit_event("remeasuring", json_pack("{s:i,s:f}", "sessions", (int)n,
							       "client_late_us", st->client_late_us));
	}
	st->remeasured = tries;
	return err;
}

static json_t *step_json(const struct st_step *st)
{
	json_t *per = json_array();
	uint32_t i;

	for (i = 0; i < st->sessions; i++)
		json_array_append_new(per, json_real(st->session_mbit[i]));
	return json_pack("{s:i,s:f,s:f,s:f,s:f,s:I,s:{s:f,s:f,s:f,s:f,s:f,s:I,s:I},s:f,s:f,s:o,"
			 "s:b,s:f,s:i,s:b}",
			 "sessions", (int)st->sessions, "seconds", st->secs,
			 "offered_mbit", st->offered_mbit, "achieved_mbit", st->achieved_mbit,
			 "loss", st->loss, "send_errors", (json_int_t)st->send_errors,
			 "latency_us", "mean", st->lat.mean_us, "p50", st->lat.p50_us,
			 "p99", st->lat.p99_us, "min", st->lat.min_us, "max", st->lat.max_us,
			 "probes_sent", (json_int_t)st->lat.probes_sent,
			 "probes_answered", (json_int_t)st->lat.probes_answered,
			 "session_min_mbit", st->session_min_mbit,
			 "session_max_mbit", st->session_max_mbit, "session_mbit", per,
			 "slo_met", st->slo_met, "client_late_us", st->client_late_us,
			 "remeasured", (int)st->remeasured, "client_stalled", st->client_stalled);
}

/* A line per step on stderr; with --progress-json the step's JSON line says it. */
static void report_step(struct st_ctx *c, const struct st_step *st)
{
	if (c->o->progress_json)
		return;
	es_tool_progress_clear(&c->progress);
	fprintf(stderr, "session-test: %3u sessions  offered %7.2f  achieved %7.2f Mbit/s  "
		"loss %5.2f%%  latency mean %8.1f p50 %8.1f p99 %8.1f us  %s%s\n", st->sessions,
		st->offered_mbit, st->achieved_mbit, st->loss * 100, st->lat.mean_us,
		st->lat.p50_us, st->lat.p99_us, st->slo_met ? "meets the SLO" : "MISSES the SLO",
		st->client_stalled ? "  (client stalled: not the path's)" : "");
}

/*
 * The knee is the largest session count whose step met the SLO, even past
 * a missed step: on a shared machine one step can miss by a stall of the
 * sink, while past the real knee the queue stays full and no step meets it.
 */
static int run_steps(struct st_ctx *c, json_t *steps, uint32_t *knee, uint32_t *first_miss,
		     const char **why)
{
	struct st_step *st = malloc(sizeof(*st));
	uint32_t n, fails = 0;
	int err = 0;

	if (!st)
		return -ENOMEM;
	*why = "max_sessions";
	for (n = 1; n <= c->o->max_sessions; n++) {
		memset(st, 0, sizeof(*st));
		err = run_step(c, n, st);
		if (err)
			break;
		report_step(c, st);
		json_array_append_new(steps, step_json(st));
		if (c->o->progress_json)
			st_emit_event("step", json_pack("{s:O}", "step", json_array_get(steps, n - 1)));
		if (st->client_stalled)
			continue;	/* says nothing of the path either way */
		if (st->slo_met)
			*knee = n;
		else if (!*first_miss)
			*first_miss = n;
		fails = st->slo_met ? 0 : fails + 1;
		if (c->o->stop_after && fails >= c->o->stop_after) {
			*why = "slo_missed";
			break;
		}
	}
	if (err == -EINTR)
		*why = "signal", err = 0;
	free(st);
	return err;
}

static json_t *run_json(const struct st_opts *o, json_t *steps, uint32_t knee,
			uint32_t first_miss, const char *why)
{
	return json_pack("{s:s,s:i,s:f,s:i,s:f,s:f,s:f,s:s,s:i,s:o,s:i,s:f,s:o,s:s}",
			 "destination", o->to, "port", o->port, "rate_mbit", o->rate_mbit,
			 "size", (int)o->size, "step_s", o->step_s, "settle_s", o->settle_s,
			 "slo_us", o->slo_us, "slo_stat", st_stat_names[o->slo_stat],
			 "max_sessions", (int)o->max_sessions, "steps", steps,
			 "max_sessions_meeting_slo", (int)knee,
			 "max_mbit_meeting_slo", knee * o->rate_mbit,
			 "first_session_count_missing_slo",
			 first_miss ? json_integer(first_miss) : json_null(), "stop_reason", why);
}

int st_run(const struct st_opts *o, json_t **result)
{
	struct st_ctx c = { .o = o, .ctl = -1 };
	struct snapshot *probe_snap = NULL;
	json_t *steps = json_array(), *prio = NULL;
	const char *why = "";
	uint32_t knee = 0, first_miss = 0;
	int err = -EINVAL;

	c.pacer = calloc(1, sizeof(*c.pacer));
	c.probe.fd = -1;
	if (!c.pacer || resolve(o, &c))
		goto out;
	es_tool_progress_init(&c.progress, "session-test");
	c.run_id = (uint32_t)(es_now_ns() ^ ((uint64_t)getpid() << 16)) | 1;
	c.ctl = socket(c.dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c.ctl < 0 || connect(c.ctl, (struct sockaddr *)&c.dst, c.dst_len)) {
		err = -errno;
		fprintf(stderr, "edgeshift session-test: %s: %s\n", o->to, strerror(errno));
		goto out;
	}
	prio = st_client_priority(o);	/* before the pacer's and probe's threads */
	err = es_pacer_init(c.pacer, (struct sockaddr *)&c.dst, c.dst_len, c.run_id,
			    o->rate_mbit * 1e6, o->size);
	probe_snap = calloc(1, sizeof(*probe_snap));
	/* Is a sink there at all? Ask before sending anything. */
	if (!err && probe_snap)
		err = snapshot(&c, 0, probe_snap);
	if (!err)
		err = es_pacer_start(c.pacer);
	if (!err)
		err = st_probe_start(&c.probe, (struct sockaddr *)&c.dst, c.dst_len, c.run_id,
				     o->probe_ms);
	if (!err)
		err = run_steps(&c, steps, &knee, &first_miss, &why);
	es_tool_progress_clear(&c.progress);
	if (!err) {
		*result = run_json(o, json_incref(steps), knee, first_miss, why);
		json_object_set(*result, "client_scheduling", prio);
	}
out:
	if (c.pacer)
		es_pacer_stop(c.pacer);
	st_probe_stop(&c.probe);
	if (c.ctl >= 0)
		close(c.ctl);
	free(c.pacer);
	free(probe_snap);
	json_decref(prio);
	json_decref(steps);
	return err;
}
