// SPDX-License-Identifier: GPL-2.0-only
/*
 * Objects unpacked while they arrive (stream_unpack.h), so that the
 * restore finds them unpacked instead of unpacking them after the last
 * byte: the image into images/.in-ID (installed once verified), the
 * writable layer and the checkpoint into STATE/migrations/in-ID/NAME.d.
 * The outcome of each is kept in in-ID/NAME.unpacked ("ok", or "error N
 * text"); nothing staged is used before the object's sha256 is verified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "util/errf.h"
#include "util/fs_util.h"
#include "migrate.h"
#include "stream_unpack.h"

/* STATE/migrations/in-ID/NAME followed by suffix */
static void staged(struct es_migrator *m, const char *id, const char *name, const char *suffix,
		   char *buf, size_t len)
{
	size_t n;

	es_mig_in_dir(m, id, buf, len);
	n = strlen(buf);
	snprintf(buf + n, len - n, "/%s%s", name, suffix);
}

void es_mig_in_stage(struct es_migrator *m, const char *id, const char *name, char *buf,
		     size_t len)
{
	if (!strcmp(name, "image"))
		snprintf(buf, len, "%s/images/.in-%s", m->cfg->state_dir, id);
	else
		staged(m, id, name, ".d", buf, len);
}

static void result_path(struct es_migrator *m, const char *id, const char *name, char *buf,
			size_t len)
{
	staged(m, id, name, ".unpacked", buf, len);
}

/* An image this node holds already is not unpacked: the restore does not install it. */
static bool image_held(struct es_migrator *m, const char *id)
{
	json_t *man = es_mig_in_manifest(m, id);
	bool have;

	have = es_image_present(&m->rt, json_string_value(json_object_get(
					json_object_get(man, "spec"), "image")) ?: "");
	json_decref(man);
	return have;
}

struct es_stream_unpack *es_mig_in_unpack_begin(struct es_migrator *m, const char *id,
						const char *name)
{
	char dir[ES_PATH];

	if (!strcmp(name, "image") && image_held(m, id))
		return NULL;
	result_path(m, id, name, dir, sizeof(dir));
	unlink(dir);
	es_mig_in_stage(m, id, name, dir, sizeof(dir));
	es_rm_rf(dir);
	/* the modes the restore gave them when it unpacked the files itself */
	if (mkdir(dir, strcmp(name, "layer") ? 0700 : 0755))
		return NULL;	/* the restore unpacks the received file instead */
	return es_stream_unpack_start(dir);
}

void es_mig_in_unpack_end(struct es_migrator *m, const char *id, const char *name,
			  struct es_stream_unpack *u, bool whole)
{
	char err[512] = "", path[ES_PATH], text[600];
	int ret = es_stream_unpack_finish(u, err, sizeof(err));

	if (whole) {
		snprintf(text, sizeof(text), ret ? "error %d %s" : "ok", ret, err);
		result_path(m, id, name, path, sizeof(path));
		if (es_write_file(path, text, strlen(text)))
			ret = -EIO;
	}
	if (!whole || ret) {
		es_mig_in_stage(m, id, name, path, sizeof(path));
		es_rm_rf(path);
	}
}

/* An archive refused as unsafe (-EPERM) is the sender's fault, anything else this node's. */
enum es_mig_err es_mig_unpack_err(int ret)
{
	return ret == -EPERM ? ES_MIG_EINVAL : ES_MIG_EINTERNAL;
}

int es_mig_in_unpacked(struct es_migrator *m, const char *id, const char *name,
		       enum es_mig_err *e, char *msg, size_t msg_len)
{
	char path[ES_PATH], *done;
	int ret = 0, at;

	result_path(m, id, name, path, sizeof(path));
	done = es_read_file(path, 1024, NULL);
	if (done && !strcmp(done, "ok"))
		ret = 1;
	else if (done && sscanf(done, "error %d %n", &ret, &at) == 1) {
		*e = es_errf(msg, msg_len, es_mig_unpack_err(ret), "%s: %.500s", name, done + at);
		ret = -1;
	}
	free(done);
	return ret;
}
