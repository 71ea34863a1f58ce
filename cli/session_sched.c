// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session test's client at real-time priority by default. Its pacer
 * and probe threads time datagrams and round trips in microseconds; at
 * plain priority on a shared machine one stall of the client (another job,
 * a ping alongside) reads as latency of the path and can move the knee by
 * a step. The selftests ran the client under `chrt -f 10`; the tool now
 * does the same itself, before it starts its threads (they inherit the
 * policy), and says so in its result, or says why it could not.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include "session_test.h"

/* {"policy", "priority"[, "error"]}: how the client's threads run. */
json_t *st_client_priority(const struct st_opts *o)
{
	struct sched_param sp = { .sched_priority = (int)o->rt_priority };
	int now = sched_getscheduler(0), err;

	if (now == SCHED_FIFO || now == SCHED_RR) {	/* the caller chose: keep it */
		sched_getparam(0, &sp);
		return json_pack("{s:s,s:i}", "policy", now == SCHED_FIFO ? "fifo" : "rr",
				 "priority", sp.sched_priority);
	}
	if (!o->rt_priority)
		return json_pack("{s:s,s:i}", "policy", "normal", "priority", 0);
	if (!sched_setscheduler(0, SCHED_FIFO, &sp))
		return json_pack("{s:s,s:i}", "policy", "fifo", "priority", sp.sched_priority);
	err = errno;
	fprintf(stderr, "edgeshift session-test: cannot run at real-time priority %u (%s): "
		"a stall of this client will read as path latency (run it as root or with "
		"CAP_SYS_NICE; --rt-priority 0 runs it at normal priority on purpose)\n",
		o->rt_priority, strerror(err));
	return json_pack("{s:s,s:i,s:s}", "policy", "normal", "priority", 0, "error",
			 strerror(err));
}
