// SPDX-License-Identifier: GPL-2.0-only
/*
 * The option table parser and help printer (see opts.h). getopt_long()
 * does the scanning, so bundled short options, "--name=value", "--" and
 * unambiguous prefixes of long names work as they always did; the table
 * decides what a value means. libc only: es-counter links it statically.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>	/* isfinite() only */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "opts.h"

#define HELP_COL	28
#define ID_BASE		256	/* getopt ids of long options: ID_BASE + index */
#define ID_HELP		(ID_BASE + ES_OPTS_MAX)

/* The getopt_long() view of a table. */
struct scan {
	struct option	lo[ES_OPTS_MAX + 2];
	char		so[3 * ES_OPTS_MAX + 8];
	int		n;
	bool		help_short;	/* -h means --help */
};

int es_opts_error(const struct es_opts *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", p->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", p->prog);
	return -1;
}

static bool takes_value(const struct es_opt *o)
{
	return o->type != ES_OPT_TYPE_BOOL &&
	       !(o->type == ES_OPT_TYPE_FUNC && o->noarg);
}

static const struct es_opt *find_short(const struct es_opts *p, int c)
{
	const struct es_opt *o;

	for (o = p->opts; o->name || o->short_name; o++)
		if (o->short_name == c)
			return o;
	return NULL;
}

static int scan_init(const struct es_opts *p, struct scan *s)
{
	const struct es_opt *o;
	size_t k = 0, nlo = 0;

	memset(s, 0, sizeof(*s));
	if (p->stop)
		s->so[k++] = '+';
	/* ':' first: a missing value is reported as ':', not '?' */
	s->so[k++] = ':';
	for (o = p->opts; o->name || o->short_name; o++, s->n++) {
		if (s->n == ES_OPTS_MAX)
			return es_opts_error(p, "internal: more than %d options",
					     ES_OPTS_MAX);
		if (o->name)
			s->lo[nlo++] = (struct option) {
				.name = o->name,
				.has_arg = takes_value(o) ? required_argument
							  : no_argument,
				.val = ID_BASE + s->n,
			};
		if (!o->short_name)
			continue;
		s->so[k++] = o->short_name;
		if (takes_value(o))
			s->so[k++] = ':';
	}
	s->help_short = !find_short(p, 'h');
	if (s->help_short)
		s->so[k++] = 'h';
	s->lo[nlo] = (struct option) { .name = "help", .val = ID_HELP };
	return 0;
}

/* "--name", or "-c" for an option without a long name. */
static const char *opt_label(const struct es_opt *o, char *buf, size_t len)
{
	if (o->name)
		snprintf(buf, len, "--%s", o->name);
	else
		snprintf(buf, len, "-%c", o->short_name);
	return buf;
}

