// SPDX-License-Identifier: GPL-2.0-only
#include <time.h>
#include "clock.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

uint64_t es_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t es_now_ms(void)
{
	return (int64_t)(es_now_ns() / NSEC_PER_MSEC);
}

uint64_t es_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

struct timespec es_mono_deadline(unsigned int ms)
{
	uint64_t t = es_now_ns() + ms * NSEC_PER_MSEC;

	return (struct timespec){ .tv_sec = t / NSEC_PER_SEC, .tv_nsec = t % NSEC_PER_SEC };
}

int es_cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int ret;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	ret = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return -ret;
}
