/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Structured log lines on stderr, one event per line in logfmt:
 *   ts=2026-11-20T10:00:00.123Z level=info event=attached ifname=eth0
 * so `kubectl logs` readers and log shippers can parse them.
 */
#ifndef EDGESHIFT_LOG_H
#define EDGESHIFT_LOG_H

enum es_log_level {
	ES_LOG_DEBUG,
	ES_LOG_INFO,
	ES_LOG_WARN,
	ES_LOG_ERROR,
};

void es_log_set_level(enum es_log_level level);
int es_log_parse_level(const char *name, enum es_log_level *level);

/* fmt holds the key=value pairs after the event name. */
void es_log(enum es_log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define es_debug(ev, ...)	es_log(ES_LOG_DEBUG, ev, __VA_ARGS__)
#define es_info(ev, ...)	es_log(ES_LOG_INFO, ev, __VA_ARGS__)
#define es_warn(ev, ...)	es_log(ES_LOG_WARN, ev, __VA_ARGS__)
#define es_error(ev, ...)	es_log(ES_LOG_ERROR, ev, __VA_ARGS__)

#endif /* EDGESHIFT_LOG_H */
