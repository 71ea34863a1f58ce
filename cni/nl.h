/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rtnetlink over libmnl: the few link, address and route operations the
 * plugin needs. A socket belongs to the network namespace that was current
 * when it was opened. Every call returns 0 or -errno.
 */
#ifndef EDGESHIFT_CNI_NL_H
#define EDGESHIFT_CNI_NL_H

#include <stdbool.h>
#include <net/if.h>
#include <netinet/in.h>

struct mnl_socket;

struct nl {
	struct mnl_socket	*sk;
	unsigned int		portid;
	unsigned int		seq;
};

struct nl_link {
	int		ifindex;
	char		name[IF_NAMESIZE];
	char		kind[16];	/* IFLA_INFO_KIND, "" for a NIC */
	char		alias[256];	/* IFLA_IFALIAS */
	unsigned int	mtu;
	unsigned int	flags;		/* IFF_* */
	unsigned char	mac[6];
	int		link;		/* IFLA_LINK: a macvlan's master, 0 if none */
	int		macvlan_mode;	/* IFLA_MACVLAN_MODE, 0 if not a macvlan */
};

struct nl_addr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];
	int		plen;
	unsigned int	flags;		/* IFA_F_* as listed (TENTATIVE ...); unused to add */
};

struct nl_route {
	struct nl_addr	dst;		/* plen 0: default */
	bool		has_gw;
	unsigned char	gw[16];
	int		oif;
	unsigned int	priority;
	unsigned int	table;
};

/* Changes applied by nl_link_set(); fields left 0/NULL are not touched. */
struct nl_link_change {
	const char		*name;
	const char		*alias;		/* "" clears it */
	unsigned int		mtu;
	const unsigned char	*mac;
	int			netns_fd;	/* > 0: move there (keeps ifindex when free) */
	int			up;		/* 1 up, -1 down, 0 unchanged */
	int			promisc;	/* 1 on, -1 off, 0 unchanged */
};

int nl_open(struct nl *nl);
void nl_close(struct nl *nl);

/* By ifindex (name NULL) or name; -ENODEV when there is no such link. */
int nl_link_get(struct nl *nl, int ifindex, const char *name, struct nl_link *out);

typedef int (*nl_link_cb)(const struct nl_link *l, void *arg);	/* nonzero stops */
int nl_link_foreach(struct nl *nl, nl_link_cb cb, void *arg);

struct nl_macvlan {
	const char		*name;
	int			master;		/* ifindex in the socket's namespace */
	int			mode;		/* IFLA_MACVLAN_MODE_* */
	unsigned int		mtu;		/* 0: the master's */
	const unsigned char	*mac;		/* NULL: random */
	int			netns_fd;	/* > 0: created there, with ifindex */
	int			ifindex;	/* > 0: this index (-EBUSY when taken) */
};

/*
 * Creates a macvlan; *ifindex is its index. With netns_fd the link is
 * created in that namespace directly and nothing is read back (the
 * socket cannot see it): give ifindex then.
 */
int nl_macvlan_add(struct nl *nl, const struct nl_macvlan *m, int *ifindex);
int nl_link_del(struct nl *nl, int ifindex);
int nl_link_set(struct nl *nl, int ifindex, const struct nl_link_change *c);

int nl_addr_add(struct nl *nl, int ifindex, const struct nl_addr *a);
/* Addresses of ifindex (global and link scope); *n set; -ENOBUFS when more than max. */
int nl_addr_list(struct nl *nl, int ifindex, struct nl_addr *out, int max, int *n);
/*
 * Waits until no global IPv6 address of ifindex is tentative (duplicate address
 * detection done), at most timeout_ms: a service binding its pod's address
 * would fail until then. 0, -EADDRINUSE when detection found a duplicate,
 * -ETIMEDOUT, or -errno.
 */
int nl_addr_settle(struct nl *nl, int ifindex, unsigned int timeout_ms);

/* Adds a route; EEXIST is reported. */
int nl_route_add(struct nl *nl, const struct nl_route *r);
/*
 * Unicast routes of one table (0: the main one), IPv4 and IPv6; *n set;
 * -ENOBUFS when more than max.
 */
int nl_route_list(struct nl *nl, unsigned int table, struct nl_route *out, int max, int *n);
/* Output interface of the IPv4 (else IPv6) default route, -ENOENT if none. */
int nl_default_route_oif(struct nl *nl, int *ifindex);

/* "10.0.0.2/24" or "fd00::2/64" (plen_required); "10.0.0.1" plen 32. */
int nl_addr_parse(const char *s, struct nl_addr *a, bool plen_required);
/*
 * Do x and y give one address (and one prefix, where written), however
 * spelt? Text that is no address compares as text, ignoring case.
 */
bool nl_addr_same(const char *x, const char *y);
void nl_addr_format(const struct nl_addr *a, char *buf, size_t len, bool with_plen);

#endif
