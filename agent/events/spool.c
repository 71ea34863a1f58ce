// SPDX-License-Identifier: GPL-2.0-only
/* The events spool (spool.h): segment files of JSON lines and an ack cursor. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include "util/fs_util.h"
#include "util/log.h"
#include "spool.h"

#define SEG_BYTES	(4U << 20)
#define BUF_MIN		(256U << 10)

static int seg_open(struct es_spool *sp, uint64_t seg, int flags)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/%016llx.seg", sp->dir, (unsigned long long)seg);
	return open(path, flags | O_CLOEXEC, 0600);
}

static void seg_unlink(struct es_spool *sp, uint64_t seg)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/%016llx.seg", sp->dir, (unsigned long long)seg);
	unlink(path);
}

static void ack_write(struct es_spool *sp)
{
	uint64_t pos[2] = { sp->aseg, sp->aoff };

	/* Without a sync: after a power loss a few events are sent again. */
	if (pwrite(sp->ackfd, pos, sizeof(pos), 0) != sizeof(pos))
		es_warn("events_ack_write_failed", "error=\"%s\"", strerror(errno));
}

/* The segment numbers in DIR, lowest and highest; 0 when there is none. */
static int seg_range(const char *dir, uint64_t *lo, uint64_t *hi)
{
	struct dirent *d;
	int n = 0;
	DIR *dp;

	dp = opendir(dir);
	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		unsigned long long v;
		char tail[8];

		if (strlen(d->d_name) != 20 ||
		    sscanf(d->d_name, "%16llx%7s", &v, tail) != 2 || strcmp(tail, ".seg"))
			continue;
		if (!n || v < *lo)
			*lo = v;
		if (!n || v > *hi)
			*hi = v;
		n++;
	}
	closedir(dp);
	return n;
}

/* Cuts a torn last line (a power loss in the middle of an append). */
static int trim_tail(int fd, uint64_t *size)
{
	char c;
	off_t end = lseek(fd, 0, SEEK_END);

	while (end > 0 && pread(fd, &c, 1, end - 1) == 1 && c != '\n')
		end--;
	if (end < 0)
		return -errno;
	if (ftruncate(fd, end))
		return -errno;
	*size = end;
	return 0;
}

static uint64_t count_lines(int fd, uint64_t from)
{
	char buf[65536];
	uint64_t n = 0;
	ssize_t r, i;

	while ((r = pread(fd, buf, sizeof(buf), from)) > 0) {
		for (i = 0; i < r; i++)
			n += buf[i] == '\n';
		from += r;
	}
	return n;
}

/* Where the ack file points, made consistent with the segments that exist. */
static void recover_cursor(struct es_spool *sp, uint64_t lo, uint64_t hi)
{
	uint64_t pos[2] = { lo, 0 }, s;
	struct stat st;

	if (pread(sp->ackfd, pos, sizeof(pos), 0) != sizeof(pos) || pos[0] < lo || pos[0] > hi)
		pos[0] = lo, pos[1] = 0;
	sp->aseg = pos[0];
	sp->aoff = pos[1];
	for (s = lo; s < sp->aseg; s++)
		seg_unlink(sp, s);
	sp->rfd = seg_open(sp, sp->aseg, O_RDONLY);
	if (sp->rfd >= 0 && !fstat(sp->rfd, &st) && sp->aoff > (uint64_t)st.st_size)
		sp->aoff = st.st_size;
}

static int recover(struct es_spool *sp)
{
	uint64_t lo = 0, hi = 0, s;
	int n, fd;

	n = seg_range(sp->dir, &lo, &hi);
	if (n < 0)
		return n;
	sp->wseg = hi;
	sp->wfd = seg_open(sp, hi, O_RDWR | O_CREAT | O_APPEND);
	if (sp->wfd < 0 || trim_tail(sp->wfd, &sp->woff) || fdatasync(sp->wfd))
		return -errno;
	sp->sseg = sp->wseg;	/* what a killed agent appended is durable now */
	sp->soff = sp->woff;
	recover_cursor(sp, lo, hi);
	if (sp->rfd < 0)
		return -errno;
	sp->rseg = sp->aseg;
	sp->roff = sp->aoff;
	sp->depth = count_lines(sp->rfd, sp->aoff);
	for (s = sp->aseg + 1; s <= hi; s++) {
		fd = seg_open(sp, s, O_RDONLY);
		if (fd >= 0) {
			sp->depth += count_lines(fd, 0);
			close(fd);
		}
	}
	return 0;
}

