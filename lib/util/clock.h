/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading the time. Durations, deadlines and rates use CLOCK_MONOTONIC,
 * which no clock step moves; CLOCK_REALTIME only where a timestamp leaves
 * the process and is compared with another host's (probe send times,
 * drill records).
 */
#ifndef EDGESHIFT_CLOCK_H
#define EDGESHIFT_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define NSEC_PER_USEC		1000ULL
#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_SEC		1000000000ULL

/* CLOCK_MONOTONIC in ns. */
uint64_t es_now_ns(void);
/* CLOCK_MONOTONIC in ms, signed so that deadline - now may go below 0. */
int64_t es_now_ms(void);
/* CLOCK_REALTIME in ns since the epoch. */
uint64_t es_realtime_ns(void);
/*
 * CLOCK_MONOTONIC ms from now as a timespec: the deadline of a
 * pthread_cond_timedwait on a condition created with that clock.
 */
struct timespec es_mono_deadline(unsigned int ms);
/* A condition whose timed waits take es_mono_deadline()s (a clock step does not stretch them). */
int es_cond_init_mono(pthread_cond_t *c);

#endif /* EDGESHIFT_CLOCK_H */
