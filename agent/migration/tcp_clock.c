// SPDX-License-Identifier: GPL-2.0-only
/* The TCP timestamp clock of checkpointed connections (tcp_clock.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "criu/tcp_stream.h"
#include "util/clock.h"
#include "util/fs_util.h"
#include "util/log.h"
#include "tcp_clock.h"

#define NOTE	"es-dump-time"	/* CLOCK_REALTIME ms of the dump, decimal */

static void note_path(const char *image_dir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" NOTE, image_dir);
}

int es_tcp_clock_note(const char *image_dir)
{
	char path[ES_PATH + 32], text[32];
	int n = snprintf(text, sizeof(text), "%" PRIu64 "\n", es_realtime_ns() / 1000000);

	note_path(image_dir, path, sizeof(path));
	return es_write_file(path, text, n);
}

int es_tcp_clock_catch_up(const char *image_dir, char *err, size_t err_len)
{
	char path[ES_PATH + 32], *text;
	uint64_t dumped, now = es_realtime_ns() / 1000000;
	unsigned int shifted = 0, seen = 0;
	uint32_t shift;
	int ret;

	note_path(image_dir, path, sizeof(path));
	text = es_read_file(path, 31, NULL);
	if (!text) {
		/* an image from a source that does not note it: restored as it is */
		es_warn("tcp_clock_unknown", "dir=%s reason=\"no %s\"", image_dir, NOTE);
		return 0;
	}
	dumped = strtoull(text, NULL, 10);
	free(text);
	shift = (now > dumped ? now - dumped : 0) + ES_TCP_CLOCK_MARGIN_MS;
	ret = es_criu_tcp_ts_shift(image_dir, shift, &shifted, &seen, err, err_len);
	if (!ret)
		es_info("tcp_clock_advanced", "dir=%s shift_ms=%u images=%u shifted=%u", image_dir,
			shift, seen, shifted);
	return ret;
}
