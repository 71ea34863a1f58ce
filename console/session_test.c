// SPDX-License-Identifier: GPL-2.0-only
/*
 * The console's session test: one run at a time of `edgeshift session-test
 * --progress-json` as a child process, from the console's host towards an
 * `es-session sink`. A reader thread takes the child's JSON lines (session
 * added, measuring, step, result) into the run's state, which the page
 * polls; stopping the run signals the child, whose pacer closes every
 * session's socket as it exits. The child, not the console, owns the
 * sessions: a console thread never paces datagrams, and a crash of the
 * test cannot take the console down.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "console.h"

#define LINE_MAX_LEN	(256u << 10)	/* a step line with 256 sessions' rates */
#define ERR_TAIL	1024

struct con_st {
	pthread_mutex_t		lock;
	char			edgeshift[1024];	/* the CLI binary */
	pid_t			pid;		/* the child; 0 when none */
	bool			running;
	bool			stop_asked;
	pthread_t		reader;
	bool			reader_started;
	int			out_fd, err_fd;
	json_t			*params;	/* what the run was asked */
	json_t			*steps;		/* measured so far */
	json_t			*result;	/* the child's result; NULL until it ends */
	unsigned int		sessions;	/* sessions sending now */
	const char		*phase;		/* idle, settling, measuring, remeasuring, ended */
	char			state[16];	/* idle, running, done, stopped, failed */
	char			error[ERR_TAIL];
	int64_t			started_ms, ended_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

struct con_st *con_st_new(const char *edgeshift)
{
	struct con_st *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	pthread_mutex_init(&st->lock, NULL);
	snprintf(st->edgeshift, sizeof(st->edgeshift), "%s", edgeshift);
	snprintf(st->state, sizeof(st->state), "idle");
	st->phase = "idle";
	st->out_fd = st->err_fd = -1;
	return st;
}

/* One JSON line of the child, under the lock. */
static void take_event(struct con_st *st, const char *line)
{
	json_t *ev = json_loads(line, 0, NULL);
	const char *what = json_string_value(json_object_get(ev, "event"));

	if (!what)
		goto out;
	if (!strcmp(what, "session_added")) {
		st->sessions = json_integer_value(json_object_get(ev, "sessions"));
		st->phase = "settling";
	} else if (!strcmp(what, "measuring")) {
		st->phase = "measuring";
	} else if (!strcmp(what, "remeasuring")) {
		st->phase = "remeasuring";	/* the client ran late: not the path's */
	} else if (!strcmp(what, "step")) {
		json_array_append(st->steps, json_object_get(ev, "step"));
	} else if (!strcmp(what, "result")) {
		json_decref(st->result);
		st->result = json_incref(json_object_get(ev, "result"));
	}
out:
	json_decref(ev);
}

/* Lines of buf[0..*len) taken; a partial last line stays. */
static void take_lines(struct con_st *st, char *buf, size_t *len)
{
	char *start = buf, *nl;

	pthread_mutex_lock(&st->lock);
	while ((nl = memchr(start, '\n', buf + *len - start))) {
		*nl = '\0';
		take_event(st, start);
		start = nl + 1;
	}
	pthread_mutex_unlock(&st->lock);
	*len -= start - buf;
	memmove(buf, start, *len);
}

/* The last ERR_TAIL bytes of the child's stderr: its reason when it fails. */
static void take_stderr(struct con_st *st, const char *b, size_t n)
{
	size_t have;

	pthread_mutex_lock(&st->lock);
	have = strlen(st->error);
	if (n >= ERR_TAIL - 1) {
		b += n - (ERR_TAIL - 1);
		n = ERR_TAIL - 1;
	}
	if (have + n >= ERR_TAIL) {
		memmove(st->error, st->error + (have + n - (ERR_TAIL - 1)),
			ERR_TAIL - 1 - n);
		have = ERR_TAIL - 1 - n;
	}
	memcpy(st->error + have, b, n);
	st->error[have + n] = '\0';
	pthread_mutex_unlock(&st->lock);
}

/* Reads both pipes until the child closes them; 0, or -1 when out of memory. */
static int pump(struct con_st *st)
{
	struct pollfd p[2] = { { .fd = st->out_fd, .events = POLLIN },
			       { .fd = st->err_fd, .events = POLLIN } };
	size_t len = 0;
	char *buf = malloc(LINE_MAX_LEN), eb[512];
	ssize_t n;

	if (!buf)
		return -1;
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			n = read(p[0].fd, buf + len, LINE_MAX_LEN - 1 - len);
			if (n <= 0)
				p[0].fd = -1;
			else
				len += n, take_lines(st, buf, &len);
			if (len == LINE_MAX_LEN - 1)
				len = 0;	/* a line longer than any the child writes */
		}
		if (p[1].revents) {
			n = read(p[1].fd, eb, sizeof(eb));
			if (n <= 0)
				p[1].fd = -1;
			else
				take_stderr(st, eb, n);
		}
	}
	free(buf);
	return 0;
}

