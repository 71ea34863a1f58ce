/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Control of the migration data plane (bpf/migration.bpf.c) for the
 * agent's migration state machine, the tools and the tests: loading,
 * attaching and the handles on the pins. Everything lives in pins under
 * one directory, so any process (a restarted agent) picks up where another
 * left off. The protocol, and the order of the calls of migctl/ctl.h and
 * replay/replay.h, is in docs/migration.md.
 *
 * Functions return 0 or -errno unless said otherwise; a message for the
 * operator goes to err when it is given.
 */
#ifndef EDGESHIFT_MIGCTL_LOAD_H
#define EDGESHIFT_MIGCTL_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <edgeshift/migration.h>

struct migration;

/* Handles on the pinned migration objects. */
struct es_mig_dp {
	int	ctl_fd;		/* es_mig_ctl (syscall program) */
	int	sessions_fd;	/* es_mig_sessions */
	int	replay_fd;	/* es_mig_replay */
	int	services_fd;	/* es_mig_services */
	int	remote_fd;	/* es_mig_remote */
	int	config_fd;	/* es_mig_config */
	int	events_fd;	/* es_mig_events */
	int	held_fd;	/* es_mig_held (source side) */
	int	sent_fd;	/* es_mig_sent (source side) */
	int	rseen_fd;	/* es_mig_rseen (target side) */
	int	tcpblk_fd;	/* es_mig_tcpblk (target side, TCP) */
	int	xlate_fd;	/* es_mig_xlate (target side, TCP) */
	int	rclaim_fd;	/* es_mig_rclaim (target side, UDP) */
	char	pin_path[256];
	/*
	 * The network namespace of the local container the operations on
	 * this handle reach (its sockets read, packets replayed into it):
	 * an open fd of a pod's namespace (net/netns.h), ES_NETNS_OWN (the
	 * default) for one sharing the caller's. Not closed with the handle:
	 * a migration sets it on a copy of the node's handle.
	 */
	int	ct_netns;
};

/* Where the migration programs attach. */
enum es_mig_hook {
	ES_MIG_HOOK_USER = 0,	/* XDP es_mig_xdp_ingress: interface facing the users (target) */
	ES_MIG_HOOK_WAN = 1,	/* XDP es_mig_xdp_wan: interface facing the other nodes */
	ES_MIG_HOOK_CTR = 2,	/* tcx ingress es_mig_tc_ctr: a container's host-side interface */
	ES_MIG_HOOK_USER_TC = 3,	/* tcx ingress es_mig_tc_ingress: users' interface on a veth */
	ES_MIG_HOOK_EGRESS = 4,	/* tcx egress es_mig_tc_egress: users' interface, containers in
				 * the node's network namespace */
	ES_MIG_HOOK_MAX = 5,
};

struct es_mig_load_opts {
	unsigned int	sessions;	/* es_mig_sessions / es_mig_remote entries, 0: default */
	unsigned int	records;	/* es_mig_replay entries (all sessions), 0: default */
	bool		rebuilt;	/* out: pinned maps of another layout were replaced
					 * (es_mig_pins_upgrade) */
	unsigned int	rebuilt_from;	/* out: their layout (0: none written) */
};

/*
 * Load the object, reusing the maps pinned under pin_path (accounting maps
 * included) and pinning the rest, and pin the programs (prog_<name>) so
 * es_mig_attach and es_mig_dp_open work from any process. Migration maps
 * of another layout are replaced first, or the load refused, as
 * es_mig_pins_upgrade says. *skel stays loaded for the caller; free it
 * with es_mig_unload.
 */
int es_mig_load(const char *pin_path, struct es_mig_load_opts *opts,
		struct migration **skel, char *err, size_t err_len);
void es_mig_unload(struct migration *skel);

/* Attach a pinned program to an interface and pin the link (links/mig_<hook>_<ifindex>). */
const char *es_mig_hook_name(enum es_mig_hook hook);	/* user, wan, ctr, usertc, egress */
int es_mig_attach(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex,
		  char *err, size_t err_len);
int es_mig_detach(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex);
/*
 * The link pinned for hook on ifindex (an earlier agent's) swapped to the
 * program now pinned for it, in place: 0, -ENOENT when there is no such
 * link, or -errno.
 */
int es_mig_link_update(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex);


/* Open the pinned maps and control program; es_mig_dp_close releases them. */
int es_mig_dp_open(struct es_mig_dp *dp, const char *pin_path, char *err, size_t err_len);
void es_mig_dp_close(struct es_mig_dp *dp);

/* The handles of a loaded, unpinned object (tests, benchmarks); owned by skel. */
void es_mig_dp_from_skel(struct es_mig_dp *dp, struct migration *skel);

/* Remove the migration pins (programs, maps, links), not the accounting ones. */
int es_mig_cleanup_pins(const char *pin_path);

#endif /* EDGESHIFT_MIGCTL_LOAD_H */
