/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pod interfaces made by edgeshift-cni (docs/cni.md). The plugin leaves one
 * record per pod interface in <cni_state_dir>/pods/; the agent attaches the
 * accounting programs inside the pod's namespace, names the interface after
 * the pod, and forgets records whose namespace is gone. It also pins its
 * tcx programs under <pin_path>/progs/ so the plugin can attach them itself
 * at ADD time, before the agent hears of the pod.
 */
#ifndef EDGESHIFT_AGENT_PODS_H
#define EDGESHIFT_AGENT_PODS_H

#include <stdbool.h>

struct es_agent;

/* Pins the programs, watches the record directory, attaches every record. */
int es_pods_open(struct es_agent *a);
/* inotify descriptor to poll, -1 when not watching. */
int es_pods_fd(void);
/* Drains inotify and rescans the records. */
void es_pods_process(struct es_agent *a);
/* Rescans the records (periodic: namespaces vanish without a notice). */
void es_pods_scan(struct es_agent *a);
/* Whether ifindex is a pod interface of a record (not a host link). */
bool es_pods_owns(unsigned int ifindex);
void es_pods_close(void);
/* Removes the pinned programs (edgeshiftd --cleanup). */
void es_pods_cleanup(const char *pin_path);

#endif
