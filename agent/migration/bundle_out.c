// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source's writer of a bundle (bundle.h): the parts one after the
 * other as DATA records, each closed by its END, then the RESTORE record
 * with every part's sha256 and size, taken over the bytes as they went.
 * A directory part is packed by a thread into a pipe while the records go
 * out, so packing hides behind the link, as for a single object.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/fs_util.h"
#include "packer.h"
#include "bundle.h"
#include "migrate.h"

enum { ST_PART, ST_DATA, ST_RESTORE, ST_DONE, ST_FAILED };

struct es_mig_bundle_out {
	struct es_mig_bundle_part	*parts;
	int				n, i, level, st;
	void				(*part_sent)(void *arg, int obj);
	void				*arg;
	/* the current part */
	int				fd;
	struct es_sha256		*sha;
	bool				packing;
	struct es_packer		pk;
	/* the record being handed out */
	char				*rec;
	size_t				pos, len;
	char				err[700];
};

struct es_mig_bundle_out *es_mig_bundle_out_new(struct es_mig_bundle_part *parts, int n,
						int level, void (*part_sent)(void *arg, int obj),
						void *arg)
{
	struct es_mig_bundle_out *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->rec = malloc(ES_BUNDLE_HDR + ES_BUNDLE_DATA_MAX);
	if (!b->rec) {
		free(b);
		return NULL;
	}
	*b = (struct es_mig_bundle_out){ .parts = parts, .n = n, .level = level, .rec = b->rec,
					 .part_sent = part_sent, .arg = arg, .fd = -1 };
	return b;
}

static void header(char *h, int kind, int obj, uint32_t len)
{
	h[0] = kind;
	h[1] = obj;
	h[2] = h[3] = 0;
	h[4] = len >> 24;
	h[5] = len >> 16;
	h[6] = len >> 8;
	h[7] = len;
}

static int fail(struct es_mig_bundle_out *b, const char *what, const char *why)
{
	if (b->st != ST_FAILED)
		snprintf(b->err, sizeof(b->err), "%s the %s: %s", what,
			 b->i < b->n ? es_mig_object_names[b->parts[b->i].obj] : "restore request", why);
	b->st = ST_FAILED;
	return -EIO;
}

/* The current part's bytes: its file, or a pipe its packer writes into. */
static int part_open(struct es_mig_bundle_out *b)
{
	struct es_mig_bundle_part *p = &b->parts[b->i];
	char err[512];

	b->sha = es_sha256_new();
	if (!b->sha)
		return fail(b, "sending", "out of memory");
	if (p->file) {
		b->fd = open(p->file, O_RDONLY | O_CLOEXEC);
		return b->fd < 0 ? fail(b, "reading", strerror(errno)) : 0;
	}
	if (es_packer_start(&b->pk, p->dir, b->level, err, sizeof(err)))
		return fail(b, "packing", err);
	b->fd = b->pk.fd;
	b->packing = true;
	return 0;
}

/* Stop reading the current part (a packer still writing stops); its packer's result. */
static int part_close(struct es_mig_bundle_out *b)
{
	int ret = 0;

	if (b->packing)
		ret = es_packer_finish(&b->pk);	/* closes the read end */
	else if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	b->packing = false;
	if (b->sha)
		es_sha256_final(b->sha, b->parts[b->i].sha256);
	b->sha = NULL;
	return ret;
}

/* The part's end came: its END record; its sha256 and sizes kept. */
static int part_end(struct es_mig_bundle_out *b)
{
	struct es_mig_bundle_part *p = &b->parts[b->i];
	bool packed = b->packing;

	if (part_close(b))
		return fail(b, "packing", b->pk.err);
	if (packed)
		p->raw_bytes = b->pk.st.raw_bytes;
	header(b->rec, ES_BUNDLE_END, p->obj, 0);
	b->len = ES_BUNDLE_HDR;
	if (b->part_sent)
		b->part_sent(b->arg, p->obj);
	b->st = ++b->i < b->n ? ST_PART : ST_RESTORE;
	return 0;
}

static int data_record(struct es_mig_bundle_out *b)
{
	ssize_t r;

	do
		r = read(b->fd, b->rec + ES_BUNDLE_HDR, ES_BUNDLE_DATA_MAX);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return fail(b, "reading", strerror(errno));
	if (!r)
		return part_end(b);
	es_sha256_update(b->sha, b->rec + ES_BUNDLE_HDR, r);
	b->parts[b->i].bytes += r;
	header(b->rec, ES_BUNDLE_DATA, b->parts[b->i].obj, r);
	b->len = ES_BUNDLE_HDR + r;
	return 0;
}

static int restore_record(struct es_mig_bundle_out *b)
{
	json_t *objs = json_object(), *req = json_pack("{s:o}", "objects", objs);
	char *text;
	size_t n;
	int i;

	for (i = 0; i < b->n; i++)
		json_object_set_new(objs, es_mig_object_names[b->parts[i].obj],
				    json_pack("{s:s,s:I}", "sha256", b->parts[i].sha256, "bytes",
					      (json_int_t)b->parts[i].bytes));
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	n = text ? strlen(text) : 0;
	if (!n || n > ES_BUNDLE_JSON_MAX) {
		free(text);
		return fail(b, "encoding", "out of memory or too long");
	}
	header(b->rec, ES_BUNDLE_RESTORE, 0, n);
	memcpy(b->rec + ES_BUNDLE_HDR, text, n);
	free(text);
	b->len = ES_BUNDLE_HDR + n;
	b->st = ST_DONE;
	if (b->part_sent)
		b->part_sent(b->arg, -1);
	return 0;
}

/* The next record into rec; 0 at the end of the body (len 0), -EIO on failure. */
static int next_record(struct es_mig_bundle_out *b)
{
	b->pos = b->len = 0;
	switch (b->st) {
	case ST_PART:
		if (part_open(b))
			return -EIO;
		b->st = ST_DATA;
		/* fall through */
	case ST_DATA:
		return data_record(b);
	case ST_RESTORE:
		return restore_record(b);
	case ST_DONE:
		return 0;
	default:
		return -EIO;
	}
}

ssize_t es_mig_bundle_out_read(void *arg, char *buf, size_t len)
{
	struct es_mig_bundle_out *b = arg;
	size_t n;

	if (b->pos == b->len) {
		if (b->st == ST_DONE)
			return 0;
		if (next_record(b))
			return -EIO;
	}
	n = b->len - b->pos < len ? b->len - b->pos : len;
	memcpy(buf, b->rec + b->pos, n);
	b->pos += n;
	return n;
}

bool es_mig_bundle_out_restore_sent(const struct es_mig_bundle_out *b)
{
	return b->st == ST_DONE && b->pos == b->len;
}

const char *es_mig_bundle_out_error(const struct es_mig_bundle_out *b)
{
	return b->st == ST_FAILED ? b->err : NULL;
}

void es_mig_bundle_out_free(struct es_mig_bundle_out *b)
{
	part_close(b);
	free(b->rec);
	free(b);
}
