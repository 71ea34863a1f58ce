// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-drill: the user of a migration drill (tools/drill/drill.sh); the report is
 * es-drill-report's.
 *
 *   es-drill client   sends "SEQ n" requests to the reference service
 *                     (es-counter) at a fixed rate, open loop (a slow reply
 *                     never delays the next request), from one source
 *                     address and port, i.e. one session; at request
 *                     --handoff-at it moves its default route to the new
 *                     access point (the handoff). One JSON line per request:
 *                     seq, sent_ns, recv_ns, rtt_us, counter, replies;
 *                     a summary object on stdout. With --tcp, the requests
 *                     go over one TCP connection (one line each) that must
 *                     live through the migration: a reset or close of it
 *                     is counted (resets) and ends the run. With --redis KEY
 *                     the service is a Redis server: each request is
 *                     "INCR KEY" (inline command), its reply ":N", and the
 *                     n-th reply on the connection answers request n.
 *                     With --http KEY the service is es-counter --http:
 *                     each request is "GET /incr/KEY" (HTTP/1.1,
 *                     keep-alive), its reply a 200 whose body is
 *                     "KEY N", the n-th response answering request n.
 *                     --pipeline P writes P requests at a time (at the same
 *                     request rate), as redis-benchmark -P does.
 *                     --quiet-every K makes every K-th request "SEQ n
 *                     QUIET", which es-counter applies without a reply:
 *                     such a request is neither answered nor lost, and the
 *                     next reply's counter shows whether it took effect
 *                     once. --hold-until FILE keeps the connection open
 *                     once answered until FILE exists; --after-hold N then
 *                     sends N more requests on it (the next request of a
 *                     connection that was idle while it moved).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include "net/mnl_recv.h"
#include "tool/opts.h"
#include "util/sockaddr.h"
#include "util/clock.h"
#include "net/netns.h"

/* Requests one write carries at most (--pipeline). */
#define ES_DRILL_PIPELINE_MAX	64
/* Bytes of one request at most: an HTTP GET with a 64-byte key */
#define ES_DRILL_REQ_MAX	160
/*
 * --hold-until: the longest a client waits for its file (the drill's retry
 * waits up to 120 s for the first migration to fail, then up to 240 s for
 * the retry).
 */
#define HOLD_MAX_S		360

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- client ---- */

struct req {
	uint64_t	sent_ns, recv_ns;	/* CLOCK_REALTIME: sent, every part received */
	uint64_t	counter;
	unsigned int	replies;	/* datagrams received */
	unsigned int	parts;		/* bit k-1: part k received */
};

/* An address of either family, as the options give it. */
union drill_addr {
	struct sockaddr		sa;
	struct sockaddr_in	in;
	struct sockaddr_in6	in6;
	struct sockaddr_storage	ss;	/* as lib/util/sockaddr.h fills it */
};

struct client {
	union drill_addr	to, bind;
	double			rate;
	unsigned long		count;
	unsigned long		handoff_at;
	unsigned int		nparts;	/* datagrams the service sends per request */
	unsigned long		quiet_every;	/* every K-th request wants no reply (0: none) */
	union drill_addr	handoff_gw;	/* family 0: no handoff */
	unsigned int		drain_ms;
	const char		*hold_until;	/* answered: keep the connection until it exists */
	unsigned long		after_hold;	/* requests sent once the hold has ended */
	FILE			*log;
	bool			progress;
	bool			tcp;	/* one TCP connection, line per request */
	const char		*redis_key;	/* Redis: INCR this key */
	const char		*http_key;	/* HTTP: GET /incr/ this key */
	unsigned int		pipeline;	/* TCP: requests per write (0: 1) */
	unsigned long		replies_in_order;	/* Redis, HTTP: replies so far */
	char			line[1024];	/* TCP: a reply (line or HTTP response) not complete yet */
	size_t			line_len;
	unsigned long		resets;	/* TCP: the connection was reset or closed */
	uint64_t		reset_ns;	/* CLOCK_REALTIME of it */
	int			reset_errno;	/* 0: closed by the other side */
	struct req		*r;	/* 1..count */
	unsigned long		sent, answered, dup, ooo, stray, max_first;
	unsigned long		quiet;	/* requests sent that want no reply */
	uint64_t		handoff_ns;
};

