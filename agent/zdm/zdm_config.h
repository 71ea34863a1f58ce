/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The "zero_downtime" part of edgeshiftd's configuration: this node's
 * tunnel address, the interfaces facing the users and the other nodes, the
 * replay buffer's bounds, the policy on handoff, the services (which
 * container serves which address, on which node) and the step timeouts.
 * Absent: no migration data plane is loaded.
 */
#ifndef EDGESHIFT_ZDM_CONFIG_H
#define EDGESHIFT_ZDM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <linux/types.h>

#define ES_ZDM_MAX_IFACES	8
#define ES_ZDM_MAX_SERVICES	16

struct es_zdm_service {
	__u32		addr[4];	/* IPv4 mapped or IPv6, as es_mig_key.svc_addr */
	uint16_t	port;		/* network order */
	uint8_t		proto;		/* IPPROTO_UDP, or IPPROTO_TCP ("addr:port/tcp") */
	char		container[64];	/* the container that serves it */
	char		node[64];	/* the node it runs on at start */
};

struct es_zdm_config {
	bool			enabled;
	__u32			tunnel_addr[4];	/* this node's, as es_mig_key's addresses */
	unsigned int		tunnel_port;
	char			user_ifaces[ES_ZDM_MAX_IFACES][16];
	unsigned int		n_user;
	char			wan_ifaces[ES_ZDM_MAX_IFACES][16];
	unsigned int		n_wan;
	/*
	 * The node's side of its pods' links (migration.pod_network): their
	 * replies arrive there, forwarded, not sent by the node itself.
	 */
	char			pod_ifaces[ES_ZDM_MAX_IFACES][16];
	unsigned int		n_pod;
	unsigned int		replay_limit;	/* records past the cursor per session */
	unsigned int		records;	/* es_mig_replay entries, all sessions */
	bool			auto_migrate;	/* start a migration on a handoff event */
	bool			complete;	/* mode of automatic migrations */
	struct es_zdm_service	services[ES_ZDM_MAX_SERVICES];
	unsigned int		n_services;
	unsigned int		hold_timeout_ms;	/* old container answers all before the checkpoint */
	unsigned int		cutover_timeout_ms;	/* old container answers its last after cut-over */
	unsigned int		peer_retry_ms;		/* a peer agent that does not answer (restart) */
	unsigned int		gap_timeout_ms;		/* a tunnelled request missing at the source is
							 * asked again until given up after this */
	bool			replay_per_connection;	/* replay_order "connection": each TCP
							 * session on its own, not in arrival order */
};

void es_zdm_config_defaults(struct es_zdm_config *z);
/* Parse the "zero_downtime" object; 0, or -1 with err naming the field. */
int es_zdm_config_parse(struct es_zdm_config *z, json_t *v, char *err, size_t err_len);
struct es_mig_config;
/* The address a peer URL's host names (IPv4 mapped or IPv6) into addr: 0, or -1 (all zero). */
int es_zdm_url_addr(const char *url, __u32 *addr);
/*
 * The tunnel has one family, its address's: 0, or -1 (err naming
 * zero_downtime.tunnel_addr) when a peer's URL names an address of the
 * other family, which the tunnel could never reach.
 */
int es_zdm_config_check_peers(const struct es_zdm_config *z, const struct es_mig_config *m,
			      char *err, size_t err_len);
const struct es_zdm_service *es_zdm_service_find(const struct es_zdm_config *z, uint8_t proto,
						 const __u32 *addr, uint16_t port);

#endif
