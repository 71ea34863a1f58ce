/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pod network namespaces (migration.pod_network, docs/migration.md "Pod
 * networks"): with it set, each container runs in a network namespace of
 * its own, wired by a CNI plugin as a kubelet's runtime does: ADD before
 * the container is started or restored, DEL after it is removed. The
 * namespace is bind-mounted at STATE/pods/NAME/netns, the plugin's result
 * kept next to it (cni.json): DEL's prevResult, and the addresses that tell
 * which pod a session's service address belongs to.
 *
 * A pod's own namespace keeps CRIU's network lock (dump, restore) off the
 * agent and the node's other containers, and its sockets apart from the
 * node's: the migration reads and replays into them there (net/netns.h).
 */
#ifndef EDGESHIFT_POD_NET_H
#define EDGESHIFT_POD_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <linux/types.h>
#include "mig_config.h"

/* The pod namespace's path of container name (whether it exists or not). */
void es_pod_netns_path(const struct es_mig_config *cfg, const char *name, char *buf, size_t len);

/*
 * Make name's namespace (loopback up) and run the plugin's ADD in it, the
 * spec's "ips" asked through the CNI "ips" capability. What a failed ADD
 * made is deleted again (DEL, then the namespace). 0, or -errno with err
 * (the plugin's own message and code when it gave one).
 */
int es_pod_net_add(const struct es_mig_config *cfg, const char *name, json_t *spec, char *err,
		   size_t err_len);

/*
 * DEL, then the namespace and its record go; a missing part is fine.
 * 0, or the plugin's failure (logged; the namespace goes all the same).
 */
int es_pod_net_del(const struct es_mig_config *cfg, const char *name);

/*
 * An open descriptor of the namespace of the local pod holding address
 * addr (as es_mig_key holds it: IPv4 mapped) per its CNI result, ES_NETNS_OWN when no pod does
 * (a container in the node's namespace), or -errno.
 */
int es_pod_netns_open_by_addr(const struct es_mig_config *cfg, const __u32 *addr);

/* Does spec's "ips" hold only CIDR addresses (at most 8)? 0, or -1 with err naming it. */
int es_pod_ips_validate(json_t *ips, char *err, size_t err_len);

#endif
