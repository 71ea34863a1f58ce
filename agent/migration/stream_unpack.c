// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util/fs_util.h"
#include "layer_archive.h"
#include "stream_unpack.h"

struct es_stream_unpack {
	int			rfd, wfd;
	pthread_t		thread;
	bool			stopped;	/* the unpacker closed its end */
	int			ret;
	char			dest[ES_PATH];
	char			err[512];
};

static void *unpacker(void *arg)
{
	struct es_stream_unpack *u = arg;
	struct es_archive_stats st;

	u->ret = es_archive_unpack_fd(u->rfd, u->dest, &st, u->err, sizeof(u->err));
	close(u->rfd);	/* a feeder still writing gets EPIPE instead of blocking */
	return NULL;
}

struct es_stream_unpack *es_stream_unpack_start(const char *dest)
{
	struct es_stream_unpack *u = calloc(1, sizeof(*u));
	int fds[2];

	if (!u || pipe2(fds, O_CLOEXEC)) {
		free(u);
		return NULL;
	}
	fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	u->rfd = fds[0];
	u->wfd = fds[1];
	snprintf(u->dest, sizeof(u->dest), "%s", dest);
	if (pthread_create(&u->thread, NULL, unpacker, u)) {
		close(fds[0]);
		close(fds[1]);
		free(u);
		return NULL;
	}
	return u;
}

void es_stream_unpack_feed(struct es_stream_unpack *u, const char *data, size_t len)
{
	ssize_t n;

	while (len && !u->stopped) {
		n = write(u->wfd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			u->stopped = true;	/* EPIPE: it ended (an error, or the archive's end) */
			break;
		}
		data += n;
		len -= n;
	}
}

int es_stream_unpack_finish(struct es_stream_unpack *u, char *err, size_t err_len)
{
	int ret;

	close(u->wfd);
	pthread_join(u->thread, NULL);
	ret = u->ret;
	if (ret)
		snprintf(err, err_len, "%s", u->err);
	free(u);
	return ret;
}
