// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include "http_body.h"

size_t es_http_body_write(char *p, size_t size, size_t n, void *arg)
{
	struct es_http_body *b = arg;
	size_t add = size * n;
	char *nd;

	if (b->discard)
		return add;
	if (b->max && b->len + add > b->max) {
		b->over = true;
		return 0;	/* libcurl fails the transfer */
	}
	nd = realloc(b->data, b->len + add + 1);
	if (!nd)
		return 0;
	b->data = nd;
	memcpy(b->data + b->len, p, add);
	b->len += add;
	b->data[b->len] = '\0';
	return add;
}
