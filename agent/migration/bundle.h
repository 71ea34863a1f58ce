/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A bundle: every object of a migration and its restore request in one
 * request, PUT /v1/migrations/incoming/ID/bundle[?wait_ms=N] (chunked), so
 * that the source waits for no answer between the objects and none between
 * the last object and the restore request: two round trips fewer in
 * partial mode (0.4 s at Paper D's 200 ms RTT), three in complete mode.
 * The answer is the restore request's (202, or with wait_ms the outcome).
 * A target says it takes bundles in its prepare answer ("bundle": true);
 * with an older target the source sends each object and the restore
 * request on their own, as before.
 *
 * The body is a sequence of records, each an 8-byte header and a payload:
 *   byte 0     kind: ES_BUNDLE_DATA, ES_BUNDLE_END or ES_BUNDLE_RESTORE
 *   byte 1     the object (ES_MIG_OBJ_IMAGE, _LAYER, _CHECKPOINT of migrate.h); 0 for
 *              RESTORE
 *   bytes 2-3  zero
 *   bytes 4-7  payload length, big-endian: DATA 1 .. ES_BUNDLE_DATA_MAX,
 *              END 0, RESTORE 1 .. ES_BUNDLE_JSON_MAX
 * An object is its DATA records in order, closed by its END; objects come
 * one after the other, each at most once. The last record is the one
 * RESTORE, whose payload is the restore request's JSON ({objects: {NAME:
 * {sha256, bytes}}}, as POST .../restore takes). A body that breaks off,
 * or breaks these rules, restores nothing; an object it left unfinished is
 * removed (whole ones go with the migration's staging, as uploaded ones).
 */
#ifndef EDGESHIFT_BUNDLE_H
#define EDGESHIFT_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#define ES_BUNDLE_HDR		8
#define ES_BUNDLE_DATA_MAX	(1U << 20)
#define ES_BUNDLE_JSON_MAX	(64U << 10)

enum { ES_BUNDLE_DATA = 1, ES_BUNDLE_END = 2, ES_BUNDLE_RESTORE = 3 };

struct es_migrator;
struct es_mig_bundle_in;
struct es_mig_bundle_out;

/* The target: a bundle for incoming migration id; NULL when out of memory. */
struct es_mig_bundle_in *es_mig_bundle_in_new(struct es_migrator *m, const char *id);
/* Body bytes as they come; once refused, the rest is dropped (the end says why). */
void es_mig_bundle_in_feed(struct es_mig_bundle_in *b, const char *data, size_t len);
/*
 * The body ended: the restore request (the caller frees it), or NULL with
 * err and *sender_fault (the body broke the rules or named an unknown
 * migration, else this node could not store it). Frees b.
 */
json_t *es_mig_bundle_in_end(struct es_mig_bundle_in *b, bool *unknown, bool *sender_fault,
			     char *err, size_t err_len);
/* The body broke off: drop what arrived. Frees b. */
void es_mig_bundle_in_free(struct es_mig_bundle_in *b);

/*
 * The source: a part is a packed file (the writable layer, packed while
 * the container was paused) or a directory packed while it is sent.
 */
struct es_mig_bundle_part {
	int		obj;		/* ES_MIG_OBJ_IMAGE ...; its name es_mig_object_names[obj] */
	const char	*file;		/* a packed archive, or NULL ... */
	const char	*dir;		/* ... a directory to pack (compression level below) */
	/* filled as it is sent */
	char		sha256[65];
	uint64_t	bytes;		/* archive bytes sent */
	uint64_t	raw_bytes;	/* bytes before compression (dir parts) */
};

/*
 * part_sent is called with each part's object once its END record is
 * made, and with -1 once the RESTORE record is.
 */
struct es_mig_bundle_out *es_mig_bundle_out_new(struct es_mig_bundle_part *parts, int n,
						int level,
						void (*part_sent)(void *arg, int obj),
						void *arg);
/* es_http_upload's read function over the bundle. */
ssize_t es_mig_bundle_out_read(void *arg, char *buf, size_t len);
/* Whether the RESTORE record was handed to the connection. */
bool es_mig_bundle_out_restore_sent(const struct es_mig_bundle_out *b);
/* Why reading stopped short (a part could not be read or packed), or NULL. */
const char *es_mig_bundle_out_error(const struct es_mig_bundle_out *b);
/* Stops any packer still running. Frees b. */
void es_mig_bundle_out_free(struct es_mig_bundle_out *b);

#endif
