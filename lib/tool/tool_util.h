/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the test tools (es-traffic, es-flood) share, so that they stop and
 * report the same way: monotonic time, SIGINT/SIGTERM ending a run,
 * progress lines on a terminal, and the summary printed either as one
 * JSON object or as a table. Their options: opts.h.
 */
#ifndef EDGESHIFT_TOOL_UTIL_H
#define EDGESHIFT_TOOL_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "util/clock.h"

/* CLOCK_MONOTONIC, as es_now_ns() reads it */
void es_tool_sleep_until(uint64_t t);
void es_tool_sleep_ns(uint64_t ns);
double es_tool_secs(uint64_t ns);

/* SIGINT and SIGTERM end the run; SIGPIPE is ignored when asked. */
void es_tool_setup_signals(bool ignore_sigpipe);
/* The stop signal received, or 0. */
int es_tool_stop_signal(void);
/* "completed" when done, else "signal" or "timeout". */
const char *es_tool_stop_reason(bool done);
/* A send that failed for now (full queue or buffer, signal): retry it. */
bool es_tool_send_transient(int err);

struct es_tool_progress {
	const char	*prog;
	bool		tty;		/* progress lines only on a terminal */
	bool		shown;		/* a progress line is on screen */
	uint64_t	next;
};

void es_tool_progress_init(struct es_tool_progress *p, const char *prog);
/* Rewrites the progress line, at most twice a second. */
void es_tool_progress(struct es_tool_progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void es_tool_progress_clear(struct es_tool_progress *p);

/*
 * obj as an indented table on stdout, one "key value" line per scalar,
 * nested objects and arrays of objects below their key; each key, with
 * its indent, is padded to key_col characters.
 */
void es_tool_print_object(json_t *obj, int depth, int key_col);
/* The summary: one compact JSON line, or the table under title. */
void es_tool_emit(json_t *out, bool json, const char *title, int key_col);

#endif /* EDGESHIFT_TOOL_UTIL_H */