/* The size of a's address in an rtnetlink attribute, and where it is. */
static size_t addr_bytes(const union drill_addr *a, const void **p)
{
	if (a->sa.sa_family == AF_INET6) {
		*p = &a->in6.sin6_addr;
		return sizeof(a->in6.sin6_addr);
	}
	*p = &a->in.sin_addr;
	return sizeof(a->in.sin_addr);
}

static bool addr_any(const union drill_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr) :
					     !a->in.sin_addr.s_addr;
}

/*
 * The handoff: the default route of gw's family now leaves through the new
 * access point (rtnetlink), with src as its preferred source.
 */
static int route_to(const union drill_addr *gw, const union drill_addr *src)
{
	char text[INET6_ADDRSTRLEN] = "?", buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	const void *a;
	size_t n;
	int ret;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = gw->sa.sa_family;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	n = addr_bytes(gw, &a);
	mnl_attr_put(nlh, RTA_GATEWAY, n, a);
	if (src->sa.sa_family == gw->sa.sa_family && !addr_any(src)) {
		n = addr_bytes(src, &a);
		mnl_attr_put(nlh, RTA_PREFSRC, n, a);
	}
	ret = es_mnl_request(ES_NETNS_OWN, NETLINK_ROUTE, nlh, buf, NULL, NULL);
	if (ret) {
		addr_bytes(gw, &a);
		inet_ntop(gw->sa.sa_family, a, text, sizeof(text));
		fprintf(stderr, "es-drill: handoff route via %s: %s\n", text, strerror(-ret));
	}
	return ret;
}

/*
 * The last request always wants a reply (unless every one is quiet): its
 * counter shows the quiet ones before it took effect once, and the run
 * waits for it before the service's counter is read.
 */
static bool is_quiet(const struct client *c, unsigned long seq)
{
	return c->quiet_every && !(seq % c->quiet_every) &&
	       (seq < c->count || c->quiet_every == 1);
}

/* Requests sent that want a reply and have none yet. */
static unsigned long outstanding(const struct client *c)
{
	return c->sent - c->answered - c->quiet;
}

/* The part a reply is: 1, or k from its " PART k" (es-counter --udp-replies). */
static unsigned int part_of(const char *buf)
{
	const char *p = strstr(buf, " PART ");
	unsigned int k;

	return p && sscanf(p, " PART %u", &k) == 1 ? k : 1;
}

/*
 * A request is answered once every part of its reply arrived; any part
 * arriving twice is an answer twice.
 */
static void on_reply(struct client *c, const char *buf)
{
	unsigned long long seq, counter;
	unsigned int part = part_of(buf), bit;

	if (sscanf(buf, "SEQ %llu COUNT %llu", &seq, &counter) != 2 || !seq || seq > c->count ||
	    !part || part > c->nparts) {
		c->stray++;
		return;
	}
	/* a reply to a request that wants none: the user got more than once (0) */
	if (is_quiet(c, seq)) {
		c->dup++;
		return;
	}
	bit = 1U << (part - 1);
	c->r[seq].replies++;
	if (c->r[seq].parts & bit) {
		c->dup++;
		return;
	}
	c->r[seq].parts |= bit;
	if (c->r[seq].parts != (1U << c->nparts) - 1)
		return;
	c->r[seq].recv_ns = es_realtime_ns();
	c->r[seq].counter = counter;
	c->answered++;
	if (seq < c->max_first)
		c->ooo++;
	else
		c->max_first = seq;
}

/*
 * Redis: an integer reply answers the oldest request not answered yet
 * (one connection keeps order); anything else (an error) is stray.
 */
static void on_redis_reply(struct client *c, char *line)
{
	unsigned long long n;
	char buf[64];
	size_t len = strlen(line);

	if (len && line[len - 1] == '\r')
		line[len - 1] = '\0';
	if (sscanf(line, ":%llu", &n) != 1 || c->replies_in_order >= c->count) {
		c->stray++;
		return;
	}
	snprintf(buf, sizeof(buf), "SEQ %lu COUNT %llu", ++c->replies_in_order, n);
	on_reply(c, buf);
}

