// SPDX-License-Identifier: GPL-2.0-only
/*
 * The option table parser (lib/tool/opts.c): every value type, ranges,
 * required and unknown options, missing values, both long forms, short
 * options, positional arguments and the help printed from the table.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "tool/opts.h"

struct conf {
	bool			json;
	bool			realtime;
	uint64_t		count;
	uint16_t		port;
	uint8_t			ttl;
	double			rate;
	const char		*dev;
	char			name[8];
	int			proto;
	struct es_opt_multi	iface;
	int			odd;
};

static const struct es_opt_name protos[] = {
	{ "udp", 17 }, { "tcp", 6 }, { }
};

/* Doubles the value, to show that a callback sees the whole conf. */
static int parse_odd(const struct es_opts *p, const struct es_opt *o,
		     const char *arg, void *c)
{
	struct conf *conf = c;
	uint64_t v;

	if (es_opts_uint(p, "--odd", arg, 0, 100, &v))
		return -1;
	conf->odd = 2 * v + conf->ttl + (o->short_name == 'o');
	return 0;
}

#define C(field)	ES_OPT_AT(struct conf, field)
static const struct es_opt opts[] = {
	ES_OPT_BOOL(C(json), "json", 'j', "one JSON object"),
	ES_OPT_BOOL(C(realtime), "no-realtime", 0, "no SCHED_FIFO",
		    .neg = true),
	ES_OPT_UINT(C(count), "count", 'n', 1, 1000000, "N",
		    "send N packets", .required = true),
	ES_OPT_UINT(C(port), "port", 'p', 1, 65535, "PORT",
		    "to PORT"),
	ES_OPT_UINT(C(ttl), "ttl", 0, 1, 255, "N", "hop limit"),
	ES_OPT_DOUBLE(C(rate), "rate", 'r', 0.001, 1e6, "PER_S",
		      "packets per second\nsecond line"),
	ES_OPT_STR(C(dev), "dev", 'd', "IFACE", "send on IFACE"),
	ES_OPT_STRBUF(C(name), "name", 0, "NAME", "a short name"),
	ES_OPT_ENUM(C(proto), "proto", 0, protos, "udp|tcp",
		    "protocol"),
	ES_OPT_MULTI(C(iface), "interface", 'i', "NAME",
		     "repeatable"),
	ES_OPT_FUNC("odd", 'o', parse_odd, "N", "a callback"),
	ES_OPT_BOOL(C(json), "secret", 0, "not shown", .hidden = true),
	{ }
};

static const struct es_opts cli = {
	.prog	= "es-test",
	.opts	= opts,
	.usage	= "--count N [OPTIONS] [ARG...]",
	.doc	= "A test program.\n",
	.epilog	= "Exit status: 0, 1, 2.\n",
	.args	= true,
};

static char err_text[4096];

