// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "criu_conf.h"
#include "util/fs_util.h"
#include "util/log.h"

#define CRIU_CONF_ENV	"CRIU_CONFIG_FILE"

int es_criu_conf_install(const struct es_mig_config *cfg, char *err, size_t err_len)
{
	const char *own = getenv(CRIU_CONF_ENV);
	char path[sizeof(cfg->state_dir) + 16], text[64];
	int ret;

	if (own && *own) {
		es_warn("criu_config_from_environment", "file=\"%s\" criu_network_lock=ignored", own);
		return 0;
	}
	/*
	 * The network lock keeps the container's TCP connections still while
	 * CRIU dumps or restores them. iptables (CRIU's default) locks and
	 * unlocks each connection with a run of iptables-restore, about
	 * 40-50 ms a connection here, all inside the container's freeze;
	 * nftables takes them in one transaction.
	 */
	snprintf(path, sizeof(path), "%s/criu.conf", cfg->state_dir);
	snprintf(text, sizeof(text), "network-lock %s\n", cfg->criu_network_lock);
	ret = es_write_file(path, text, strlen(text));
	if (!ret && setenv(CRIU_CONF_ENV, path, 1))
		ret = -errno;
	if (ret) {
		snprintf(err, err_len, "CRIU's configuration %s: %s", path, strerror(-ret));
		return ret;
	}
	es_info("criu_config", "file=\"%s\" network_lock=%s", path, cfg->criu_network_lock);
	return 0;
}
