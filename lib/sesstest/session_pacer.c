// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include "session_pacer.h"
#include "tool/tool_util.h"

/*
 * Behind by more than this (a stall of the process or of the machine), the
 * schedule starts again from now: the datagrams due meanwhile are not sent
 * (the offer says so), never sent in one burst, which a shallow queue on
 * the path would drop though the path holds the rate (seen in CI: 15 %
 * lost at 11 sessions of 7 Mbit/s on 100 Mbit/s after a 36 ms stall).
 * A shorter lateness is caught up: this VM wakes a timer 2-9 ms late often
 * enough that skipping those cost 6 % of one session's offer.
 */
#define MAX_CATCH_UP_NS	(10 * NSEC_PER_MSEC)

int es_pacer_init(struct es_pacer *p, const struct sockaddr *dst, socklen_t dst_len,
		  uint32_t run_id, double rate_bps, uint32_t payload)
{
	memset(p, 0, sizeof(*p));
	if (dst_len > sizeof(p->dst) || payload < ES_SW_HDR_LEN || payload > 65507 ||
	    rate_bps <= 0)
		return -EINVAL;
	memcpy(&p->dst, dst, dst_len);
	p->dst_len = dst_len;
	p->run_id = run_id;
	p->payload = payload;
	p->interval_ns = (uint64_t)(payload * 8.0 * NSEC_PER_SEC / rate_bps);
	return p->interval_ns ? 0 : -EINVAL;
}

static void send_one(struct es_pacer *p, uint32_t i, uint8_t *buf)
{
	struct es_pacer_session *s = &p->s[i];
	struct es_sw_hdr h = {
		.type = ES_SW_DATA, .run_id = p->run_id, .session = p->session_base + i,
		.seq = s->offered_packets,
	};

	es_sw_encode(buf, &h);
	if (send(s->fd, buf, p->payload, MSG_DONTWAIT) < 0)
		__atomic_store_n(&s->send_errors, s->send_errors + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->offered_bytes, s->offered_bytes + p->payload, __ATOMIC_RELAXED);
	__atomic_store_n(&s->offered_packets, s->offered_packets + 1, __ATOMIC_RELEASE);
}

/* Only the pacer raises it; the reader's exchange to 0 may race with a raise. */
static void note_late(struct es_pacer *p, uint64_t late)
{
	uint64_t cur = __atomic_load_n(&p->late_max_ns, __ATOMIC_RELAXED);

	while (late > cur && !__atomic_compare_exchange_n(&p->late_max_ns, &cur, late, true,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void *pacer_run(void *arg)
{
	struct es_pacer *p = arg;
	uint32_t n, i, next;
	uint8_t *buf;
	uint64_t now;

	buf = calloc(1, p->payload);
	if (!buf)
		return NULL;

	/* The default 50 us of timer slack is a third of a 100 Mbit/s datagram gap. */
	prctl(PR_SET_TIMERSLACK, 1UL);
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		n = __atomic_load_n(&p->n, __ATOMIC_ACQUIRE);
		if (!n) {
			es_tool_sleep_ns(NSEC_PER_MSEC);
			continue;
		}
		for (next = 0, i = 1; i < n; i++)
			if (p->s[i].next_due < p->s[next].next_due)
				next = i;
		now = es_now_ns();
		if (p->s[next].next_due > now) {
			es_tool_sleep_until(p->s[next].next_due);
			continue;	/* a session may have been added meanwhile */
		}
		note_late(p, now - p->s[next].next_due);
		if (now - p->s[next].next_due > MAX_CATCH_UP_NS)
			p->s[next].next_due = now;
		send_one(p, next, buf);
		p->s[next].next_due += p->interval_ns;
	}
	free(buf);
	return NULL;
}

int es_pacer_start(struct es_pacer *p)
{
	int err = pthread_create(&p->thread, NULL, pacer_run, p);

	p->started = !err;
	return -err;
}

int es_pacer_add(struct es_pacer *p)
{
	uint32_t n = __atomic_load_n(&p->n, __ATOMIC_ACQUIRE);
	struct es_pacer_session *s = &p->s[n];
	int fd;

	if (n >= ES_SW_MAX_SESSIONS)
		return -E2BIG;
	fd = socket(p->dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&p->dst, p->dst_len)) {
		close(fd);
		return -errno;
	}
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->next_due = es_now_ns();
	__atomic_store_n(&p->n, n + 1, __ATOMIC_RELEASE);
	return n;
}

void es_pacer_counters(struct es_pacer *p, uint32_t i, uint64_t *packets, uint64_t *bytes,
		       uint64_t *errors)
{
	*packets = __atomic_load_n(&p->s[i].offered_packets, __ATOMIC_ACQUIRE);
	*bytes = __atomic_load_n(&p->s[i].offered_bytes, __ATOMIC_RELAXED);
	*errors = __atomic_load_n(&p->s[i].send_errors, __ATOMIC_RELAXED);
}

uint64_t es_pacer_take_late(struct es_pacer *p)
{
	return __atomic_exchange_n(&p->late_max_ns, 0, __ATOMIC_RELAXED);
}

void es_pacer_stop(struct es_pacer *p)
{
	uint32_t i;

	__atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
	if (p->started)
		pthread_join(p->thread, NULL);
	p->started = false;
	for (i = 0; i < p->n; i++)
		close(p->s[i].fd);
	p->n = 0;
}
