// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "http/http_url.h"
#include "util/log.h"
#include "peer_tcp.h"
#include "edgeshift/peer_tcp.h"
#include "peer_tcp.skel.h"

/* Where cgroup v2 is mounted: /sys/fs/cgroup, or .../unified on hybrid systems. */
static int cgroup2_mount(char *buf, size_t len)
{
	char dir[256], type[32];
	FILE *f = fopen("/proc/self/mounts", "r");
	int ret = -ENOENT;

	while (f && fscanf(f, "%*s %255s %31s %*[^\n]", dir, type) == 2)
		if (!strcmp(type, "cgroup2")) {
			snprintf(buf, len, "%s", dir);
			ret = 0;
			break;
		}
	if (f)
		fclose(f);
	return ret;
}

/* "0::/a/b" of /proc/self/cgroup -> "MOUNT/a/b". */
static int own_cgroup(char *buf, size_t len)
{
	char line[320], mnt[256];
	FILE *f;
	int ret = cgroup2_mount(mnt, sizeof(mnt));

	if (ret)
		return ret;
	ret = -ENOENT;
	f = fopen("/proc/self/cgroup", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, len, "%s%s", mnt, line + 3);
		ret = 0;
	}
	if (f)
		fclose(f);
	return ret;
}

static int fill_peers(struct peer_tcp *skel, const struct es_mig_config *cfg)
{
	int fd = bpf_map__fd(skel->maps.es_peers), n = 0;
	struct es_peer_tcp v;
	unsigned int i;
	uint16_t port;
	__u32 ip;

	for (i = 0; i < cfg->n_peers; i++) {
		/* the map is keyed by the peer's IPv4 address: a host name or IPv6 is skipped */
		if (es_url_ipv4(cfg->peers[i].url, &ip, &port)) {
			es_warn("peer_tcp_skipped", "peer=%s url=%s reason=\"not an IPv4 address\"",
				cfg->peers[i].name, cfg->peers[i].url);
			continue;
		}
		v.port = port;
		if (bpf_map_update_elem(fd, &ip, &v, BPF_ANY))
			return -errno;
		n++;
	}
	return n;
}

/* SO_RCVBUF is capped at net.core.rmem_max: a silent cap would undercut autotuning. */
static unsigned long rmem_max(void)
{
	FILE *f = fopen("/proc/sys/net/core/rmem_max", "r");
	unsigned long v = 0;

	if (f && fscanf(f, "%lu", &v) != 1)
		v = 0;
	if (f)
		fclose(f);
	return v;
}

int es_peer_tcp_attach(struct es_peer_tcp_ctl *pt, const struct es_mig_config *cfg, char *err,
		       size_t err_len)
{
	struct peer_tcp *skel;
	char cg[600];
	int fd = -1, ret;

	if (!cfg->peer_init_cwnd && !cfg->peer_cwnd_clamp && !cfg->peer_rcvbuf)
		return 0;
	if (cfg->peer_rcvbuf && cfg->peer_rcvbuf > rmem_max()) {
		snprintf(err, err_len, "config: field 'migration.peer_rcvbuf': %u is above "
			 "net.core.rmem_max (%lu), which caps it", cfg->peer_rcvbuf, rmem_max());
		return -1;
	}
	skel = peer_tcp__open();
	if (!skel) {
		snprintf(err, err_len, "peer_tcp: cannot open the BPF object");
		return -1;
	}
	skel->rodata->init_cwnd = cfg->peer_init_cwnd;
	skel->rodata->cwnd_clamp = cfg->peer_cwnd_clamp;
	skel->rodata->rcvbuf = cfg->peer_rcvbuf;
	ret = peer_tcp__load(skel);
	if (ret) {
		snprintf(err, err_len, "peer_tcp: loading the sockops program: %s", strerror(-ret));
		goto fail;
	}
	ret = fill_peers(skel, cfg);
	if (ret < 0) {
		snprintf(err, err_len, "peer_tcp: filling the peer map: %s", strerror(-ret));
		goto fail;
	}
	ret = own_cgroup(cg, sizeof(cg));
	fd = ret ? -1 : open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_len, "peer_tcp: the agent's cgroup (v2) %s: %s",
			 ret ? "(no cgroup2 mount or entry)" : cg, strerror(ret ? -ret : errno));
		goto fail;
	}
	pt->link = bpf_program__attach_cgroup(skel->progs.es_peer_tcp, fd);
	ret = -errno;
	close(fd);
	if (!pt->link) {
		snprintf(err, err_len, "peer_tcp: attaching to cgroup %s: %s", cg, strerror(-ret));
		goto fail;
	}
	es_info("peer_tcp_attached", "cgroup=%s init_cwnd=%u cwnd_clamp=%u rcvbuf=%u", cg,
		cfg->peer_init_cwnd, cfg->peer_cwnd_clamp, cfg->peer_rcvbuf);
	pt->skel = skel;
	return 0;
fail:
	peer_tcp__destroy(skel);
	return -1;
}

void es_peer_tcp_detach(struct es_peer_tcp_ctl *pt)
{
	bpf_link__destroy(pt->link);
	pt->link = NULL;
	peer_tcp__destroy(pt->skel);
	pt->skel = NULL;
}
