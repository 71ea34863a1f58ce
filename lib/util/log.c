// SPDX-License-Identifier: GPL-2.0-only
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "clock.h"
#include "log.h"

static enum es_log_level min_level = ES_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

void es_log_set_level(enum es_log_level level)
{
	min_level = level;
}

int es_log_parse_level(const char *name, enum es_log_level *level)
{
	unsigned int i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(name, level_names[i])) {
			*level = i;
			return 0;
		}
	}
	return -1;
}

void es_log(enum es_log_level level, const char *event, const char *fmt, ...)
{
	uint64_t ns;
	time_t sec;
	struct tm tm;
	char stamp[32];
	va_list ap;

	if (level < min_level)
		return;
	ns = es_realtime_ns();
	sec = ns / NSEC_PER_SEC;
	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One locked write per line so threads never interleave. */
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "ts=%s.%03ldZ level=%s event=%s", stamp,
		(long)(ns % NSEC_PER_SEC / NSEC_PER_MSEC), level_names[level], event);
	if (fmt && *fmt) {
		fputc(' ', stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}
