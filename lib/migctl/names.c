// SPDX-License-Identifier: GPL-2.0-only
/* Names of the migration states and abort reasons; session keys as text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "util/sockaddr.h"
#include "names.h"

const char *es_mig_state_name(unsigned int state)
{
	static const char *const names[ES_MIG_STATE_MAX] = {
		"none", "forwarding", "hold", "replaying", "cutover", "aborted",
	};

	return state < ES_MIG_STATE_MAX ? names[state] : "unknown";
}

const char *es_mig_abort_why(unsigned int reason)
{
	static const char *const why[ES_MIG_ABORT_MAX] = {
		"no reason",
		"replay buffer full: more requests past the cursor than replay_limit",
		"replay buffer full: es_mig_replay has no free entry (zero_downtime.records)",
		"a request longer than the replay buffer's 1500-byte records",
		"aborted by an agent",
		"the restored container sent other bytes than the old one at the same TCP "
		"sequence number (the service is not deterministic, or its connections share "
		"state)",
	};

	return reason < ES_MIG_ABORT_MAX ? why[reason] : "unknown reason";
}

const char *es_mig_abort_name(unsigned int reason)
{
	static const char *const names[ES_MIG_ABORT_MAX] = {
		"none", "buffer_full", "map_full", "too_big", "agent", "diverged",
	};

	return reason < ES_MIG_ABORT_MAX ? names[reason] : "unknown";
}

/* ss as an es_mig_key address (IPv4 mapped); an IPv6 one written mapped is refused. */
static int addr_of(const struct sockaddr_storage *ss, __u32 *addr)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET) {
		es_mig_addr4(addr, ((const struct sockaddr_in *)ss)->sin_addr.s_addr);
		return 0;
	}
	memcpy(addr, &s6->sin6_addr, 16);
	return es_mig_addr_is4(addr) ? -EINVAL : 0;
}

int es_mig_addr_parse(const char *text, __u32 *addr)
{
	struct sockaddr_storage ss;

	return es_sockaddr_set(text, 0, &ss) ? addr_of(&ss, addr) : -EINVAL;
}

void es_mig_addr_format(const __u32 *addr, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (es_mig_addr_is4(addr))
		inet_ntop(AF_INET, &addr[3], a, sizeof(a));
	else
		inet_ntop(AF_INET6, addr, a, sizeof(a));
	snprintf(buf, len, "%s", a);
}

int es_mig_endpoint_parse(const char *s, __u32 *addr, __u16 *port)
{
	struct sockaddr_storage ss;

	if (!es_sockaddr_parse(s, &ss) || addr_of(&ss, addr))
		return -EINVAL;
	*port = htons(es_sockaddr_port(&ss));
	return 0;
}

void es_mig_endpoint_format(const __u32 *addr, __u16 port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	es_mig_addr_format(addr, a, sizeof(a));
	snprintf(buf, len, es_mig_addr_is4(addr) ? "%s:%u" : "[%s]:%u", a, ntohs(port));
}

int es_mig_key_parse(const char *text, struct es_mig_key *key, char *err, size_t err_len)
{
	char buf[128], *gt, *slash;

	memset(key, 0, sizeof(*key));
	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf))
		goto bad;
	key->proto = IPPROTO_UDP;
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (!strcmp(slash, "tcp"))
			key->proto = IPPROTO_TCP;
		else if (strcmp(slash, "udp"))
			goto bad;
	}
	gt = strchr(buf, '>');
	if (!gt)
		goto bad;
	*gt++ = '\0';
	if (es_mig_endpoint_parse(buf, key->user_addr, &key->user_port) ||
	    es_mig_endpoint_parse(gt, key->svc_addr, &key->svc_port))
		goto bad;
	return 0;
bad:
	if (err)
		snprintf(err, err_len, "session '%s': want USER_ADDR:PORT>SERVICE_ADDR:PORT[/udp|/tcp]",
			 text);
	return -EINVAL;
}

void es_mig_key_format(const struct es_mig_key *key, char *buf, size_t len)
{
	char u[ES_MIG_ENDPOINT_LEN], s[ES_MIG_ENDPOINT_LEN];

	es_mig_endpoint_format(key->user_addr, key->user_port, u, sizeof(u));
	es_mig_endpoint_format(key->svc_addr, key->svc_port, s, sizeof(s));
	snprintf(buf, len, "%s>%s/%s", u, s, key->proto == IPPROTO_TCP ? "tcp" : "udp");
}
