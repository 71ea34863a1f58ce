// SPDX-License-Identifier: GPL-2.0-only
/* The target's reader of a bundle (bundle.h): records into objects and the restore request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "in_object.h"
#include "bundle.h"
#include "migrate.h"


struct es_mig_bundle_in {
	struct es_migrator	*m;
	char			id[40];
	uint8_t			hdr[ES_BUNDLE_HDR];
	size_t			hdr_have;
	uint8_t			kind;
	uint32_t		left;		/* payload bytes of the current record still to come */
	bool			in_record;
	struct es_mig_in_obj	*cur;		/* the object being received ... */
	int			cur_obj;	/* ... which one */
	bool			done[ES_MIG_OBJECTS];
	char			*json;		/* the RESTORE payload */
	size_t			json_len;
	/* refused: the rest is dropped, the end says why */
	bool			failed, unknown, sender_fault;
	char			why[512];
};

struct es_mig_bundle_in *es_mig_bundle_in_new(struct es_migrator *m, const char *id)
{
	struct es_mig_bundle_in *b = calloc(1, sizeof(*b));

	if (b) {
		b->m = m;
		snprintf(b->id, sizeof(b->id), "%s", id);
	}
	return b;
}

static void refuse(struct es_mig_bundle_in *b, bool sender, const char *why, const char *obj)
{
	if (b->failed)
		return;
	b->failed = true;
	b->sender_fault = sender;
	snprintf(b->why, sizeof(b->why), "bundle: %s%s", why, obj ? obj : "");
}

/* DATA or END of object obj: it continues the current object or starts the next. */
static void object_record(struct es_mig_bundle_in *b, int obj, uint32_t len)
{
	bool unknown;
	int ret;

	if ((b->kind == ES_BUNDLE_DATA) != (len > 0) || len > ES_BUNDLE_DATA_MAX)
		return refuse(b, true, "bad record length for the ", es_mig_object_names[obj]);
	if (b->cur && obj != b->cur_obj)
		return refuse(b, true, "objects interleaved: the ", es_mig_object_names[obj]);
	if (!b->cur) {
		if (b->done[obj])
			return refuse(b, true, "sent twice: the ", es_mig_object_names[obj]);
		b->cur = es_mig_in_obj_open(b->m, b->id, es_mig_object_names[obj], &unknown, b->why,
					    sizeof(b->why));
		if (!b->cur) {
			b->failed = true;
			b->unknown = b->sender_fault = unknown;
			return;
		}
		b->cur_obj = obj;
	}
	if (b->kind == ES_BUNDLE_DATA)
		return;
	ret = es_mig_in_obj_close(b->cur, true, NULL);
	b->cur = NULL;
	b->done[obj] = true;
	b->in_record = false;
	if (ret)
		refuse(b, false, "cannot store the ", es_mig_object_names[obj]);
}

/* A record's header is whole: check it against what came before. */
static void record_start(struct es_mig_bundle_in *b)
{
	uint32_t len = (uint32_t)b->hdr[4] << 24 | (uint32_t)b->hdr[5] << 16 |
		       (uint32_t)b->hdr[6] << 8 | b->hdr[7];

	b->kind = b->hdr[0];
	b->left = len;
	b->in_record = true;
	if (b->json)
		return refuse(b, true, "a record after the restore request", NULL);
	if (b->hdr[2] || b->hdr[3])
		return refuse(b, true, "malformed record header", NULL);
	if (b->kind == ES_BUNDLE_DATA || b->kind == ES_BUNDLE_END) {
		if (b->hdr[1] >= ES_MIG_OBJECTS)
			return refuse(b, true, "unknown object", NULL);
		return object_record(b, b->hdr[1], len);
	}
	if (b->kind != ES_BUNDLE_RESTORE)
		return refuse(b, true, "unknown record kind", NULL);
	if (b->cur)
		return refuse(b, true, "the restore request inside the ", es_mig_object_names[b->cur_obj]);
	if (!len || len > ES_BUNDLE_JSON_MAX || b->hdr[1])
		return refuse(b, true, "bad restore request record", NULL);
	b->json = malloc(len);
	if (!b->json)
		refuse(b, false, "out of memory", NULL);
}

/* Up to len payload bytes of the current record; how many were taken. */
static size_t payload(struct es_mig_bundle_in *b, const char *data, size_t len)
{
	size_t n = len < b->left ? len : b->left;

	if (b->kind == ES_BUNDLE_DATA && es_mig_in_obj_write(b->cur, data, n))
		refuse(b, false, "cannot store the ", es_mig_object_names[b->cur_obj]);
	if (b->kind == ES_BUNDLE_RESTORE) {
		memcpy(b->json + b->json_len, data, n);
		b->json_len += n;
	}
	b->left -= n;
	if (!b->left)
		b->in_record = false;
	return n;
}

void es_mig_bundle_in_feed(struct es_mig_bundle_in *b, const char *data, size_t len)
{
	size_t n;

	while (len && !b->failed) {
		if (b->in_record) {
			n = payload(b, data, len);
		} else {
			n = ES_BUNDLE_HDR - b->hdr_have;
			n = n < len ? n : len;
			memcpy(b->hdr + b->hdr_have, data, n);
			b->hdr_have += n;
			if (b->hdr_have == ES_BUNDLE_HDR) {
				b->hdr_have = 0;
				record_start(b);
			}
		}
		data += n;
		len -= n;
	}
}

void es_mig_bundle_in_free(struct es_mig_bundle_in *b)
{
	if (b->cur)
		es_mig_in_obj_close(b->cur, false, NULL);
	free(b->json);
	free(b);
}

json_t *es_mig_bundle_in_end(struct es_mig_bundle_in *b, bool *unknown, bool *sender_fault,
			     char *err, size_t err_len)
{
	json_t *req = NULL;

	if (!b->failed && (b->in_record || b->hdr_have || b->cur))
		refuse(b, true, "the body ended inside a record", NULL);
	if (!b->failed && !b->json)
		refuse(b, true, "no restore request", NULL);
	if (!b->failed) {
		req = json_loadb(b->json, b->json_len, 0, NULL);
		if (!req)
			refuse(b, true, "the restore request is not valid JSON", NULL);
	}
	*unknown = b->unknown;
	*sender_fault = b->sender_fault;
	snprintf(err, err_len, "%s", b->why);
	es_mig_bundle_in_free(b);
	return req;
}
