// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sampling clock: every series of one tick is read at (nearly) the
 * same instant and stamped with one time, so the rule compares the blocks
 * and the performance point by point.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "advisor/advisor.h"
#include "util/errf.h"
#include "util/fs_util.h"

int es_adv_read_perf_file(const char *path, double *v, char *err, size_t err_len)
{
	char *s = es_read_file(path, 256, NULL), *end;

	if (!s)
		return es_errf(err, err_len, -errno, "%s: %s", path, strerror(errno));
	*v = strtod(s, &end);
	if (end == s || !isfinite(*v)) {
		free(s);
		return es_errf(err, err_len, -EINVAL, "%s: not a number", path);
	}
	free(s);
	return 0;
}

int es_adv_tick(struct es_adv_block *blocks, unsigned int nblocks, const char *root,
		uint64_t now_ns, double perf_now, struct es_adv_ring *perf, char *err,
		size_t err_len)
{
	struct es_adv_raw raw[nblocks ?: 1];
	bool primed = nblocks && blocks[0].have_last;
	unsigned int i;
	int ret;

	for (i = 0; i < nblocks; i++) {
		ret = es_adv_block_read(&blocks[i], root, &raw[i], err, err_len);
		if (ret)
			return ret;
	}
	ret = es_adv_links_read(blocks, nblocks, raw, err, err_len);
	if (ret)
		return ret;
	for (i = 0; i < nblocks; i++)
		es_adv_block_push(&blocks[i], &raw[i], now_ns);
	if (primed)
		es_adv_ring_push(perf, perf_now);
	return 0;
}
