// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mig_config.h"
#include "util/config_field.h"
#include "util/fs_util.h"

void es_mig_config_defaults(struct es_mig_config *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->state_dir, sizeof(m->state_dir), "/var/lib/edgeshift");
	snprintf(m->runc, sizeof(m->runc), "runc");
	snprintf(m->cni_path, sizeof(m->cni_path), "/opt/cni/bin");
	snprintf(m->pod_ifname, sizeof(m->pod_ifname), "eth0");
	m->cni_timeout_ms = 30000;
	snprintf(m->criu_network_lock, sizeof(m->criu_network_lock), "nftables");
	m->compression_level = 3;
	m->connect_timeout_ms = 3000;
	m->request_timeout_ms = 10000;
	m->stall_timeout_ms = 5000;
	m->transfer_timeout_ms = 600000;
	m->checkpoint_timeout_ms = 60000;
	m->restore_timeout_ms = 60000;
	m->poll_interval_ms = 200;
	m->resolve_timeout_ms = 30000;
	m->server_timeout_ms = 10000;
}

static int copy_path(json_t *v, const char *field, char *dst, size_t len, char *err,
		     size_t err_len)
{
	if (es_cfg_string(v, field, dst, len, err, err_len))
		return -1;
	if (dst[0] != '/')
		return es_cfg_fail(err, err_len, field, "must be an absolute path");
	return 0;
}

static int read_token_file(struct es_mig_config *m, json_t *v, char *err, size_t err_len)
{
	char path[256];
	size_t n;
	FILE *f;

	if (copy_path(v, "migration.token_file", path, sizeof(path), err, err_len))
		return -1;
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, err_len, "config: field 'migration.token_file': %s: %s", path,
			 strerror(errno));
		return -1;
	}
	n = fread(m->token, 1, sizeof(m->token) - 1, f);
	fclose(f);
	m->token[n] = '\0';
	while (n && (m->token[n - 1] == '\n' || m->token[n - 1] == '\r' || m->token[n - 1] == ' '))
		m->token[--n] = '\0';
	if (n < 16)
		return es_cfg_fail(err, err_len, "migration.token_file", "must hold a token of 16 characters or more");
	return 0;
}

static int parse_peers(struct es_mig_config *m, json_t *v, char *err, size_t err_len)
{
	const char *name;
	char field[96];
	json_t *url;

	if (!json_is_object(v))
		return es_cfg_fail(err, err_len, "migration.peers", "must be an object {\"node\": \"http://addr:port\"}");
	m->n_peers = 0;
	json_object_foreach(v, name, url) {
		struct es_mig_peer *p = &m->peers[m->n_peers];
		const char *u = json_string_value(url);

		snprintf(field, sizeof(field), "migration.peers.%.60s", name);
		if (m->n_peers >= ES_MIG_MAX_PEERS)
			return es_cfg_fail(err, err_len, "migration.peers", "has too many entries (at most 32)");
		if (!*name || strlen(name) >= sizeof(p->name))
			return es_cfg_fail(err, err_len, field, "needs a node name of 1 to 63 characters");
		if (!u || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) ||
		    strlen(u) >= sizeof(p->url))
			return es_cfg_fail(err, err_len, field, "must be an http:// or https:// URL");
		strcpy(p->name, name);
		strcpy(p->url, u);
		while (strlen(p->url) > 8 && p->url[strlen(p->url) - 1] == '/')
			p->url[strlen(p->url) - 1] = '\0';
		m->n_peers++;
	}
	return 0;
}

