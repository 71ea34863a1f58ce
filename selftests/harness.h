/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small kselftest-style test harness, header only, for the edgeshift
 * selftests. Include it from exactly one .c file per test binary.
 *
 *	TEST(name) { ... }
 *	TEST_TIMEOUT(name, secs) { ... }
 *
 *	FIXTURE(fix) { fields };
 *	FIXTURE_SETUP(fix) { ... self->field ... }
 *	FIXTURE_TEARDOWN(fix) { ... }
 *	TEST_F(fix, name) { ... }
 *	TEST_F_TIMEOUT(fix, name, secs) { ... }
 *
 *	TEST_HARNESS_MAIN
 *
 * Every test runs in its own fork()ed child, so a crash or a hang fails
 * only that test; the parent prints TAP version 13 on stdout. ASSERT_*
 * stops the test (the fixture teardown still runs), EXPECT_* records the
 * failure and goes on. The fixture is zeroed before setup, and teardown
 * runs whenever setup was entered, so teardown must cope with whatever a
 * failed or skipped setup left behind.
 *
 * ASSERT_* and SKIP() jump back to the runner, so in a thread other than
 * the test's main thread they end that thread (pthread_exit) instead.
 * TEST_LOG() prints a "# " diagnostic line; TEST_TODO() marks a test that
 * fails on a known bug (TAP "# TODO"), so it does not fail the run.
 *
 * TEST_SETUP_ONCE(fn) names a void function the runner calls once, before
 * the first test it runs: what fn makes (a loaded BPF object, worth
 * seconds of verifier time) is inherited by every test's child. fn has no
 * test to fail, so it leaves its error for the fixture setup to assert on,
 * and the tests must reset whatever state they share.
 *
 * The default per-test timeout is 60 s, or ES_TEST_TIMEOUT seconds from
 * the environment; the *_TIMEOUT variants set it per test. argv[1], when
 * given, keeps only tests whose name contains it; the others are reported
 * as skipped.
 */
#ifndef EDGESHIFT_SELFTEST_HARNESS_H
#define EDGESHIFT_SELFTEST_HARNESS_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define ES_TEST_DEFAULT_TIMEOUT	60

struct es_test {
	const char	*name;
	void		(*run)(void);
	unsigned int	timeout;	/* seconds; 0 = harness default */
	int		line;		/* definition order, see es_sort_tests() */
	struct es_test	*next;
};

/* Written by the test child, read by the runner after the child exits. */
struct es_test_result {
	int	failed;
	int	skipped;
	int	todo;
	int	finished;		/* the test function returned to the runner */
	char	skip_reason[256];
	char	todo_reason[256];
};

static struct {
	struct es_test		*head, *tail;
	unsigned int		count;
	struct es_test_result	*res;	/* MAP_SHARED, survives the child */
	sigjmp_buf		jmp;
	int			armed;	/* jmp is valid */
	pthread_t		main_thread;
	void			(*setup_once)(void);
} _es_h;

/* For table-driven tests: is a test of this name defined? */
static inline int es_test_defined(const char *name)
{
	const struct es_test *t;

	for (t = _es_h.head; t; t = t->next)
		if (!strcmp(t->name, name))
			return 1;
	return 0;
}

static inline void es_register_test(struct es_test *t)
{
	if (_es_h.tail)
		_es_h.tail->next = t;
	else
		_es_h.head = t;
	_es_h.tail = t;
	_es_h.count++;
}

/* -------------------------------------------------------------------- */
/* Failure reporting */

static inline void _es_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void _es_diag(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One printf call, so lines from two threads do not interleave. */
	printf("# %s\n", line);
	fflush(stdout);
}

#define TEST_LOG(fmt, ...) _es_diag(fmt, ##__VA_ARGS__)

/* Leave the test: back to the runner, or out of a helper thread. */
static inline void _es_bail(void)
{
	if (!pthread_equal(pthread_self(), _es_h.main_thread))
		pthread_exit(NULL);
	if (_es_h.armed)
		siglongjmp(_es_h.jmp, 1);
	/* Nowhere to jump to: the result page already says why. */
	fflush(stdout);
	_exit(1);
}

static inline void _es_mark_failed(int fatal)
{
	if (_es_h.res)
		__atomic_store_n(&_es_h.res->failed, 1, __ATOMIC_SEQ_CST);
	if (fatal)
		_es_bail();
}

