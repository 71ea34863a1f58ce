// SPDX-License-Identifier: GPL-2.0-only
/* Names of the migration states and abort reasons; session keys as text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
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

static int endpoint_parse(const char *s, __u32 *addr, __u16 *port)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long p;
	size_t n;

	if (!colon)
		return -EINVAL;
	n = colon - s;
	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, addr) != 1)
		return -EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p > 65535)
		return -EINVAL;
	*port = htons(p);
	return 0;
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
	if (endpoint_parse(buf, &key->user_addr, &key->user_port) ||
	    endpoint_parse(gt, &key->svc_addr, &key->svc_port))
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
	char u[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &key->user_addr, u, sizeof(u));
	inet_ntop(AF_INET, &key->svc_addr, s, sizeof(s));
	snprintf(buf, len, "%s:%u>%s:%u/%s", u, ntohs(key->user_port), s, ntohs(key->svc_port),
		 key->proto == IPPROTO_TCP ? "tcp" : "udp");
}
