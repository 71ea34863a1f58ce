// SPDX-License-Identifier: GPL-2.0-only
/* Literal addresses and endpoints into socket addresses (sockaddr.h). */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "sockaddr.h"

socklen_t es_sockaddr_set(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return sizeof(*s6);
	}
	return 0;
}

/* PORT of digits only, 0 to 65535, into *port: 0, or -1. */
static int port_parse(const char *s, uint16_t *port)
{
	unsigned long p = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || (p = p * 10 + (unsigned long)(*s - '0')) > 65535)
			return -1;
	}
	*port = p;
	return 0;
}

socklen_t es_sockaddr_parse(const char *text, struct sockaddr_storage *ss)
{
	const char *colon = strrchr(text, ':'), *host = text;
	char buf[INET6_ADDRSTRLEN];
	size_t n = colon ? (size_t)(colon - text) : 0;
	uint16_t port;
	socklen_t len;

	if (!colon || port_parse(colon + 1, &port))
		return 0;
	if (*text == '[') {
		if (n < 2 || text[n - 1] != ']')
			return 0;
		host = text + 1;
		n -= 2;
	}
	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, host, n);
	buf[n] = '\0';
	len = es_sockaddr_set(buf, port, ss);
	/* brackets hold IPv6 only; IPv6 needs them */
	if (len && (ss->ss_family == AF_INET6) != (host != text))
		return 0;
	return len;
}

uint16_t es_sockaddr_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port :
						((const struct sockaddr_in *)ss)->sin_port);
}
