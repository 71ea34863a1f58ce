// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one Kubernetes quantity parser the CLI and the scheduler share:
 * every form resource.Quantity accepts gives its value, and what it
 * rejects is rejected with a message quoting the input.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include "harness.h"
#include "util/quantity.h"

static const struct {
	const char	*s;
	double		want;
} good[] = {
	{ "0", 0 }, { "1", 1 }, { "42", 42 }, { "1.5", 1.5 }, { ".5", 0.5 }, { "5.", 5 },
	{ "+3", 3 }, { "-3", -3 }, { "-.25", -0.25 }, { "+0", 0 },
	{ "100n", 100e-9 }, { "250u", 250e-6 }, { "500m", 0.5 }, { "1500m", 1.5 },
	{ "1k", 1e3 }, { "7M", 7e6 }, { "1G", 1e9 }, { "2T", 2e12 }, { "3P", 3e15 },
	{ "1E", 1e18 }, { "0.5k", 500 }, { "-2k", -2000 },
	{ "1Ki", 1024 }, { "4Mi", 4194304.0 }, { "1Gi", 1073741824.0 },
	{ "1Ti", 1099511627776.0 }, { "1Pi", 1125899906842624.0 },
	{ "1Ei", 1152921504606846976.0 }, { "1.5Gi", 1610612736.0 },
	{ "1e3", 1e3 }, { "1E3", 1e3 }, { "1e+3", 1e3 }, { "1e-3", 1e-3 },
	{ "2.5e2", 250 }, { "-1e2", -100 }, { "1e0", 1 },
};

static const char *const bad[] = {
	"", " 1", "1 ", "1 k", "k", "Mi", "+", "-", ".", "+.", "1.2.3", "--1", "+-1",
	"1K", "1kb", "1ki", "1mi", "1KiB", "1Mi5", "1e", "1e+", "1e-", "1e3k", "1ke3",
	"1e1.5", "1ee3", "0x10", "inf", "nan", "Infinity", "1,5", "1_000", "abc",
	"1\n", "1EE",
};

static bool close_to(double got, double want)
{
	return got == want || fabs(got - want) <= fabs(want) * 1e-12;
}

TEST(accepts_kubernetes_forms)
{
	char err[160];
	double v;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = NAN;
		err[0] = '\0';
		ret = es_quantity_parse(good[i].s, &v, err, sizeof(err));
		if (ret || !close_to(v, good[i].want))
			TEST_LOG("\"%s\": ret %d value %g, want %g (%s)", good[i].s, ret, v,
				 good[i].want, err);
		EXPECT_EQ(ret, 0, good[i].s);
		EXPECT_TRUE(close_to(v, good[i].want), good[i].s);
	}
}

TEST(rejects_garbage_with_a_message)
{
	char err[160];
	double v;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		err[0] = '\0';
		ret = es_quantity_parse(bad[i], &v, err, sizeof(err));
		if (ret != -EINVAL)
			TEST_LOG("\"%s\": ret %d value %g, want -EINVAL", bad[i], ret, v);
		EXPECT_EQ(ret, -EINVAL, bad[i]);
		EXPECT_TRUE(v == 12345, "the output is left alone");
		EXPECT_TRUE(strstr(err, "is not a quantity") != NULL, "the message says why");
		EXPECT_TRUE(err[0] == '"', "the message quotes the input");
	}
}

TEST(rejects_what_is_not_finite)
{
	char err[160] = "";
	double v = 1;

	EXPECT_EQ(es_quantity_parse("1e400", &v, err, sizeof(err)), -ERANGE, "1e400");
	EXPECT_TRUE(strstr(err, "out of range") != NULL, "the message says out of range");
	EXPECT_EQ(es_quantity_parse("1e308E", &v, err, sizeof(err)), -EINVAL,
		  "an exponent takes no suffix");
	EXPECT_EQ(es_quantity_parse("9e300Ei", &v, err, sizeof(err)), -EINVAL,
		  "an exponent and a binary suffix");
	EXPECT_TRUE(v == 1, "the output is left alone");
}

TEST(message_fits_a_small_buffer)
{
	char err[8];
	double v;

	EXPECT_EQ(es_quantity_parse("nonsense-quantity", &v, err, sizeof(err)), -EINVAL, "garbage");
	EXPECT_EQ(strlen(err), sizeof(err) - 1, "the message is cut, NUL-terminated");
}

TEST_HARNESS_MAIN
