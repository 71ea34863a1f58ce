/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * edgeshift session-test: fixed-rate sessions added one at a
 * time towards an `es-session sink`, latency probed under load at each
 * step. docs/session-test.md describes the method.
 */
#ifndef EDGESHIFT_CLI_SESSION_TEST_H
#define EDGESHIFT_CLI_SESSION_TEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <jansson.h>
#include "sesstest/session_wire.h"

enum st_stat { ST_MEAN, ST_P50, ST_P99 };

struct st_opts {
	const char	*to;
	uint16_t	port;
	double		rate_mbit;	/* per session, UDP payload */
	uint32_t	size;		/* UDP payload bytes per datagram */
	double		step_s;		/* measured time per step */
	double		settle_s;	/* after adding a session, before measuring */
	uint32_t	max_sessions;
	double		slo_us;
	enum st_stat	slo_stat;
	uint32_t	stop_after;	/* failing steps in a row that end the run; 0: never */
	double		probe_ms;	/* between probes */
	const char	*plot;		/* SVG file, or NULL */
	bool		json;
	bool		progress_json;	/* progress as JSON lines on stdout (a program reads them) */
	uint32_t	rt_priority;	/* SCHED_FIFO priority of the client; 0: as started */
	double		max_late_ms;	/* a step whose sender fell this far behind is measured again */
	uint32_t	remeasure;	/* at most this many times */
	/* Kubernetes mode */
	const char	*manifests;	/* directory, or NULL */
	const char	*k8s_namespace;
	const char	*image;
	const char	*generator;	/* "edgeshift" or "iperf3" */
};

struct st_latency {
	double		mean_us, p50_us, p99_us, min_us, max_us;
	uint64_t	probes_sent, probes_answered;
};

struct st_step {
	uint32_t		sessions;
	double			secs;		/* measured interval */
	double			offered_mbit;	/* what the sessions sent, summed */
	double			achieved_mbit;	/* what the sink received, summed */
	double			loss;		/* 1 - received / sent datagrams */
	uint64_t		send_errors;	/* datagrams the local stack refused */
	double			session_mbit[ES_SW_MAX_SESSIONS];	/* received, per session */
	double			session_min_mbit, session_max_mbit;
	struct st_latency	lat;
	bool			slo_met;
	double			client_late_us;	/* the sender's worst lateness in the window */
	uint32_t		remeasured;	/* windows thrown away for a late sender */
	bool			client_stalled;	/* still late after the last try: not the path's */
};

/* The latency probe: a thread that sends probes and times their echoes. */
struct st_probe {
	int		fd;
	uint32_t	run_id;
	uint64_t	interval_ns;
	uint32_t	window;		/* tag of the probes sent now; 0: none (atomic) */
	uint32_t	listen;		/* tag of the echoes recorded (atomic) */
	bool		stop;		/* atomic */
	pthread_t	thread;
	bool		started;
	pthread_mutex_t	lock;		/* guards the samples */
	double		*rtt_us;
	size_t		n, cap;
	uint64_t	sent;
};

int st_probe_start(struct st_probe *p, const struct sockaddr *dst, socklen_t len,
		   uint32_t run_id, double interval_ms);
/* Start sending and recording probes tagged tag (> 0). */
void st_probe_open(struct st_probe *p, uint32_t tag);
/* Stop sending probes; echoes still count until st_probe_close(). */
void st_probe_stop_sending(struct st_probe *p);
/* Stop recording and summarise the window. */
void st_probe_close(struct st_probe *p, struct st_latency *out);
void st_probe_stop(struct st_probe *p);

int st_run(const struct st_opts *o, json_t **result);
/* session_sched.c: the client at o->rt_priority; how it runs, as JSON. */
json_t *st_client_priority(const struct st_opts *o);
/*
 * session_progress.c: one progress event, fields (an object, taken) with
 * "event" set, as one JSON line on stdout, flushed; -EIO when stdout fails.
 */
int st_emit_event(const char *event, json_t *fields);
int st_emit_manifests(const struct st_opts *o);
int st_write_plot(const struct st_opts *o, json_t *result, const char *path);
double st_stat_value(const struct st_latency *l, enum st_stat s);
extern const char *const st_stat_names[3];

#endif
