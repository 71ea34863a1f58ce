/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * State of one edgeshiftd process: one instance, built by main() and
 * handed down. The main loop (netlink, pod records, close events,
 * collection) and the HTTP thread (metrics, API) share it; acct.lock
 * guards what of accounting they both touch.
 */
#ifndef EDGESHIFT_AGENT_H
#define EDGESHIFT_AGENT_H

#include <stdio.h>
#include <time.h>
#include "accounting/accounting.h"
#include "config.h"
#include "pods.h"

#define ES_VERSION	"0.1.0"

struct es_migrator;
struct es_zdm;
struct es_node_signals;
struct es_events;
struct es_agent_advisor;

struct es_agent {
	struct es_config	cfg;
	struct es_accounting	acct;		/* datapath, sessions, snapshot */
	struct es_pods		pods;		/* edgeshift-cni's pod interfaces */
	time_t			start_time;
	struct es_migrator	*mig;		/* containers and migrations (migration.h) */
	struct es_zdm		*zdm;		/* zero-downtime migrations (zdm.h) */
	struct es_node_signals	*signals;	/* placement signals (signals.h) */
	struct es_events	*events;	/* the Detector, NULL when off (events.h) */
	struct es_agent_advisor	*advisor;	/* the scale advisor, NULL when off (advisor.h) */
};

/* Once cfg is final: the rooms get their parts of it. */
void es_agent_init(struct es_agent *a);

/*
 * The Detector (detector.c): opens the events room when a sink is known
 * and taps the collector's sessions and the migration event log. 0, or
 * -errno with err filled. Before the main loop and the HTTP thread start.
 */
int es_agent_detector_start(struct es_agent *a, char *err, size_t len);
/* Once per collection: utilisation crossings. */
void es_agent_detector_sample(struct es_agent *a);
void es_agent_detector_stop(struct es_agent *a);

/* The Prometheus text exposition of /metrics; malloc'd, *len set. */
char *es_agent_metrics_render(struct es_agent *a, size_t *len);

#endif /* EDGESHIFT_AGENT_H */
