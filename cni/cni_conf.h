/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The network configuration on stdin: a single delegate
 * ({"type":"edgeshift-cni","kind":"macvlan",...}) or the meta form
 * ({"type":"multicni","default":...,"plugins":[...]}). Everything is
 * validated here, before any side effect, and every error names the field.
 */
#ifndef EDGESHIFT_CNI_CONF_H
#define EDGESHIFT_CNI_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <net/if.h>
#include <jansson.h>
#include "cni_error.h"

#define CNI_DEFAULT_STATE_DIR	"/run/edgeshift/cni"
#define CNI_MAX_DELEGATES	32
#define CNI_MAX_POOL		256

enum cni_kind {
	CNI_KIND_MACVLAN,
	CNI_KIND_HOST_DEVICE,
};

struct cni_delegate {
	char		name[128];	/* network name given to IPAM and the state */
	char		field[32];	/* "plugins[2]" or "" for error messages */
	enum cni_kind	kind;
	json_t		*obj;		/* the delegate's object in the config */
	json_t		*ipam;		/* its "ipam", NULL when none or empty */
	json_t		*dns;		/* its "dns" (the network's in the meta form), or NULL */
	/* macvlan */
	char		master[IF_NAMESIZE];	/* "" = default route's interface */
	int		mode;		/* IFLA_MACVLAN_MODE_* */
	unsigned int	mtu;		/* 0 = the master's */
	bool		promisc;	/* put the master in promiscuous mode */
	bool		has_mac;
	unsigned char	mac[6];
	/* host-device: one of device, hwaddr, pci_bus_id, or a pool */
	char		device[IF_NAMESIZE];
	bool		has_hwaddr;
	unsigned char	hwaddr[6];
	char		pci_bus_id[32];
	char		(*pool)[IF_NAMESIZE];	/* "devices": one pod each */
	unsigned int	n_pool;
};

struct cni_conf {
	json_t			*root;
	char			version[16];
	int			vnum;		/* cni_version_num() */
	char			name[128];
	char			type[64];
	bool			meta;		/* has "plugins" */
	char			kubeconfig[PATH_MAX];
	char			state_dir[256];
	char			pin_path[256];
	bool			dataplane;	/* attach accounting (default true) */
	struct cni_delegate	del[CNI_MAX_DELEGATES];
	unsigned int		n_del;
	int			default_idx;
	json_t			*prev_result;	/* NULL when absent */
	bool			has_runtime_mac;	/* runtimeConfig.mac (capability "mac") */
	unsigned char		runtime_mac[6];
};

/*
 * Parses and validates the whole configuration. A missing or unknown
 * cniVersion is code 1; JSON that does not parse is code 6; a field with
 * the wrong type or value is code 7. For VERSION only cniVersion counts:
 * use cni_conf_version().
 */
int cni_conf_parse(const char *buf, size_t len, struct cni_conf *c, struct cni_error *err);
void cni_conf_free(struct cni_conf *c);

/* cniVersion of buf ("" when absent), for VERSION; -1 when it is not JSON. */
int cni_conf_version(const char *buf, size_t len, char *ver, size_t ver_len,
		     struct cni_error *err);

/* Delegate by name, or -1. */
int cni_conf_find(const struct cni_conf *c, const char *name);

int cni_parse_mac(const char *s, unsigned char mac[6]);

#endif
