// SPDX-License-Identifier: GPL-2.0-only
/* The digest of a directory tree's content (tree_digest.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "util/fs_util.h"
#include "util/tree_digest.h"

struct walk {
	struct es_sha256	*h;
	char			path[PATH_MAX];	/* relative to the tree's top */
	char			*err;
	size_t			err_len;
};

static int fail(struct walk *w, int ret, const char *what)
{
	snprintf(w->err, w->err_len, "%s %s: %s", what, w->path[0] ? w->path : ".",
		 strerror(-ret));
	return ret;
}

static int no_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

/* Byte order, whatever the locale: the digest must not depend on it. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int hash_file(struct walk *w, int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[65536];
	ssize_t n;

	if (fd < 0)
		return fail(w, -errno, "open");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		es_sha256_update(w->h, buf, n);
	close(fd);
	return n < 0 ? fail(w, -EIO, "read") : 0;
}

static int hash_link(struct walk *w, int dfd, const char *name)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dfd, name, target, sizeof(target));

	if (n < 0)
		return fail(w, -errno, "readlink");
	es_sha256_update(w->h, target, n);
	return 0;
}

static int walk_dir(struct walk *w, int dfd);

/* One entry: its header, then its content (a directory: its entries). */
static int hash_entry(struct walk *w, int dfd, const char *name)
{
	char hdr[64];
	struct stat st;
	char type;
	int fd, ret;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return fail(w, -errno, "stat");
	type = S_ISREG(st.st_mode) ? 'f' : S_ISDIR(st.st_mode) ? 'd' : S_ISLNK(st.st_mode) ? 'l' :
	       S_ISFIFO(st.st_mode) ? 'p' : S_ISSOCK(st.st_mode) ? 's' :
	       S_ISCHR(st.st_mode) ? 'c' : 'b';
	es_sha256_update(w->h, w->path, strlen(w->path) + 1);
	snprintf(hdr, sizeof(hdr), "%c %o %llu", type, (unsigned int)(st.st_mode & 07777),
		 type == 'f' ? (unsigned long long)st.st_size : 0ULL);
	es_sha256_update(w->h, hdr, strlen(hdr) + 1);
	if (type == 'f')
		return hash_file(w, dfd, name);
	if (type == 'l')
		return hash_link(w, dfd, name);
	if (type != 'd')
		return 0;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(w, -errno, "open");
	ret = walk_dir(w, fd);
	close(fd);
	return ret;
}

static int walk_dir(struct walk *w, int dfd)
{
	size_t len = strlen(w->path);
	struct dirent **ents;
	int n, i, ret = 0;

	n = scandirat(dfd, ".", &ents, no_dots, by_name);
	if (n < 0)
		return fail(w, -errno, "scandir");
	for (i = 0; i < n; i++) {
		if (!ret && snprintf(w->path + len, sizeof(w->path) - len, "%s%s", len ? "/" : "",
				     ents[i]->d_name) >= (int)(sizeof(w->path) - len))
			ret = fail(w, -ENAMETOOLONG, "path");
		if (!ret)
			ret = hash_entry(w, dfd, ents[i]->d_name);
		w->path[len] = '\0';
		free(ents[i]);
	}
	free(ents);
	return ret;
}

int es_tree_digest(const char *dir, char hex[65], char *err, size_t err_len)
{
	struct walk w = { .err = err, .err_len = err_len };
	int fd, ret;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, err_len, "%s: %s", dir, strerror(-ret));
		return ret;
	}
	w.h = es_sha256_new();
	if (!w.h) {
		close(fd);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = walk_dir(&w, fd);
	close(fd);
	es_sha256_final(w.h, hex);
	return ret;
}
