// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session test's latency probe: small UDP datagrams through the same
 * path (and the same bottleneck queue) as the sessions, echoed by the sink.
 * The round trip runs from the sender's clock read just before send() to
 * the kernel's receive timestamp of the echo (SO_TIMESTAMPNS), so the
 * probe's own wake-up delay is not counted; both are CLOCK_REALTIME in ns.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include "session_test.h"
#include "tool/tool_util.h"

#define PROBE_LEN	64

const char *const st_stat_names[3] = { "mean", "p50", "p99" };

static void record(struct st_probe *p, double us)
{
	double *nv;

	pthread_mutex_lock(&p->lock);
	if (p->n == p->cap) {
		nv = realloc(p->rtt_us, (p->cap ? p->cap * 2 : 1024) * sizeof(*nv));
		if (!nv)
			goto out;
		p->rtt_us = nv;
		p->cap = p->cap ? p->cap * 2 : 1024;
	}
	p->rtt_us[p->n++] = us;
out:
	pthread_mutex_unlock(&p->lock);
}

static void receive_echoes(struct st_probe *p)
{
	uint8_t buf[PROBE_LEN], ctrl[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct es_sw_hdr h;
	struct cmsghdr *c;
	uint64_t rx;
	ssize_t n;

	for (;;) {
		m.msg_control = ctrl;
		m.msg_controllen = sizeof(ctrl);
		n = recvmsg(p->fd, &m, MSG_DONTWAIT);
		if (n < 0)
			return;
		rx = 0;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				rx = (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
			}
		}
		if (!rx)
			rx = es_realtime_ns();
		if (es_sw_decode(buf, n, &h) || h.type != ES_SW_PROBE || h.run_id != p->run_id ||
		    !h.session || h.session != __atomic_load_n(&p->listen, __ATOMIC_ACQUIRE) ||
		    rx < h.ts_ns)
			continue;
		record(p, (double)(rx - h.ts_ns) / NSEC_PER_USEC);
	}
}

static void send_probe(struct st_probe *p, uint32_t tag)
{
	uint8_t buf[PROBE_LEN] = {};
	struct es_sw_hdr h = { .type = ES_SW_PROBE, .run_id = p->run_id, .session = tag,
			       .seq = p->sent };

	h.ts_ns = es_realtime_ns();
	es_sw_encode(buf, &h);
	if (send(p->fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno != EAGAIN)
		return;
	__atomic_add_fetch(&p->sent, 1, __ATOMIC_RELAXED);
}

static void *probe_run(void *arg)
{
	struct st_probe *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	uint64_t next = es_now_ns(), now;
	struct timespec ts;
	uint32_t tag;

	prctl(PR_SET_TIMERSLACK, 1UL);
	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		now = es_now_ns();
		if (now >= next) {
			tag = __atomic_load_n(&p->window, __ATOMIC_ACQUIRE);
			if (tag)
				send_probe(p, tag);
			next += p->interval_ns;
			if (next < now)
				next = now + p->interval_ns;
			continue;
		}
		ts.tv_sec = (next - now) / NSEC_PER_SEC;
		ts.tv_nsec = (next - now) % NSEC_PER_SEC;
		if (ppoll(&pfd, 1, &ts, NULL) > 0)
			receive_echoes(p);
	}
	return NULL;
}

int st_probe_start(struct st_probe *p, const struct sockaddr *dst, socklen_t len,
		   uint32_t run_id, double interval_ms)
{
	int on = 1, err;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->run_id = run_id;
	p->interval_ns = interval_ms * NSEC_PER_MSEC;
	p->fd = socket(dst->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return -errno;
	setsockopt(p->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	if (connect(p->fd, dst, len))
		return -errno;
	err = pthread_create(&p->thread, NULL, probe_run, p);
	p->started = !err;
	return -err;
}

void st_probe_open(struct st_probe *p, uint32_t tag)
{
	pthread_mutex_lock(&p->lock);
	p->n = 0;
	__atomic_store_n(&p->sent, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&p->lock);
	__atomic_store_n(&p->listen, tag, __ATOMIC_RELEASE);
	__atomic_store_n(&p->window, tag, __ATOMIC_RELEASE);
}

void st_probe_stop_sending(struct st_probe *p)
{
	__atomic_store_n(&p->window, 0, __ATOMIC_RELEASE);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least q of all at or below it. */
static double percentile(const double *v, size_t n, double q)
{
	size_t r = (size_t)(q * n + 0.999999);

	return v[r ? r - 1 : 0];
}

void st_probe_close(struct st_probe *p, struct st_latency *out)
{
	double sum = 0;
	size_t i;

	__atomic_store_n(&p->window, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&p->listen, 0, __ATOMIC_RELEASE);
	pthread_mutex_lock(&p->lock);
	memset(out, 0, sizeof(*out));
	out->probes_sent = __atomic_load_n(&p->sent, __ATOMIC_RELAXED);
	out->probes_answered = p->n;
	if (p->n) {
		qsort(p->rtt_us, p->n, sizeof(double), cmp_double);
		for (i = 0; i < p->n; i++)
			sum += p->rtt_us[i];
		out->mean_us = sum / p->n;
		out->p50_us = percentile(p->rtt_us, p->n, 0.5);
		out->p99_us = percentile(p->rtt_us, p->n, 0.99);
		out->min_us = p->rtt_us[0];
		out->max_us = p->rtt_us[p->n - 1];
	}
	p->n = 0;
	pthread_mutex_unlock(&p->lock);
}

void st_probe_stop(struct st_probe *p)
{
	__atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
	if (p->started)
		pthread_join(p->thread, NULL);
	p->started = false;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->rtt_us);
	p->rtt_us = NULL;
	pthread_mutex_destroy(&p->lock);
}

double st_stat_value(const struct st_latency *l, enum st_stat s)
{
	return s == ST_P99 ? l->p99_us : s == ST_P50 ? l->p50_us : l->mean_us;
}
