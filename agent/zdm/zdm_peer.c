// SPDX-License-Identifier: GPL-2.0-only
/*
 * Requests of the zero-downtime protocol to a peer agent. Parameters go in
 * the query string (the answer is given at once, no body to collect), and
 * a peer that does not answer is asked again until peer_retry_ms: an agent
 * restarted mid-migration answers again within that time, and every step
 * it is asked is idempotent.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "util/clock.h"
#include "util/log.h"
#include "zdm_int.h"

int es_zdm_peer_addr(const struct es_zdm *z, const char *node, __u32 *addr)
{
	const struct es_mig_peer *p = es_mig_peer_find(z->mcfg, node);

	if (!p) {
		memset(addr, 0, 16);
		return -1;
	}
	return es_zdm_url_addr(p->url, addr);
}

const char *es_zdm_peer_by_addr(const struct es_zdm *z, const __u32 *addr)
{
	unsigned int i;
	__u32 a[4];

	for (i = 0; i < z->mcfg->n_peers; i++)
		if (!es_zdm_peer_addr(z, z->mcfg->peers[i].name, a) && es_mig_addr_eq(a, addr))
			return z->mcfg->peers[i].name;
	return NULL;
}

void es_zdm_query_add(char *buf, size_t len, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(buf);
	const unsigned char *p;

	n += snprintf(buf + n, n < len ? len - n : 0, "&%s=", name);
	for (p = (const unsigned char *)value; *p && n + 4 < len; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			buf[n++] = *p;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 15];
		}
	}
	if (n < len)
		buf[n] = '\0';
}

int es_zdm_peer_call(struct es_zdm *z, const char *url, const char *method, const char *path,
		     json_t **resp, char *err, size_t err_len)
{
	const struct es_mig_config *mc = z->mcfg;
	unsigned int timeout = mc->request_timeout_ms + z->cfg->hold_timeout_ms +
			       z->cfg->cutover_timeout_ms;
	int64_t give_up = es_now_ms() + z->cfg->peer_retry_ms;
	int code;

	for (;;) {
		if (resp)
			*resp = NULL;
		code = es_peer_json(es_migrator_peers(z->m), mc, url, method, path, NULL, timeout,
				    resp, err, err_len);
		if (code || es_now_ms() >= give_up || atomic_load(&z->stopping))
			return code;
		es_warn("zdm_peer_retry", "url=%s path=\"%.120s\" error=\"%s\"", url, path, err);
		struct timespec ts = { 0, 300 * 1000000L };
		nanosleep(&ts, NULL);
	}
}
