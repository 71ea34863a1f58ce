/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The target's side of one object arriving (image, layer or checkpoint of
 * an incoming migration), whichever request carries it (a PUT of the
 * object, or a record of a bundle, bundle.h): the bytes go to the object's
 * file in the migration's staging, its sha256 and size are taken as they
 * arrive and kept beside it for the restore, and it is unpacked
 * while it arrives (in_unpack.c). An object that did not arrive whole
 * leaves nothing behind.
 */
#ifndef EDGESHIFT_IN_OBJECT_H
#define EDGESHIFT_IN_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct es_migrator;
struct es_mig_in_obj;

/*
 * Object name of incoming migration id, created empty; NULL with err when
 * the migration or the object name is unknown (*unknown set) or the file
 * cannot be made.
 */
struct es_mig_in_obj *es_mig_in_obj_open(struct es_migrator *m, const char *id,
					 const char *name, bool *unknown, char *err,
					 size_t err_len);
/* More of its bytes; 0 or -errno (the object is then failed). */
int es_mig_in_obj_write(struct es_mig_in_obj *o, const void *data, size_t len);
/* Bytes received so far. */
uint64_t es_mig_in_obj_bytes(const struct es_mig_in_obj *o);
/*
 * The end of it: whole (the sender's end came) keeps the file and its
 * sha256 (returned in sha256 when not NULL), else everything is removed.
 * 0, or -errno when a whole object could not be kept. Frees o.
 */
int es_mig_in_obj_close(struct es_mig_in_obj *o, bool whole, char sha256[65]);

#endif
