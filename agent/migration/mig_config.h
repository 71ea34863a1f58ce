/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The "migration" part of edgeshiftd's configuration: where containers,
 * images and checkpoints live, who the peers are, the shared token that
 * authenticates agents to each other, the event log and every timeout.
 */
#ifndef EDGESHIFT_MIG_CONFIG_H
#define EDGESHIFT_MIG_CONFIG_H

#include <stddef.h>
#include <jansson.h>

#define ES_MIG_MAX_PEERS	32
#define ES_MIG_TOKEN_MAX	256

struct es_mig_peer {
	char	name[64];	/* node name, as given to `edgeshift migrate --to` */
	char	url[256];	/* base URL of its agent, "http://addr:port" */
};

struct es_mig_config {
	char			state_dir[256];	/* images/, containers/, migrations/, runc/ */
	char			event_log[256];	/* JSON lines; default STATE_DIR/events.log */
	char			token[ES_MIG_TOKEN_MAX];	/* empty: migration API refused */
	struct es_mig_peer	peers[ES_MIG_MAX_PEERS];
	unsigned int		n_peers;
	char			runc[128];	/* runtime binary */
	char			criu_network_lock[16];	/* "nftables" or "iptables": how CRIU keeps
						 * the container's connections still over a
						 * checkpoint or restore (criu_conf.c) */
	unsigned int		compression_level;	/* zstd, 1..19 */
	unsigned int		connect_timeout_ms;	/* TCP connect to a peer */
	unsigned int		request_timeout_ms;	/* control requests to a peer */
	unsigned int		stall_timeout_ms;	/* a transfer moving < 1 KiB/s this long fails */
	unsigned int		transfer_timeout_ms;	/* one object, end to end */
	unsigned int		checkpoint_timeout_ms;	/* runc checkpoint */
	unsigned int		restore_timeout_ms;	/* the target's restore phase (unpack, runc restore) */
	unsigned int		poll_interval_ms;	/* source asks the target for the restore's outcome */
	unsigned int		resolve_timeout_ms;	/* source retries to settle a lost outcome this long */
	unsigned int		server_timeout_ms;	/* the agent's listener drops a connection idle this long */
	unsigned int		peer_init_cwnd;	/* segments, TCP to peers; 0: the kernel's (peer_tcp.h) */
	unsigned int		peer_cwnd_clamp;	/* segments, TCP to peers; 0: unclamped */
	unsigned int		peer_rcvbuf;	/* bytes, TCP to peers; 0: autotuning */
	char			tls_cert[256];	/* PEM certificate of the listener: HTTPS when set */
	char			tls_key[256];	/* its PEM private key */
	char			tls_ca[256];	/* PEM CA bundle that https:// peers are checked against */
	char			*tls_cert_pem, *tls_key_pem;	/* their contents, read at start */
	/*
	 * pod_network (pod_net.h): containers in pod namespaces of their own,
	 * wired by the CNI plugin of pod_conf (a network configuration, read
	 * at start); NULL: they share the node's namespace.
	 */
	json_t			*pod_conf;
	char			pod_conf_path[256];
	char			cni_path[512];	/* CNI_PATH: where the plugins are */
	char			pod_ifname[16];	/* CNI_IFNAME: the pod's interface */
	unsigned int		cni_timeout_ms;	/* one plugin run */
};

void es_mig_config_defaults(struct es_mig_config *m);
/* Parse the "migration" object; 0, or -1 with err naming the field. */
int es_mig_config_parse(struct es_mig_config *m, json_t *v, char *err, size_t err_len);
/* Parse "state_dir" (top-level key). */
int es_mig_config_state_dir(struct es_mig_config *m, json_t *v, char *err, size_t err_len);
const struct es_mig_peer *es_mig_peer_find(const struct es_mig_config *m, const char *name);

#endif