/* HTTP: the value of header name in head[0..len), or -1. */
static long long http_header_num(const char *head, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *p = head, *end = head + len, *eol;
	long long v;

	for (; p < end; p = eol + 1) {
		eol = memchr(p, '\n', end - p);
		if (!eol)
			break;
		if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':' &&
		    sscanf(p + nl + 1, "%lld", &v) == 1)
			return v;
	}
	return -1;
}

/*
 * HTTP: one complete response at the start of head[0..len), answering the
 * oldest request not answered yet; its length, or 0 when not complete.
 * Anything but a 200 with "KEY N" answers that request wrongly (stray).
 */
static size_t on_http_response(struct client *c, const char *head, size_t len)
{
	const char *end = memmem(head, len, "\r\n\r\n", 4);
	char key[72], buf[64];
	unsigned long long n;
	long long body;
	size_t head_len;
	int status;

	if (!end)
		return 0;
	head_len = end + 4 - head;
	body = http_header_num(head, head_len, "Content-Length");
	if (body < 0 || body > 256) {
		c->stray++;	/* not a response of es-counter's: give the bytes up */
		return len;
	}
	if (len < head_len + body)
		return 0;
	c->replies_in_order++;
	if (sscanf(head, "HTTP/1.%*d %d ", &status) != 1 || status != 200 ||
	    sscanf(head + head_len, "%71s %llu", key, &n) != 2 || strcmp(key, c->http_key) ||
	    c->replies_in_order > c->count) {
		c->stray++;
		return head_len + body;
	}
	snprintf(buf, sizeof(buf), "SEQ %lu COUNT %llu", c->replies_in_order, n);
	on_reply(c, buf);
	return head_len + body;
}

/* TCP: the byte stream cut into reply lines. */
static void on_bytes(struct client *c, const char *buf, size_t n)
{
	size_t used;
	char *nl;

	if (c->line_len + n >= sizeof(c->line)) {
		c->stray++;
		c->line_len = 0;	/* an overlong line: not a reply of ours */
		return;
	}
	memcpy(c->line + c->line_len, buf, n);
	c->line_len += n;
	c->line[c->line_len] = '\0';
	while (c->http_key && (used = on_http_response(c, c->line, c->line_len))) {
		c->line_len -= used;
		memmove(c->line, c->line + used, c->line_len + 1);
	}
	while (!c->http_key && (nl = strchr(c->line, '\n'))) {
		*nl = '\0';
		if (c->redis_key)
			on_redis_reply(c, c->line);
		else
			on_reply(c, c->line);
		c->line_len -= nl + 1 - c->line;
		memmove(c->line, nl + 1, c->line_len + 1);
	}
}

static void drain_socket(struct client *c, int fd)
{
	char buf[256];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		if (c->tcp)
			on_bytes(c, buf, n);
		else
			on_reply(c, buf);
	}
	/* the connection ended: closed by the other side, or reset */
	if (c->tcp && (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))) {
		c->resets++;
		c->reset_ns = es_realtime_ns();
		c->reset_errno = n ? errno : 0;
	}
}

static void progress(struct client *c, uint64_t start, bool end)
{
	if (!c->progress)
		return;
	/* one line rewritten on a terminal, one line per second in a log */
	fprintf(stderr, "%s  t=%5.1fs  sent %lu/%lu  answered %lu  outstanding %lu  dup %lu%s",
		isatty(2) ? "\r" : "", (es_now_ns() - start) / 1e9, c->sent, c->count,
		c->answered, outstanding(c), c->dup, end || !isatty(2) ? "\n" : "");
}

/* Request seq's bytes into buf (at least ES_DRILL_REQ_MAX bytes); their length. */
static int request_text(const struct client *c, unsigned long seq, char *buf, size_t len)
{
	if (c->redis_key)
		return snprintf(buf, len, "INCR %s\r\n", c->redis_key);
	if (c->http_key)
		return snprintf(buf, len, "GET /incr/%s HTTP/1.1\r\nHost: edgeshift-drill\r\n\r\n",
				c->http_key);
	return snprintf(buf, len, "SEQ %lu%s%s", seq, is_quiet(c, seq) ? " QUIET" : "",
			c->tcp ? "\n" : "");
}

/*
 * The next request, or with --pipeline P the next P of them in one write
 * (TCP): a pipelining client does not wait for one answer before it sends
 * the next request.
 */
