/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Literal IP addresses and endpoints as configuration and tools write
 * them, into socket addresses, without a resolver (libc only: the static
 * es-counter links it too).
 */
#ifndef EDGESHIFT_UTIL_SOCKADDR_H
#define EDGESHIFT_UTIL_SOCKADDR_H

#include <stdint.h>
#include <sys/socket.h>

/*
 * host, an IPv4 or an IPv6 address (no brackets), and port (host order)
 * into ss: its length, or 0 when host is neither.
 */
socklen_t es_sockaddr_set(const char *host, uint16_t port, struct sockaddr_storage *ss);

/*
 * "IPv4:PORT" or "[IPv6]:PORT" (PORT all digits, 0 to 65535: a caller
 * that needs one refuses 0) into ss: its length, or 0 when text is not
 * one. A bare IPv6 address is refused: its last colon is not a port's.
 */
socklen_t es_sockaddr_parse(const char *text, struct sockaddr_storage *ss);

/* The port of ss, host order. */
uint16_t es_sockaddr_port(const struct sockaddr_storage *ss);

#endif /* EDGESHIFT_UTIL_SOCKADDR_H */
