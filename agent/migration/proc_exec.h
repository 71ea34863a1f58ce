/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Run a helper (runc) with a deadline. Its stdin and stdout are /dev/null
 * and its stderr is captured: a container must never inherit a file of the
 * agent, or CRIU refuses to checkpoint it.
 */
#ifndef EDGESHIFT_PROC_EXEC_H
#define EDGESHIFT_PROC_EXEC_H

#include <stddef.h>

enum {
	ES_EXEC_CAPTURE_STDOUT	= 1,	/* stdout joins stderr in out */
	ES_EXEC_NULL_STDIO	= 2,	/* all of stdio /dev/null (runc run/restore -d:
					 * the container inherits it) */
};

/*
 * argv is NULL-terminated. Returns the exit status (0 success), -ETIMEDOUT
 * after killing it at the deadline, or -errno. out (may be NULL) receives
 * the last out_len-1 bytes of its stderr (and stdout, per flags).
 */
int es_exec(char *const argv[], unsigned int timeout_ms, int flags, char *out,
	    size_t out_len);

#endif
