// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include "migctl/names.h"
#include "net/netns.h"
#include "util/clock.h"
#include "util/exec_io.h"
#include "util/fs_util.h"
#include "util/log.h"
#include "pod_net.h"


static void pod_dir(const struct es_mig_config *cfg, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/pods/%s", cfg->state_dir, name);
}

void es_pod_netns_path(const struct es_mig_config *cfg, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/pods/%s/netns", cfg->state_dir, name);
}

static void result_path(const struct es_mig_config *cfg, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/pods/%s/cni.json", cfg->state_dir, name);
}

/* ---- the namespace ---- */

/* A runtime brings the pod's loopback up itself: CNI plugins leave it alone. */
static int loopback_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

struct ns_make {
	const char	*path;
	int		ret;
};

/* In a thread of its own, which ends there: the agent's threads keep the node's namespace. */
static void *make_ns(void *arg)
{
	struct ns_make *m = arg;

	if (unshare(CLONE_NEWNET)) {
		m->ret = -errno;
		return NULL;
	}
	m->ret = loopback_up();
	if (!m->ret && mount("/proc/thread-self/ns/net", m->path, NULL, MS_BIND, NULL))
		m->ret = -errno;
	return NULL;
}

static int netns_make(const char *path)
{
	struct ns_make m = { path, 0 };
	pthread_t t;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (fd < 0)
		return -errno;
	close(fd);
	ret = pthread_create(&t, NULL, make_ns, &m);
	if (ret)
		return -ret;
	pthread_join(t, NULL);
	return m.ret;
}

static void netns_remove(const char *path)
{
	if (umount2(path, MNT_DETACH) && errno != EINVAL && errno != ENOENT)
		es_warn("pod_netns_umount_failed", "path=%s error=\"%s\"", path, strerror(errno));
	unlink(path);
}

/* ---- the plugin ---- */

/*
 * The configuration on the plugin's stdin: the file's, with what the
 * runtime adds (libcni's way): runtimeConfig for a capability the plugin
 * declares, prevResult for DEL.
 */
static char *plugin_stdin(const struct es_mig_config *cfg, json_t *ips, json_t *prev)
{
	json_t *c = json_deep_copy(cfg->pod_conf), *rc;
	char *s;

	if (ips && json_array_size(ips)) {
		rc = json_object_get(c, "runtimeConfig");
		if (!json_is_object(rc)) {
			rc = json_object();
			json_object_set_new(c, "runtimeConfig", rc);
		}
		json_object_set(rc, "ips", ips);
	}
	if (prev)
		json_object_set(c, "prevResult", prev);
	s = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return s;
}

/* The plugin's error object, or its output as it came. */
static void plugin_error(const char *cmd, const char *out, int status, char *err, size_t len)
{
	json_t *j = json_loads(out, 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "msg"));
	const char *det = json_string_value(json_object_get(j, "details"));

	if (msg)
		snprintf(err, len, "pod network: CNI %s: %s%s%s (code %lld)", cmd, msg,
			 det && *det ? ": " : "", det ?: "",
			 (long long)json_integer_value(json_object_get(j, "code")));
	else if (status < 0)
		snprintf(err, len, "pod network: CNI %s: %s", cmd, strerror(-status));
	else
		snprintf(err, len, "pod network: CNI %s: exit status %d%s%.200s", cmd, status,
			 *out ? ": " : "", out);
	json_decref(j);
}

