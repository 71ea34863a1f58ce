/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Directory trees as zstd-compressed pax tar archives (libarchive): the
 * writable layer, the image layer and CRIU's image directory travel this
 * way. Packing keeps what overlayfs needs to read a writable layer the same
 * way on another node: whiteouts (character devices 0/0), xattrs
 * (trusted.overlay.opaque marks opaque directories), owners, modes and
 * times. Unpacking trusts nothing in the archive: entries are placed under
 * the destination only (no absolute paths, no "..", no path through a
 * symlink, hard links only inside), and the only device nodes allowed are
 * whiteouts.
 */
#ifndef EDGESHIFT_LAYER_ARCHIVE_H
#define EDGESHIFT_LAYER_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

struct es_archive_stats {
	uint64_t	raw_bytes;	/* file contents before compression */
	uint64_t	entries;
	uint64_t	whiteouts;
	uint64_t	opaque_dirs;
};

/* Pack the tree under dir into out_path; 0 or -errno with err set. */
int es_archive_pack(const char *dir, const char *out_path, int zstd_level,
		    struct es_archive_stats *st, char *err, size_t err_len);

/*
 * The same into fd (a pipe to the uploader), which is not closed: the
 * caller packs while the bytes are sent.
 */
int es_archive_pack_fd(const char *dir, int fd, int zstd_level, struct es_archive_stats *st,
		       char *err, size_t err_len);

/* Unpack archive_path under dest (which must exist); 0 or -errno. */
int es_archive_unpack(const char *archive_path, const char *dest,
		      struct es_archive_stats *st, char *err, size_t err_len);

/* The same from fd (a pipe fed while the archive arrives); fd is not closed. */
int es_archive_unpack_fd(int fd, const char *dest, struct es_archive_stats *st, char *err,
			 size_t err_len);

#endif
