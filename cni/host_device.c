// SPDX-License-Identifier: GPL-2.0-only
/*
 * host-device delegates: a NIC of the host moves into the pod under
 * CNI_IFNAME and comes back on DEL as it was. What it was (name, MTU,
 * addresses, up state, alias) is kept in the attachment record, and the
 * NIC carries an alias naming its original name and owner, so DEL finds it
 * even when the pod namespace is gone and the kernel returned the NIC to
 * the root namespace under whatever name was free.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "netns.h"
#include "devpool.h"
#include "cni_conf.h"
#include "cni_ctx.h"

#define ALIAS_TAG	"edgeshift-cni:"
#define MAX_SAVED_ADDRS	32

static int by_pci(const char *pci, char *name)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int ret = -ENODEV;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/net", pci);
	dir = opendir(path);
	if (!dir)
		return -ENODEV;
	while ((de = readdir(dir))) {
		if (de->d_name[0] != '.' && strlen(de->d_name) < IF_NAMESIZE) {
			strcpy(name, de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

struct mac_match {
	const unsigned char	*mac;
	struct nl_link		*out;
	int			found;
};

static int mac_cb(const struct nl_link *l, void *arg)
{
	struct mac_match *m = arg;

	if (memcmp(l->mac, m->mac, 6) || !strcmp(l->kind, "macvlan"))
		return 0;
	*m->out = *l;
	m->found = 1;
	return 1;
}

static int find_device(struct cni_ctx *c, struct nl_link *l)
{
	const char *f = c->d->field[0] ? "." : "";
	struct mac_match m = { c->d->hwaddr, l, 0 };
	char name[IF_NAMESIZE];
	int ret;

	if (c->d->n_pool) {
		if (devpool_claim(c, name))
			return -1;
		json_object_set_new(c->att, "poolDevice", json_string(name));
	} else if (c->d->device[0]) {
		strcpy(name, c->d->device);
	} else if (c->d->pci_bus_id[0]) {
		if (by_pci(c->d->pci_bus_id, name))
			return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
					"%s%spciBusID: no network device at PCI address %s",
					c->d->field, f, c->d->pci_bus_id);
	} else {
		nl_link_foreach(&c->nl, mac_cb, &m);
		if (!m.found)
			return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
					"%s%shwaddr: no interface has this address", c->d->field, f);
		return 0;
	}
	ret = nl_link_get(&c->nl, 0, name, l);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG, "%s%s%s: interface \"%s\" %s",
				c->d->field, f, c->d->n_pool ? "devices" : "device", name,
				ret == -ENODEV ? "does not exist" : strerror(-ret));
	return 0;
}

static json_t *saved_state(struct cni_ctx *c, const struct nl_link *l)
{
	struct nl_addr a[MAX_SAVED_ADDRS];
	json_t *addrs = json_array();
	char s[64];
	int n = 0, i;

	/* what DEL gives back: all of it, or the ADD does not take the device */
	if (!addrs || nl_addr_list(&c->nl, l->ifindex, a, MAX_SAVED_ADDRS, &n)) {
		json_decref(addrs);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		/* IPv6 link-local addresses come back by themselves */
		if (a[i].family == AF_INET6 && a[i].addr[0] == 0xfe && (a[i].addr[1] & 0xc0) == 0x80)
			continue;
		nl_addr_format(&a[i], s, sizeof(s), true);
		json_array_append_new(addrs, json_string(s));
	}
	/* our own tag left by an interrupted attempt is not the owner's alias */
	return json_pack("{s:s, s:i, s:b, s:s, s:o}", "name", l->name, "mtu", l->mtu,
			 "up", !!(l->flags & IFF_UP), "alias",
			 strncmp(l->alias, ALIAS_TAG, strlen(ALIAS_TAG)) ? l->alias : "",
			 "addresses", addrs);
}

static void owner_alias(struct cni_ctx *c, const char *orig, char *buf, size_t len)
{
	snprintf(buf, len, ALIAS_TAG "%s:%s:%.200s", orig, c->env.ifname, c->env.container_id);
}

