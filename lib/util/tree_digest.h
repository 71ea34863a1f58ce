/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The digest of a directory tree's content: the name of an image
 * (STATE/images/DIGEST/rootfs). The fixture that builds an image and the
 * target that receives one compute it the same way, so a target can check
 * that what it stores under a digest has that digest.
 */
#ifndef EDGESHIFT_TREE_DIGEST_H
#define EDGESHIFT_TREE_DIGEST_H

#include <stddef.h>

/*
 * sha256 over every entry below dir (dir itself left out), depth first,
 * siblings in byte order of their names: per entry its relative path,
 * type, permission bits and (regular files) size, then a file's bytes or
 * a symlink's target. Owners and times are left out: they do not survive
 * every copy and do not change what the image runs. 0 or -errno (and err).
 */
int es_tree_digest(const char *dir, char hex[65], char *err, size_t err_len);

#endif