static const struct {
	const char	*key;
	size_t		off;
	unsigned int	lo, hi;
} uint_fields[] = {
	{ "compression_level", offsetof(struct es_mig_config, compression_level), 1, 19 },
	{ "connect_timeout_ms", offsetof(struct es_mig_config, connect_timeout_ms), 100, 600000 },
	{ "request_timeout_ms", offsetof(struct es_mig_config, request_timeout_ms), 100, 600000 },
	{ "stall_timeout_ms", offsetof(struct es_mig_config, stall_timeout_ms), 500, 600000 },
	{ "transfer_timeout_ms", offsetof(struct es_mig_config, transfer_timeout_ms), 1000, 86400000 },
	{ "checkpoint_timeout_ms", offsetof(struct es_mig_config, checkpoint_timeout_ms), 1000, 3600000 },
	{ "restore_timeout_ms", offsetof(struct es_mig_config, restore_timeout_ms), 1000, 3600000 },
	{ "poll_interval_ms", offsetof(struct es_mig_config, poll_interval_ms), 20, 10000 },
	{ "resolve_timeout_ms", offsetof(struct es_mig_config, resolve_timeout_ms), 1000, 3600000 },
	{ "server_timeout_ms", offsetof(struct es_mig_config, server_timeout_ms), 1000, 3600000 },
	{ "peer_init_cwnd", offsetof(struct es_mig_config, peer_init_cwnd), 0, 65535 },
	{ "peer_cwnd_clamp", offsetof(struct es_mig_config, peer_cwnd_clamp), 0, 65535 },
	{ "peer_rcvbuf", offsetof(struct es_mig_config, peer_rcvbuf), 0, 1U << 30 },
};

/* A PEM file, read now so a bad path fails at start, naming the field. */
static int read_pem(json_t *v, const char *field, char path[256], char **pem, char *err,
		    size_t err_len)
{
	FILE *f;
	long n;

	if (copy_path(v, field, path, 256, err, err_len))
		return -1;
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, err_len, "config: field '%s': %s: %s", field, path, strerror(errno));
		return -1;
	}
	free(*pem);
	*pem = NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && n < (1 << 20) && !fseek(f, 0, SEEK_SET)) {
		*pem = calloc(1, n + 1);
		if (*pem && fread(*pem, 1, n, f) != (size_t)n) {
			free(*pem);
			*pem = NULL;
		}
	}
	fclose(f);
	if (!*pem || !strstr(*pem, "-----BEGIN "))
		return es_cfg_fail(err, err_len, field, "must name a PEM file (under 1 MiB)");
	return 0;
}

/* The CNI network configuration a pod's plugin is given: one plugin, not a list. */
static int load_pod_conf(struct es_mig_config *m, char *err, size_t err_len)
{
	const char *field = "migration.pod_network.conf";
	json_t *c = json_load_file(m->pod_conf_path, 0, NULL);

	if (!c)
		return es_cfg_fail(err, err_len, field, "must name a readable JSON file");
	if (!json_is_string(json_object_get(c, "cniVersion")) ||
	    !json_is_string(json_object_get(c, "name")) ||
	    !es_safe_name(json_string_value(json_object_get(c, "type")) ?: "")) {
		json_decref(c);
		return es_cfg_fail(err, err_len, field, "must be a CNI network configuration with "
				   "cniVersion, name and type");
	}
	json_decref(m->pod_conf);
	m->pod_conf = c;
	return 0;
}

static int parse_pod_network(struct es_mig_config *m, json_t *v, char *err, size_t err_len)
{
	char field[96];
	const char *key;
	json_t *e;

	if (!json_is_object(v))
		return es_cfg_fail(err, err_len, "migration.pod_network", "must be an object");
	json_object_foreach(v, key, e) {
		snprintf(field, sizeof(field), "migration.pod_network.%.40s", key);
		if (!strcmp(key, "conf")) {
			if (copy_path(e, field, m->pod_conf_path, sizeof(m->pod_conf_path), err,
				      err_len))
				return -1;
		} else if (!strcmp(key, "cni_path")) {
			if (es_cfg_string(e, field, m->cni_path, sizeof(m->cni_path), err,
					  err_len))
				return -1;
		} else if (!strcmp(key, "ifname")) {
			if (es_cfg_string(e, field, m->pod_ifname, sizeof(m->pod_ifname), err,
					  err_len) || !m->pod_ifname[0] ||
			    strchr(m->pod_ifname, '/'))
				return es_cfg_fail(err, err_len, field,
						   "must be an interface name");
		} else if (!strcmp(key, "timeout_ms")) {
			if (es_cfg_uint(e, field, 100, 600000, &m->cni_timeout_ms, err, err_len))
				return -1;
		} else {
			return es_cfg_fail(err, err_len, field, "is not a known field (conf, "
					   "cni_path, ifname, timeout_ms)");
		}
	}
	if (!m->pod_conf_path[0])
		return es_cfg_fail(err, err_len, "migration.pod_network.conf", "is required");
	return load_pod_conf(m, err, err_len);
}

