// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent context, and the one place that puts the rooms' series
 * together into /metrics: the agent's own, then accounting's, then the
 * placement signals', the Detector's and the scale advisor's.
 */
#include <stdlib.h>
#include "prom/prom_text.h"
#include "events/events.h"
#include "signals/signals.h"
#include "advisor.h"
#include "agent.h"

void es_agent_init(struct es_agent *a)
{
	es_accounting_init(&a->acct, &a->cfg.acct);
	es_pods_init(&a->pods);
	a->start_time = time(NULL);
}

static void render_agent(FILE *f, const struct es_agent *a, const char *node)
{
	es_prom_header(f, "edgeshift_build_info", "gauge",
		       "Agent version and map layout version.");
	fprintf(f, "edgeshift_build_info{node=\"%s\",version=\"%s\",layout_version=\"%d\"} 1\n",
		node, ES_VERSION, ES_MAP_LAYOUT_VERSION);
	es_prom_header(f, "edgeshift_agent_start_time_seconds", "gauge",
		       "Unix time the agent started.");
	fprintf(f, "edgeshift_agent_start_time_seconds{node=\"%s\"} %lld\n", node,
		(long long)a->start_time);
}

char *es_agent_metrics_render(struct es_agent *a, size_t *len)
{
	char node[140], *buf = NULL;
	FILE *f;

	f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	es_prom_label_escape(node, sizeof(node), a->cfg.node_name);
	render_agent(f, a, node);
	es_acct_render_metrics(f, &a->acct, node);
	es_node_signals_render_metrics(f, a->signals, node);
	es_events_render_metrics(f, a->events, node);
	es_agent_advisor_render_metrics(f, a->advisor, node);
	fclose(f);
	return buf;
}
