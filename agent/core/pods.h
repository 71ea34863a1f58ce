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

#include <limits.h>
#include <stdbool.h>

struct es_accounting;
struct es_pod;

/* The records seen and the watch on their directory (main loop only). */
struct es_pods {
	int			ifd;		/* inotify, -1 when not watching */
	char			dir[PATH_MAX];
	struct es_pod		*v;
	unsigned int		n;
	struct es_accounting	*acct;		/* where pod interfaces are attached */
};

/* Not watching yet: before es_pods_open, and es_pods_close is safe. */
void es_pods_init(struct es_pods *p);
/*
 * Pins the programs, watches <cni_state_dir>/pods, attaches every record
 * through acct (which must outlive p).
 */
int es_pods_open(struct es_pods *p, struct es_accounting *acct, const char *cni_state_dir);
/* inotify descriptor to poll, -1 when not watching. */
int es_pods_fd(const struct es_pods *p);
/* Drains inotify and rescans the records. */
void es_pods_process(struct es_pods *p);
/* Rescans the records (periodic: namespaces vanish without a notice). */
void es_pods_scan(struct es_pods *p);
/* Whether ifindex is a pod interface of a record (not a host link). */
bool es_pods_owns(const struct es_pods *p, unsigned int ifindex);
void es_pods_close(struct es_pods *p);
/* Removes the pinned programs (edgeshiftd --cleanup). */
void es_pods_cleanup(const char *pin_path);

#endif
