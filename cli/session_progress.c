// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session test's progress for a program (--progress-json): one JSON
 * object a line on stdout, flushed at once, so a reader such as the
 * console sees each session added and each step measured as it happens.
 * Events: session_added {sessions}, measuring {sessions, seconds},
 * step {step: as in the result's steps[]}, result {result}.
 */
#include <errno.h>
#include <stdio.h>
#include "session_test.h"

int st_emit_event(const char *event, json_t *fields)
{
	int err = 0;

	if (!fields)
		return -ENOMEM;
	json_object_set_new(fields, "event", json_string(event));
	if (json_dumpf(fields, stdout, JSON_COMPACT) || fputc('\n', stdout) == EOF ||
	    fflush(stdout))
		err = -EIO;
	json_decref(fields);
	return err;
}
