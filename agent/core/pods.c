// SPDX-License-Identifier: GPL-2.0-only
/* Pod interfaces from edgeshift-cni's records, attached inside their netns. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include "bpf/accounting_skel.h"
#include "util/fs_util.h"
#include "util/log.h"
#include "accounting/accounting.h"
#include "config.h"
#include "pods.h"

#define NSFS_MAGIC_NUM	0x6e736673
#define MAX_PODS	4096

struct es_pod {
	char		file[NAME_MAX + 1];
	unsigned int	ifindex;
	bool		attached;
	bool		seen;		/* present in the latest scan */
};

static void pin_progs(const struct es_datapath *dp)
{
	struct bpf_program *progs[2] = { dp->skel->progs.es_tc_ingress,
					  dp->skel->progs.es_tc_egress };
	char path[PATH_MAX];
	int i;

	snprintf(path, sizeof(path), "%s/progs", dp->pin_path);
	mkdir(path, 0700);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/progs/%s", dp->pin_path,
			 bpf_program__name(progs[i]));
		unlink(path);
		if (bpf_program__pin(progs[i], path))
			es_warn("prog_pin_failed", "path=%s", path);
	}
}

void es_pods_cleanup(const char *pin_path)
{
	static const char *const names[] = { "es_tc_ingress", "es_tc_egress" };
	char path[PATH_MAX];
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/progs/%s", pin_path, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/progs", pin_path);
	rmdir(path);
}

static struct es_pod *pod_get(struct es_pods *pods, const char *file, bool create)
{
	unsigned int i;
	struct es_pod *p;

	for (i = 0; i < pods->n; i++)
		if (!strcmp(pods->v[i].file, file))
			return &pods->v[i];
	if (!create || pods->n >= MAX_PODS)
		return NULL;
	p = realloc(pods->v, (pods->n + 1) * sizeof(*p));
	if (!p)
		return NULL;
	pods->v = p;
	p = &pods->v[pods->n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->file, sizeof(p->file), "%s", file);
	return p;
}

bool es_pods_owns(const struct es_pods *pods, unsigned int ifindex)
{
	unsigned int i;

	for (i = 0; i < pods->n; i++)
		if (pods->v[i].attached && pods->v[i].ifindex == ifindex)
			return true;
	return false;
}

static int open_netns(const char *path)
{
	struct statfs st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && (fstatfs(fd, &st) || st.f_type != NSFS_MAGIC_NUM)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* tcx on every pod interface: macvlan has no native XDP, generic XDP linearizes every skb. */
static int attach_in(struct es_accounting *acct, int ns, unsigned int ifindex,
		     const char *ifname, const struct es_iface_owner *owner)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), ret;

	if (self < 0)
		return -errno;
	if (setns(ns, CLONE_NEWNET)) {
		ret = -errno;
		close(self);
		return ret;
	}
	pthread_mutex_lock(&acct->lock);
	ret = es_datapath_attach(&acct->dp, ifindex, ifname, owner, false);
	pthread_mutex_unlock(&acct->lock);
	if (setns(self, CLONE_NEWNET))
		es_error("setns_back_failed", "error=\"%s\"", strerror(errno));
	close(self);
	return ret;
}

/* The plugin attached and pinned the links already: keep them. */
static int adopt_links(struct es_accounting *acct, unsigned int ifindex, const char *ifname,
		       const struct es_iface_owner *owner)
{
	int ret;

	pthread_mutex_lock(&acct->lock);
	ret = es_datapath_adopt_pod(&acct->dp, ifindex, ifname, owner);
	pthread_mutex_unlock(&acct->lock);
	return ret;
}

static void forget(struct es_pods *pods, struct es_pod *p, const char *why)
{
	struct es_accounting *acct = pods->acct;

	if (p->attached) {
		pthread_mutex_lock(&acct->lock);
		es_datapath_detach(&acct->dp, p->ifindex, true);
		pthread_mutex_unlock(&acct->lock);
		es_info("pod_iface_forgotten", "record=%s ifindex=%u reason=%s", p->file, p->ifindex,
			why);
	}
	*p = pods->v[--pods->n];
}