/* How the run ended, from the child's exit and what it wrote. */
static void finish(struct con_st *st, int status)
{
	const char *why;

	pthread_mutex_lock(&st->lock);
	why = json_string_value(json_object_get(st->result, "stop_reason"));
	if (st->stop_asked)
		snprintf(st->state, sizeof(st->state), "stopped");
	else if (WIFEXITED(status) && !WEXITSTATUS(status) && st->result && why &&
		 strcmp(why, "signal"))
		snprintf(st->state, sizeof(st->state), "done");
	else
		snprintf(st->state, sizeof(st->state), "failed");
	if (!strcmp(st->state, "failed") && !st->error[0])
		snprintf(st->error, sizeof(st->error), "session-test ended with status %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	st->sessions = 0;
	st->phase = "ended";
	st->running = false;
	st->pid = 0;
	st->ended_ms = now_ms();
	pthread_mutex_unlock(&st->lock);
}

static void *reader(void *arg)
{
	struct con_st *st = arg;
	int status = 0;

	pump(st);
	while (waitpid(st->pid, &status, 0) < 0 && errno == EINTR)
		;
	close(st->out_fd);
	close(st->err_fd);
	st->out_fd = st->err_fd = -1;
	finish(st, status);
	return NULL;
}

/*
 * In the child: the pipes as stdout and stderr, a parent's death ends it
 * too, and no signal blocked (the console blocks them all for its waiting
 * thread; the test must see the SIGTERM that tears it down).
 */
static void exec_child(const char *bin, char *const argv[], int out[2], int err[2])
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	dup2(out[1], STDOUT_FILENO);
	dup2(err[1], STDERR_FILENO);
	close(out[0]);
	close(err[0]);
	execv(bin, argv);
	/* only async-signal-safe calls between fork and exec: the console has threads */
	if (write(STDERR_FILENO, "cannot run edgeshift session-test\n", 34) < 0)
		_exit(126);
	_exit(127);
}

static int spawn(struct con_st *st, char *const argv[], char *err, size_t len)
{
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		snprintf(err, len, "pipe: %s", strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, len, "fork: %s", strerror(errno));
		goto fail;
	}
	if (!pid)
		exec_child(st->edgeshift, argv, out, errp);
	close(out[1]);
	close(errp[1]);
	st->pid = pid;
	st->out_fd = out[0];
	st->err_fd = errp[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return -EIO;
}

/* A fresh run's state, under the lock. */
static void reset(struct con_st *st, json_t *params)
{
	json_decref(st->params);
	json_decref(st->steps);
	json_decref(st->result);
	st->params = json_incref(params);
	st->steps = json_array();
	st->result = NULL;
	st->sessions = 0;
	st->phase = "starting";
	st->error[0] = '\0';
	st->stop_asked = false;
	st->running = true;
	st->started_ms = now_ms();
	st->ended_ms = 0;
	snprintf(st->state, sizeof(st->state), "running");
}

/* The form's fields, in the ranges `edgeshift session-test` accepts. */
int con_st_params_parse(json_t *body, struct con_st_params *p, char *err, size_t len)
{
	json_t *port = json_object_get(body, "port");
	const char *c;

	p->to = json_string_value(json_object_get(body, "to"));
	p->rate_mbit = json_number_value(json_object_get(body, "rate_mbit"));
	p->sessions = json_integer_value(json_object_get(body, "sessions"));
	p->step_s = json_number_value(json_object_get(body, "step_s"));
	p->slo_us = json_number_value(json_object_get(body, "slo_us"));
	p->port = port ? json_integer_value(port) : 7700;
	if (!p->to || !*p->to || strlen(p->to) > 253 || *p->to == '-')
		goto bad_to;
	for (c = p->to; *c; c++)	/* a host name, an IPv4 or an IPv6 address */
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:-", *c))
			goto bad_to;
	if (!(p->rate_mbit >= 0.001 && p->rate_mbit <= 100000) || p->sessions < 1 ||
	    p->sessions > 256 || !(p->step_s >= 0.1 && p->step_s <= 3600) ||
	    !(p->slo_us >= 1 && p->slo_us <= 1e9) || p->port < 1 || p->port > 65535 ||
	    !json_is_integer(json_object_get(body, "sessions")) ||
	    (port && !json_is_integer(port))) {
		snprintf(err, len, "rate_mbit must be 0.001 to 100000, sessions 1 to 256, "
			 "step_s 0.1 to 3600, slo_us 1 to 1e9, port 1 to 65535");
		return -EINVAL;
	}
	return 0;
bad_to:
	snprintf(err, len, "to must be the sink's host name or address");
	return -EINVAL;
}

