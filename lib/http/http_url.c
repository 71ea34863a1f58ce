// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "http_url.h"

/* "http://" or "https://": what follows, and the scheme's port; NULL for another scheme. */
static const char *after_scheme(const char *url, uint16_t *port)
{
	if (!strncasecmp(url, "http://", 7)) {
		*port = 80;
		return url + 7;
	}
	if (!strncasecmp(url, "https://", 8)) {
		*port = 443;
		return url + 8;
	}
	return NULL;
}

static int parse_port(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (!n || n > 5)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (!v || v > 65535)
		return -EINVAL;
	*port = v;
	return 0;
}

int es_url_host_port(const char *url, char *host, size_t host_len, uint16_t *port)
{
	const char *a = after_scheme(url, port), *end, *at, *h, *he, *colon;

	if (!a)
		return -EINVAL;
	end = a + strcspn(a, "/?#");
	at = memchr(a, '@', end - a);
	h = at ? at + 1 : a;
	if (*h == '[') {
		he = memchr(h, ']', end - h);
		if (!he)
			return -EINVAL;
		colon = he + 1 < end ? he + 1 : NULL;
		if (colon && *colon != ':')
			return -EINVAL;
		h++;
	} else {
		colon = memchr(h, ':', end - h);
		he = colon ? colon : end;
	}
	if (he == h || (size_t)(he - h) >= host_len)
		return -EINVAL;
	if (colon && parse_port(colon + 1, end - colon - 1, port))
		return -EINVAL;
	memcpy(host, h, he - h);
	host[he - h] = '\0';
	return 0;
}

int es_url_ipv4(const char *url, uint32_t *addr, uint16_t *port)
{
	char host[256];
	uint16_t p;
	int ret;

	ret = es_url_host_port(url, host, sizeof(host), &p);
	if (ret)
		return ret;
	if (inet_pton(AF_INET, host, addr) != 1)
		return -EINVAL;
	if (port)
		*port = p;
	return 0;
}
