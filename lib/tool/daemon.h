/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the site daemons (edgeshift-scheduler, edgeshift-console) share to
 * start and stop the same way: SIGTERM and SIGINT taken by sigwait() in
 * the main thread alone, SIGPIPE ignored, and the --log-level flag.
 */
#ifndef EDGESHIFT_DAEMON_H
#define EDGESHIFT_DAEMON_H

#include <signal.h>

/*
 * Blocks SIGTERM and SIGINT in the calling thread, and so in every thread
 * it starts after this, and ignores SIGPIPE. Call before the first thread.
 */
void es_daemon_block_signals(sigset_t *set);
/* Waits for one of them; logs it ("signal") and returns its number. */
int es_daemon_wait(const sigset_t *set);
/* Sets the log level named by --log-level (NULL: keeps it); -1 after a message on stderr. */
int es_daemon_log_level(const char *prog, const char *name);

#endif /* EDGESHIFT_DAEMON_H */