static inline void _es_skip(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
static inline void _es_skip(const char *fmt, ...)
{
	va_list ap;

	if (_es_h.res) {
		va_start(ap, fmt);
		vsnprintf(_es_h.res->skip_reason, sizeof(_es_h.res->skip_reason), fmt, ap);
		va_end(ap);
		_es_h.res->skipped = 1;
	}
	_es_bail();
	__builtin_unreachable();
}

/* End the current test as skipped; printf-style reason. */
#define SKIP(...) _es_skip(__VA_ARGS__)

/*
 * Mark the current test as failing on a known, reported bug: a failure is
 * printed as "not ok ... # TODO reason" and does not fail the run, and a
 * pass shows up as an unexpected TODO pass in prove.
 */
static inline void TEST_TODO(const char *reason)
{
	if (!_es_h.res)
		return;
	snprintf(_es_h.res->todo_reason, sizeof(_es_h.res->todo_reason), "%s", reason);
	_es_h.res->todo = 1;
}

static inline void es_harness_require_root(void)
{
	if (geteuid() != 0)
		SKIP("needs root to load BPF programs");
}

/* Integer values keep their signedness through the comparison. */
#define _ES_SIGNED(x) _Generic((x),					\
	char: CHAR_MIN < 0, signed char: 1, short: 1, int: 1,		\
	long: 1, long long: 1, default: 0)

static inline int _es_cmp(int as, unsigned long long a, int bs, unsigned long long b)
{
	int aneg = as && (long long)a < 0;
	int bneg = bs && (long long)b < 0;

	if (aneg != bneg)
		return aneg ? -1 : 1;
	/* Same sign: two's complement keeps the order of unsigned compare. */
	return a < b ? -1 : a > b;
}

static inline void _es_fmt_val(char *buf, size_t len, int is_signed, unsigned long long v)
{
	if (is_signed)
		snprintf(buf, len, "%lld", (long long)v);
	else
		snprintf(buf, len, "%llu", v);
}

static inline void _es_fail_cmp(const char *file, int line, const char *what,
				const char *op, int gs, unsigned long long got,
				int ws, unsigned long long want, int fatal)
{
	char g[32], w[32];

	_es_fmt_val(g, sizeof(g), gs, got);
	_es_fmt_val(w, sizeof(w), ws, want);
	if (!strcmp(op, "=="))
		op = "";
	_es_diag("%s:%d: %s: got %s, want %s%s%s", file, line, what, g, op,
		 *op ? " " : "", w);
	_es_mark_failed(fatal);
}

#define _ES_CMP(got, want, op, what, fatal) do {			\
	__typeof__(got) _es_got = (got);				\
	__typeof__(want) _es_want = (want);				\
	int _es_gs = _ES_SIGNED(_es_got), _es_ws = _ES_SIGNED(_es_want);	\
									\
	if (!(_es_cmp(_es_gs, (unsigned long long)_es_got,		\
		      _es_ws, (unsigned long long)_es_want) op 0))	\
		_es_fail_cmp(__FILE__, __LINE__, what, #op,		\
			     _es_gs, (unsigned long long)_es_got,	\
			     _es_ws, (unsigned long long)_es_want, fatal);	\
} while (0)

static inline void _es_fail_true(const char *file, int line, const char *what,
				 int fatal)
{
	_es_diag("%s:%d: %s: got false, want true", file, line, what);
	_es_mark_failed(fatal);
}

#define _ES_TRUE(cond, what, fatal) do {				\
	if (!(cond))							\
		_es_fail_true(__FILE__, __LINE__, what, fatal);		\
} while (0)

/* err < 0 is a negative errno (libbpf style), else errno tells. */
static inline void _es_fail_ok(const char *file, int line, const char *what,
			       long long err, int saved_errno, int fatal)
{
	int e = err < 0 && err > -4096 ? (int)-err : saved_errno;

	_es_diag("%s:%d: %s: got %lld (%s), want 0", file, line, what, err,
		 strerror(e));
	_es_mark_failed(fatal);
}

#define _ES_OK(err, what, fatal) do {					\
	long long _es_err = (err);					\
	int _es_errno = errno;						\
									\
	if (_es_err)							\
		_es_fail_ok(__FILE__, __LINE__, what, _es_err, _es_errno, fatal);	\
} while (0)

static inline void _es_fail_ptr(const char *file, int line, const char *what,
				const void *p, int saved_errno, int fatal)
{
	long v = (long)p;
	int e = v < 0 ? (int)-v : saved_errno;

	_es_diag("%s:%d: %s: got %s (%s), want a valid pointer", file, line,
		 what, p ? "an error pointer" : "NULL", strerror(e));
	_es_mark_failed(fatal);
}

