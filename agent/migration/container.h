/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Containers of one node, run by runc: an image layer (read-only, shared,
 * STATE/images/DIGEST/rootfs) under a per-container writable layer, joined
 * by overlayfs at STATE/containers/NAME/rootfs, in the agent's own network
 * namespace (the emulated node's): a container keeps its ports and, being
 * restored under the same spec on another node, its network identity
 * there. Each agent has its own runc root (STATE/runc), so two agents on
 * one host never see each other's containers.
 *
 * A spec (JSON, as POSTed to /v1/containers and carried by a migration):
 *   name             [A-Za-z0-9][A-Za-z0-9_.-]*
 *   image            sha256 digest of an image under STATE/images
 *   args             command line inside the container (array of strings)
 *   env              optional array of "K=V"
 *   tcp_established  checkpoint and restore established TCP connections
 *   service_ip       optional IPv4 address the node holds while the container
 *                    runs there (service_ip.h): it moves with the container
 */
#ifndef EDGESHIFT_CONTAINER_H
#define EDGESHIFT_CONTAINER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "mig_config.h"

struct es_runtime {
	const struct es_mig_config	*cfg;
	char				node[64];
	pthread_mutex_t			lock;	/* serialises create, restore, destroy */
	/*
	 * Optional, set once at start: called before a pause (a checkpoint) to
	 * quiesce the container's traffic (an error refuses the pause), just
	 * before the resume while it is still frozen (what it sent before the
	 * freeze is all it sent), and after the resume, or a failed pause, to
	 * let its traffic flow again.
	 */
	int				(*before_pause)(void *arg, const char *name,
							char *err, size_t err_len);
	void				(*before_resume)(void *arg, const char *name);
	void				(*after_resume)(void *arg, const char *name);
	void				*quiesce_arg;
};

/*
 * ES_CT_RESTORING marks a container being restored (removed at the next
 * start if the agent dies first); ES_CT_ORIGIN holds the id of the
 * migration that brought it, so a source can ask for it by that id.
 */
enum es_ct_dir { ES_CT_DIR, ES_CT_UPPER, ES_CT_WORK, ES_CT_ROOTFS, ES_CT_SPEC, ES_CT_RESTORING,
		 ES_CT_ORIGIN };

int es_runtime_init(struct es_runtime *rt, const struct es_mig_config *cfg, const char *node);
/* Remove what a crash left half-made: containers marked restoring, staging. */
void es_runtime_recover(struct es_runtime *rt);

/*
 * The node's network namespace, bind-mounted at STATE/netns (node_netns.c):
 * the path every container's config names, so it outlives the agent that
 * started the container. hold adopts a mount of this namespace or makes
 * it; release (edgeshiftd --cleanup) removes it.
 */
void es_node_netns_path(const char *state_dir, char *buf, size_t len);
int es_node_netns_hold(const struct es_runtime *rt, char *path, size_t len, char *err,
		       size_t err_len);
int es_node_netns_release(const char *state_dir);

/* Path of a container's part; name must have passed es_safe_name. */
void es_ct_path(const struct es_runtime *rt, const char *name, enum es_ct_dir what,
		char *buf, size_t len);
void es_image_rootfs(const struct es_runtime *rt, const char *digest, char *buf, size_t len);
bool es_image_present(const struct es_runtime *rt, const char *digest);
bool es_container_exists(const struct es_runtime *rt, const char *name);

/* Check a spec; 0 or -1 with err naming the field. */
int es_spec_validate(json_t *spec, char *err, size_t err_len);

/* es_container_bundle's flags */
#define ES_CT_BUNDLE_RESTORE	1U	/* the writable layer is already in place (a restore) */
#define ES_CT_BUNDLE_POD_READY	2U	/* the pod's namespace is wired already (in_pod.c) */

/* Make the bundle (directories, overlay mount, network namespace, config.json) of spec. */
int es_container_bundle(struct es_runtime *rt, json_t *spec, unsigned int flags, char *err,
			size_t err_len);
/* Create and start spec; -EEXIST when the name is taken. */
int es_container_run(struct es_runtime *rt, json_t *spec, char *err, size_t err_len);
/* runc restore of an existing bundle from a CRIU image directory. */
int es_container_restore(struct es_runtime *rt, const char *name, const char *image_dir,
			 char *err, size_t err_len);
/* runc checkpoint --leave-running into image_dir. */
int es_container_checkpoint(struct es_runtime *rt, const char *name, const char *image_dir,
			    char *err, size_t err_len);
int es_container_pause(struct es_runtime *rt, const char *name, char *err, size_t err_len);
int es_container_resume(struct es_runtime *rt, const char *name, char *err, size_t err_len);
/*
 * What an agent killed inside a checkpoint left behind: resume name when
 * it is paused. 1 resumed, 0 it was not paused, -errno with err.
 */
int es_container_resume_if_paused(struct es_runtime *rt, const char *name, char *err,
				  size_t err_len);
/* Kill, delete, unmount and remove; ok when parts are already gone. */
int es_container_destroy(struct es_runtime *rt, const char *name);
/* {name, status (runc's: running, paused, stopped) or "absent", pid, spec}. */
json_t *es_container_state(struct es_runtime *rt, const char *name);
json_t *es_container_list(struct es_runtime *rt);
/* The stored spec of a container (new reference) or NULL. */
json_t *es_container_spec(const struct es_runtime *rt, const char *name);

#endif
