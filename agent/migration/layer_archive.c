// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <archive.h>
#include <archive_entry.h>
#include "layer_archive.h"

#define BLOCK	(1 << 16)

static int arc_fail(struct archive *a, int ret, const char *what, char *err, size_t err_len)
{
	snprintf(err, err_len, "%s: %s", what, a ? archive_error_string(a) ?: "failed" : "failed");
	return ret;
}

static void count_entry(struct archive_entry *e, struct es_archive_stats *st)
{
	const char *name, *value;
	size_t size;

	st->entries++;
	if (archive_entry_filetype(e) == AE_IFREG)
		st->raw_bytes += archive_entry_size(e);
	if (archive_entry_filetype(e) == AE_IFCHR && archive_entry_rdev(e) == 0)
		st->whiteouts++;
	if (archive_entry_filetype(e) != AE_IFDIR)
		return;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, (const void **)&value, &size) == ARCHIVE_OK)
		if (!strcmp(name, "trusted.overlay.opaque") && size == 1 && value[0] == 'y')
			st->opaque_dirs++;
}

static int copy_disk_data(struct archive *disk, struct archive *w, char *buf)
{
	ssize_t n;

	while ((n = archive_read_data(disk, buf, BLOCK)) > 0)
		if (archive_write_data(w, buf, n) != n)
			return -1;
	return n < 0 ? -1 : 0;
}

/* A writer into out_path, or into fd when out_path is NULL. */
static struct archive *open_writer(const char *out_path, int fd, int level, char *err,
				   size_t err_len)
{
	struct archive *w = archive_write_new();
	char opt[64];
	int r;

	snprintf(opt, sizeof(opt), "zstd:compression-level=%d", level);
	if (!w || archive_write_add_filter_zstd(w) != ARCHIVE_OK ||
	    archive_write_set_options(w, opt) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(w) != ARCHIVE_OK)
		goto fail;
	if (!out_path)	/* a pipe: hand every compressed block on at once */
		archive_write_set_bytes_in_last_block(w, 1);
	r = out_path ? archive_write_open_filename(w, out_path) : archive_write_open_fd(w, fd);
	if (r == ARCHIVE_OK)
		return w;
fail:
	arc_fail(w, -EIO, out_path ?: "stream", err, err_len);
	archive_write_free(w);
	return NULL;
}

static int pack(const char *dir, const char *out_path, int fd, int zstd_level,
		struct es_archive_stats *st, char *err, size_t err_len)
{
	struct archive *disk = archive_read_disk_new(), *w;
	struct archive_entry *e = NULL;
	size_t dir_len = strlen(dir);
	char *buf = malloc(BLOCK);
	int ret = -EIO, r;

	memset(st, 0, sizeof(*st));
	w = open_writer(out_path, fd, zstd_level, err, err_len);
	if (!w || !disk || !buf)
		goto out;
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if (archive_read_disk_open(disk, dir) != ARCHIVE_OK) {
		ret = arc_fail(disk, -EIO, dir, err, err_len);
		goto out;
	}
	for (;;) {
		const char *path, *rel;

		archive_entry_free(e);
		e = archive_entry_new();
		r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = arc_fail(disk, -EIO, dir, err, err_len);
			goto out;
		}
		archive_read_disk_descend(disk);
		path = archive_entry_pathname(e);
		rel = strncmp(path, dir, dir_len) ? path : path + dir_len;
		while (*rel == '/')
			rel++;
		if (!*rel)
			rel = ".";
		archive_entry_copy_pathname(e, rel);
		count_entry(e, st);
		if (archive_write_header(w, e) < ARCHIVE_WARN) {
			ret = arc_fail(w, -EIO, rel, err, err_len);
			goto out;
		}
		if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0 &&
		    copy_disk_data(disk, w, buf)) {
			ret = arc_fail(w, -EIO, rel, err, err_len);
			goto out;
		}
	}
	ret = archive_write_close(w) == ARCHIVE_OK ? 0
	      : arc_fail(w, -EIO, out_path ?: "stream", err, err_len);
out:
	archive_entry_free(e);
	archive_read_free(disk);
	archive_write_free(w);
	free(buf);
	return ret;
}

int es_archive_pack(const char *dir, const char *out_path, int zstd_level,
		    struct es_archive_stats *st, char *err, size_t err_len)
{
	return pack(dir, out_path, -1, zstd_level, st, err, err_len);
}

int es_archive_pack_fd(const char *dir, int fd, int zstd_level, struct es_archive_stats *st,
		       char *err, size_t err_len)
{
	return pack(dir, NULL, fd, zstd_level, st, err, err_len);
}

