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
	/* every form of <number> takes every kind of suffix */
	{ "5.Gi", 5368709120.0 }, { ".5Ki", 512 }, { "+.5k", 500 }, { "1.5e3", 1500 },
	{ "1E-2", 0.01 }, { "+1e3", 1000 }, { "1e03", 1000 }, { ".5e1", 5 }, { "5.e1", 50 },
	{ "0.1m", 1e-4 },
};

#define SUFFIX	"the suffix must be one of"
#define SPACES	"a quantity holds no spaces"
#define HEX	"hexadecimal is not a quantity"
#define EXP_SFX	"an exponent (e3) takes no suffix"
#define NO_NUM	"it must start with a number"

/* What resource.Quantity refuses, and the reason the message gives. */
static const struct {
	const char	*s;
	const char	*why;
} bad[] = {
	{ "", NO_NUM }, { "k", NO_NUM }, { "Mi", NO_NUM }, { "+", NO_NUM }, { "-", NO_NUM },
	{ ".", NO_NUM }, { "+.", NO_NUM }, { "--1", NO_NUM }, { "+-1", NO_NUM },
	{ "inf", NO_NUM }, { "nan", NO_NUM }, { "Infinity", NO_NUM }, { "abc", NO_NUM },
	{ "e3", NO_NUM },
	/* spaces anywhere, which strtod() would skip in front */
	{ " 1", SPACES }, { " 4", SPACES }, { "\t4", SPACES }, { "1 ", SPACES },
	{ "1 k", SPACES }, { "1\n", SPACES }, { "4Gi ", SPACES }, { "1 e3", SPACES },
	/* hexadecimal, which strtod() reads */
	{ "0x10", HEX }, { "0X10", HEX }, { "-0x10", HEX }, { "+0x1", HEX }, { "0x1p4", HEX },
	{ "0x", HEX },
	/* an exponent and a suffix: one or the other */
	{ "1e1Gi", EXP_SFX }, { "1e3Ki", EXP_SFX }, { "1E3Mi", EXP_SFX }, { "1e3k", EXP_SFX },
	{ "2e2m", EXP_SFX }, { "1e3E", EXP_SFX }, { "1e1.5", "an exponent is a whole number" },
	/* suffixes Kubernetes does not know, or in the wrong case */
	{ "1.2.3", SUFFIX }, { "1K", SUFFIX }, { "1kb", SUFFIX }, { "1ki", SUFFIX },
	{ "1mi", SUFFIX }, { "1KiB", SUFFIX }, { "1Mi5", SUFFIX }, { "1e", SUFFIX },
	{ "1e+", SUFFIX }, { "1e-", SUFFIX }, { "1ke3", SUFFIX }, { "1ee3", SUFFIX },
	{ "1,5", SUFFIX }, { "1_000", SUFFIX }, { "1EE", SUFFIX }, { "10x5", SUFFIX },
	{ "1i", SUFFIX }, { "1Gib", SUFFIX },
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
	char err[200];
	double v;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		err[0] = '\0';
		ret = es_quantity_parse(bad[i].s, &v, err, sizeof(err));
		if (ret != -EINVAL || !strstr(err, bad[i].why))
			TEST_LOG("\"%s\": ret %d value %g message '%s', want -EINVAL and '%s'",
				 bad[i].s, ret, v, err, bad[i].why);
		EXPECT_EQ(ret, -EINVAL, bad[i].s);
		EXPECT_TRUE(v == 12345, "the output is left alone");
		EXPECT_TRUE(strstr(err, "is not a quantity: ") != NULL, "the message says why");
		EXPECT_TRUE(strstr(err, bad[i].why) != NULL, "the message gives the reason");
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
