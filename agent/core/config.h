/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * edgeshiftd configuration: a JSON file, then command-line flags on top.
 * Every field is validated; an error names the field and what it expects.
 */
#ifndef EDGESHIFT_AGENT_CONFIG_H
#define EDGESHIFT_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "accounting/accounting.h"
#include "advisor.h"
#include "events/events.h"
#include "migration/migration.h"
#include "signals/signals.h"
#include "zdm/zdm.h"

#define ES_CFG_MAX_IFACES	64
#define ES_CFG_NAME_MAX		64

/* Where packets arriving on an interface are counted. */
enum es_rx_hook {
	ES_RX_AUTO,	/* tcx on veth (XDP there disables GSO on the peer), XDP elsewhere */
	ES_RX_XDP,
	ES_RX_TC,
};

/* One interface rule: a name or fnmatch(3) pattern, optionally owned by a pod. */
struct es_iface_rule {
	char	match[ES_CFG_NAME_MAX];
	char	pod_namespace[ES_CFG_NAME_MAX];
	char	pod_name[256];	/* Kubernetes allows 253 */
};

struct es_config {
	char			node_name[ES_CFG_NAME_MAX];
	char			pin_path[256];
	char			listen[128];		/* "addr:port" or "[v6]:port" */
	struct es_acct_config	acct;		/* session maps, collection, metrics */
	struct es_iface_rule	ifaces[ES_CFG_MAX_IFACES];
	unsigned int		n_ifaces;
	unsigned int		gc_interval_ms;
	enum es_rx_hook		rx_hook;
	struct es_mig_config	mig;		/* containers and migration (issue 4) */
	struct es_signals_config	signals;
	char			cni_state_dir[256];	/* edgeshift-cni's pod records (agent/core/pods.c) */
	struct es_zdm_config	zdm;		/* zero-downtime migration (zdm.h) */
	struct es_events_config	events;		/* the Detector: CloudEvents (events.h) */
	struct es_advisor_config	advisor;	/* the scale advisor (advisor.h) */
};

void es_config_defaults(struct es_config *cfg);

/* Load path into cfg (over the defaults). 0, or -1 with err filled. */
int es_config_load_file(struct es_config *cfg, const char *path, char *err, size_t err_len);

/* Parse JSON text (for tests and flags); same contract as the file loader. */
int es_config_load_string(struct es_config *cfg, const char *json, char *err, size_t err_len);

/* Add an interface rule given on the command line ("name" or "name=ns/pod"). */
int es_config_add_iface(struct es_config *cfg, const char *spec, char *err, size_t err_len);

/* Cross-field checks after everything is applied. */
int es_config_validate(const struct es_config *cfg, char *err, size_t err_len);

struct sockaddr_storage;

/* Parse "a.b.c.d:port" or "[v6]:port"; 0 or -1. */
int es_config_parse_listen(const char *listen, struct sockaddr_storage *ss, int *v6);

/* Parse "auto", "xdp" or "tc"; 0 or -1. */
int es_rx_hook_parse(const char *s, enum es_rx_hook *hook);

/* Rule for ifname, or NULL when the agent should leave it alone. */
const struct es_iface_rule *es_config_match(const struct es_config *cfg, const char *ifname);

#endif /* EDGESHIFT_AGENT_CONFIG_H */
