// SPDX-License-Identifier: GPL-2.0-only
/* The TCP timestamp of CRIU's tcp-stream images, advanced before a restore (tcp_stream.h). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/fs_util.h"
#include "tcp_stream.h"

#define IMG_COMMON_MAGIC	0x54564319u	/* CRIU's images/magic.h */
#define TCP_STREAM_MAGIC	0x51465506u
#define FIELD_OPT_MASK		5		/* tcp_stream_entry (images/tcp-stream.proto) */
#define FIELD_TIMESTAMP		9
#define TCPI_OPT_TIMESTAMPS	1
#define IMAGE_MAX		(16u << 20)	/* queues of a few MB at most */

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* A varint at *pos (below end); -1 when it runs past end or is too long. */
static int varint_get(const uint8_t *buf, size_t end, size_t *pos, uint64_t *v)
{
	int shift;

	*v = 0;
	for (shift = 0; shift < 64 && *pos < end; shift += 7) {
		uint8_t b = buf[(*pos)++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

static size_t varint_put(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	do {
		out[n++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
	return n;
}

/* Bytes of a field's value after its key; -1 when it does not fit. */
static int skip_value(const uint8_t *buf, size_t end, size_t *pos, unsigned int wt)
{
	uint64_t v;

	switch (wt) {
	case 0:
		return varint_get(buf, end, pos, &v);
	case 1:
		*pos += 8;
		break;
	case 2:
		if (varint_get(buf, end, pos, &v) || v > end - *pos)
			return -1;
		*pos += v;
		break;
	case 5:
		*pos += 4;
		break;
	default:
		return -1;
	}
	return *pos <= end ? 0 : -1;
}

struct entry {
	const uint8_t	*msg;
	size_t		len;
	uint64_t	opt_mask, ts;
	bool		has_ts;
};

static int entry_read(struct entry *e)
{
	size_t pos = 0, at;
	uint64_t key;

	while (pos < e->len) {
		if (varint_get(e->msg, e->len, &pos, &key))
			return -1;
		at = pos;
		if (skip_value(e->msg, e->len, &pos, key & 7))
			return -1;
		if ((key & 7) != 0)
			continue;
		if (key >> 3 == FIELD_OPT_MASK)
			varint_get(e->msg, e->len, &at, &e->opt_mask);
		else if (key >> 3 == FIELD_TIMESTAMP && !varint_get(e->msg, e->len, &at, &e->ts))
			e->has_ts = true;
	}
	return 0;
}

/* The message again with the timestamp field's value ts; its length in out. */
static size_t entry_write(const struct entry *e, uint32_t ts, uint8_t *out)
{
	size_t pos = 0, start, n = 0;
	uint64_t key;

	while (pos < e->len) {
		start = pos;
		varint_get(e->msg, e->len, &pos, &key);
		skip_value(e->msg, e->len, &pos, key & 7);
		if (key == (FIELD_TIMESTAMP << 3)) {
			n += varint_put(out + n, key);
			n += varint_put(out + n, ts);
			continue;
		}
		memcpy(out + n, e->msg + start, pos - start);
		n += pos - start;
	}
	return n;
}

/*
 * The new timestamp: a millisecond clock's value stays even (Linux reads
 * the low bit as "microsecond clock" when it is set back), a microsecond
 * clock's keeps its low bit.
 */
static uint32_t shifted_ts(uint32_t ts, uint32_t shift_ms)
{
	if (ts & 1)
		return (ts + shift_ms * 1000u) | 1;
	return (ts + shift_ms + (shift_ms & 1)) & ~1u;
}

/* Rewrite one image (buf, len bytes, entry at hdr); 1 when changed, 0 when not, -errno. */
static int image_shift(const char *path, uint8_t *buf, size_t len, size_t hdr, uint32_t shift_ms)
{
	struct entry e = { 0 };
	uint8_t *out;
	size_t n;
	int ret;

	if (len < hdr + 4 || le32(buf + hdr) > len - hdr - 4)
		return -EPROTO;
	e.msg = buf + hdr + 4;
	e.len = le32(buf + hdr);
	if (entry_read(&e))
		return -EPROTO;
	if (!e.has_ts || !(e.opt_mask & TCPI_OPT_TIMESTAMPS))
		return 0;
	/* the new varint is at most 5 bytes where the old one took at least 1 */
	out = malloc(len + 8);
	if (!out)
		return -ENOMEM;
	memcpy(out, buf, hdr);
	n = entry_write(&e, shifted_ts(e.ts, shift_ms), out + hdr + 4);
	put_le32(out + hdr, n);
	memcpy(out + hdr + 4 + n, e.msg + e.len, len - hdr - 4 - e.len);
	ret = es_write_file(path, (const char *)out, hdr + 4 + n + (len - hdr - 4 - e.len));
	free(out);
	return ret ? ret : 1;
}

static int file_shift(const char *path, uint32_t shift_ms)
{
	size_t len = 0, hdr;
	uint8_t *buf;
	int ret = -EPROTO;

	buf = (uint8_t *)es_read_file(path, IMAGE_MAX, &len);
	if (!buf)
		return errno ? -errno : -EIO;
	if (len == IMAGE_MAX) {
		free(buf);
		return -EFBIG;	/* read whole or not at all */
	}
	if (len >= 4 && le32(buf) == TCP_STREAM_MAGIC)
		hdr = 4;
	else if (len >= 8 && le32(buf) == IMG_COMMON_MAGIC && le32(buf + 4) == TCP_STREAM_MAGIC)
		hdr = 8;
	else
		goto out;
	ret = image_shift(path, buf, len, hdr, shift_ms);
out:
	free(buf);
	return ret;
}

int es_criu_tcp_ts_shift(const char *dir, uint32_t shift_ms, unsigned int *shifted,
			 unsigned int *seen, char *err, size_t err_len)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	*shifted = *seen = 0;
	if (!d) {
		ret = -errno;
		snprintf(err, err_len, "checkpoint %s: %s", dir, strerror(-ret));
		return ret;
	}
	while (!ret && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (strncmp(de->d_name, "tcp-stream-", 11) || n < 4 ||
		    strcmp(de->d_name + n - 4, ".img"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		(*seen)++;
		ret = file_shift(path, shift_ms);
		if (ret > 0)
			(*shifted)++;
		if (ret < 0)
			snprintf(err, err_len, "TCP image %s: %s", de->d_name,
				 ret == -EPROTO ? "not a tcp-stream image CRIU wrote" :
				 strerror(-ret));
		ret = ret < 0 ? ret : 0;
	}
	closedir(d);
	return ret;
}
