// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tool_util.h"

#define PROGRESS_NS		(500 * NSEC_PER_MSEC)

static volatile sig_atomic_t stop_signal;

void es_tool_sleep_until(uint64_t t)
{
	struct timespec ts = {
		.tv_sec = t / NSEC_PER_SEC,
		.tv_nsec = t % NSEC_PER_SEC,
	};

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

void es_tool_sleep_ns(uint64_t ns)
{
	es_tool_sleep_until(es_now_ns() + ns);
}

double es_tool_secs(uint64_t ns)
{
	return (double)ns / NSEC_PER_SEC;
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

void es_tool_setup_signals(bool ignore_sigpipe)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: a blocked call must return so the run can end. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (ignore_sigpipe)
		signal(SIGPIPE, SIG_IGN);
}

int es_tool_stop_signal(void)
{
	return stop_signal;
}

const char *es_tool_stop_reason(bool done)
{
	if (done)
		return "completed";
	return stop_signal ? "signal" : "timeout";
}

bool es_tool_send_transient(int err)
{
	return err == ENOBUFS || err == EAGAIN || err == EINTR;
}

void es_tool_progress_init(struct es_tool_progress *p, const char *prog)
{
	memset(p, 0, sizeof(*p));
	p->prog = prog;
	p->tty = isatty(STDERR_FILENO);
}

void es_tool_progress(struct es_tool_progress *p, const char *fmt, ...)
{
	uint64_t now;
	va_list ap;

	if (!p->tty)
		return;
	now = es_now_ns();
	if (now < p->next)
		return;
	p->next = now + PROGRESS_NS;
	fprintf(stderr, "\r\033[K%s: ", p->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	p->shown = true;
}

void es_tool_progress_clear(struct es_tool_progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}

static void print_scalar(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
		break;
	case JSON_REAL:
		printf("%.3f\n", json_real_value(v));
		break;
	case JSON_STRING:
		printf("%s\n", json_string_value(v));
		break;
	case JSON_TRUE:
		printf("yes\n");
		break;
	case JSON_FALSE:
		printf("no\n");
		break;
	default:
		printf("-\n");
		break;
	}
}

void es_tool_print_object(json_t *obj, int depth, int key_col)
{
	const char *key;
	json_t *v, *e;
	size_t i;

	json_object_foreach(obj, key, v) {
		if (json_is_object(v)) {
			printf("%*s%s:\n", depth * 2, "", key);
			es_tool_print_object(v, depth + 1, key_col);
		} else if (json_is_array(v)) {
			json_array_foreach(v, i, e) {
				printf("%*s%s[%zu]:\n", depth * 2, "", key, i);
				es_tool_print_object(e, depth + 1, key_col);
			}
		} else {
			printf("%*s%-*s ", depth * 2, "", key_col - depth * 2, key);
			print_scalar(v);
		}
	}
}

void es_tool_emit(json_t *out, bool json, const char *title, int key_col)
{
	if (json) {
		json_dumpf(out, stdout, JSON_COMPACT | JSON_REAL_PRECISION(12));
		putchar('\n');
	} else {
		printf("%s\n", title);
		es_tool_print_object(out, 1, key_col);
	}
	fflush(stdout);
}
