/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * File-system helpers of the container and migration code. Names that
 * arrive from the network (container names, migration ids, image digests)
 * pass es_safe_name() before they become a path component, so no request
 * reaches outside the agent's state directory.
 */
#ifndef EDGESHIFT_FS_UTIL_H
#define EDGESHIFT_FS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ES_PATH	1024	/* every path under the state directory fits */

/* [A-Za-z0-9][A-Za-z0-9_.-]{0,62}, never "." or "..". */
bool es_safe_name(const char *s);
/* 64 lowercase hex digits (a sha256). */
bool es_hex_digest(const char *s);

int es_mkdir_p(const char *path, unsigned int mode);
/* Remove a tree without following symlinks and without crossing mounts. */
int es_rm_rf(const char *path);
/* Bytes of every regular file under path (not following symlinks). */
uint64_t es_tree_bytes(const char *path);

/* sha256 of a file as 64 hex digits; 0 or -errno. */
int es_sha256_file(const char *path, char hex[65]);
struct es_sha256;
struct es_sha256 *es_sha256_new(void);
void es_sha256_update(struct es_sha256 *h, const void *p, size_t n);
/* Writes the hex digest and frees h. */
void es_sha256_final(struct es_sha256 *h, char hex[65]);

int es_write_file(const char *path, const char *data, size_t len);
/* Read a small file into a NUL-terminated malloc'd buffer. */
char *es_read_file(const char *path, size_t max, size_t *len);

#endif