int es_opts_uint(const struct es_opts *p, const char *name, const char *s,
		 uint64_t min, uint64_t max, uint64_t *out)
{
	static const struct {
		const char	*suffix;
		uint64_t	mul;
	} sfx[] = {
		{ "", 1 }, { "k", 1000 }, { "m", 1000000 }, { "g", 1000000000 },
		{ "ki", 1ULL << 10 }, { "mi", 1ULL << 20 }, { "gi", 1ULL << 30 },
	};
	const size_t nsfx = sizeof(sfx) / sizeof(sfx[0]);
	unsigned long long v;
	char *end;
	size_t i;

	/* strtoull() would take a sign or leading blanks */
	if (*s < '0' || *s > '9')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		goto bad;
	for (i = 0; i < nsfx; i++)
		if (!strcasecmp(end, sfx[i].suffix))
			break;
	if (i == nsfx || v > max / sfx[i].mul)
		goto bad;
	v *= sfx[i].mul;
	if (v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return es_opts_error(p, "%s: '%s' is not an integer in %" PRIu64 "..%"
			     PRIu64, name, s, min, max);
}

int es_opts_double(const struct es_opts *p, const char *name, const char *s,
		   double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		return es_opts_error(p, "%s: '%s' is not a number in %g..%g",
				     name, s, min, max);
	*out = v;
	return 0;
}

/* The low o->size bytes of v into the field (the host's byte order). */
static void store_uint(const struct es_opt *o, void *field, uint64_t v)
{
	switch (o->size) {
	case 1: *(uint8_t *)field = v; break;
	case 2: *(uint16_t *)field = v; break;
	case 4: *(uint32_t *)field = v; break;
	default: *(uint64_t *)field = v; break;
	}
}

static int set_enum(const struct es_opts *p, const struct es_opt *o,
		    const char *label, const char *arg, int *field)
{
	const struct es_opt_name *n;
	char list[256] = "";
	size_t len = 0;

	for (n = o->names; n->name; n++) {
		if (!strcmp(n->name, arg)) {
			*field = n->val;
			return 0;
		}
	}
	for (n = o->names; n->name && len < sizeof(list); n++)
		len += snprintf(list + len, sizeof(list) - len, "%s%s",
				n == o->names ? "" : ", ", n->name);
	return es_opts_error(p, "%s: '%s' is not one of %s", label, arg, list);
}

static int set_value(const struct es_opts *p, const struct es_opt *o,
		     const char *arg, void *conf)
{
	char *field = (char *)conf + o->off, label[64];
	struct es_opt_multi *m;
	uint64_t u;

	opt_label(o, label, sizeof(label));
	switch (o->type) {
	case ES_OPT_TYPE_BOOL:
		*(bool *)field = !o->neg;
		return 0;
	case ES_OPT_TYPE_UINT:
		if (es_opts_uint(p, label, arg, o->min, o->max, &u))
			return -1;
		store_uint(o, field, u);
		return 0;
	case ES_OPT_TYPE_DOUBLE:
		return es_opts_double(p, label, arg, o->dmin, o->dmax,
				      (double *)field);
	case ES_OPT_TYPE_STR:
		*(const char **)field = arg;
		return 0;
	case ES_OPT_TYPE_STRBUF:
		if (strlen(arg) >= o->size)
			return es_opts_error(p, "%s: '%s' is longer than %zu "
					     "characters", label, arg, o->size - 1);
		memcpy(field, arg, strlen(arg) + 1);
		return 0;
	case ES_OPT_TYPE_ENUM:
		return set_enum(p, o, label, arg, (int *)field);
	case ES_OPT_TYPE_MULTI:
		m = (struct es_opt_multi *)field;
		if (m->n == ES_OPT_MULTI_MAX)
			return es_opts_error(p, "%s: more than %d values", label,
					     ES_OPT_MULTI_MAX);
		m->v[m->n++] = arg;
		return 0;
	case ES_OPT_TYPE_FUNC:
		return o->func(p, o, arg, conf);
	}
	return es_opts_error(p, "internal: %s has no type", label);
}

/* The table entry of getopt's answer c; NULL for help. */
static const struct es_opt *opt_of(const struct es_opts *p, int c)
{
	if (c >= ID_BASE && c < ID_HELP)
		return &p->opts[c - ID_BASE];
	return find_short(p, c);
}

/* The option getopt found without its value (optopt). */
static int missing_value(const struct es_opts *p)
{
	const struct es_opt *o = opt_of(p, optopt);
	char label[64];

	if (!o)
		return es_opts_error(p, "-%c needs a value", optopt);
	return es_opts_error(p, "%s needs a value",
			     opt_label(o, label, sizeof(label)));
}

static int check_required(const struct es_opts *p, const bool *given)
{
	const struct es_opt *o;
	char label[64];
	int i;

	for (o = p->opts, i = 0; o->name || o->short_name; o++, i++)
		if (o->required && !given[i])
			return es_opts_error(p, "%s is required",
					     opt_label(o, label, sizeof(label)));
	return 0;
}

static uint64_t given_bits(const bool *given, int n)
{
	uint64_t bits = 0;
	int i;

	for (i = 0; i < n; i++)
		if (given[i])
			bits |= 1ULL << i;
	return bits;
}

int es_opts_parse(const struct es_opts *p, int argc, char **argv, void *conf)
{
	return es_opts_parse_given(p, argc, argv, conf, NULL);
}

int es_opts_parse_given(const struct es_opts *p, int argc, char **argv,
			void *conf, uint64_t *given_mask)
{
	bool given[ES_OPTS_MAX] = { false };
	const struct es_opt *o;
	struct scan s;
	int c;

	if (scan_init(p, &s))
		return -1;
	/* The messages are ours; 0 rescans from argv[1] with fresh state. */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, s.so, s.lo, NULL)) != -1) {
		if (c == ':')
			return missing_value(p);
		if (c == '?')
			return es_opts_error(p, "%s%sunknown option '%s'",
					     p->mode ?: "", p->mode ? ": " : "",
					     argv[optind - 1]);
		if (c == ID_HELP || (c == 'h' && s.help_short)) {
			es_opts_help(p, p->help_out ?: stdout);
			return 0;
		}
		o = opt_of(p, c);
		if (set_value(p, o, optarg, conf))
			return -1;
		given[o - p->opts] = true;
	}
	if (optind < argc && !p->args)
		return es_opts_error(p, "unexpected argument '%s'", argv[optind]);
	if (check_required(p, given))
		return -1;
	if (given_mask)
		*given_mask = given_bits(given, ES_OPTS_MAX);
	return optind;
}

/* "  -c, --name METAVAR" */
static int print_names(const struct es_opt *o, FILE *f)
{
	const char *mv = o->metavar ?: (takes_value(o) ? "VALUE" : NULL);
	int n = 0;

	n += fprintf(f, "  ");
	if (o->short_name)
		n += fprintf(f, "-%c%s", o->short_name, o->name ? ", " : "");
	else
		n += fprintf(f, "    ");
	if (o->name)
		n += fprintf(f, "--%s", o->name);
	if (mv)
		n += fprintf(f, " %s", mv);
	return n;
}

/* The help text, its continuation lines under the first. */
static void print_help_text(const char *h, FILE *f)
{
	const char *nl;

	while ((nl = strchr(h, '\n'))) {
		fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COL, "");
		h = nl + 1;
	}
	fprintf(f, "%s\n", h);
}

void es_opts_help(const struct es_opts *p, FILE *f)
{
	const struct es_opt *o;
	int n;

	fprintf(f, "Usage: %s %s\n", p->prog, p->usage ?: "[OPTIONS]");
	if (p->doc)
		fprintf(f, "%s", p->doc);
	fprintf(f, "Options:\n");
	for (o = p->opts; o->name || o->short_name; o++) {
		if (o->hidden)
			continue;
		n = print_names(o, f);
		if (n >= HELP_COL - 1)
			fprintf(f, "\n%*s", HELP_COL, "");
		else
			fprintf(f, "%*s", HELP_COL - n, "");
		print_help_text(o->help ?: "", f);
	}
	fprintf(f, "  %s--help%*sthis help\n", find_short(p, 'h') ? "    " : "-h, ",
		HELP_COL - 12, "");
	if (p->epilog)
		fprintf(f, "%s", p->epilog);
}
