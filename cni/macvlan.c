// SPDX-License-Identifier: GPL-2.0-only
/*
 * macvlan delegates. The link is created in the host namespace under a
 * temporary name, so its ifindex is allocated there and is unique on the
 * node (the accounting maps are keyed by ifindex), then moved into the pod
 * and renamed in one request, which keeps that ifindex.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "netns.h"
#include "cni_conf.h"
#include "cni_ctx.h"

static int find_master(struct cni_ctx *c, struct nl_link *m)
{
	int ifindex = 0, ret;

	if (!c->d->master[0]) {
		ret = nl_default_route_oif(&c->nl, &ifindex);
		if (ret)
			return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
					"%s%smaster: not given and there is no default route",
					c->d->field, c->d->field[0] ? "." : "");
	}
	ret = nl_link_get(&c->nl, ifindex, ifindex ? NULL : c->d->master, m);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG, "%s%smaster: interface \"%s\" %s",
				c->d->field, c->d->field[0] ? "." : "", c->d->master,
				ret == -ENODEV ? "does not exist" : strerror(-ret));
	return 0;
}

static void tmp_name(char *buf, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, len, "esm%08lx", (unsigned long)(ts.tv_nsec ^ (getpid() << 12)) & 0xffffffffUL);
}

static int move_into_pod(struct cni_ctx *c, int ifindex, struct cni_link *out)
{
	struct nl_link_change mv = { .name = c->env.ifname, .netns_fd = c->pod_ns };
	struct nl pod;
	struct nl_link l;
	int ret;

	ret = nl_link_set(&c->nl, ifindex, &mv);
	if (ret == -EEXIST || ret == -ENOTUNIQ || ret == -EBUSY)
		return cni_fail(&c->err, CNI_ERR_INVALID_ENV,
				"CNI_IFNAME: the pod already has an interface named %s", c->env.ifname);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot move the macvlan into %s: %s",
				c->env.netns, strerror(-ret));
	ret = cni_pod_nl(c, &pod);
	if (ret)
		return -1;
	ret = nl_link_get(&pod, 0, c->env.ifname, &l);
	nl_close(&pod);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "the macvlan vanished from the pod: %s",
				strerror(-ret));
	out->ifindex = l.ifindex;
	out->mtu = l.mtu;
	memcpy(out->mac, l.mac, 6);
	return 0;
}

int macvlan_add(struct cni_ctx *c, struct cni_link *out)
{
	const unsigned char *mac = c->conf.has_runtime_mac ? c->conf.runtime_mac :
				   c->d->has_mac ? c->d->mac : NULL;
	struct nl_link_change promisc = { .promisc = 1 };
	struct nl_link m;
	char name[IF_NAMESIZE];
	int ifindex, ret;

	if (cni_pod_name_free(c) || find_master(c, &m))
		return -1;
	if (c->d->mtu > m.mtu)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
				"%s%smtu: %u is larger than the master %s's MTU %u", c->d->field,
				c->d->field[0] ? "." : "", c->d->mtu, m.name, m.mtu);
	if (c->d->promisc && !(m.flags & IFF_PROMISC)) {
		ret = nl_link_set(&c->nl, m.ifindex, &promisc);
		if (ret)
			return cni_fail(&c->err, CNI_ERR_IO, "promiscMode: cannot set %s promiscuous: %s",
					m.name, strerror(-ret));
	}
	tmp_name(name, sizeof(name));
	ret = nl_macvlan_add(&c->nl, name, m.ifindex, c->d->mode, c->d->mtu, mac, &ifindex);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot create a macvlan on %s: %s", m.name,
				strerror(-ret));
	if (move_into_pod(c, ifindex, out)) {
		if (nl_link_del(&c->nl, ifindex))
			cni_pod_unmove(c, ifindex, NULL);
		return -1;
	}
	return 0;
}

int macvlan_del(struct cni_ctx *c)
{
	struct nl_link l;
	struct nl pod;
	int ret;

	if (c->pod_ns < 0)
		return 0;	/* the namespace took the macvlan with it */
	if (cni_pod_nl(c, &pod))
		return -1;
	ret = nl_link_get(&pod, 0, c->env.ifname, &l);
	if (!ret && !strcmp(l.kind, "macvlan"))
		ret = nl_link_del(&pod, l.ifindex);
	nl_close(&pod);
	if (ret && ret != -ENODEV)
		return cni_fail(&c->err, CNI_ERR_IO, "cannot delete %s in the pod: %s", c->env.ifname,
				strerror(-ret));
	return 0;
}

int macvlan_check(struct cni_ctx *c, const json_t *iface)
{
	const char *mac = json_string_value(json_object_get(iface, "mac"));
	unsigned char want[6];
	struct nl_link l;
	struct nl pod;
	int ret;

	if (cni_pod_nl(c, &pod))
		return -1;
	ret = nl_link_get(&pod, 0, c->env.ifname, &l);
	nl_close(&pod);
	if (ret)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG, "CNI_IFNAME: %s is missing from the pod",
				c->env.ifname);
	if (strcmp(l.kind, "macvlan"))
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG, "%s is a \"%s\", not a macvlan",
				c->env.ifname, l.kind);
	if (l.macvlan_mode != c->d->mode)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG, "mode: %s has another macvlan mode",
				c->env.ifname);
	if (c->d->mtu && l.mtu != c->d->mtu)
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG, "mtu: %s has MTU %u, want %u",
				c->env.ifname, l.mtu, c->d->mtu);
	if (mac && (cni_parse_mac(mac, want) || memcmp(want, l.mac, 6)))
		return cni_fail(&c->err, CNI_ERR_INVALID_CONFIG,
				"mac: %s's address differs from prevResult's %s", c->env.ifname, mac);
	return 0;
}