static void adopt_record(struct es_pods *pods, const char *file)
{
	struct es_iface_rule rule = {};
	struct es_iface_owner owner = { rule.pod_namespace, rule.pod_name, NULL };
	char path[PATH_MAX * 2], ifname[IF_NAMESIZE];
	const char *ns_path, *name;
	struct es_pod *p;
	json_t *rec;
	int ns;

	snprintf(path, sizeof(path), "%s/%s", pods->dir, file);
	rec = json_load_file(path, 0, NULL);
	ns_path = json_string_value(json_object_get(rec, "netns"));
	name = json_string_value(json_object_get(rec, "ifname"));
	p = rec && ns_path && name ? pod_get(pods, file, true) : NULL;
	if (!p)
		goto out;
	p->seen = true;
	owner.netns = ns_path;
	ns = open_netns(ns_path);
	if (ns < 0) {
		unlink(path);
		forget(pods, p, "netns_gone");
		goto out;
	}
	if (!p->attached) {
		p->ifindex = json_integer_value(json_object_get(rec, "ifindex"));
		snprintf(rule.pod_namespace, sizeof(rule.pod_namespace), "%s",
			 json_string_value(json_object_get(rec, "podNamespace")) ?: "");
		snprintf(rule.pod_name, sizeof(rule.pod_name), "%s",
			 json_string_value(json_object_get(rec, "podName")) ?: "");
		snprintf(ifname, sizeof(ifname), "%s", name);
		/* the maps are keyed by ifindex: a host link with the same one would share counters */
		if (if_indextoname(p->ifindex, path))
			es_warn("pod_ifindex_collision", "record=%s ifindex=%u host_iface=%s",
				file, p->ifindex, path);
		else
			p->attached = (json_is_true(json_object_get(rec, "attached")) &&
				       !adopt_links(pods->acct, p->ifindex, ifname, &owner)) ||
				      !attach_in(pods->acct, ns, p->ifindex, ifname, &owner);
	}
	close(ns);
out:
	json_decref(rec);
}

static bool is_record(const char *name)
{
	size_t l = strlen(name);

	return name[0] != '.' && l > 5 && !strcmp(name + l - 5, ".json");
}

void es_pods_scan(struct es_pods *pods)
{
	struct dirent *de;
	struct es_pod *p;
	unsigned int i;
	DIR *dir;

	if (pods->ifd < 0)
		return;
	for (i = 0; i < pods->n; i++)
		pods->v[i].seen = false;
	dir = opendir(pods->dir);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (is_record(de->d_name) && (p = pod_get(pods, de->d_name, false)))
			p->seen = true;
	}
	/*
	 * Removed records first: a pooled ifindex may already belong to a new
	 * record, whose interface must not lose what is adopted for it next.
	 */
	i = 0;
	while (i < pods->n) {
		if (pods->v[i].seen)
			i++;
		else
			forget(pods, &pods->v[i], "record_removed");
	}
	rewinddir(dir);
	while ((de = readdir(dir))) {
		if (is_record(de->d_name))
			adopt_record(pods, de->d_name);
	}
	closedir(dir);
}

void es_pods_init(struct es_pods *pods)
{
	memset(pods, 0, sizeof(*pods));
	pods->ifd = -1;
}

int es_pods_open(struct es_pods *pods, struct es_accounting *acct, const char *cni_state_dir)
{
	int ret;

	pods->acct = acct;
	pin_progs(&acct->dp);
	snprintf(pods->dir, sizeof(pods->dir), "%s/pods", cni_state_dir);
	ret = es_mkdir_p(pods->dir, 0700);
	if (!ret) {
		pods->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (pods->ifd < 0 || inotify_add_watch(pods->ifd, pods->dir, IN_CLOSE_WRITE |
						      IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0)
			ret = -errno;
	}
	if (ret) {
		es_warn("cni_records_unwatched", "dir=%s error=\"%s\"", pods->dir, strerror(-ret));
		es_pods_close(pods);
		return ret;
	}
	es_pods_scan(pods);
	return 0;
}

int es_pods_fd(const struct es_pods *pods)
{
	return pods->ifd;
}

void es_pods_process(struct es_pods *pods)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(pods->ifd, buf, sizeof(buf)) > 0)
		;
	es_pods_scan(pods);
}

void es_pods_close(struct es_pods *pods)
{
	if (pods->ifd >= 0)
		close(pods->ifd);
	pods->ifd = -1;
	free(pods->v);
	pods->v = NULL;
	pods->n = 0;
}