static int parse_key(struct es_mig_config *m, const char *key, json_t *v, char *err,
		     size_t err_len)
{
	char field[96];
	size_t i;

	snprintf(field, sizeof(field), "migration.%.70s", key);
	for (i = 0; i < sizeof(uint_fields) / sizeof(uint_fields[0]); i++)
		if (!strcmp(key, uint_fields[i].key))
			return es_cfg_uint(v, field, uint_fields[i].lo, uint_fields[i].hi,
				      (unsigned int *)((char *)m + uint_fields[i].off), err, err_len);
	if (!strcmp(key, "token")) {
		if (es_cfg_string(v, field, m->token, sizeof(m->token), err, err_len))
			return -1;
		return strlen(m->token) < 16 ? es_cfg_fail(err, err_len, field, "must be 16 characters or more") : 0;
	}
	if (!strcmp(key, "token_file"))
		return read_token_file(m, v, err, err_len);
	if (!strcmp(key, "peers"))
		return parse_peers(m, v, err, err_len);
	if (!strcmp(key, "event_log"))
		return copy_path(v, field, m->event_log, sizeof(m->event_log), err, err_len);
	if (!strcmp(key, "tls_cert"))
		return read_pem(v, field, m->tls_cert, &m->tls_cert_pem, err, err_len);
	if (!strcmp(key, "tls_key"))
		return read_pem(v, field, m->tls_key, &m->tls_key_pem, err, err_len);
	if (!strcmp(key, "tls_ca")) {
		if (copy_path(v, field, m->tls_ca, sizeof(m->tls_ca), err, err_len))
			return -1;
		if (access(m->tls_ca, R_OK))
			return es_cfg_fail(err, err_len, field, "must name a readable PEM file");
		return 0;
	}
	if (!strcmp(key, "runc"))
		return es_cfg_string(v, field, m->runc, sizeof(m->runc), err, err_len);
	if (!strcmp(key, "pod_network"))
		return parse_pod_network(m, v, err, err_len);
	if (!strcmp(key, "criu_network_lock")) {
		if (!json_is_string(v) || (strcmp(json_string_value(v), "nftables") &&
					   strcmp(json_string_value(v), "iptables")))
			return es_cfg_fail(err, err_len, field, "must be \"nftables\" or \"iptables\"");
		snprintf(m->criu_network_lock, sizeof(m->criu_network_lock), "%s",
			 json_string_value(v));
		return 0;
	}
	return es_cfg_fail(err, err_len, field, "is not a known field (token, token_file, peers, "
		    "event_log, runc, criu_network_lock, pod_network, compression_level, "
		    "poll_interval_ms, "
		    "*_timeout_ms, tls_cert, tls_key, tls_ca, peer_init_cwnd, peer_cwnd_clamp, "
		    "peer_rcvbuf)");
}

int es_mig_config_parse(struct es_mig_config *m, json_t *v, char *err, size_t err_len)
{
	const char *key;
	json_t *e;

	if (!json_is_object(v))
		return es_cfg_fail(err, err_len, "migration", "must be an object");
	json_object_foreach(v, key, e) {
		if (parse_key(m, key, e, err, err_len))
			return -1;
	}
	if (!m->tls_cert[0] != !m->tls_key[0])
		return es_cfg_fail(err, err_len, m->tls_cert[0] ? "migration.tls_key" : "migration.tls_cert",
			    "is needed too: tls_cert and tls_key go together");
	return 0;
}

int es_mig_config_state_dir(struct es_mig_config *m, json_t *v, char *err, size_t err_len)
{
	return copy_path(v, "state_dir", m->state_dir, sizeof(m->state_dir), err, err_len);
}

const struct es_mig_peer *es_mig_peer_find(const struct es_mig_config *m, const char *name)
{
	unsigned int i;

	for (i = 0; i < m->n_peers; i++)
		if (!strcmp(m->peers[i].name, name))
			return &m->peers[i];
	return NULL;
}
