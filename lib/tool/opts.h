/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Command line options as one declarative table per program: each entry
 * names the option, its type and range, the field of the program's config
 * struct it fills (offsetof), a metavar and a help line. One parser fills
 * the struct and reports usage errors in one style ("PROG: --rate: 'x' is
 * not a number in 0..10" and the --help hint); one printer prints the help
 * from the same table, so the two cannot disagree.
 *
 *	struct conf { uint64_t count; bool json; const char *dev; };
 *	#define C(field) ES_OPT_AT(struct conf, field)
 *	static const struct es_opt opts[] = {
 *		ES_OPT_STR(C(dev), "dev", 'd', "IFACE", "send on IFACE",
 *			   .required = true),
 *		ES_OPT_UINT(C(count), "count", 0, 1, 1000, "N", "send N"),
 *		ES_OPT_BOOL(C(json), "json", 'j', "one JSON object"),
 *		{ }
 *	};
 *	static const struct es_opts cli = { .prog = "es-x", .opts = opts };
 *
 *	n = es_opts_parse(&cli, argc, argv, &conf);
 *	if (n <= 0)
 *		return n ? 2 : 0;	(usage error : help printed)
 *
 * The program sets its defaults in the struct before parsing. -h/--help
 * is always there (unless the table takes 'h' for itself).
 */
#ifndef EDGESHIFT_TOOL_OPTS_H
#define EDGESHIFT_TOOL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum es_opt_type {
	ES_OPT_TYPE_BOOL,	/* no value: the bool becomes !.neg */
	ES_OPT_TYPE_UINT,	/* unsigned integer field of any width, in
				 * .min..max, k/m/g and ki/mi/gi suffixes */
	ES_OPT_TYPE_DOUBLE,	/* double in .dmin..dmax */
	ES_OPT_TYPE_STR,	/* const char *, pointing into argv */
	ES_OPT_TYPE_STRBUF,	/* char array: a copy, too long is an error */
	ES_OPT_TYPE_ENUM,	/* int: .names[i].val of the name given */
	ES_OPT_TYPE_MULTI,	/* struct es_opt_multi: every value, in order */
	ES_OPT_TYPE_FUNC,	/* .func parses (.noarg: takes no value) */
};

struct es_opt_name {
	const char	*name;
	int		val;
};

#define ES_OPT_MULTI_MAX	32

struct es_opt_multi {
	const char	*v[ES_OPT_MULTI_MAX];
	unsigned int	n;
};

struct es_opts;
struct es_opt;

/* 0, or -1 after es_opts_error() (or another message) */
typedef int (*es_opt_func)(const struct es_opts *p, const struct es_opt *o,
			   const char *arg, void *conf);

struct es_opt {
	const char			*name;		/* long name, no "--" */
	int				short_name;	/* 0: none */
	enum es_opt_type		type;
	size_t				off;		/* offsetof() in conf */
	size_t				size;		/* sizeof() of that field */
	uint64_t			min, max;	/* UINT */
	double				dmin, dmax;	/* DOUBLE */
	const struct es_opt_name	*names;		/* ENUM, { } ends it */
	es_opt_func			func;		/* FUNC */
	bool				noarg;		/* FUNC without a value */
	bool				neg;		/* BOOL: sets false */
	bool				required;
	bool				hidden;		/* not in the help */
	const char			*metavar;	/* the value in the help */
	const char			*help;		/* "\n" starts a new line */
};

#define ES_OPT_AT(T, field)						\
	.off = offsetof(T, field), .size = sizeof(((T *)0)->field)

#define ES_OPT_BOOL(at, lname, sname, hlp, ...)				\
	{ .name = lname, .short_name = sname, .type = ES_OPT_TYPE_BOOL,	\
	  at, .help = hlp, __VA_ARGS__ }
#define ES_OPT_UINT(at, lname, sname, lo, hi, mv, hlp, ...)		\
	{ .name = lname, .short_name = sname, .type = ES_OPT_TYPE_UINT,	\
	  at, .min = lo, .max = hi, .metavar = mv, .help = hlp, __VA_ARGS__ }
#define ES_OPT_DOUBLE(at, lname, sname, lo, hi, mv, hlp, ...)		\
	{ .name = lname, .short_name = sname, .type = ES_OPT_TYPE_DOUBLE, \
	  at, .dmin = lo, .dmax = hi, .metavar = mv, .help = hlp, __VA_ARGS__ }
#define ES_OPT_STR(at, lname, sname, mv, hlp, ...)			\
	{ .name = lname, .short_name = sname, .type = ES_OPT_TYPE_STR,	\
	  at, .metavar = mv, .help = hlp, __VA_ARGS__ }
#define ES_OPT_STRBUF(at, lname, sname, mv, hlp, ...)			\
	{ .name = lname, .short_name = sname, .type = ES_OPT_TYPE_STRBUF, \
	  at, .metavar = mv, .help = hlp, __VA_ARGS__ }
#define ES_OPT_ENUM(at, lname, sname, nm, mv, hlp, ...)			\
	{ .name = lname, .short_name = sname, .type = ES_OPT_TYPE_ENUM,	\
	  at, .names = nm, .metavar = mv, .help = hlp, __VA_ARGS__ }
#define ES_OPT_MULTI(at, lname, sname, mv, hlp, ...)			\
	{ .name = lname, .short_name = sname, .type = ES_OPT_TYPE_MULTI, \
	  at, .metavar = mv, .help = hlp, __VA_ARGS__ }
#define ES_OPT_FUNC(lname, sname, fn, mv, hlp, ...)			\
	{ .name = lname, .short_name = sname, .type = ES_OPT_TYPE_FUNC,	\
	  .func = fn, .metavar = mv, .help = hlp, __VA_ARGS__ }

/* The most options one table may hold. */
#define ES_OPTS_MAX		64

struct es_opts {
	const char		*prog;	/* name in messages and the --help hint */
	const char		*mode;	/* leads "unknown option" messages */
	const struct es_opt	*opts;	/* ends with { } */
	const char		*usage;	/* after "Usage: PROG " */
	const char		*doc;	/* printed before the options */
	const char		*epilog; /* printed after them */
	bool			args;	/* positional arguments allowed */
	bool			stop;	/* options end at the first argument */
	FILE			*help_out; /* where --help goes; NULL: stdout */
};

/*
 * Fills conf from argv[1..]: the index of the first positional argument
 * (argc when there is none), 0 when --help was printed, -1 after a usage
 * error (printed on stderr with the --help hint).
 */
int es_opts_parse(const struct es_opts *p, int argc, char **argv, void *conf);
/* The same, and *given: bit i set when opts[i] was on the command line. */
int es_opts_parse_given(const struct es_opts *p, int argc, char **argv,
			void *conf, uint64_t *given);

/* The help: usage line, doc, one line per option, epilog. */
void es_opts_help(const struct es_opts *p, FILE *f);

/* Prints "PROG: message" and the --help hint on stderr; returns -1. */
int es_opts_error(const struct es_opts *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The value parsers of the table types, for callbacks and for values that
 * arrive another way: 0, or -1 after a usage error naming --name.
 */
int es_opts_uint(const struct es_opts *p, const char *name, const char *s,
		 uint64_t min, uint64_t max, uint64_t *out);
int es_opts_double(const struct es_opts *p, const char *name, const char *s,
		   double min, double max, double *out);

#endif /* EDGESHIFT_TOOL_OPTS_H */
