// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "util/clock.h"
#include "util/log.h"
#include "event_log.h"

int es_event_log_open(struct es_event_log *l, const char *path, const char *node)
{
	pthread_mutex_init(&l->lock, NULL);
	snprintf(l->node, sizeof(l->node), "%s", node);
	l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	return l->fd < 0 ? -errno : 0;
}

void es_event_log_close(struct es_event_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

void es_event_log_tap(struct es_event_log *l, es_event_tap_fn fn, void *arg)
{
	l->tap_arg = arg;
	l->tap = fn;
}

static json_t *timestamp(json_t *o)
{
	uint64_t ns = es_realtime_ns();
	time_t sec = ns / NSEC_PER_SEC;
	char buf[64];
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	json_object_set_new(o, "ts", json_sprintf("%s.%06ldZ", buf,
						  (long)(ns % NSEC_PER_SEC / NSEC_PER_USEC)));
	json_object_set_new(o, "ts_ns", json_integer((json_int_t)ns));
	return o;
}

void es_event(struct es_event_log *l, const char *role, const char *migration,
	      const char *container, const char *event, json_t *fields)
{
	json_t *o = timestamp(json_pack("{s:i}", "v", 1));
	char *line;

	json_object_set_new(o, "node", json_string(l->node));
	json_object_set_new(o, "role", json_string(role));
	json_object_set_new(o, "migration", json_string(migration));
	json_object_set_new(o, "container", json_string(container));
	json_object_set_new(o, "event", json_string(event));
	if (fields)
		json_object_update(o, fields);
	json_decref(fields);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (l->tap)
		l->tap(l->tap_arg, o);
	json_decref(o);
	if (!line)
		return;
	es_info("migration_event", "%s", line);
	pthread_mutex_lock(&l->lock);
	if (l->fd >= 0) {
		size_t n = strlen(line);

		line[n] = '\n';	/* one write: concurrent appends never interleave */
		if (write(l->fd, line, n + 1) != (ssize_t)(n + 1))
			es_warn("event_log_write_failed", "error=\"%s\"", strerror(errno));
	}
	pthread_mutex_unlock(&l->lock);
	free(line);
}
