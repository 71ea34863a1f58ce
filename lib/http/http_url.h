/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where a peer's URL points: the host and port of
 * "http[s]://[USER@]HOST[:PORT][/PATH]", for the code that needs the
 * address itself rather than an HTTP exchange (eBPF maps keyed by a
 * peer's address, matching a packet's source to a peer).
 */
#ifndef EDGESHIFT_HTTP_URL_H
#define EDGESHIFT_HTTP_URL_H

#include <stddef.h>
#include <stdint.h>

/*
 * HOST as written (an IPv6 literal without its brackets) and the port, or
 * the scheme's (80, 443) when none is written. 0, or -EINVAL when url is
 * not an http or https URL with a host and a port from 1 to 65535.
 */
int es_url_host_port(const char *url, char *host, size_t host_len, uint16_t *port);
/* The same when HOST is an IPv4 literal: its address in network order; port may be NULL. */
int es_url_ipv4(const char *url, uint32_t *addr, uint16_t *port);

#endif /* EDGESHIFT_HTTP_URL_H */
