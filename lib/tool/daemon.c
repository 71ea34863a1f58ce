// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include "daemon.h"
#include "util/log.h"

void es_daemon_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int es_daemon_wait(const sigset_t *set)
{
	int sig = 0;

	sigwait(set, &sig);
	es_info("signal", "signo=%d", sig);
	return sig;
}

int es_daemon_log_level(const char *prog, const char *name)
{
	enum es_log_level lvl;

	if (!name)
		return 0;
	if (es_log_parse_level(name, &lvl)) {
		fprintf(stderr, "%s: --log-level must be debug, info, warn or error\n", prog);
		return -1;
	}
	es_log_set_level(lvl);
	return 0;
}
