// SPDX-License-Identifier: GPL-2.0-only
/*
 * STATUS (ready to ADD?) and GC (drop attachments the runtime no longer
 * knows), both from CNI 1.1.0.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "netns.h"
#include "state.h"
#include "ipam_exec.h"
#include "ipam_http.h"
#include "ipam.h"
#include "devpool.h"
#include "commands.h"

static int needs_1_1(struct cni_ctx *c, const char *cmd)
{
	if (c->conf.vnum >= 10100)
		return 0;
	return cni_fail(&c->err, CNI_ERR_INCOMPATIBLE_VERSION,
			"cniVersion: %s needs 1.1.0, the config has %s", cmd, c->conf.version);
}

static int delegate_ready(struct cni_ctx *c, struct cni_delegate *d)
{
	const char *f = d->field[0] ? "." : "";
	char bin[PATH_MAX];
	struct nl_link l;

	c->d = d;
	if (d->kind == CNI_KIND_MACVLAN && d->master[0] && nl_link_get(&c->nl, 0, d->master, &l))
		return cni_fail(&c->err, CNI_ERR_NOT_AVAILABLE, "%s%smaster: %s does not exist",
				d->field, f, d->master);
	if (d->n_pool && !devpool_available(c))
		return cni_fail(&c->err, CNI_ERR_NOT_AVAILABLE,
				"%s%sdevices: every device of delegate \"%s\" is in use or absent",
				d->field, f, d->name);
	if (!d->ipam)
		return 0;
	if (!ipam_http_handles(d->ipam) &&
	    ipam_exec_find(json_string_value(json_object_get(d->ipam, "type")), c->env.path, bin,
			   sizeof(bin), &c->err))
		return c->err.code = CNI_ERR_NOT_AVAILABLE, -1;
	if (cni_ipam_status(c)) {
		if (c->err.code != CNI_ERR_NOT_AVAILABLE_LIMITED)
			c->err.code = CNI_ERR_NOT_AVAILABLE;
		return -1;
	}
	return 0;
}

int cmd_status(struct cni_ctx *c)
{
	unsigned int i;

	if (needs_1_1(c, "STATUS"))
		return -1;
	for (i = 0; i < c->conf.n_del; i++)
		if (delegate_ready(c, &c->conf.del[i]))
			return -1;
	return 0;
}

static int still_valid(const json_t *valid, const char *cid, const char *ifname)
{
	json_t *a;
	size_t i;

	json_array_foreach(valid, i, a)
		if (!strcmp(json_string_value(json_object_get(a, "containerID")) ?: "", cid) &&
		    !strcmp(json_string_value(json_object_get(a, "ifname")) ?: "", ifname))
			return 1;
	return 0;
}

/* Runs DEL for one stale record; the context is reused, so restore it. */
static int collect(struct cni_ctx *c, json_t *rec)
{
	struct cni_env saved = c->env;
	int ret;

	c->env.container_id = json_string_value(json_object_get(rec, "containerID"));
	c->env.ifname = json_string_value(json_object_get(rec, "ifname"));
	c->env.netns = json_string_value(json_object_get(rec, "netns")) ?: "";
	c->att = rec;
	c->pod_ns = c->env.netns[0] ? netns_open(c->env.netns) : -1;
	if (c->pod_ns < 0)
		c->pod_ns = -1;
	ret = cni_del_attachment(c);
	if (c->pod_ns >= 0)
		close(c->pod_ns);
	c->pod_ns = -1;
	c->att = NULL;
	c->env = saved;
	return ret;
}

/*
 * The list the runtime still knows. Absent is refused: reading it as
 * "none is valid" would tear down every pod of the network. null is what
 * a runtime marshals for an empty list.
 */
static int valid_list(struct cni_ctx *c, json_t **valid)
{
	json_t *v = json_object_get(c->conf.root, "cni.dev/valid-attachments"), *a;
	size_t i;

	*valid = v;
	if (!v)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
				"cni.dev/valid-attachments: is required for GC");
	if (json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
				"cni.dev/valid-attachments: must be an array");
	json_array_foreach(v, i, a)
		if (!json_is_string(json_object_get(a, "containerID")) ||
		    !json_is_string(json_object_get(a, "ifname")))
			return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
					"cni.dev/valid-attachments[%zu]: want containerID and ifname strings",
					i);
	return 0;
}

/* Spec section 4: GC goes on to every delegated plugin; errors are collected. */
static int gc_delegates(struct cni_ctx *c)
{
	struct cni_error first = {};
	unsigned int i;
	int ret = 0;

	for (i = 0; i < c->conf.n_del; i++) {
		c->d = &c->conf.del[i];
		if (cni_ipam_gc(c)) {
			if (!ret)
				first = c->err;
			ret = -1;
		}
	}
	if (ret)
		c->err = first;
	return ret;
}

/* NAME.json, the records' names */
static bool is_record(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".json");
}

int cmd_gc(struct cni_ctx *c)
{
	char dir[PATH_MAX * 2], path[PATH_MAX * 3];
	struct cni_error first = {};
	json_t *valid, *rec;
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (needs_1_1(c, "GC") || valid_list(c, &valid))
		return -1;
	snprintf(dir, sizeof(dir), "%s/attachments/%s", c->conf.state_dir, c->conf.name);
	d = opendir(dir);
	/* no directory: nothing was ever attached; any other error hides what was */
	if (!d && errno != ENOENT)
		return cni_fail(&c->err, CNI_ERR_IO, "GC: cannot list %s: %s", dir,
				strerror(errno));
	if (!d)
		return gc_delegates(c);
	while ((de = readdir(d))) {
		/* a record, not a write in progress (state_write's NAME.json.PID.tmp) */
		if (de->d_name[0] == '.' || !is_record(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rec = state_read(path);
		/* one a DEL took meanwhile is gone, not unreadable */
		if (!rec && !access(path, F_OK) && !ret) {
			cni_fail(&c->err, CNI_ERR_IO, "GC: cannot read the attachment record %s",
				 path);
			first = c->err;	/* what it held is not collected: say so */
			ret = -1;
		}
		if (!json_is_string(json_object_get(rec, "containerID")) ||
		    !json_is_string(json_object_get(rec, "ifname")) ||
		    still_valid(valid, json_string_value(json_object_get(rec, "containerID")),
				json_string_value(json_object_get(rec, "ifname")))) {
			json_decref(rec);
			continue;
		}
		if (collect(c, rec) && !ret) {
			first = c->err;	/* keep going; report the first failure */
			ret = -1;
		}
		json_decref(rec);
	}
	closedir(d);
	if (gc_delegates(c) && !ret) {
		first = c->err;
		ret = -1;
	}
	if (ret)
		c->err = first;
	return ret;
}