/* A name from the archive, relative and without "..": else refuse. */
static int safe_rel(const char *p)
{
	const char *c = p;

	if (!*p || *p == '/')
		return 0;
	while (*c) {
		size_t n = strcspn(c, "/");

		if (n == 2 && !strncmp(c, "..", 2))
			return 0;
		c += n;
		while (*c == '/')
			c++;
	}
	return 1;
}

static int check_entry(struct archive_entry *e, char *err, size_t err_len)
{
	const char *path = archive_entry_pathname(e) ?: "";
	const char *link = archive_entry_hardlink(e);
	unsigned int type = archive_entry_filetype(e);

	if (!safe_rel(path)) {
		snprintf(err, err_len, "refused archive entry \"%.200s\": outside the destination",
			 path);
		return -EPERM;
	}
	if (link && !safe_rel(link)) {
		snprintf(err, err_len, "refused hard link \"%.100s\" -> \"%.100s\": outside the "
			 "destination", path, link);
		return -EPERM;
	}
	if (type == AE_IFREG || type == AE_IFDIR || type == AE_IFLNK || type == AE_IFIFO ||
	    (type == AE_IFCHR && archive_entry_rdev(e) == 0))
		return 0;
	snprintf(err, err_len, "refused archive entry \"%.200s\": device or socket", path);
	return -EPERM;
}

static int prefix_entry(struct archive_entry *e, const char *dest)
{
	char full[PATH_MAX];
	const char *link = archive_entry_hardlink(e);

	if (snprintf(full, sizeof(full), "%s/%s", dest, archive_entry_pathname(e)) >=
	    (int)sizeof(full))
		return -ENAMETOOLONG;
	archive_entry_copy_pathname(e, full);
	if (link) {
		if (snprintf(full, sizeof(full), "%s/%s", dest, link) >= (int)sizeof(full))
			return -ENAMETOOLONG;
		archive_entry_copy_hardlink(e, full);
	}
	return 0;
}

static int copy_entry_data(struct archive *a, struct archive *ext)
{
	const void *block;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &block, &size, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(ext, block, size, off) < ARCHIVE_OK)
			return -1;
	return r == ARCHIVE_EOF ? 0 : -1;
}

static int unpack(const char *archive_path, int fd, const char *dest,
		  struct es_archive_stats *st, char *err, size_t err_len)
{
	struct archive *a = archive_read_new(), *ext = archive_write_disk_new();
	struct archive_entry *e;
	char real[PATH_MAX];
	int ret = -EIO, r;

	memset(st, 0, sizeof(*st));
	/* symlink checks walk the full path: start from one without any */
	if (!realpath(dest, real)) {
		ret = -errno;
		snprintf(err, err_len, "%s: %s", dest, strerror(errno));
		goto out;
	}
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	archive_write_disk_set_options(ext, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
				       ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS |
				       ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	if ((archive_path ? archive_read_open_filename(a, archive_path, BLOCK)
			  : archive_read_open_fd(a, fd, BLOCK)) != ARCHIVE_OK) {
		ret = arc_fail(a, -EBADMSG, archive_path ?: "stream", err, err_len);
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (!strcmp(archive_entry_pathname(e) ?: "", ".")) {
			archive_entry_copy_pathname(e, "");
			continue;	/* the destination itself exists already */
		}
		ret = check_entry(e, err, err_len);
		if (ret)
			goto out;
		count_entry(e, st);
		ret = prefix_entry(e, real);
		if (ret) {
			snprintf(err, err_len, "archive entry path too long");
			goto out;
		}
		if (archive_write_header(ext, e) < ARCHIVE_WARN ||
		    (archive_entry_size(e) > 0 && copy_entry_data(a, ext)) ||
		    archive_write_finish_entry(ext) < ARCHIVE_WARN) {
			ret = arc_fail(ext, -EPERM, archive_entry_pathname(e), err, err_len);
			goto out;
		}
	}
	ret = r == ARCHIVE_EOF ? 0 : arc_fail(a, -EBADMSG, archive_path ?: "stream", err, err_len);
out:
	archive_write_free(ext);
	archive_read_free(a);
	return ret;
}

int es_archive_unpack(const char *archive_path, const char *dest,
		      struct es_archive_stats *st, char *err, size_t err_len)
{
	return unpack(archive_path, -1, dest, st, err, err_len);
}

int es_archive_unpack_fd(int fd, const char *dest, struct es_archive_stats *st, char *err,
			 size_t err_len)
{
	return unpack(NULL, fd, dest, st, err, err_len);
}
