/* SPDX-License-Identifier: GPL-2.0-only */
/* Names of migration states and abort reasons; session keys as text. */
#ifndef EDGESHIFT_MIGCTL_NAMES_H
#define EDGESHIFT_MIGCTL_NAMES_H

#include <stddef.h>
#include <netinet/in.h>
#include <edgeshift/migration.h>

const char *es_mig_state_name(unsigned int state);
const char *es_mig_abort_name(unsigned int reason);
/* The same reason in words, for an error a person reads. */
const char *es_mig_abort_why(unsigned int reason);
/*
 * Addresses as in es_mig_key (four words, IPv4 mapped). An address is
 * "192.0.2.1" or "2001:db8::1"; an endpoint "192.0.2.1:80" or
 * "[2001:db8::1]:80". Parsers return 0 or -EINVAL.
 */
#define ES_MIG_ENDPOINT_LEN	(46 + 8)	/* INET6_ADDRSTRLEN, brackets, ":65535" */
int es_mig_addr_parse(const char *text, __u32 *addr);
void es_mig_addr_format(const __u32 *addr, char *buf, size_t len);
int es_mig_endpoint_parse(const char *text, __u32 *addr, __u16 *port);
void es_mig_endpoint_format(const __u32 *addr, __u16 port, char *buf, size_t len);
/* An es_mig_key address as the socket readers of lib/net take it (the same 16 bytes). */
static inline const struct in6_addr *es_mig_in6(const __u32 *addr)
{
	return (const struct in6_addr *)addr;
}

/* Room for es_mig_key_format's text of any key. */
#define ES_MIG_KEY_TEXT_LEN	128
/* "user:port>svc:port/udp" -> key; 0 or -EINVAL (err names the field). */
int es_mig_key_parse(const char *text, struct es_mig_key *key, char *err, size_t err_len);
void es_mig_key_format(const struct es_mig_key *key, char *buf, size_t len);

#endif /* EDGESHIFT_MIGCTL_NAMES_H */