int es_spool_open(struct es_spool *sp, const char *dir, uint64_t max, char *err, size_t len)
{
	char path[300];
	int ret;

	memset(sp, 0, sizeof(*sp));
	sp->wfd = sp->dfd = sp->ackfd = sp->rfd = -1;
	pthread_mutex_init(&sp->lock, NULL);
	pthread_mutex_init(&sp->rlock, NULL);
	pthread_cond_init(&sp->cond, NULL);
	snprintf(sp->dir, sizeof(sp->dir), "%s", dir);
	sp->max = max;
	ret = es_mkdir_p(dir, 0700);
	if (ret)
		goto fail;
	sp->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/ack", dir);
	sp->ackfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sp->dfd < 0 || sp->ackfd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = recover(sp);
	if (ret)
		goto fail;
	sp->unread = sp->depth;
	sp->bcap = BUF_MIN;
	sp->buf = malloc(sp->bcap);
	if (!sp->buf) {
		ret = -ENOMEM;
		goto fail;
	}
	ack_write(sp);
	return 0;
fail:
	snprintf(err, len, "events spool %s: %s", dir, strerror(-ret));
	es_spool_close(sp);
	return ret;
}

void es_spool_close(struct es_spool *sp)
{
	pthread_mutex_lock(&sp->lock);
	if (sp->wfd >= 0) {
		fdatasync(sp->wfd);
		close(sp->wfd);
	}
	sp->wfd = -1;
	sp->max = 0;	/* appends from now on are refused */
	pthread_mutex_unlock(&sp->lock);
	if (sp->ackfd >= 0) {
		fdatasync(sp->ackfd);
		close(sp->ackfd);
	}
	if (sp->rfd >= 0)
		close(sp->rfd);
	if (sp->dfd >= 0)
		close(sp->dfd);
	free(sp->buf);
	sp->buf = NULL;
	sp->dfd = sp->ackfd = sp->rfd = -1;
}