static int send_batch(struct client *c, int fd)
{
	char buf[ES_DRILL_PIPELINE_MAX * ES_DRILL_REQ_MAX];
	unsigned long seq, first = c->sent + 1, n = c->pipeline ? c->pipeline : 1;
	uint64_t now;
	size_t len = 0;

	if (n > c->count - c->sent)
		n = c->count - c->sent;
	if (c->handoff_at >= first && c->handoff_at < first + n && c->handoff_gw.sa.sa_family) {
		c->handoff_ns = es_realtime_ns();
		if (route_to(&c->handoff_gw, &c->bind))
			return -1;
	}
	now = es_realtime_ns();
	for (seq = first; seq < first + n; seq++) {
		len += request_text(c, seq, buf + len, sizeof(buf) - len);
		c->r[seq].sent_ns = now;
		c->quiet += is_quiet(c, seq);
	}
	/* a send can fail while the route changes; the requests then count as lost */
	send(fd, buf, len, MSG_NOSIGNAL);
	c->sent += n;
	return 0;
}

/*
 * --hold-until FILE: the connection stays open, still read, until FILE
 * exists (HOLD_MAX_S at most). A migration asked without a session
 * (the drill's retry) takes the connections open when it is asked: a
 * client that had its answers and closed was not there to be moved.
 */
static void hold(struct client *c, int fd)
{
	uint64_t end = es_now_ns() + HOLD_MAX_S * 1000000000ULL;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (!c->hold_until)
		return;
	while (!stop && !c->resets && access(c->hold_until, F_OK)) {
		if (es_now_ns() >= end) {
			fprintf(stderr, "es-drill: %s did not appear within %d s: closing\n",
				c->hold_until, HOLD_MAX_S);
			return;
		}
		if (poll(&p, 1, 100) > 0)
			drain_socket(c, fd);
	}
}

/* Requests up to c->count at the rate from now, until answered or drained. */
static int exchange(struct client *c, int fd, uint64_t start)
{
	uint64_t gap = 1e9 / c->rate, next = es_now_ns(), end = 0;
	uint64_t last_progress = 0, now;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int timeout;

	while (!stop && !c->resets) {
		now = es_now_ns();
		if (c->sent < c->count && now >= next) {
			if (send_batch(c, fd))
				return -1;
			next += gap * (c->pipeline ? c->pipeline : 1);
			if (c->sent == c->count)
				end = now + c->drain_ms * 1000000ULL;
			continue;
		}
		if (c->sent == c->count && (c->answered + c->quiet == c->count || now >= end))
			break;
		if (now - last_progress > 1000000000ULL) {
			progress(c, start, false);
			last_progress = now;
		}
		timeout = c->sent < c->count ? (int)((next - now) / 1000000) : (int)((end - now) / 1000000);
		if (poll(&p, 1, timeout < 0 ? 0 : timeout) > 0)
			drain_socket(c, fd);
	}
	return 0;
}

static int client_loop(struct client *c, int fd)
{
	uint64_t start = es_now_ns();
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (exchange(c, fd, start))
		return -1;
	hold(c, fd);
	/*
	 * --after-hold N: the connection, idle while it was held, asks again:
	 * whoever serves it now must answer on it, in sequence.
	 */
	if (c->after_hold && !c->resets && !stop) {
		c->count += c->after_hold;
		if (exchange(c, fd, start))
			return -1;
	}
	/* replies answered twice arrive late too: a short extra listen */
	for (int i = 0; i < 5 && !c->resets; i++) {
		if (poll(&p, 1, 100) > 0)
			drain_socket(c, fd);
	}
	progress(c, start, true);
	return 0;
}

static void client_log(struct client *c)
{
	unsigned long s;

	for (s = 1; s <= c->sent; s++) {
		struct req *r = &c->r[s];

		if (is_quiet(c, s))
			fprintf(c->log, "{\"seq\":%lu,\"sent_ns\":%llu,\"quiet\":true}\n", s,
				(unsigned long long)r->sent_ns);
		else if (r->recv_ns)
			fprintf(c->log, "{\"seq\":%lu,\"sent_ns\":%llu,\"recv_ns\":%llu,\"rtt_us\":%.1f,"
				"\"counter\":%llu,\"replies\":%u}\n", s,
				(unsigned long long)r->sent_ns, (unsigned long long)r->recv_ns,
				(r->recv_ns - r->sent_ns) / 1e3, (unsigned long long)r->counter,
				r->replies);
		else
			fprintf(c->log, "{\"seq\":%lu,\"sent_ns\":%llu,\"lost\":true}\n", s,
				(unsigned long long)r->sent_ns);
	}
	fflush(c->log);
}