/* The NIC in the pod, under CNI_IFNAME. */
static int read_moved(struct cni_ctx *c, const char *orig, struct cni_link *out)
{
	struct nl_link l;
	int ret;

	if (cni_pod_link_get(c, c->env.ifname, &l, &ret))
		return -1;
	if (ret) {
		cni_fail(&c->err, CNI_ERR_IO, "cannot find %s in the pod after moving %s there: %s",
			 c->env.ifname, orig, strerror(-ret));
		return -1;
	}
	out->ifindex = l.ifindex;
	out->mtu = l.mtu;
	memcpy(out->mac, l.mac, 6);
	return 0;
}

int host_device_add(struct cni_ctx *c, struct cni_link *out)
{
	struct nl_link_change mv = { .name = c->env.ifname, .netns_fd = c->pod_ns };
	char alias[256];
	json_t *saved;
	struct nl_link l;
	int ret;

	if (cni_pod_name_free(c) || find_device(c, &l))
		return -1;
	saved = saved_state(c, &l);
	if (!saved) {
		devpool_release(c);
		return cni_fail(&c->err, CNI_ERR_IO, "cannot read the state of %s (over %d "
				"addresses?) to give it back at DEL", l.name, MAX_SAVED_ADDRS);
	}
	json_object_set_new(c->att, "hostDevice", saved);
	owner_alias(c, l.name, alias, sizeof(alias));
	mv.alias = alias;
	ret = nl_link_set(&c->nl, l.ifindex, &mv);
	if (ret) {
		cni_pod_unmove(c, l.ifindex, l.name);
		devpool_release(c);
		if (ret == -EEXIST || ret == -ENOTUNIQ || ret == -EBUSY)
			return cni_fail(&c->err, CNI_ERR_INVALID_ENV,
					"CNI_IFNAME: the pod already has an interface named %s",
					c->env.ifname);
		return cni_fail(&c->err, CNI_ERR_IO, "cannot move %s into %s: %s", l.name,
				c->env.netns, strerror(-ret));
	}
	if (read_moved(c, l.name, out)) {
		host_device_undo(c);
		return -1;
	}
	return 0;
}

struct alias_match {
	const char	*suffix;	/* ":<ifname>:<cid>" */
	struct nl_link	*out;
	int		found;
};

static int alias_cb(const struct nl_link *l, void *arg)
{
	struct alias_match *m = arg;
	size_t al = strlen(l->alias), sl = strlen(m->suffix);

	if (strncmp(l->alias, ALIAS_TAG, strlen(ALIAS_TAG)) || al < sl ||
	    strcmp(l->alias + al - sl, m->suffix))
		return 0;
	*m->out = *l;
	m->found = 1;
	return 1;
}

/* The owned NIC in the namespace of nl, by its alias; 0 or -ENODEV. */
static int find_owned(struct cni_ctx *c, struct nl *nl, struct nl_link *l)
{
	char suffix[300];
	struct alias_match m = { suffix, l, 0 };

	snprintf(suffix, sizeof(suffix), ":%s:%.200s", c->env.ifname, c->env.container_id);
	nl_link_foreach(nl, alias_cb, &m);
	return m.found ? 0 : -ENODEV;
}

/* Original name from the alias when the record is lost. */
static void name_from_alias(const char *alias, char *name)
{
	const char *p = alias + strlen(ALIAS_TAG);
	size_t n = strcspn(p, ":");

	snprintf(name, IF_NAMESIZE, "%.*s", (int)(n < IF_NAMESIZE ? n : IF_NAMESIZE - 1), p);
}