int con_st_start(struct con_st *st, const struct con_st_params *p, char *err, size_t len)
{
	char rate[32], n[16], step[32], slo[32], port[8];
	char *argv[] = { "edgeshift", "session-test", "--progress-json", "--to", (char *)p->to,
			 "--port", port, "--rate", rate, "--max-sessions", n, "--step", step,
			 "--slo-us", slo, NULL };
	json_t *params;
	int e;

	snprintf(rate, sizeof(rate), "%.17g", p->rate_mbit);
	snprintf(n, sizeof(n), "%u", p->sessions);
	snprintf(step, sizeof(step), "%.17g", p->step_s);
	snprintf(slo, sizeof(slo), "%.17g", p->slo_us);
	snprintf(port, sizeof(port), "%u", p->port);
	params = json_pack("{s:s,s:i,s:f,s:i,s:f,s:f}", "to", p->to, "port", p->port, "rate_mbit",
			   p->rate_mbit, "sessions", p->sessions, "step_s", p->step_s,
			   "slo_us", p->slo_us);
	pthread_mutex_lock(&st->lock);
	if (!st->running && st->reader_started) {
		/* the last run ended: its reader has finished, or is about to */
		pthread_mutex_unlock(&st->lock);
		pthread_join(st->reader, NULL);
		pthread_mutex_lock(&st->lock);
		st->reader_started = false;
	}
	if (st->running || st->reader_started) {
		snprintf(err, len, "a session test is running: tear it down first");
		e = -EBUSY;
		goto out;
	}
	e = spawn(st, argv, err, len);
	if (e)
		goto out;
	reset(st, params);
	e = -pthread_create(&st->reader, NULL, reader, st);
	if (e) {
		kill(st->pid, SIGKILL);
		waitpid(st->pid, NULL, 0);
		close(st->out_fd);
		close(st->err_fd);
		st->out_fd = st->err_fd = -1;
		st->pid = 0;
		st->running = false;
		snprintf(st->state, sizeof(st->state), "failed");
		snprintf(err, len, "cannot start the reader thread");
		goto out;
	}
	st->reader_started = true;
out:
	pthread_mutex_unlock(&st->lock);
	json_decref(params);
	return e;
}

int con_st_stop(struct con_st *st)
{
	int e = 0;

	pthread_mutex_lock(&st->lock);
	if (!st->running || !st->pid)
		e = -ESRCH;
	else if (kill(st->pid, SIGTERM))
		e = -errno;
	else
		st->stop_asked = true;
	pthread_mutex_unlock(&st->lock);
	return e;
}

json_t *con_st_json(struct con_st *st)
{
	json_t *j;

	pthread_mutex_lock(&st->lock);
	j = json_pack("{s:s,s:s,s:i,s:o,s:o,s:o}", "state", st->state, "phase", st->phase,
		      "sessions_active", (int)st->sessions, "params",
		      st->params ? json_incref(st->params) : json_null(), "steps",
		      st->steps ? json_deep_copy(st->steps) : json_array(), "result",
		      st->result ? json_deep_copy(st->result) : json_null());
	if (st->error[0] && !strcmp(st->state, "failed"))
		json_object_set_new(j, "error", json_string(st->error));
	if (st->started_ms)
		json_object_set_new(j, "started_ms", json_integer(st->started_ms));
	if (st->ended_ms)
		json_object_set_new(j, "ended_ms", json_integer(st->ended_ms));
	pthread_mutex_unlock(&st->lock);
	return j;
}

void con_st_free(struct con_st *st)
{
	if (!st)
		return;
	con_st_stop(st);
	if (st->reader_started)
		pthread_join(st->reader, NULL);
	json_decref(st->params);
	json_decref(st->steps);
	json_decref(st->result);
	pthread_mutex_destroy(&st->lock);
	free(st);
}
