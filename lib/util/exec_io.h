/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Run a program that reads its input on stdin and answers on stdout (a
 * CNI plugin): the whole input written, the whole answer read, under a
 * deadline. The environment is built by the caller before the fork: a
 * multithreaded process must not call setenv() in the child.
 */
#ifndef EDGESHIFT_EXEC_IO_H
#define EDGESHIFT_EXEC_IO_H

#include <stddef.h>

/* Its answer is cut here: a well-behaved plugin writes a few KiB. */
#define ES_EXEC_IO_OUT_MAX	(1 << 20)

/*
 * Runs argv[0] (a path) with argv and envp (both NULL-terminated), in on
 * its stdin, stderr inherited, killed after timeout_ms (0: no deadline).
 * *out (malloc'd, NUL-terminated, the caller frees it) gets its stdout.
 * The exit status (0 success, 128+N killed by signal N), -ETIMEDOUT after
 * killing it at the deadline, or -errno. The caller ignores SIGPIPE: a
 * child that exits before reading all of in is an EPIPE here.
 */
int es_exec_io(char *const argv[], char *const envp[], const char *in, size_t in_len,
	       unsigned int timeout_ms, char **out);

/*
 * The path of name in the first of dirs (a ':' list, as CNI_PATH or PATH)
 * where it is executable, into buf; 0 or -ENOENT.
 */
int es_exec_find(const char *dirs, const char *name, char *buf, size_t len);

#endif