/* Parses the NULL-terminated words with stderr caught in err_text. */
static int parse_words(const struct es_opts *p, struct conf *c, char **words)
{
	FILE *tmp = tmpfile();
	int argc = 0, saved, rc;
	size_t n;

	while (words[argc])
		argc++;
	memset(c, 0, sizeof(*c));
	c->realtime = true;
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	rc = es_opts_parse(p, argc, words, c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(err_text, 1, sizeof(err_text) - 1, tmp);
	err_text[n] = 0;
	fclose(tmp);
	return rc;
}

#define PARSE(c, ...) parse_words(&cli, c, (char *[]){ "es-test", __VA_ARGS__, NULL })

static bool err_has(const char *s)
{
	if (strstr(err_text, s))
		return true;
	TEST_LOG("stderr: %s", err_text);
	return false;
}

TEST(every_type_long_forms)
{
	struct conf c;

	ASSERT_EQ(PARSE(&c, "--count", "3k", "--port=8080", "--ttl", "64",
			"--rate=2.5", "--dev", "eth0", "--name", "abc",
			"--proto=tcp", "--json", "--no-realtime", "--odd", "5"), 16,
		  "all read, no argument left");
	EXPECT_EQ(c.count, 3000, "k suffix");
	EXPECT_EQ(c.port, 8080, "u16 field");
	EXPECT_EQ(c.ttl, 64, "u8 field");
	EXPECT_TRUE(c.rate == 2.5, "double");
	EXPECT_TRUE(!strcmp(c.dev, "eth0"), "string");
	EXPECT_TRUE(!strcmp(c.name, "abc"), "string buffer");
	EXPECT_EQ(c.proto, 6, "enum value");
	EXPECT_TRUE(c.json, "bool");
	EXPECT_TRUE(!c.realtime, "negated bool");
	EXPECT_EQ(c.odd, 75, "callback");
	EXPECT_EQ(err_text[0], 0, "no message");
}

TEST(short_options_and_bundles)
{
	struct conf c;

	ASSERT_EQ(PARSE(&c, "-jn", "7", "-p80", "-r", "1", "-d", "lo", "-o", "1"),
		  10, "parsed");
	EXPECT_EQ(c.count, 7, "bundled -n");
	EXPECT_EQ(c.port, 80, "-p80");
	EXPECT_TRUE(c.json, "bundled -j");
	EXPECT_TRUE(!strcmp(c.dev, "lo"), "-d");
	EXPECT_EQ(c.odd, 3, "short name reaches the callback");
}

TEST(multi_keeps_order)
{
	struct conf c;

	ASSERT_EQ(PARSE(&c, "-n", "1", "-i", "a", "--interface=b", "-ic"), 7,
		  "parsed");
	ASSERT_EQ(c.iface.n, 3, "three values");
	EXPECT_TRUE(!strcmp(c.iface.v[0], "a") && !strcmp(c.iface.v[1], "b") &&
		    !strcmp(c.iface.v[2], "c"), "in order");
}

TEST(given_options)
{
	char *w[] = { "es-test", "-n", "5", "--rate", "1", "-j", NULL };
	struct conf c = { };
	uint64_t given = 0;

	ASSERT_EQ(es_opts_parse_given(&cli, 6, w, &c, &given), 6, "parsed");
	EXPECT_EQ(given, (1ULL << 0) | (1ULL << 2) | (1ULL << 5),
		  "bits of --json, --count and --rate, by table index");
}

TEST(positional_arguments)
{
	struct conf c;
	struct es_opts stop = cli, none = cli;
	char *w1[] = { "es-test", "x", "-n", "1", "y", NULL };
	char *w2[] = { "es-test", "-n", "1", "x", "-j", NULL };
	char *w3[] = { "es-test", "-n", "1", "x", NULL };

	/* permuted: options after arguments still count */
	ASSERT_EQ(parse_words(&cli, &c, w1), 3, "arguments moved to the end");
	EXPECT_TRUE(!strcmp(w1[3], "x") && !strcmp(w1[4], "y"), "x y");
	stop.stop = true;
	ASSERT_EQ(parse_words(&stop, &c, w2), 3, "stops at the first argument");
	EXPECT_TRUE(!c.json, "-j after it is not an option");
	none.args = false;
	EXPECT_EQ(parse_words(&none, &c, w3), -1, "no arguments allowed");
	EXPECT_TRUE(err_has("es-test: unexpected argument 'x'"), "message");
}

TEST(ranges)
{
	struct conf c;

	EXPECT_EQ(PARSE(&c, "-n", "0"), -1, "below min");
	EXPECT_TRUE(err_has("es-test: --count: '0' is not an integer in 1..1000000\n"
			    "Try 'es-test --help'.\n"), "integer message and hint");
	EXPECT_EQ(PARSE(&c, "-n", "2", "--port", "65536"), -1, "above max");
	EXPECT_TRUE(err_has("--port: '65536' is not an integer in 1..65535"), "port");
	EXPECT_EQ(PARSE(&c, "-n", "-3"), -1, "a sign");
	EXPECT_EQ(PARSE(&c, "-n", "3x"), -1, "junk after the digits");
	EXPECT_EQ(PARSE(&c, "-n", "1", "--ttl", "256"), -1, "u8 range");
	EXPECT_EQ(PARSE(&c, "-n", "1", "--rate", "x"), -1, "not a number");
	EXPECT_TRUE(err_has("es-test: --rate: 'x' is not a number in 0.001..1e+06"),
		    "double message");
	EXPECT_EQ(PARSE(&c, "-n", "1", "--rate", "0"), -1, "double below min");
	EXPECT_EQ(PARSE(&c, "-n", "1", "--rate", "inf"), -1, "not finite");
	EXPECT_EQ(PARSE(&c, "-n", "1", "--name", "12345678"), -1, "too long");
	EXPECT_TRUE(err_has("--name: '12345678' is longer than 7 characters"),
		    "buffer message");
	EXPECT_EQ(PARSE(&c, "-n", "1", "--proto", "icmp"), -1, "not a name");
	EXPECT_TRUE(err_has("--proto: 'icmp' is not one of udp, tcp"), "enum message");
	EXPECT_EQ(PARSE(&c, "-n", "1", "--odd", "101"), -1, "callback refuses");
	EXPECT_TRUE(err_has("--odd: '101' is not an integer in 0..100"), "its message");
}

TEST(required_unknown_missing)
{
	struct conf c;
	struct es_opts moded = cli;

	EXPECT_EQ(PARSE(&c, "-j"), -1, "required option absent");
	EXPECT_TRUE(err_has("es-test: --count is required\n"), "required message");
	EXPECT_EQ(PARSE(&c, "-n", "1", "--bogus"), -1, "unknown long");
	EXPECT_TRUE(err_has("es-test: unknown option '--bogus'"), "unknown message");
	EXPECT_EQ(PARSE(&c, "-n", "1", "-x"), -1, "unknown short");
	EXPECT_TRUE(err_has("unknown option '-x'"), "unknown short message");
	EXPECT_EQ(PARSE(&c, "-n", "1", "--json=yes"), -1, "value for a bool");
	EXPECT_EQ(PARSE(&c, "-n"), -1, "missing value, short");
	EXPECT_TRUE(err_has("es-test: --count needs a value"), "missing message");
	EXPECT_EQ(PARSE(&c, "-n", "1", "--dev"), -1, "missing value, long");
	EXPECT_TRUE(err_has("--dev needs a value"), "missing long message");
	moded.mode = "run";
	EXPECT_EQ(parse_words(&moded, &c, (char *[]){ "run", "--bogus", NULL }),
		  -1, "unknown in a mode");
	EXPECT_TRUE(err_has("es-test: run: unknown option '--bogus'"), "mode leads");
}

TEST(help_from_the_table)
{
	struct conf c;
	struct es_opts to_file = cli;
	FILE *f = tmpfile();
	char out[4096];
	size_t n;

	to_file.help_out = f;
	EXPECT_EQ(parse_words(&to_file, &c, (char *[]){ "es-test", "--help", NULL }),
		  0, "--help: 0, even with --count missing");
	EXPECT_EQ(parse_words(&to_file, &c, (char *[]){ "es-test", "-h", NULL }),
		  0, "-h too");
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	fclose(f);
	EXPECT_TRUE(!strncmp(out, "Usage: es-test --count N [OPTIONS] [ARG...]\n"
			     "A test program.\nOptions:\n", 60), "usage and doc");
	EXPECT_TRUE(strstr(out, "  -j, --json                one JSON object\n") != NULL,
		    "a bool");
	EXPECT_TRUE(strstr(out, "      --no-realtime         no SCHED_FIFO\n") != NULL,
		    "a long-only option");
	EXPECT_TRUE(strstr(out, "  -r, --rate PER_S          packets per second\n"
			   "                            second line\n") != NULL,
		    "metavar, continuation line");
	EXPECT_TRUE(strstr(out, "  -h, --help                this help\n") != NULL,
		    "help itself");
	EXPECT_TRUE(!strstr(out, "secret"), "hidden option");
	EXPECT_TRUE(strstr(out, "Exit status: 0, 1, 2.\n") != NULL, "epilog");
	if (_es_h.res->failed)
		TEST_LOG("help: %s", out);
}

TEST_HARNESS_MAIN