/* CNI_COMMAND cmd for container name; *result (ADD) gets the plugin's answer. 0 or -errno. */
static int plugin_run(const struct es_mig_config *cfg, const char *cmd, const char *name,
		      json_t *ips, json_t *prev, json_t **result, char *err, size_t len)
{
	char bin[ES_PATH], ns[ES_PATH], e[6][ES_PATH + 32], *out = NULL, *in;
	char *envp[] = { e[0], e[1], e[2], e[3], e[4], e[5], "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
			 NULL };
	int ret;

	if (es_exec_find(cfg->cni_path, json_string_value(json_object_get(cfg->pod_conf, "type")),
			 bin, sizeof(bin))) {
		snprintf(err, len, "pod network: no plugin %s in %s",
			 json_string_value(json_object_get(cfg->pod_conf, "type")), cfg->cni_path);
		return -ENOENT;
	}
	es_pod_netns_path(cfg, name, ns, sizeof(ns));
	snprintf(e[0], sizeof(e[0]), "CNI_COMMAND=%s", cmd);
	snprintf(e[1], sizeof(e[1]), "CNI_CONTAINERID=%s", name);
	snprintf(e[2], sizeof(e[2]), "CNI_NETNS=%s", ns);
	snprintf(e[3], sizeof(e[3]), "CNI_IFNAME=%s", cfg->pod_ifname);
	snprintf(e[4], sizeof(e[4]), "CNI_PATH=%s", cfg->cni_path);
	snprintf(e[5], sizeof(e[5]), "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=%s", name);
	in = plugin_stdin(cfg, ips, prev);
	if (!in)
		return -ENOMEM;
	ret = es_exec_io((char *[]){ bin, NULL }, envp, in, strlen(in), cfg->cni_timeout_ms, &out);
	free(in);
	if (!ret && result) {
		*result = json_loads(out, 0, NULL);
		if (!*result)
			ret = -EPROTO;
	}
	if (ret)
		plugin_error(cmd, out ?: "", ret, err, len);
	free(out);
	return ret > 0 ? -EIO : ret;
}

/* ---- which pod holds an address ---- */

/*
 * "ADDR/PREFIX" or "ADDR" (the CNI result's and the spec's form) into addr,
 * as es_mig_key holds it (migctl/names.h), and *plen (-1: none); 0 or -1.
 */
static int cidr_parse(const char *cidr, __u32 *addr, long *plen)
{
	char text[INET6_ADDRSTRLEN + 8], *slash, *end;

	if (!cidr || strlen(cidr) >= sizeof(text))
		return -1;
	snprintf(text, sizeof(text), "%s", cidr);
	*plen = -1;
	slash = strchr(text, '/');
	if (slash) {
		*slash = '\0';
		*plen = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || *plen < 0)
			return -1;
	}
	return es_mig_addr_parse(text, addr) ? -1 : 0;
}

static bool result_holds(json_t *res, const __u32 *addr)
{
	__u32 b[4];
	json_t *ip;
	size_t i;
	long plen;

	json_array_foreach(json_object_get(res, "ips"), i, ip)
		if (!cidr_parse(json_string_value(json_object_get(ip, "address")), b, &plen) &&
		    es_mig_addr_eq(b, addr))
			return true;
	return false;
}

/*
 * Did the plugin give every address the spec asked for? A plugin whose IPAM
 * ignores the ips capability (host-local) gives others: the pod would not
 * be the one its users reach. 0, or -EADDRNOTAVAIL with err.
 */
static int result_check(json_t *res, json_t *ips, char *err, size_t len)
{
	__u32 a[4];
	json_t *ip;
	size_t i;
	long plen;

	json_array_foreach(ips, i, ip) {
		if (!cidr_parse(json_string_value(ip), a, &plen) && result_holds(res, a))
			continue;
		snprintf(err, len, "pod network: CNI ADD gave the pod no address %s (the "
			 "network's IPAM must honour the ips capability)", json_string_value(ip));
		return -EADDRNOTAVAIL;
	}
	return 0;
}

/* ---- ADD, DEL ---- */