#define _ES_OK_PTR(ptr, what, fatal) do {				\
	const void *_es_p = (ptr);					\
	int _es_errno = errno;						\
									\
	if (!_es_p || (unsigned long)_es_p >= (unsigned long)-4095)	\
		_es_fail_ptr(__FILE__, __LINE__, what, _es_p, _es_errno, fatal);	\
} while (0)

#define ASSERT_EQ(got, want, what)	_ES_CMP(got, want, ==, what, 1)
#define ASSERT_NE(got, want, what)	_ES_CMP(got, want, !=, what, 1)
#define ASSERT_GE(got, want, what)	_ES_CMP(got, want, >=, what, 1)
#define ASSERT_LE(got, want, what)	_ES_CMP(got, want, <=, what, 1)
#define ASSERT_GT(got, want, what)	_ES_CMP(got, want, >, what, 1)
#define ASSERT_LT(got, want, what)	_ES_CMP(got, want, <, what, 1)
#define ASSERT_TRUE(cond, what)		_ES_TRUE(cond, what, 1)
#define ASSERT_OK(err, what)		_ES_OK(err, what, 1)
#define ASSERT_OK_PTR(ptr, what)	_ES_OK_PTR(ptr, what, 1)

#define EXPECT_EQ(got, want, what)	_ES_CMP(got, want, ==, what, 0)
#define EXPECT_NE(got, want, what)	_ES_CMP(got, want, !=, what, 0)
#define EXPECT_GE(got, want, what)	_ES_CMP(got, want, >=, what, 0)
#define EXPECT_LE(got, want, what)	_ES_CMP(got, want, <=, what, 0)
#define EXPECT_GT(got, want, what)	_ES_CMP(got, want, >, what, 0)
#define EXPECT_LT(got, want, what)	_ES_CMP(got, want, <, what, 0)
#define EXPECT_TRUE(cond, what)		_ES_TRUE(cond, what, 0)
#define EXPECT_OK(err, what)		_ES_OK(err, what, 0)
#define EXPECT_OK_PTR(ptr, what)	_ES_OK_PTR(ptr, what, 0)

/* -------------------------------------------------------------------- */
/* Test definition */