static int restore_in_host(struct cni_ctx *c, int ifindex, const json_t *saved,
			   const char *alias)
{
	struct nl_link_change ch = { .alias = "" };
	char name[IF_NAMESIZE];
	struct nl_addr a;
	json_t *v;
	size_t i;
	int ret;

	name_from_alias(alias, name);
	if (json_is_object(saved)) {
		snprintf(name, sizeof(name), "%s", json_string_value(json_object_get(saved, "name")));
		ch.alias = json_string_value(json_object_get(saved, "alias")) ?: "";
		ch.mtu = json_integer_value(json_object_get(saved, "mtu"));
	}
	ch.name = name;
	ret = nl_link_set(&c->nl, ifindex, &ch);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot restore %s's name, MTU and alias: %s",
				name, strerror(-ret));
	json_array_foreach(json_object_get(saved, "addresses"), i, v) {
		if (!nl_addr_parse(json_string_value(v) ?: "", &a, true)) {
			ret = nl_addr_add(&c->nl, ifindex, &a);
			if (ret && ret != -EEXIST)
				return cni_fail(&c->err, CNI_ERR_IO, "cannot restore %s on %s: %s",
						json_string_value(v), name, strerror(-ret));
		}
	}
	if (json_is_true(json_object_get(saved, "up"))) {
		struct nl_link_change up = { .up = 1 };

		ret = nl_link_set(&c->nl, ifindex, &up);
		if (ret)
			return cni_fail(&c->err, CNI_ERR_IO, "cannot bring %s up: %s", name,
					strerror(-ret));
	}
	return 0;
}

/* Moves the NIC out of a living pod namespace under a temporary name. */
static int bring_home(struct cni_ctx *c, int *ifindex, char *alias)
{
	struct nl_link_change mv = { .netns_fd = c->host_ns };
	char tmp[IF_NAMESIZE];
	struct nl_link l;
	struct nl pod;
	int ret;

	if (cni_pod_nl(c, &pod))
		return -1;
	ret = find_owned(c, &pod, &l);
	if (!ret) {
		snprintf(tmp, sizeof(tmp), "esh%x", l.ifindex);
		mv.name = tmp;
		ret = nl_link_set(&pod, l.ifindex, &mv);
	}
	nl_close(&pod);
	if (ret == -ENODEV)
		return 0;
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot move %s back to the host: %s",
				c->env.ifname, strerror(-ret));
	/*
	 * The kernel gives it another index when its pod index is taken in
	 * the host: restored by that one, another host link got its name.
	 */
	ret = nl_link_get(&c->nl, 0, tmp, &l);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot find %s back in the host as %s: %s",
				c->env.ifname, tmp, strerror(-ret));
	*ifindex = l.ifindex;
	strcpy(alias, l.alias);
	return 0;
}

int host_device_del(struct cni_ctx *c)
{
	const json_t *saved = json_object_get(c->att, "hostDevice");
	char alias[256] = "";
	struct nl_link l;
	int ifindex = 0;

	if (c->pod_ns >= 0 && bring_home(c, &ifindex, alias))
		return -1;
	if (!ifindex) {
		/*
		 * The namespace is gone (or never got the NIC): a physical NIC
		 * is back in the root namespace, a virtual one was destroyed.
		 */
		if (find_owned(c, &c->nl, &l))
			return 0;
		ifindex = l.ifindex;
		strcpy(alias, l.alias);
	}
	return restore_in_host(c, ifindex, saved, alias);
}

void host_device_undo(struct cni_ctx *c)
{
	struct cni_error cause = c->err;

	if (host_device_del(c))
		snprintf(cause.details, sizeof(cause.details), "giving the device back failed: %s",
			 c->err.msg);
	/*
	 * Released even when the NIC stayed in the pod: a device is claimed
	 * only while it is in the host, and the runtime's DEL finds it by its
	 * alias.
	 */
	devpool_release(c);
	c->err = cause;
}

int host_device_check(struct cni_ctx *c, const struct nl_link *l)
{
	if (strncmp(l->alias, ALIAS_TAG, strlen(ALIAS_TAG)))
		return cni_fail(&c->err, CNI_ERR_CHECK_DIFFERS,
				"%s in the pod is not a device edgeshift-cni moved there", c->env.ifname);
	return 0;
}
