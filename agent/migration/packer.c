// SPDX-License-Identifier: GPL-2.0-only
/* A directory packed into a pipe by a thread (packer.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "packer.h"

static void *packer_main(void *arg)
{
	struct es_packer *p = arg;

	p->ret = es_archive_pack_fd(p->dir, p->wfd, p->level, &p->st, p->err, sizeof(p->err));
	close(p->wfd);	/* the reader sees the end of the archive */
	return NULL;
}

int es_packer_start(struct es_packer *p, const char *dir, int level, char *err, size_t err_len)
{
	int fds[2], ret;

	*p = (struct es_packer){ .dir = dir, .level = level, .fd = -1 };
	if (pipe2(fds, O_CLOEXEC)) {
		ret = -errno;
		snprintf(err, err_len, "%s", strerror(-ret));
		return ret;
	}
	fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	p->fd = fds[0];
	p->wfd = fds[1];
	if (pthread_create(&p->t, NULL, packer_main, p)) {
		close(fds[0]);
		close(fds[1]);
		p->fd = -1;
		snprintf(err, err_len, "cannot start a thread");
		return -EAGAIN;
	}
	return 0;
}

int es_packer_finish(struct es_packer *p)
{
	close(p->fd);
	p->fd = -1;
	pthread_join(p->t, NULL);
	return p->ret;
}