int es_pod_net_add(const struct es_mig_config *cfg, const char *name, json_t *spec, char *err,
		   size_t err_len)
{
	char dir[ES_PATH], path[ES_PATH];
	int64_t t0 = es_now_ms();
	json_t *res = NULL;
	int ret;

	/* libcni's rule: runtimeConfig carries only what the plugin declares */
	if (json_array_size(json_object_get(spec, "ips")) &&
	    !json_is_true(json_object_get(json_object_get(cfg->pod_conf, "capabilities"), "ips"))) {
		snprintf(err, err_len, "pod network: the spec asks for ips but the CNI network %s "
			 "does not declare the \"ips\" capability", cfg->pod_conf_path);
		return -EINVAL;
	}
	pod_dir(cfg, name, dir, sizeof(dir));
	/* what an agent killed inside an earlier ADD or DEL left */
	if (!access(dir, F_OK))
		es_pod_net_del(cfg, name);
	ret = es_mkdir_p(dir, 0700);
	if (ret) {
		snprintf(err, err_len, "pod network: %s: %s", dir, strerror(-ret));
		return ret;
	}
	es_pod_netns_path(cfg, name, path, sizeof(path));
	ret = netns_make(path);
	if (ret) {
		snprintf(err, err_len, "pod network: namespace %s: %s", path, strerror(-ret));
		goto fail;
	}
	ret = plugin_run(cfg, "ADD", name, json_object_get(spec, "ips"), NULL, &res, err,
			 err_len);
	if (ret)
		goto fail;
	result_path(cfg, name, path, sizeof(path));
	/* kept first: DEL hands the plugin what it gave, even after a refused result */
	ret = json_dump_file(res, path, JSON_COMPACT) ? -EIO : 0;
	if (ret)
		snprintf(err, err_len, "pod network: writing %s", path);
	else
		ret = result_check(res, json_object_get(spec, "ips"), err, err_len);
	json_decref(res);
	if (ret)
		goto fail;
	/* at a migration's target beside the transfer (in_pod.c) */
	es_info("pod_network_added", "name=%s ms=%lld", name, (long long)(es_now_ms() - t0));
	return 0;
fail:
	es_pod_net_del(cfg, name);
	return ret;
}

int es_pod_net_del(const struct es_mig_config *cfg, const char *name)
{
	char dir[ES_PATH], path[ES_PATH], err[512];
	json_t *prev;
	int ret = 0;

	pod_dir(cfg, name, dir, sizeof(dir));
	if (access(dir, F_OK))
		return 0;
	result_path(cfg, name, path, sizeof(path));
	prev = json_load_file(path, 0, NULL);
	/* a DEL is due after a failed ADD too: the plugin frees what it took */
	if (cfg->pod_conf) {
		ret = plugin_run(cfg, "DEL", name, NULL, prev, NULL, err, sizeof(err));
		if (ret)
			es_warn("pod_network_del_failed", "name=%s error=\"%s\"", name, err);
	}
	json_decref(prev);
	es_pod_netns_path(cfg, name, path, sizeof(path));
	netns_remove(path);
	es_rm_rf(dir);
	return ret;
}

int es_pod_netns_open_by_addr(const struct es_mig_config *cfg, const __u32 *addr)
{
	char dir[ES_PATH], path[ES_PATH + 300];
	int fd = ES_NETNS_OWN;
	struct dirent *d;
	DIR *pods;

	snprintf(dir, sizeof(dir), "%s/pods", cfg->state_dir);
	pods = opendir(dir);
	if (!pods)
		return ES_NETNS_OWN;
	while (fd == ES_NETNS_OWN && (d = readdir(pods))) {
		json_t *res;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/cni.json", dir, d->d_name);
		res = json_load_file(path, 0, NULL);
		if (res && result_holds(res, addr)) {
			snprintf(path, sizeof(path), "%s/%s/netns", dir, d->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			/* -EPERM would read as ES_NETNS_OWN */
			if (fd < 0)
				fd = errno == EPERM ? -EACCES : -errno;
		}
		json_decref(res);
	}
	closedir(pods);
	return fd;
}

int es_pod_ips_validate(json_t *ips, char *err, size_t err_len)
{
	__u32 a[4];
	json_t *ip;
	size_t i;
	long plen;

	if (!json_is_array(ips) || json_array_size(ips) > 8)
		goto bad;
	json_array_foreach(ips, i, ip)
		if (cidr_parse(json_string_value(ip), a, &plen) || plen < 0 ||
		    plen > (es_mig_addr_is4(a) ? 32 : 128))
			goto bad;
	return 0;
bad:
	snprintf(err, err_len, "spec: field 'ips' must be an array of at most 8 addresses with "
		 "their prefix length (\"10.0.0.5/24\", \"fd00::5/64\")");
	return -1;
}