/* A full segment is closed durable and the next one started. Under lock. */
static int rotate(struct es_spool *sp)
{
	int fd, ret;

	/* the segment left counts as synced to its end: it must be */
	if (sp->sync_failed)
		return -EIO;
	if (fdatasync(sp->wfd)) {
		sp->sync_failed = true;
		return -errno;
	}
	fd = seg_open(sp, sp->wseg + 1, O_RDWR | O_CREAT | O_APPEND | O_TRUNC);
	if (fd < 0)
		return -errno;
	/* the new segment's name durable before a record in it is posted */
	if (fsync(sp->dfd)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	close(sp->wfd);
	sp->wfd = fd;
	sp->wseg++;
	sp->woff = 0;
	sp->dirty = false;
	sp->sseg = sp->wseg;	/* the segment left is synced to its end */
	sp->soff = 0;
	return 0;
}

int es_spool_append(struct es_spool *sp, const char *line, size_t n)
{
	struct iovec iov[2] = { { (void *)line, n }, { "\n", 1 } };
	ssize_t w;
	int ret = 0;

	pthread_mutex_lock(&sp->lock);
	/* the bound, told apart from a disk that is full (ENOSPC from the write) */
	if (sp->depth >= sp->max) {
		ret = -ENOBUFS;
		goto out;
	}
	if (sp->woff >= SEG_BYTES && (ret = rotate(sp)))
		goto out;
	/* One writev: the record and its newline land together or not at all. */
	w = writev(sp->wfd, iov, 2);
	if (w != (ssize_t)(n + 1)) {
		ret = w < 0 ? -errno : -EIO;
		if (w > 0 && ftruncate(sp->wfd, sp->woff))
			es_warn("events_spool_trim_failed", "error=\"%s\"", strerror(errno));
		goto out;
	}
	sp->woff += n + 1;
	sp->depth++;
	sp->unread++;
	sp->dirty = true;
	pthread_cond_broadcast(&sp->cond);
out:
	pthread_mutex_unlock(&sp->lock);
	return ret;
}

uint64_t es_spool_depth(struct es_spool *sp)
{
	uint64_t d;

	pthread_mutex_lock(&sp->lock);
	d = sp->depth;
	pthread_mutex_unlock(&sp->lock);
	return d;
}

void es_spool_sync(struct es_spool *sp)
{
	bool dirty, synced;
	uint64_t seg, off;
	int fd;

	pthread_mutex_lock(&sp->lock);
	/* after a failed sync none is believed (sync_failed): nothing to try */
	dirty = sp->dirty && !sp->sync_failed;
	seg = sp->wseg;
	off = sp->woff;
	fd = dirty ? dup(sp->wfd) : -1;
	/* a dup that failed leaves it dirty, for the next sync */
	if (dirty)
		sp->dirty = fd < 0;
	pthread_mutex_unlock(&sp->lock);
	/* Outside the lock: emitters keep appending while the disk syncs. */
	if (fd < 0)
		return;	/* nothing new, or another thread's sync covers it */
	synced = !fdatasync(fd);
	if (!synced)
		es_warn("events_spool_sync_failed", "error=\"%s\" action=no_post_until_restart",
			strerror(errno));
	close(fd);
	pthread_mutex_lock(&sp->lock);
	/* not durable: not posted, now or after a later sync that says 0 for it */
	if (!synced)
		sp->sync_failed = true;
	else if (!sp->sync_failed && (seg > sp->sseg || (seg == sp->sseg && off > sp->soff))) {
		sp->sseg = seg;
		sp->soff = off;
	}
	pthread_mutex_unlock(&sp->lock);
}

/* The read side moves to the next segment; the ack side removes the old one. */
static int next_segment(struct es_spool *sp)
{
	int fd = seg_open(sp, sp->rseg + 1, O_RDONLY);

	if (fd < 0)
		return -errno;
	close(sp->rfd);
	sp->rfd = fd;
	sp->rseg++;
	sp->roff = 0;
	sp->blen = 0;
	return 0;
}

/* The line at roff in the buffer: its length, or -1 when the buffer does not hold it all. */
static ssize_t line_in_buf(struct es_spool *sp)
{
	const char *p, *nl;

	if (sp->roff < sp->boff || sp->roff >= sp->boff + sp->blen)
		return -1;
	p = sp->buf + (sp->roff - sp->boff);
	nl = memchr(p, '\n', sp->buf + sp->blen - p);
	return nl ? nl - p : -1;
}

static int refill(struct es_spool *sp, uint64_t end)
{
	size_t want;
	ssize_t r;
	char *nb;

	if (sp->blen && sp->roff == sp->boff && sp->blen >= sp->bcap) {
		nb = realloc(sp->buf, sp->bcap * 2);	/* a line longer than the buffer */
		if (!nb)
			return -ENOMEM;
		sp->buf = nb;
		sp->bcap *= 2;
	}
	want = end - sp->roff < sp->bcap ? end - sp->roff : sp->bcap;
	r = pread(sp->rfd, sp->buf, want, sp->roff);
	if (r <= 0)
		return r < 0 ? -errno : -EIO;
	sp->boff = sp->roff;
	sp->blen = r;
	return 0;
}

/*
 * Where the readable bytes of segment rseg end: what is synced, so no
 * record is posted before it is durable. *last: the last synced segment.
 */
static uint64_t read_end(struct es_spool *sp, uint64_t *last)
{
	struct stat st;
	uint64_t soff;

	pthread_mutex_lock(&sp->lock);
	*last = sp->sseg;
	soff = sp->soff;
	pthread_mutex_unlock(&sp->lock);
	if (sp->rseg == *last)
		return soff;
	if (sp->rseg > *last) {
		*last = sp->rseg;
		return 0;
	}
	return fstat(sp->rfd, &st) ? 0 : (uint64_t)st.st_size;	/* synced when rotated */
}

/* The next line not taken, at roff; its length, 0 when there is none (-1), or -errno. Under rlock. */
static ssize_t next_line(struct es_spool *sp)
{
	uint64_t wseg, end;
	ssize_t len;
	int ret;

	for (;;) {
		end = read_end(sp, &wseg);
		if (sp->roff >= end) {
			if (sp->rseg >= wseg)
				return -1;
			ret = next_segment(sp);
			if (ret)
				return ret;
			continue;
		}
		len = line_in_buf(sp);
		if (len >= 0)
			return len;
		ret = refill(sp, end);
		if (ret)
			return ret;
		if (line_in_buf(sp) < 0 && sp->boff + sp->blen >= end)
			return -EIO;	/* appends are whole lines: a spool edited by hand */
	}
}

int es_spool_take(struct es_spool *sp, struct es_spool_rec *r)
{
	struct es_spool_inflight *f;
	ssize_t len;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	pthread_mutex_lock(&sp->rlock);
	if (sp->fl_len == ES_SPOOL_INFLIGHT)
		goto out;
	len = next_line(sp);
	if (len < 0) {
		ret = len == -1 ? 0 : (int)len;
		goto out;
	}
	r->line = strndup(sp->buf + (sp->roff - sp->boff), len);
	if (!r->line) {
		ret = -ENOMEM;
		goto out;
	}
	r->n = len;
	r->seg = sp->rseg;
	r->off = sp->roff;
	sp->roff += len + 1;
	f = &sp->fl[(sp->fl_head + sp->fl_len++) % ES_SPOOL_INFLIGHT];
	*f = (struct es_spool_inflight){ r->seg, r->off + len + 1, false };
	pthread_mutex_lock(&sp->lock);
	sp->unread--;
	pthread_mutex_unlock(&sp->lock);
	ret = 1;
out:
	pthread_mutex_unlock(&sp->rlock);
	return ret;
}

/* The acknowledged prefix grew to (seg, end): segments before seg are done. Under rlock. */
static void ack_to(struct es_spool *sp, uint64_t seg, uint64_t end)
{
	while (sp->aseg < seg)
		seg_unlink(sp, sp->aseg++);
	sp->aoff = end;
	ack_write(sp);
}

void es_spool_done(struct es_spool *sp, struct es_spool_rec *r)
{
	struct es_spool_inflight *f;
	unsigned int i;

	pthread_mutex_lock(&sp->rlock);
	for (i = 0; i < sp->fl_len; i++) {
		f = &sp->fl[(sp->fl_head + i) % ES_SPOOL_INFLIGHT];
		if (f->seg == r->seg && f->end == r->off + r->n + 1)
			f->done = true;
	}
	/* Out of order: the cursor moves over the records done in a row. */
	while (sp->fl_len && sp->fl[sp->fl_head].done) {
		f = &sp->fl[sp->fl_head];
		ack_to(sp, f->seg, f->end);
		sp->fl_head = (sp->fl_head + 1) % ES_SPOOL_INFLIGHT;
		sp->fl_len--;
	}
	pthread_mutex_unlock(&sp->rlock);
	pthread_mutex_lock(&sp->lock);
	if (sp->depth)
		sp->depth--;
	pthread_mutex_unlock(&sp->lock);
	free(r->line);
	r->line = NULL;
}

void es_spool_drop(struct es_spool_rec *r)
{
	free(r->line);
	r->line = NULL;
}

bool es_spool_wait(struct es_spool *sp, const atomic_bool *stop)
{
	pthread_mutex_lock(&sp->lock);
	while (!sp->unread && !atomic_load(stop))
		pthread_cond_wait(&sp->cond, &sp->lock);
	pthread_mutex_unlock(&sp->lock);
	return !atomic_load(stop);
}