#define _ES_REGISTER(id, tname, fn, secs)				\
	static struct es_test _es_test_##id = {				\
		.name = tname, .run = fn, .timeout = secs,		\
		.line = __LINE__,					\
	};								\
	__attribute__((constructor)) static void _es_register_##id(void)	\
	{								\
		es_register_test(&_es_test_##id);			\
	}

#define TEST_TIMEOUT(tname, secs)					\
	static void _es_body_##tname(void);				\
	static void _es_run_##tname(void)				\
	{								\
		if (!sigsetjmp(_es_h.jmp, 0)) {				\
			_es_h.armed = 1;				\
			_es_body_##tname();				\
		}							\
		_es_h.armed = 0;					\
	}								\
	_ES_REGISTER(tname, #tname, _es_run_##tname, secs)		\
	static void _es_body_##tname(void)

#define TEST(tname) TEST_TIMEOUT(tname, 0)

#define TEST_SETUP_ONCE(fn)						\
	__attribute__((constructor)) static void _es_setup_once_##fn(void)	\
	{								\
		_es_h.setup_once = fn;					\
	}

#define FIXTURE(fix) struct _es_fixture_##fix

/* The fixture's type, for helpers that take `self`. */
#define FIXTURE_DATA(fix) struct _es_fixture_##fix

#define FIXTURE_SETUP(fix)						\
	static void _es_setup_##fix(struct _es_fixture_##fix *self __attribute__((unused)))

#define FIXTURE_TEARDOWN(fix)						\
	static void _es_teardown_##fix(struct _es_fixture_##fix *self __attribute__((unused)))

/*
 * The fixture instance is static: each test runs in a fresh child, and a
 * static object is immune to what longjmp does to automatic variables.
 */
#define TEST_F_TIMEOUT(fix, tname, secs)				\
	static void _es_body_##fix##_##tname(struct _es_fixture_##fix *self);	\
	static void _es_run_##fix##_##tname(void)			\
	{								\
		static struct _es_fixture_##fix _es_self;		\
									\
		if (!sigsetjmp(_es_h.jmp, 0)) {				\
			_es_h.armed = 1;				\
			_es_setup_##fix(&_es_self);			\
			if (!_es_h.res->failed && !_es_h.res->skipped)	\
				_es_body_##fix##_##tname(&_es_self);	\
		}							\
		if (!sigsetjmp(_es_h.jmp, 0)) {				\
			_es_h.armed = 1;				\
			_es_teardown_##fix(&_es_self);			\
		}							\
		_es_h.armed = 0;					\
	}								\
	_ES_REGISTER(fix##_##tname, #fix "." #tname,			\
		     _es_run_##fix##_##tname, secs)			\
	static void _es_body_##fix##_##tname(struct _es_fixture_##fix *self __attribute__((unused)))

#define TEST_F(fix, tname) TEST_F_TIMEOUT(fix, tname, 0)

/* -------------------------------------------------------------------- */
/* Runner */

/* Constructors may run in any order; report tests in source order. */
static inline void es_sort_tests(void)
{
	struct es_test *sorted = NULL, **pp, *t, *next;

	for (t = _es_h.head; t; t = next) {
		next = t->next;
		for (pp = &sorted; *pp && (*pp)->line <= t->line; pp = &(*pp)->next)
			;
		t->next = *pp;
		*pp = t;
	}
	_es_h.head = sorted;
}

static inline unsigned int es_default_timeout(void)
{
	const char *env = getenv("ES_TEST_TIMEOUT");
	char *end;
	unsigned long v;

	if (!env || !*env)
		return ES_TEST_DEFAULT_TIMEOUT;
	v = strtoul(env, &end, 10);
	if (*end || !v || v > 86400)
		return ES_TEST_DEFAULT_TIMEOUT;
	return v;
}

static inline void _es_child(const struct es_test *t, unsigned int timeout)
{
	/* Diagnostics reach the runner's stdout even if the test crashes. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	_es_h.main_thread = pthread_self();
	alarm(timeout);
	t->run();
	_es_h.res->finished = 1;
	fflush(stdout);
	_exit(_es_h.res->failed ? 1 : 0);
}

/* Run one test in a child; returns 1 if it failed. */
static inline int es_run_test(const struct es_test *t, unsigned int num,
			      unsigned int timeout)
{
	struct es_test_result *res = _es_h.res;
	int status, failed;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		printf("not ok %u - %s\n# fork: %s\n", num, t->name, strerror(errno));
		return 1;
	}
	if (pid == 0)
		_es_child(t, timeout);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			printf("not ok %u - %s\n# waitpid: %s\n", num, t->name,
			       strerror(errno));
			return 1;
		}
	}
	failed = res->failed;
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM)
			printf("# %s: timed out after %u s\n", t->name, timeout);
		else
			printf("# %s: killed by signal %d (%s)\n", t->name,
			       WTERMSIG(status), strsignal(WTERMSIG(status)));
		printf("not ok %u - %s\n", num, t->name);
		return 1;
	}
	if (!failed && WEXITSTATUS(status) != 0) {
		printf("# %s: exited with status %d\n", t->name, WEXITSTATUS(status));
		failed = 1;
	} else if (!failed && !res->finished) {
		printf("# %s: exited before the test returned\n", t->name);
		failed = 1;
	}
	if (res->todo) {
		printf("%sok %u - %s # TODO %s\n", failed ? "not " : "", num, t->name,
		       res->todo_reason);
		return 0;
	}
	if (failed)
		printf("not ok %u - %s\n", num, t->name);
	else if (res->skipped)
		printf("ok %u - %s # SKIP %s\n", num, t->name, res->skip_reason);
	else
		printf("ok %u - %s\n", num, t->name);
	return failed;
}

static inline int es_harness_main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	unsigned int num = 0, failures = 0, def_timeout = es_default_timeout();
	struct es_test *t;

	_es_h.res = mmap(NULL, sizeof(*_es_h.res), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (_es_h.res == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	es_sort_tests();
	printf("TAP version 13\n1..%u\n", _es_h.count);
	for (t = _es_h.head; t; t = t->next) {
		num++;
		if (filter && !strstr(t->name, filter)) {
			printf("ok %u - %s # SKIP filtered\n", num, t->name);
			continue;
		}
		if (_es_h.setup_once) {
			fflush(stdout);
			_es_h.setup_once();
			_es_h.setup_once = NULL;
		}
		failures += es_run_test(t, num, t->timeout ? t->timeout : def_timeout);
	}
	if (failures)
		printf("# %u of %u tests failed\n", failures, _es_h.count);
	fflush(stdout);
	return failures ? 1 : 0;
}

#define TEST_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		return es_harness_main(argc, argv);			\
	}

#endif /* EDGESHIFT_SELFTEST_HARNESS_H */
