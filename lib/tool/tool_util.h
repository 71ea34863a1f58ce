/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the test tools (es-traffic, es-flood) share, so that they parse,
 * complain, stop and report the same way: long options with k/m/g counts
 * and one style of usage error, monotonic time, SIGINT/SIGTERM ending a
 * run, progress lines on a terminal, and the summary printed either as
 * one JSON object or as a table.
 */
#ifndef EDGESHIFT_TOOL_UTIL_H
#define EDGESHIFT_TOOL_UTIL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "util/clock.h"

/* What the option messages need to know about the tool. */
struct es_tool_cli {
	const char		*prog;	/* name in messages and "--help" hint */
	const struct option	*opts;	/* getopt_long() table, val: id > 0 */
	int			help;	/* id that '-h' stands for */
};

const char *es_tool_opt_name(const struct es_tool_cli *cli, int id);

/* Prints "PROG: message" and the --help hint on stderr; returns -1. */
int es_tool_usage_error(const struct es_tool_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The next option of argv: its id, 0 once all are read, -1 after a usage
 * error (missing value, unknown option, argument left over). mode, when
 * not NULL, leads the message about an unknown option.
 */
int es_tool_next_opt(const struct es_tool_cli *cli, int argc, char **argv,
		     const char *mode);

/* Option values in min..max: 0, or -1 after a usage error naming --id. */
int es_tool_parse_u64(const struct es_tool_cli *cli, int id, const char *s,
		      uint64_t min, uint64_t max, uint64_t *out);
int es_tool_parse_double(const struct es_tool_cli *cli, int id, const char *s,
			 double min, double max, double *out);
int es_tool_parse_port(const struct es_tool_cli *cli, int id, const char *s,
		       uint16_t *port);

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