/* ADDR:PORT or [IPv6]:PORT into the address the option names (o->off). */
static int parse_addr_port(const struct es_opts *cli, const struct es_opt *o,
			   const char *s, void *conf)
{
	union drill_addr *sa = (union drill_addr *)((char *)conf + o->off);

	if (es_sockaddr_parse(s, &sa->ss))
		return 0;
	return es_opts_error(cli, "--%s: '%s' is not ADDR:PORT ([ADDR]:PORT for IPv6)", o->name, s);
}

static int parse_gw(const struct es_opts *cli, const struct es_opt *o,
		    const char *s, void *conf)
{
	if (es_sockaddr_set(s, 0, &((struct client *)conf)->handoff_gw.ss))
		return 0;
	return es_opts_error(cli, "--%s: '%s' is not an IPv4 or IPv6 address", o->name, s);
}

/* The socket address length of a. */
static socklen_t addr_len(const union drill_addr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in);
}

struct client_args {
	struct client	c;
	const char	*log;
};

#define F(field)	ES_OPT_AT(struct client_args, field)
static const struct es_opt client_opts[] = {
	ES_OPT_FUNC("to", 0, parse_addr_port, "SVC:PORT", "the service", F(c.to)),
	ES_OPT_FUNC("bind", 0, parse_addr_port, "ADDR:PORT", "the client's address",
		    F(c.bind)),
	ES_OPT_DOUBLE(F(c.rate), "rate", 0, 0, 1e9, "R", "requests per second (default 10)"),
	ES_OPT_UINT(F(c.count), "count", 0, 1, 10000000, "N", "requests (default 100)"),
	ES_OPT_UINT(F(c.handoff_at), "handoff-at", 0, 0, ULONG_MAX, "K",
		    "move to --handoff-gw after request K"),
	ES_OPT_FUNC("handoff-gw", 0, parse_gw, "GW", "the new access point"),
	ES_OPT_UINT(F(c.drain_ms), "drain-ms", 0, 0, UINT32_MAX, "MS",
		    "wait for late answers (default 3000)"),
	ES_OPT_STR(F(c.hold_until), "hold-until", 0, "FILE",
		   "once answered, keep the connection open until FILE exists (360 s at most)"),
	ES_OPT_UINT(F(c.after_hold), "after-hold", 0, 0, 10000, "N",
		    "N more requests on the connection once FILE exists"),
	ES_OPT_STR(F(log), "log", 0, "FILE", "one JSON line per request"),
	ES_OPT_BOOL(F(c.progress), "progress", 0, "progress on stderr"),
	ES_OPT_UINT(F(c.nparts), "parts", 0, 1, 8, "N",
		    "datagrams the service answers each request with (default 1)"),
	ES_OPT_UINT(F(c.quiet_every), "quiet-every", 0, 0, ULONG_MAX, "K",
		    "every K-th request wants no reply (es-counter's SEQ n QUIET)"),
	ES_OPT_BOOL(F(c.tcp), "tcp", 0, "one TCP connection instead of datagrams"),
	ES_OPT_STR(F(c.redis_key), "redis", 0, "KEY",
		   "the service is Redis: INCR KEY over one TCP connection"),
	ES_OPT_STR(F(c.http_key), "http", 0, "KEY",
		   "the service is es-counter --http: GET /incr/KEY, one keep-alive connection"),
	ES_OPT_UINT(F(c.pipeline), "pipeline", 0, 1, ES_DRILL_PIPELINE_MAX, "P",
		    "TCP: P requests per write, at the same rate (default 1)"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "es-drill",
	.mode	= "client",
	.opts	= client_opts,
	.usage	= "client --to SVC:PORT [--bind ADDR:PORT] [--rate R] [--count N]\n"
		  "       [--handoff-at K --handoff-gw GW] [--drain-ms MS]\n"
		  "       [--hold-until FILE [--after-hold N]]\n"
		  "       [--log FILE]"
		  " [--progress] [--tcp] [--redis KEY | --http KEY] [--pipeline P]\n"
		  "       [--parts N] [--quiet-every K]",
	.doc	= "See tools/drill/drill.sh and docs/drills.md.\n",
};

static int cmd_client(int argc, char **argv)
{
	struct client_args a = {
		.c = { .rate = 10, .count = 100, .drain_ms = 3000, .log = stdout, .nparts = 1 },
	};
	struct client c;
	int n, fd;

	n = es_opts_parse(&cli, argc, argv, &a);
	if (n <= 0)
		return n ? 2 : 0;
	if (!a.c.to.sa.sa_family || !es_sockaddr_port(&a.c.to.ss) || a.c.rate <= 0)
		return es_opts_error(&cli, "client needs --to SVC:PORT and a positive --rate"), 2;
	c = a.c;
	if (c.redis_key && (!*c.redis_key || strpbrk(c.redis_key, " \r\n") || strlen(c.redis_key) > 64))
		return es_opts_error(&cli, "--redis: KEY must be 1 to 64 characters, no blanks"), 2;
	if (c.http_key && (!*c.http_key || strlen(c.http_key) > 64 ||
			   strspn(c.http_key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789._-") != strlen(c.http_key)))
		return es_opts_error(&cli, "--http: KEY must be 1 to 64 of [A-Za-z0-9._-]"), 2;
	if (c.http_key && c.redis_key)
		return es_opts_error(&cli, "--http and --redis: one service at a time"), 2;
	c.tcp |= c.redis_key || c.http_key;
	if (c.quiet_every && (c.redis_key || c.http_key))
		return es_opts_error(&cli, "--quiet-every: es-counter's protocol only"), 2;
	if (c.pipeline > 1 && !c.tcp)
		return es_opts_error(&cli, "--pipeline needs a TCP service (--tcp, --redis or --http)"), 2;
	if (c.after_hold && !c.hold_until)
		return es_opts_error(&cli, "--after-hold needs --hold-until"), 2;
	if (a.log) {
		c.log = fopen(a.log, "w");
		if (!c.log) {
			fprintf(stderr, "es-drill: --log %s: %s\n", a.log, strerror(errno));
			return 1;
		}
	}
	c.r = calloc(c.count + c.after_hold + 1, sizeof(*c.r));
	fd = socket(c.to.sa.sa_family, c.tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	/*
	 * As interactive clients do (hiredis, HTTP clients): Nagle would hold
	 * each request while an earlier one is unacknowledged, up to an RTT
	 * once the WAN is in the path.
	 */
	if (fd >= 0 && c.tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (!c.r || fd < 0 || (c.bind.sa.sa_family && bind(fd, &c.bind.sa, addr_len(&c.bind))) ||
	    connect(fd, &c.to.sa, addr_len(&c.to))) {
		const void *p;
		char text[INET6_ADDRSTRLEN] = "?";

		addr_bytes(&c.to, &p);
		inet_ntop(c.to.sa.sa_family, p, text, sizeof(text));
		fprintf(stderr, "es-drill: socket to %s: %s\n", text, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (client_loop(&c, fd))
		return 1;
	client_log(&c);
	printf("{\"sent\":%lu,\"answered\":%lu,\"quiet\":%lu,\"lost\":%lu,\"answered_twice\":%lu,"
	       "\"out_of_order\":%lu,\"stray\":%lu,\"handoff_ns\":%llu,\"protocol\":\"%s\","
	       "\"resets\":%lu,\"reset_ns\":%llu,\"reset_error\":\"%s\"}\n", c.sent,
	       c.answered, c.quiet, outstanding(&c), c.dup, c.ooo, c.stray,
	       (unsigned long long)c.handoff_ns, c.redis_key ? "redis" : c.http_key ? "http" :
	       c.tcp ? "tcp" : "udp", c.resets,
	       (unsigned long long)c.reset_ns,
	       !c.resets ? "" : c.reset_errno ? strerror(c.reset_errno) : "closed by the service");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return cmd_client(argc - 1, argv + 1);
	es_opts_help(&cli, stderr);
	return 2;
}
