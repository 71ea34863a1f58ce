// SPDX-License-Identifier: GPL-2.0-only
/* Records under the state directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "state.h"
#include "util/fs_util.h"

int state_write(const char *path, const json_t *j)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32], *slash, *text;
	int fd, ret = 0;
	size_t len;
	ssize_t n;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		ret = es_mkdir_p(dir, 0700);
		if (ret)
			return ret;
	}
	/*
	 * One write, not one per token. No fsync: the records describe links and
	 * pins that do not outlive a reboot either (the default stateDir is a tmpfs).
	 */
	text = json_dumps(j, JSON_COMPACT);
	len = text ? strlen(text) : 0;
	if (!text)
		return -ENOMEM;
	text[len++] = '\n';	/* over the NUL: the text is not a string any more */
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(text);
		return -errno;
	}
	n = write(fd, text, len);
	/* a short write is a full disk: its reason, not an I/O error, goes to the runtime */
	if (n != (ssize_t)len)
		ret = n < 0 ? -errno : -ENOSPC;
	free(text);
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

json_t *state_read(const char *path)
{
	return json_load_file(path, 0, NULL);
}

int state_lock(const char *dir)
{
	char path[PATH_MAX + 8];
	int fd, ret;

	ret = es_mkdir_p(dir, 0700);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int state_touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

void state_attachment_path(const char *state_dir, const char *network, const char *cid,
			   const char *ifname, char *buf, size_t len)
{
	snprintf(buf, len, "%s/attachments/%s/%.128s-%s.json", state_dir, network, cid, ifname);
}

void state_pod_path(const char *state_dir, const char *cid, const char *ifname,
		    char *buf, size_t len)
{
	snprintf(buf, len, "%s/pods/%.128s-%s.json", state_dir, cid, ifname);
}
