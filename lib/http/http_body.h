/* SPDX-License-Identifier: GPL-2.0-only */
/* An HTTP answer gathered by libcurl into memory, NUL-terminated. */
#ifndef EDGESHIFT_HTTP_BODY_H
#define EDGESHIFT_HTTP_BODY_H

#include <stdbool.h>
#include <stddef.h>

struct es_http_body {
	char	*data;	/* malloc'd, NUL-terminated; NULL until the first byte */
	size_t	len;
	size_t	max;	/* bytes accepted before the transfer is failed; 0: no bound */
	bool	over;	/* the answer went past max */
	bool	discard;	/* read and thrown away: only the status matters */
};

/* CURLOPT_WRITEFUNCTION with CURLOPT_WRITEDATA pointing at a struct es_http_body. */
size_t es_http_body_write(char *p, size_t size, size_t n, void *arg);

#endif
