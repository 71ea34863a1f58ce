// SPDX-License-Identifier: GPL-2.0-only
/* One object of an incoming migration, stored as it arrives (in_object.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/fs_util.h"
#include "util/log.h"
#include "in_object.h"
#include "migrate.h"
#include "stream_unpack.h"

struct es_mig_in_obj {
	struct es_migrator	*m;
	int			fd;
	int			err;		/* first write error, -errno */
	struct es_sha256	*sha;
	struct es_stream_unpack	*unpack;	/* unpacked as it arrives (in_unpack.c) */
	uint64_t		bytes;
	char			id[40];
	char			name[16];
	char			path[ES_PATH];
};

struct es_mig_in_obj *es_mig_in_obj_open(struct es_migrator *m, const char *id,
					 const char *name, bool *unknown, char *err,
					 size_t err_len)
{
	struct es_mig_in_obj *o = calloc(1, sizeof(*o));

	*unknown = false;
	if (!o)
		goto nomem;
	o->m = m;
	if (es_mig_in_object_path(m, id, name, o->path, sizeof(o->path))) {
		*unknown = true;
		snprintf(err, err_len, "unknown migration or object (objects: image, layer, "
			 "checkpoint)");
		free(o);
		return NULL;
	}
	o->sha = es_sha256_new();
	if (!o->sha)
		goto nomem;
	o->fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (o->fd < 0) {
		snprintf(err, err_len, "cannot store the object: %s", strerror(errno));
		es_sha256_final(o->sha, (char[65]){ 0 });
		free(o);
		return NULL;
	}
	snprintf(o->id, sizeof(o->id), "%s", id);
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->unpack = es_mig_in_unpack_begin(m, id, name);
	return o;
nomem:
	free(o);
	snprintf(err, err_len, "out of memory");
	return NULL;
}

int es_mig_in_obj_write(struct es_mig_in_obj *o, const void *data, size_t len)
{
	if (o->err)
		return o->err;
	if (write(o->fd, data, len) != (ssize_t)len) {
		o->err = -EIO;
		return o->err;
	}
	es_sha256_update(o->sha, data, len);
	if (o->unpack)
		es_stream_unpack_feed(o->unpack, data, len);
	o->bytes += len;
	return 0;
}

uint64_t es_mig_in_obj_bytes(const struct es_mig_in_obj *o)
{
	return o->bytes;
}

int es_mig_in_obj_close(struct es_mig_in_obj *o, bool whole, char sha256[65])
{
	char hex[65], sum[ES_PATH];
	int ret = whole ? o->err : 0;

	if (o->unpack)
		es_mig_in_unpack_end(o->m, o->id, o->name, o->unpack, whole && !ret);
	es_sha256_final(o->sha, hex);
	/* kept beside the object: the restore checks it without reading it again */
	snprintf(sum, sizeof(sum), "%.*s.sha256", (int)(strlen(o->path) - strlen(".tar.zst")),
		 o->path);
	if (whole && !ret && es_write_file(sum, hex, 64))
		ret = -EIO;
	if (close(o->fd) && whole && !ret)
		ret = -EIO;
	if (!whole || ret) {
		unlink(o->path);
		unlink(sum);
		if (!whole)
			es_warn("object_upload_incomplete", "path=%s bytes=%llu", o->path,
				(unsigned long long)o->bytes);
	}
	if (sha256)
		memcpy(sha256, hex, 65);
	free(o);
	return ret;
}
