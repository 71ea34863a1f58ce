// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-traffic: deterministic UDP and TCP traffic for the selftests and the
 * "with vs without edgeshift" benchmarks. One binary, one subcommand per
 * role: udp-server, udp-client, udp-rr, tcp-server, tcp-client, tcp-rr.
 * Every run is bounded by --timeout and ends with a summary table on
 * stdout, or the same data as one JSON object with --json.
 *
 * The byte streams are exact so that the data plane's counters can be
 * checked against them: a tcp-client sends exactly --bytes payload bytes
 * and the server answers with exactly 8 bytes, unless --reply-bytes asks
 * for more.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/tcp.h>
#include <jansson.h>
#include "tool_util.h"

#define PROG			"es-traffic"
#define KEY_COL			24	/* table: key width, indent included */

#define REQUEST_TIMEOUT_NS	NSEC_PER_SEC
#define POLL_SLICE_MS		200
#define ACK_WAIT_NS		NSEC_PER_SEC
#define SERVER_RETRY_NS		(100 * NSEC_PER_MSEC)

#define DEFAULT_TIMEOUT_S	30.0
#define RR_TIMEOUT_SLACK_S	10.0
#define MAX_TIMEOUT_S		604800.0
#define MAX_UDP_PAYLOAD		65507
#define MAX_UDP_COUNT		10000000ULL
#define MAX_RATE		10000000.0
#define MAX_TCP_BYTES		(1ULL << 50)
#define MAX_REPLY_BYTES		(1ULL << 40)
#define DEFAULT_CHUNK		(64U << 10)
#define MAX_CHUNK		(16U << 20)
#define IO_BUF_LEN		(256U << 10)
#define REPLY_HDR_LEN		16

#define EXIT_FAIL		1
#define EXIT_USAGE		2

/*
 * A tcp-client that wants data back starts its stream with this magic and
 * a big-endian byte count. Streams without it are plain payload, so the
 * default stream is exactly --bytes long and any client (nc) works.
 */
static const uint8_t reply_magic[8] = { 'e', 's', 'r', 'e', 'p', 'l', 'y', '1' };

enum mode {
	MODE_UDP_SERVER,
	MODE_UDP_CLIENT,
	MODE_UDP_RR,
	MODE_TCP_SERVER,
	MODE_TCP_CLIENT,
	MODE_TCP_RR,
	MODE_COUNT,
};

enum opt_id {
	OPT_PORT = 1,
	OPT_BIND,
	OPT_TO,
	OPT_COUNT,
	OPT_SIZE,
	OPT_RATE,
	OPT_SRC_PORT,
	OPT_TIMEOUT,
	OPT_DURATION,
	OPT_BYTES,
	OPT_CHUNK,
	OPT_REPLY_BYTES,
	OPT_ONCE,
	OPT_RR,
	OPT_JSON,
	OPT_HELP,
};

#define OPT_BIT(id)	(1UL << (id))
#define OPTS_COMMON	(OPT_BIT(OPT_TIMEOUT) | OPT_BIT(OPT_JSON) | OPT_BIT(OPT_HELP))

static const struct option long_opts[] = {
	{ "port",	 required_argument, NULL, OPT_PORT },
	{ "bind",	 required_argument, NULL, OPT_BIND },
	{ "to",		 required_argument, NULL, OPT_TO },
	{ "count",	 required_argument, NULL, OPT_COUNT },
	{ "size",	 required_argument, NULL, OPT_SIZE },
	{ "rate",	 required_argument, NULL, OPT_RATE },
	{ "src-port",	 required_argument, NULL, OPT_SRC_PORT },
	{ "timeout",	 required_argument, NULL, OPT_TIMEOUT },
	{ "duration",	 required_argument, NULL, OPT_DURATION },
	{ "bytes",	 required_argument, NULL, OPT_BYTES },
	{ "chunk",	 required_argument, NULL, OPT_CHUNK },
	{ "reply-bytes", required_argument, NULL, OPT_REPLY_BYTES },
	{ "once",	 no_argument,	    NULL, OPT_ONCE },
	{ "rr",		 no_argument,	    NULL, OPT_RR },
	{ "json",	 no_argument,	    NULL, OPT_JSON },
	{ "help",	 no_argument,	    NULL, OPT_HELP },
	{ }
};

static const struct es_tool_cli cli = {
	.prog	= PROG,
	.opts	= long_opts,
	.help	= OPT_HELP,
};

struct mode_desc {
	const char	*name;
	unsigned long	allowed;
	unsigned long	required;
	const char	*usage;
};

static const struct mode_desc modes[MODE_COUNT] = {
	[MODE_UDP_SERVER] = {
		"udp-server",
		OPT_BIT(OPT_PORT) | OPT_BIT(OPT_BIND) | OPT_BIT(OPT_COUNT),
		OPT_BIT(OPT_PORT),
		"--port P [--bind ADDR] [--count N] [--timeout S]\n"
		"      UDP echo server: returns every datagram unchanged to its sender,\n"
		"      from the address it was sent to. Listens on :: for IPv4 and\n"
		"      IPv6 unless --bind is given. Stops after N datagrams, on\n"
		"      SIGTERM/SIGINT, or after the timeout.",
	},
	[MODE_UDP_CLIENT] = {
		"udp-client",
		OPT_BIT(OPT_TO) | OPT_BIT(OPT_PORT) | OPT_BIT(OPT_COUNT) |
		OPT_BIT(OPT_SIZE) | OPT_BIT(OPT_RATE) | OPT_BIT(OPT_SRC_PORT),
		OPT_BIT(OPT_TO) | OPT_BIT(OPT_PORT) | OPT_BIT(OPT_COUNT) |
		OPT_BIT(OPT_SIZE),
		"--to ADDR --port P --count N --size S\n"
		"           [--rate R] [--src-port SP] [--timeout S]\n"
		"      N requests of S payload bytes (1..65507) from one socket, so one\n"
		"      session; each waits up to 1 s for its own echo or is lost.\n"
		"      --rate R requests per second (0, the default: back to back).\n"
		"      Exit status 0 only when every request was answered.",
	},
	[MODE_UDP_RR] = {
		"udp-rr",
		OPT_BIT(OPT_TO) | OPT_BIT(OPT_PORT) | OPT_BIT(OPT_DURATION) |
		OPT_BIT(OPT_SIZE) | OPT_BIT(OPT_SRC_PORT),
		OPT_BIT(OPT_TO) | OPT_BIT(OPT_PORT) | OPT_BIT(OPT_DURATION),
		"--to ADDR --port P --duration S\n"
		"           [--size S] [--src-port SP] [--timeout S]\n"
		"      Back-to-back request/response against a udp-server for S\n"
		"      seconds (payload --size, default 1); reports transactions/s.",
	},
	[MODE_TCP_SERVER] = {
		"tcp-server",
		OPT_BIT(OPT_PORT) | OPT_BIT(OPT_BIND) | OPT_BIT(OPT_ONCE) |
		OPT_BIT(OPT_RR),
		OPT_BIT(OPT_PORT),
		"--port P [--bind ADDR] [--once] [--rr] [--timeout S]\n"
		"      Serves one connection at a time: reads to EOF, answers the byte\n"
		"      count as 8 bytes big endian (plus the bytes a client asked for\n"
		"      with --reply-bytes), closes, and reports the connection's\n"
		"      TCP_INFO. --rr: echo every byte until EOF instead (for tcp-rr).\n"
		"      --once: stop after the first connection.",
	},
	[MODE_TCP_CLIENT] = {
		"tcp-client",
		OPT_BIT(OPT_TO) | OPT_BIT(OPT_PORT) | OPT_BIT(OPT_BYTES) |
		OPT_BIT(OPT_CHUNK) | OPT_BIT(OPT_SRC_PORT) |
		OPT_BIT(OPT_REPLY_BYTES),
		OPT_BIT(OPT_TO) | OPT_BIT(OPT_PORT) | OPT_BIT(OPT_BYTES),
		"--to ADDR --port P --bytes B\n"
		"           [--chunk C] [--src-port SP] [--reply-bytes R] [--timeout S]\n"
		"      Sends B bytes in writes of C (default 64Ki), shuts down its\n"
		"      side, reads the server's count to EOF. Exit status 0 only when\n"
		"      the count equals B (and R bytes came back, if asked). Asking for\n"
		"      R adds a 16-byte header to the stream.",
	},
	[MODE_TCP_RR] = {
		"tcp-rr",
		OPT_BIT(OPT_TO) | OPT_BIT(OPT_PORT) | OPT_BIT(OPT_DURATION) |
		OPT_BIT(OPT_SRC_PORT),
		OPT_BIT(OPT_TO) | OPT_BIT(OPT_PORT) | OPT_BIT(OPT_DURATION),
		"--to ADDR --port P --duration S\n"
		"           [--src-port SP] [--timeout S]\n"
		"      One connection, 1-byte request / 1-byte response for S seconds\n"
		"      against 'tcp-server --rr'; reports transactions/s.",
	},
};

struct opts {
	enum mode	mode;
	unsigned long	given;
	const char	*to;
	const char	*bind;
	uint16_t	port;
	uint16_t	src_port;
	uint64_t	count;
	uint32_t	size;
	double		rate;
	double		timeout;
	double		duration;
	uint64_t	bytes;
	uint32_t	chunk;
	uint64_t	reply_bytes;
	bool		once;
	bool		rr;
	bool		json;
};

struct run {
	uint64_t		start;
	uint64_t		deadline;
	struct es_tool_progress	progress;
};

struct tcp_stats {
	uint32_t	segs_in;
	uint32_t	segs_out;
	uint32_t	total_retrans;
	uint64_t	bytes_received;
	uint64_t	bytes_acked;
};

static void print_usage(FILE *f, int only)
{
	int m;

	fprintf(f, "Usage: " PROG " MODE [OPTIONS]\n"
		"Deterministic UDP/TCP traffic for tests and benchmarks.\n\n");
	for (m = 0; m < MODE_COUNT; m++) {
		if (only >= 0 && m != only)
			continue;
		fprintf(f, "  " PROG " %s %s\n\n", modes[m].name, modes[m].usage);
	}
	fprintf(f, "Common options:\n"
		"  --timeout S   stop after S seconds whatever happens (default 30;\n"
		"                rr modes: duration + 10)\n"
		"  --json        print the summary as one JSON object\n"
		"  --help        this text\n"
		"Counts take k/m/g (x1000) or ki/mi/gi (x1024) suffixes.\n"
		"Progress goes to stderr when it is a terminal.\n"
		"Exit status: 0 success, 1 failure (summary still printed), 2 usage.\n");
}

static int set_opt(struct opts *o, int id, const char *arg)
{
	uint64_t v;

	switch (id) {
	case OPT_PORT:
		return es_tool_parse_port(&cli, id, arg, &o->port);
	case OPT_SRC_PORT:
		return es_tool_parse_port(&cli, id, arg, &o->src_port);
	case OPT_BIND:
		o->bind = arg;
		return 0;
	case OPT_TO:
		o->to = arg;
		return 0;
	case OPT_COUNT:
		return es_tool_parse_u64(&cli, id, arg, 1, MAX_UDP_COUNT,
					 &o->count);
	case OPT_SIZE:
		if (es_tool_parse_u64(&cli, id, arg, 1, MAX_UDP_PAYLOAD, &v))
			return -1;
		o->size = v;
		return 0;
	case OPT_RATE:
		return es_tool_parse_double(&cli, id, arg, 0, MAX_RATE, &o->rate);
	case OPT_TIMEOUT:
		return es_tool_parse_double(&cli, id, arg, 0.001, MAX_TIMEOUT_S,
					    &o->timeout);
	case OPT_DURATION:
		return es_tool_parse_double(&cli, id, arg, 0.001, MAX_TIMEOUT_S,
					    &o->duration);
	case OPT_BYTES:
		return es_tool_parse_u64(&cli, id, arg, 0, MAX_TCP_BYTES,
					 &o->bytes);
	case OPT_CHUNK:
		if (es_tool_parse_u64(&cli, id, arg, 1, MAX_CHUNK, &v))
			return -1;
		o->chunk = v;
		return 0;
	case OPT_REPLY_BYTES:
		return es_tool_parse_u64(&cli, id, arg, 0, MAX_REPLY_BYTES,
					 &o->reply_bytes);
	case OPT_ONCE:
		o->once = true;
		return 0;
	case OPT_RR:
		o->rr = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	}
	return es_tool_usage_error(&cli, "internal: unhandled option %d", id);
}

static int check_required(const struct opts *o)
{
	unsigned long missing = modes[o->mode].required & ~o->given;
	int id;

	for (id = OPT_PORT; id <= OPT_HELP; id++)
		if (missing & OPT_BIT(id))
			return es_tool_usage_error(&cli, "%s needs --%s",
						   modes[o->mode].name,
						   es_tool_opt_name(&cli, id));
	return 0;
}

static int set_defaults(struct opts *o)
{
	bool rr = o->mode == MODE_UDP_RR || o->mode == MODE_TCP_RR;

	if (!(o->given & OPT_BIT(OPT_TIMEOUT)))
		o->timeout = rr ? o->duration + RR_TIMEOUT_SLACK_S : DEFAULT_TIMEOUT_S;
	if (rr && o->duration > o->timeout)
		return es_tool_usage_error(&cli, "--duration %g exceeds --timeout %g",
					   o->duration, o->timeout);
	if (o->mode == MODE_UDP_RR && !o->size)
		o->size = 1;
	if (!o->chunk)
		o->chunk = DEFAULT_CHUNK;
	return 0;
}

static int find_mode(const char *name)
{
	int m;

	for (m = 0; m < MODE_COUNT; m++)
		if (!strcmp(name, modes[m].name))
			return m;
	return -1;
}

/* 0 to run, 1 when help was printed, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	int c, m;

	memset(o, 0, sizeof(*o));
	if (argc < 2)
		return es_tool_usage_error(&cli, "missing MODE (udp-server, "
					   "udp-client, udp-rr, tcp-server, "
					   "tcp-client, tcp-rr)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_usage(stdout, -1);
		return 1;
	}
	m = find_mode(argv[1]);
	if (m < 0)
		return es_tool_usage_error(&cli, "unknown mode '%s'", argv[1]);
	o->mode = m;
	argc--;
	argv++;
	while ((c = es_tool_next_opt(&cli, argc, argv, modes[m].name)) > 0) {
		if (c == OPT_HELP) {
			print_usage(stdout, m);
			return 1;
		}
		if (!((modes[m].allowed | OPTS_COMMON) & OPT_BIT(c)))
			return es_tool_usage_error(&cli, "--%s is not an option of %s",
						   es_tool_opt_name(&cli, c),
						   modes[m].name);
		o->given |= OPT_BIT(c);
		if (set_opt(o, c, optarg))
			return -1;
	}
	if (c < 0 || check_required(o))
		return -1;
	return set_defaults(o);
}

/*
 * Wait for events on fd until the absolute deadline. Returns the poll
 * revents, or 0 on the deadline or a stop signal, -1 on a poll error. The
 * slice bounds how late a signal that lands just before poll() is seen.
 */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now;
	int ms, n;

	for (;;) {
		if (es_tool_stop_signal())
			return 0;
		now = es_tool_now_ns();
		if (now >= deadline)
			return 0;
		ms = (deadline - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
		if (ms > POLL_SLICE_MS)
			ms = POLL_SLICE_MS;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return pfd.revents;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* Numeric address; IPv4-mapped IPv6 shown as plain IPv4. */
static const char *addr_str(const struct sockaddr_storage *ss, char *buf,
			    size_t len)
{
	const struct sockaddr_in6 *s6 = (const void *)ss;
	const struct sockaddr_in *s4 = (const void *)ss;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, len);
	if (ss->ss_family == AF_INET6)
		return inet_ntop(AF_INET6, &s6->sin6_addr, buf, len);
	return inet_ntop(AF_INET, &s4->sin_addr, buf, len);
}

static int resolve(int id, const char *host, uint16_t port,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res;
	int err;

	err = getaddrinfo(host, NULL, &hints, &res);
	if (err) {
		fprintf(stderr, PROG ": --%s: cannot resolve '%s': %s\n",
			es_tool_opt_name(&cli, id), host, gai_strerror(err));
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	set_port(ss, port);
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int setsockopt_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val));
}

static void wildcard(struct sockaddr_storage *ss, socklen_t *len, int family,
		     uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = family;
	*len = family == AF_INET6 ? sizeof(struct sockaddr_in6) :
				    sizeof(struct sockaddr_in);
	set_port(ss, port);
}

/* Bound server socket; on :: with IPV6_V6ONLY off it serves both families. */
static int server_socket(const struct opts *o, int type,
			 struct sockaddr_storage *ss)
{
	socklen_t len;
	int fd;

	if (o->bind) {
		if (resolve(OPT_BIND, o->bind, o->port, ss, &len))
			return -1;
	} else {
		wildcard(ss, &len, AF_INET6, o->port);
	}
	fd = socket(ss->ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0 && errno == EAFNOSUPPORT && !o->bind) {
		/* A kernel without IPv6 still gets an IPv4 server. */
		wildcard(ss, &len, AF_INET, o->port);
		fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	}
	if (fd < 0) {
		fprintf(stderr, PROG ": socket: %s\n", strerror(errno));
		return -1;
	}
	setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (ss->ss_family == AF_INET6)
		setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
	if (bind(fd, (struct sockaddr *)ss, len)) {
		fprintf(stderr, PROG ": cannot bind %s port %u: %s\n",
			o->bind ? o->bind : "::", o->port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void announce(const struct opts *o, const struct sockaddr_storage *ss)
{
	char a[INET6_ADDRSTRLEN];

	fprintf(stderr, PROG ": %s listening on %s port %u\n",
		modes[o->mode].name, addr_str(ss, a, sizeof(a)) ?: "?", o->port);
}

/* Socket towards --to, bound to --src-port when given. */
static int client_socket(const struct opts *o, int type,
			 struct sockaddr_storage *dst, socklen_t *dlen)
{
	struct sockaddr_storage src;
	socklen_t slen;
	int fd;

	if (resolve(OPT_TO, o->to, o->port, dst, dlen))
		return -1;
	fd = socket(dst->ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, PROG ": socket: %s\n", strerror(errno));
		return -1;
	}
	if (!(o->given & OPT_BIT(OPT_SRC_PORT)))
		return fd;
	/* A fixed source port is reused run after run, maybe in TIME_WAIT. */
	setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	wildcard(&src, &slen, dst->ss_family, o->src_port);
	if (bind(fd, (struct sockaddr *)&src, slen)) {
		fprintf(stderr, PROG ": --src-port %u: cannot bind: %s\n",
			o->src_port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return get_port(&ss);
}

/*
 * With IP_RECVERR every ICMP error is queued on the socket; unread, the
 * queue would eat the receive buffer and starve the echoes.
 */
static void drain_errqueue(int fd)
{
	char data[64], ctl[512];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	do {
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
	} while (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0);
}

/*
 * Without IP_RECVERR a datagram dropped by a full device queue on the way
 * out (a veth peer under a flood) is reported as sent. With it, send()
 * says ENOBUFS and the datagram, which never left, can be sent again.
 */
static void enable_recverr(int fd, int family)
{
	if (family == AF_INET6)
		setsockopt_int(fd, IPPROTO_IPV6, IPV6_RECVERR, 1);
	/* also covers IPv4-mapped traffic on a dual-stack socket */
	setsockopt_int(fd, IPPROTO_IP, IP_RECVERR, 1);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void fill_pattern(uint8_t *buf, size_t len)
{
	size_t i;

	/* Starts at 0x00, so never with reply_magic. */
	for (i = 0; i < len; i++)
		buf[i] = (i * 7) & 0xff;
}

static void tcp_stats_get(int fd, struct tcp_stats *st)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(st, 0, sizeof(*st));
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return;
	st->segs_in = ti.tcpi_segs_in;
	st->segs_out = ti.tcpi_segs_out;
	st->total_retrans = ti.tcpi_total_retrans;
	st->bytes_received = ti.tcpi_bytes_received;
	st->bytes_acked = ti.tcpi_bytes_acked;
}

static json_t *tcp_stats_json(const struct tcp_stats *st)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}",
			 "segs_in", (json_int_t)st->segs_in,
			 "segs_out", (json_int_t)st->segs_out,
			 "bytes_received", (json_int_t)st->bytes_received,
			 "bytes_acked", (json_int_t)st->bytes_acked,
			 "total_retrans", (json_int_t)st->total_retrans);
}

/*
 * Wait, at most ACK_WAIT_NS, until the peer has acknowledged all we sent,
 * FIN included, so the TCP_INFO reported is the connection's final one.
 */
static void wait_acked(int fd, uint64_t deadline)
{
	uint64_t limit = es_tool_now_ns() + ACK_WAIT_NS;
	struct tcp_info ti;
	socklen_t len;

	if (limit > deadline)
		limit = deadline;
	while (!es_tool_stop_signal() && es_tool_now_ns() < limit) {
		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			return;
		if (!ti.tcpi_unacked)
			return;
		es_tool_sleep_ns(NSEC_PER_MSEC);
	}
}

/* Write all of buf before the deadline: 0, or -1 with errno set. */
static int write_all(int fd, const void *buf, size_t len, uint64_t deadline)
{
	const uint8_t *p = buf;
	ssize_t n;
	int rev;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		rev = wait_fd(fd, POLLOUT, deadline);
		if (rev < 0)
			return -1;
		if (!rev) {
			errno = es_tool_stop_signal() ? EINTR : ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/* One read before the deadline: bytes read, 0 at EOF, -1 with errno set. */
static ssize_t read_some(int fd, void *buf, size_t len, uint64_t deadline)
{
	ssize_t n;
	int rev;

	for (;;) {
		n = recv(fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		rev = wait_fd(fd, POLLIN, deadline);
		if (rev < 0)
			return -1;
		if (!rev) {
			errno = es_tool_stop_signal() ? EINTR : ETIMEDOUT;
			return -1;
		}
	}
}

/* Microsecond resolution is all the clocks here give; drop the noise. */
static double round6(double v)
{
	return round(v * 1e6) / 1e6;
}

static void set_int(json_t *obj, const char *key, uint64_t v)
{
	json_object_set_new(obj, key, json_integer((json_int_t)v));
}

static void set_real(json_t *obj, const char *key, double v)
{
	json_object_set_new(obj, key, json_real(round6(v)));
}

static void set_str(json_t *obj, const char *key, const char *v)
{
	json_object_set_new(obj, key, json_string(v));
}

static const char *error_reason(int err)
{
	if (err == ETIMEDOUT)
		return "timeout";
	if (err == EINTR && es_tool_stop_signal())
		return "signal";
	return "error";
}

/* Records the error and why the run ended; stderr gets it too. */
static void set_error(json_t *obj, const char *what, int err)
{
	char buf[160];

	snprintf(buf, sizeof(buf), "%s: %s", what, strerror(err));
	set_str(obj, "error", buf);
	set_str(obj, "stopped_by", error_reason(err));
	fprintf(stderr, PROG ": %s\n", buf);
}

/* ---- UDP ---- */

struct udp_flow {
	int		fd;
	uint32_t	size;
	uint8_t		*tx;
	uint8_t		*rx;		/* MAX_UDP_PAYLOAD + 1: longer echoes show */
	uint64_t	sent;
	uint64_t	received;
	uint64_t	send_retries;
	uint64_t	send_errors;
	uint64_t	unexpected;
	uint64_t	refused;
	bool		warned;
};

/*
 * The sequence number leads the payload, big endian and cut to the payload
 * size, so a late echo of an earlier request is told apart even with
 * one-byte payloads.
 */
static void seq_stamp(uint8_t *buf, uint32_t size, uint64_t seq)
{
	uint32_t n = size < 8 ? size : 8;
	uint32_t i;

	for (i = 0; i < n; i++)
		buf[i] = seq >> (8 * (n - 1 - i));
}

static void note_send_error(struct udp_flow *f, int err)
{
	f->send_errors++;
	if (!f->warned)
		fprintf(stderr, PROG ": send: %s\n", strerror(err));
	f->warned = true;
	drain_errqueue(f->fd);
}

/* Send the request, again while the way out is full: 0, or -1 if not sent. */
static int udp_send(struct udp_flow *f, uint64_t limit)
{
	for (;;) {
		if (send(f->fd, f->tx, f->size, 0) == (ssize_t)f->size)
			return 0;
		if (!es_tool_send_transient(errno)) {
			note_send_error(f, errno);
			return -1;
		}
		f->send_retries++;
		if (es_tool_stop_signal() || es_tool_now_ns() >= limit)
			return -1;
		es_tool_sleep_ns(20 * NSEC_PER_USEC);
	}
}

/*
 * Send request seq and wait for its own echo, at most REQUEST_TIMEOUT_NS
 * and not past the run's deadline. 1 when answered (rtt set), 0 when not.
 */
static int udp_request(struct udp_flow *f, uint64_t seq, uint64_t deadline,
		       uint64_t *rtt)
{
	uint64_t t0, limit;
	int rev, err;
	ssize_t n;

	seq_stamp(f->tx, f->size, seq);
	limit = es_tool_now_ns() + REQUEST_TIMEOUT_NS;
	if (limit > deadline)
		limit = deadline;
	t0 = es_tool_now_ns();
	if (udp_send(f, limit))
		return 0;
	f->sent++;
	for (;;) {
		rev = wait_fd(f->fd, POLLIN, limit);
		if (rev <= 0)
			return 0;
		n = recv(f->fd, f->rx, MAX_UDP_PAYLOAD + 1, MSG_DONTWAIT);
		err = n < 0 ? errno : 0;
		if (rev & POLLERR || n < 0)
			drain_errqueue(f->fd);
		if (err == ECONNREFUSED) {
			f->refused++;
			return 0;
		}
		if (n < 0)
			continue;
		if ((size_t)n == f->size && !memcmp(f->rx, f->tx, f->size)) {
			*rtt = es_tool_now_ns() - t0;
			f->received++;
			return 1;
		}
		f->unexpected++;
	}
}

static int udp_flow_open(const struct opts *o, struct udp_flow *f)
{
	struct sockaddr_storage dst;
	socklen_t dlen;

	memset(f, 0, sizeof(*f));
	f->size = o->size;
	f->fd = client_socket(o, SOCK_DGRAM, &dst, &dlen);
	if (f->fd < 0)
		return -1;
	/* Connected: one 5-tuple, and only the server's datagrams come in. */
	if (connect(f->fd, (struct sockaddr *)&dst, dlen)) {
		fprintf(stderr, PROG ": cannot connect to %s port %u: %s\n",
			o->to, o->port, strerror(errno));
		goto err;
	}
	enable_recverr(f->fd, dst.ss_family);
	f->tx = malloc(f->size);
	f->rx = malloc(MAX_UDP_PAYLOAD + 1);
	if (!f->tx || !f->rx) {
		fprintf(stderr, PROG ": out of memory\n");
		goto err;
	}
	fill_pattern(f->tx, f->size);
	return 0;
err:
	close(f->fd);
	free(f->tx);
	free(f->rx);
	return -1;
}

static void udp_flow_close(struct udp_flow *f)
{
	close(f->fd);
	free(f->tx);
	free(f->rx);
}

static void udp_flow_json(const struct opts *o, const struct udp_flow *f,
			  json_t *out)
{
	set_str(out, "to", o->to);
	set_int(out, "port", o->port);
	set_int(out, "src_port", local_port(f->fd));
	set_int(out, "size", f->size);
	set_int(out, "sent", f->sent);
	set_int(out, "received", f->received);
	set_int(out, "lost", f->sent - f->received);
	set_int(out, "send_retries", f->send_retries);
	set_int(out, "send_errors", f->send_errors);
	set_int(out, "unexpected", f->unexpected);
	set_int(out, "refused", f->refused);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, in microseconds. */
static double pct_us(const uint32_t *ns, uint64_t n, double q)
{
	uint64_t rank = (uint64_t)ceil(q * n);

	if (rank < 1)
		rank = 1;
	return ns[rank - 1] / 1000.0;
}

static json_t *rtt_json(uint32_t *ns, uint64_t n)
{
	json_t *j = json_object();
	double sum = 0;
	uint64_t i;

	if (!n) {
		json_object_set_new(j, "min", json_null());
		json_object_set_new(j, "mean", json_null());
		json_object_set_new(j, "p50", json_null());
		json_object_set_new(j, "p99", json_null());
		json_object_set_new(j, "max", json_null());
		return j;
	}
	qsort(ns, n, sizeof(*ns), cmp_u32);
	for (i = 0; i < n; i++)
		sum += ns[i];
	set_real(j, "min", ns[0] / 1000.0);
	set_real(j, "mean", sum / n / 1000.0);
	set_real(j, "p50", pct_us(ns, n, 0.50));
	set_real(j, "p99", pct_us(ns, n, 0.99));
	set_real(j, "max", ns[n - 1] / 1000.0);
	return j;
}

static int udp_client(const struct opts *o, struct run *r, json_t *out)
{
	struct udp_flow f;
	uint64_t seq, t0, elapsed, rtt;
	uint32_t *rtts;

	rtts = calloc(o->count, sizeof(*rtts));
	if (!rtts) {
		fprintf(stderr, PROG ": out of memory for %" PRIu64 " samples\n",
			o->count);
		return EXIT_FAIL;
	}
	if (udp_flow_open(o, &f)) {
		free(rtts);
		return EXIT_FAIL;
	}
	t0 = es_tool_now_ns();
	for (seq = 0; seq < o->count; seq++) {
		if (o->rate > 0) {
			uint64_t due = t0 + (uint64_t)(seq * (NSEC_PER_SEC / o->rate));

			es_tool_sleep_until(due < r->deadline ? due : r->deadline);
		}
		if (es_tool_stop_signal() || es_tool_now_ns() >= r->deadline)
			break;
		/* RTTs are below REQUEST_TIMEOUT_NS, so they fit 32 bits. */
		if (udp_request(&f, seq, r->deadline, &rtt))
			rtts[f.received - 1] = rtt;
		es_tool_progress(&r->progress, "%" PRIu64 "/%" PRIu64 " sent, %"
				 PRIu64 " received", f.sent, o->count,
				 f.received);
	}
	elapsed = es_tool_now_ns() - t0;

	set_str(out, "mode", modes[o->mode].name);
	udp_flow_json(o, &f, out);
	set_int(out, "count", o->count);
	set_real(out, "elapsed_s", es_tool_secs(elapsed));
	set_real(out, "rate_target", o->rate);
	set_real(out, "rate_achieved",
		 elapsed ? f.sent / es_tool_secs(elapsed) : 0);
	json_object_set_new(out, "rtt_us", rtt_json(rtts, f.received));
	set_str(out, "stopped_by", es_tool_stop_reason(seq == o->count));
	udp_flow_close(&f);
	free(rtts);
	return f.received == o->count ? EXIT_SUCCESS : EXIT_FAIL;
}

static int udp_rr(const struct opts *o, struct run *r, json_t *out)
{
	uint64_t t0, end, elapsed, rtt, rtt_sum = 0, seq = 0;
	struct udp_flow f;
	bool done;
	double tps;

	if (udp_flow_open(o, &f))
		return EXIT_FAIL;
	t0 = es_tool_now_ns();
	end = t0 + (uint64_t)(o->duration * NSEC_PER_SEC);
	if (end > r->deadline)
		end = r->deadline;
	while (!es_tool_stop_signal() && es_tool_now_ns() < end) {
		if (udp_request(&f, seq++, r->deadline, &rtt))
			rtt_sum += rtt;
		es_tool_progress(&r->progress, "%.1f s, %" PRIu64 " transactions",
				 es_tool_secs(es_tool_now_ns() - t0), f.received);
	}
	elapsed = es_tool_now_ns() - t0;
	done = !es_tool_stop_signal() &&
	       elapsed >= (uint64_t)(o->duration * NSEC_PER_SEC);
	tps = elapsed ? f.received / es_tool_secs(elapsed) : 0;

	set_str(out, "mode", modes[o->mode].name);
	udp_flow_json(o, &f, out);
	set_real(out, "duration_s", o->duration);
	set_real(out, "elapsed_s", es_tool_secs(elapsed));
	set_int(out, "transactions", f.received);
	set_real(out, "tps", tps);
	set_real(out, "mean_rtt_us",
		 f.received ? rtt_sum / 1000.0 / f.received : 0);
	set_str(out, "stopped_by", es_tool_stop_reason(done));
	udp_flow_close(&f);
	return done && f.received ? EXIT_SUCCESS : EXIT_FAIL;
}

struct udp_server_stats {
	uint64_t	datagrams;
	uint64_t	bytes;
	uint64_t	send_retries;
	uint64_t	send_errors;
};

/*
 * Control message that makes the echo leave from the address the request
 * was sent to: on a wildcard socket the route would pick the source, and a
 * connected client drops datagrams from any other address.
 */
static size_t reply_control(struct msghdr *in, void *buf, size_t len)
{
	struct cmsghdr *c, *out = buf;
	struct in6_pktinfo pi6;
	struct in_pktinfo pi;

	for (c = CMSG_FIRSTHDR(in); c; c = CMSG_NXTHDR(in, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    len >= CMSG_SPACE(sizeof(pi))) {
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			out->cmsg_level = IPPROTO_IP;
			out->cmsg_type = IP_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(out), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		    len >= CMSG_SPACE(sizeof(pi6))) {
			memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
			/* only a link-local source needs its interface */
			if (!IN6_IS_ADDR_LINKLOCAL(&pi6.ipi6_addr))
				pi6.ipi6_ifindex = 0;
			out->cmsg_level = IPPROTO_IPV6;
			out->cmsg_type = IPV6_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(pi6));
			memcpy(CMSG_DATA(out), &pi6, sizeof(pi6));
			return CMSG_SPACE(sizeof(pi6));
		}
	}
	return 0;
}

static void udp_echo(int fd, struct msghdr *in, size_t len,
		     struct udp_server_stats *st)
{
	union {
		char		buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr	align;
	} ctl;
	struct iovec iov = { .iov_base = in->msg_iov->iov_base, .iov_len = len };
	struct msghdr m = {
		.msg_name = in->msg_name,
		.msg_namelen = in->msg_namelen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
	};
	uint64_t limit = es_tool_now_ns() + SERVER_RETRY_NS;

	memset(&ctl, 0, sizeof(ctl));
	m.msg_controllen = reply_control(in, ctl.buf, sizeof(ctl.buf));
	if (!m.msg_controllen)
		m.msg_control = NULL;
	for (;;) {
		if (sendmsg(fd, &m, 0) == (ssize_t)len)
			return;
		if (errno == EINVAL && m.msg_control) {
			/* e.g. a broadcast destination: let the route choose */
			m.msg_control = NULL;
			m.msg_controllen = 0;
			continue;
		}
		if (!es_tool_send_transient(errno) || es_tool_stop_signal() ||
		    es_tool_now_ns() >= limit)
			break;
		st->send_retries++;
		es_tool_sleep_ns(20 * NSEC_PER_USEC);
	}
	st->send_errors++;
	drain_errqueue(fd);
}

/* Echo every queued datagram: 1 once --count is reached, else 0. */
static int udp_serve_ready(const struct opts *o, int fd, uint8_t *buf,
			   struct udp_server_stats *st)
{
	union {
		char		buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
				    CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr	align;
	} ctl;
	struct sockaddr_storage peer;
	struct iovec iov = { .iov_base = buf, .iov_len = MAX_UDP_PAYLOAD + 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	for (;;) {
		if (o->count && st->datagrams >= o->count)
			return 1;
		m.msg_name = &peer;
		m.msg_namelen = sizeof(peer);
		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(fd, &m, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				drain_errqueue(fd);
			return 0;
		}
		st->datagrams++;
		st->bytes += n;
		udp_echo(fd, &m, n, st);
	}
}

static int udp_server(const struct opts *o, struct run *r, json_t *out)
{
	struct udp_server_stats st = { 0 };
	struct sockaddr_storage ss;
	bool done = false;
	uint8_t *buf;
	int fd, rev;

	buf = malloc(MAX_UDP_PAYLOAD + 1);
	if (!buf) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_FAIL;
	}
	fd = server_socket(o, SOCK_DGRAM, &ss);
	if (fd < 0) {
		free(buf);
		return EXIT_FAIL;
	}
	if (ss.ss_family == AF_INET6)
		setsockopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	setsockopt_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
	enable_recverr(fd, ss.ss_family);
	announce(o, &ss);
	while (!done) {
		rev = wait_fd(fd, POLLIN, r->deadline);
		if (rev <= 0)
			break;
		done = udp_serve_ready(o, fd, buf, &st);
		es_tool_progress(&r->progress, "%" PRIu64 " datagrams, %" PRIu64
				 " bytes", st.datagrams, st.bytes);
	}
	set_str(out, "mode", modes[o->mode].name);
	set_str(out, "bind", o->bind ? o->bind : "::");
	set_int(out, "port", o->port);
	set_int(out, "datagrams", st.datagrams);
	set_int(out, "bytes", st.bytes);
	set_int(out, "send_retries", st.send_retries);
	set_int(out, "send_errors", st.send_errors);
	set_real(out, "elapsed_s", es_tool_secs(es_tool_now_ns() - r->start));
	set_str(out, "stopped_by", done ? "count" : es_tool_stop_reason(false));
	close(fd);
	free(buf);
	return EXIT_SUCCESS;
}

/* ---- TCP ---- */

/*
 * Connected non-blocking socket; *connect_ns is the handshake time. -1 when
 * the socket could not be set up, -2 with errno set when the connection
 * failed.
 */
static int tcp_connect(const struct opts *o, struct run *r,
		       uint64_t *connect_ns)
{
	struct sockaddr_storage dst;
	socklen_t dlen, elen = sizeof(int);
	uint64_t t0;
	int fd, rev, err = 0;

	fd = client_socket(o, SOCK_STREAM, &dst, &dlen);
	if (fd < 0)
		return -1;
	if (set_nonblock(fd))
		goto fail;
	t0 = es_tool_now_ns();
	if (connect(fd, (struct sockaddr *)&dst, dlen) && errno != EINPROGRESS)
		goto fail;
	rev = wait_fd(fd, POLLOUT, r->deadline);
	if (rev < 0)
		goto fail;
	if (!rev) {
		errno = es_tool_stop_signal() ? EINTR : ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
		goto fail;
	if (err) {
		errno = err;
		goto fail;
	}
	*connect_ns = es_tool_now_ns() - t0;
	return fd;
fail:
	err = errno;
	fprintf(stderr, PROG ": cannot connect to %s port %u: %s\n",
		o->to, o->port, strerror(err));
	close(fd);
	errno = err;
	return -2;
}

/* The summary of a run that did not get a connection. */
static int connect_failed(const struct opts *o, json_t *out, int err)
{
	char buf[160];

	snprintf(buf, sizeof(buf), "connect: %s", strerror(err));
	set_str(out, "mode", modes[o->mode].name);
	set_str(out, "to", o->to);
	set_int(out, "port", o->port);
	set_str(out, "error", buf);
	set_str(out, "stopped_by", error_reason(err));
	return EXIT_FAIL;
}

struct tcp_reply {
	uint8_t		count[8];
	size_t		count_len;
	uint64_t	extra;		/* bytes after the count */
};

/* Read the server's answer to EOF: 0, or -1 with errno set. */
static int tcp_read_reply(int fd, uint8_t *buf, struct tcp_reply *rep,
			  uint64_t deadline)
{
	ssize_t n;
	size_t take;

	memset(rep, 0, sizeof(*rep));
	for (;;) {
		n = read_some(fd, buf, IO_BUF_LEN, deadline);
		if (n <= 0)
			return n;
		take = sizeof(rep->count) - rep->count_len;
		if (take > (size_t)n)
			take = n;
		memcpy(rep->count + rep->count_len, buf, take);
		rep->count_len += take;
		rep->extra += n - take;
	}
}

/* Header, then --bytes in writes of --chunk: 0, or -1 with errno set. */
static int tcp_send_payload(const struct opts *o, struct run *r, int fd,
			    uint8_t *buf, uint64_t *sent)
{
	uint8_t hdr[REPLY_HDR_LEN];
	uint64_t left = o->bytes;
	size_t n;

	*sent = 0;
	if (o->given & OPT_BIT(OPT_REPLY_BYTES)) {
		memcpy(hdr, reply_magic, sizeof(reply_magic));
		put_be64(hdr + 8, o->reply_bytes);
		if (write_all(fd, hdr, sizeof(hdr), r->deadline))
			return -1;
	}
	while (left) {
		n = left < o->chunk ? left : o->chunk;
		if (write_all(fd, buf, n, r->deadline))
			return -1;
		left -= n;
		*sent += n;
		es_tool_progress(&r->progress, "sent %" PRIu64 " of %" PRIu64
				 " bytes", *sent, o->bytes);
	}
	return 0;
}

static int tcp_client(const struct opts *o, struct run *r, json_t *out)
{
	uint64_t connect_ns, t0, elapsed, sent = 0;
	struct tcp_reply rep = { .count_len = 0 };
	struct tcp_stats st = { 0 };
	uint64_t want_extra = o->reply_bytes;
	bool ok = false, have_count;
	uint8_t *buf;
	int fd, err;

	buf = malloc(o->chunk > IO_BUF_LEN ? o->chunk : IO_BUF_LEN);
	if (!buf) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_FAIL;
	}
	fill_pattern(buf, o->chunk);
	fd = tcp_connect(o, r, &connect_ns);
	if (fd < 0) {
		err = errno;
		free(buf);
		return fd == -2 ? connect_failed(o, out, err) : EXIT_FAIL;
	}
	t0 = es_tool_now_ns();
	set_str(out, "mode", modes[o->mode].name);
	if (tcp_send_payload(o, r, fd, buf, &sent)) {
		set_error(out, "send", errno);
	} else if (shutdown(fd, SHUT_WR)) {
		set_error(out, "shutdown", errno);
	} else if (tcp_read_reply(fd, buf, &rep, r->deadline)) {
		set_error(out, "reading the count", errno);
	}
	elapsed = es_tool_now_ns() - t0;
	/* after EOF and before close(), so the counts are final */
	tcp_stats_get(fd, &st);
	have_count = rep.count_len == sizeof(rep.count);
	ok = have_count && get_be64(rep.count) == o->bytes &&
	     rep.extra == want_extra && !json_object_get(out, "error");

	set_str(out, "to", o->to);
	set_int(out, "port", o->port);
	set_int(out, "src_port", local_port(fd));
	set_int(out, "bytes", o->bytes);
	set_int(out, "sent", sent);
	json_object_set_new(out, "count_returned", have_count ?
			    json_integer((json_int_t)get_be64(rep.count)) :
			    json_null());
	json_object_set_new(out, "count_ok", json_boolean(ok));
	set_int(out, "reply_bytes_requested", want_extra);
	set_int(out, "reply_bytes_received", rep.extra);
	set_real(out, "connect_us", connect_ns / 1000.0);
	set_real(out, "elapsed_s", es_tool_secs(elapsed));
	set_real(out, "throughput_mbps",
		 elapsed ? sent * 8.0 / es_tool_secs(elapsed) / 1e6 : 0);
	json_object_set_new(out, "tcp_info", tcp_stats_json(&st));
	if (!json_object_get(out, "stopped_by"))
		set_str(out, "stopped_by", "completed");
	close(fd);
	free(buf);
	if (!ok && !json_object_get(out, "error"))
		fprintf(stderr, PROG ": server count does not match --bytes\n");
	return ok ? EXIT_SUCCESS : EXIT_FAIL;
}

/* Ping-pong until end: completed transactions, or -1 with errno set. */
static int64_t tcp_rr_loop(struct run *r, int fd, uint64_t t0, uint64_t end)
{
	uint8_t req, resp;
	int64_t n = 0;
	ssize_t got;

	while (!es_tool_stop_signal() && es_tool_now_ns() < end) {
		req = n & 0xff;
		if (write_all(fd, &req, 1, r->deadline))
			return -1;
		got = read_some(fd, &resp, 1, r->deadline);
		if (got <= 0) {
			if (!got)
				errno = ECONNRESET;
			return -1;
		}
		n++;
		es_tool_progress(&r->progress, "%.1f s, %" PRId64 " transactions",
				 es_tool_secs(es_tool_now_ns() - t0), n);
	}
	return n;
}

static int tcp_rr(const struct opts *o, struct run *r, json_t *out)
{
	uint64_t connect_ns, t0, end, elapsed;
	struct tcp_stats st;
	struct tcp_reply rep;
	int64_t trans;
	uint8_t *buf;
	bool done;
	int fd, err;

	buf = malloc(IO_BUF_LEN);
	if (!buf) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_FAIL;
	}
	fd = tcp_connect(o, r, &connect_ns);
	if (fd < 0) {
		err = errno;
		free(buf);
		return fd == -2 ? connect_failed(o, out, err) : EXIT_FAIL;
	}
	setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	set_str(out, "mode", modes[o->mode].name);
	t0 = es_tool_now_ns();
	end = t0 + (uint64_t)(o->duration * NSEC_PER_SEC);
	if (end > r->deadline)
		end = r->deadline;
	trans = tcp_rr_loop(r, fd, t0, end);
	elapsed = es_tool_now_ns() - t0;
	if (trans < 0)
		set_error(out, "request/response", errno);
	else if (shutdown(fd, SHUT_WR) || tcp_read_reply(fd, buf, &rep, r->deadline))
		set_error(out, "closing", errno);
	tcp_stats_get(fd, &st);
	done = trans > 0 && !es_tool_stop_signal() &&
	       elapsed >= (uint64_t)(o->duration * NSEC_PER_SEC);

	set_str(out, "to", o->to);
	set_int(out, "port", o->port);
	set_int(out, "src_port", local_port(fd));
	set_real(out, "duration_s", o->duration);
	set_real(out, "elapsed_s", es_tool_secs(elapsed));
	set_int(out, "transactions", trans > 0 ? trans : 0);
	set_real(out, "tps", trans > 0 ? trans / es_tool_secs(elapsed) : 0);
	set_real(out, "mean_rtt_us", trans > 0 ? elapsed / 1000.0 / trans : 0);
	set_real(out, "connect_us", connect_ns / 1000.0);
	json_object_set_new(out, "tcp_info", tcp_stats_json(&st));
	if (!json_object_get(out, "stopped_by"))
		set_str(out, "stopped_by", es_tool_stop_reason(done));
	close(fd);
	free(buf);
	return done && !json_object_get(out, "error") ? EXIT_SUCCESS : EXIT_FAIL;
}

struct tcp_conn {
	uint64_t	received;	/* payload, header excluded */
	uint64_t	reply;		/* bytes asked for after the count */
	uint64_t	sent;
	bool		header;
};

/* Read to EOF, answer the count and any bytes asked for. */
static int serve_count(int fd, struct run *r, uint8_t *buf, struct tcp_conn *c)
{
	uint8_t head[REPLY_HDR_LEN], count[8];
	uint64_t total = 0, left;
	size_t head_len = 0, take;
	ssize_t n;

	for (;;) {
		n = read_some(fd, buf, IO_BUF_LEN, r->deadline);
		if (n < 0)
			return -1;
		if (!n)
			break;
		take = sizeof(head) - head_len;
		if (take > (size_t)n)
			take = n;
		memcpy(head + head_len, buf, take);
		head_len += take;
		total += n;
	}
	c->received = total;
	if (head_len == sizeof(head) && !memcmp(head, reply_magic, sizeof(reply_magic))) {
		c->header = true;
		c->received -= sizeof(head);
		c->reply = get_be64(head + 8);
		if (c->reply > MAX_REPLY_BYTES)
			c->reply = MAX_REPLY_BYTES;
	}
	put_be64(count, c->received);
	if (write_all(fd, count, sizeof(count), r->deadline))
		return -1;
	c->sent = sizeof(count);
	memset(buf, 0, IO_BUF_LEN);
	for (left = c->reply; left; left -= take) {
		take = left < IO_BUF_LEN ? left : IO_BUF_LEN;
		if (write_all(fd, buf, take, r->deadline))
			return -1;
		c->sent += take;
	}
	return 0;
}

/* Echo byte for byte until EOF. */
static int serve_rr(int fd, struct run *r, uint8_t *buf, struct tcp_conn *c)
{
	ssize_t n;

	setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	for (;;) {
		n = read_some(fd, buf, IO_BUF_LEN, r->deadline);
		if (n <= 0)
			return n;
		c->received += n;
		if (write_all(fd, buf, n, r->deadline))
			return -1;
		c->sent += n;
	}
}

static json_t *serve_conn(const struct opts *o, struct run *r, int fd,
			  const struct sockaddr_storage *peer, uint8_t *buf,
			  uint64_t *received)
{
	struct tcp_conn c = { 0 };
	char a[INET6_ADDRSTRLEN];
	struct tcp_stats st;
	json_t *j = json_object();
	int err;

	set_str(j, "peer", addr_str(peer, a, sizeof(a)) ?: "?");
	set_int(j, "peer_port", get_port(peer));
	err = o->rr ? serve_rr(fd, r, buf, &c) : serve_count(fd, r, buf, &c);
	if (err)
		set_error(j, "connection", errno);
	else if (!shutdown(fd, SHUT_WR))
		wait_acked(fd, r->deadline);
	tcp_stats_get(fd, &st);
	set_int(j, "bytes_received", c.received);
	set_int(j, "bytes_sent", c.sent);
	if (!o->rr) {
		json_object_set_new(j, "reply_header", json_boolean(c.header));
		set_int(j, "reply_bytes", c.reply);
	}
	json_object_set_new(j, "tcp_info", tcp_stats_json(&st));
	*received += c.received;
	if (!o->json) {
		es_tool_progress_clear(&r->progress);
		printf(PROG " tcp-server connection\n");
		es_tool_print_object(j, 1, KEY_COL);
		fflush(stdout);
	}
	return j;
}

static int tcp_accept_loop(const struct opts *o, struct run *r, int lfd,
			   json_t *conns, uint64_t *received)
{
	struct sockaddr_storage peer;
	socklen_t plen;
	uint8_t *buf;
	int fd, rev;

	buf = malloc(IO_BUF_LEN);
	if (!buf) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	while (!(o->once && json_array_size(conns))) {
		rev = wait_fd(lfd, POLLIN, r->deadline);
		if (rev <= 0)
			break;
		plen = sizeof(peer);
		fd = accept4(lfd, (struct sockaddr *)&peer, &plen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		json_array_append_new(conns, serve_conn(o, r, fd, &peer, buf,
							received));
		close(fd);
		es_tool_progress(&r->progress, "%zu connections, %" PRIu64
				 " bytes", json_array_size(conns), *received);
	}
	free(buf);
	return 0;
}

static int tcp_server(const struct opts *o, struct run *r, json_t *out)
{
	struct sockaddr_storage ss;
	uint64_t received = 0;
	json_t *conns;
	int lfd, err;

	lfd = server_socket(o, SOCK_STREAM, &ss);
	if (lfd < 0)
		return EXIT_FAIL;
	if (listen(lfd, 64) || set_nonblock(lfd)) {
		fprintf(stderr, PROG ": listen on port %u: %s\n", o->port,
			strerror(errno));
		close(lfd);
		return EXIT_FAIL;
	}
	announce(o, &ss);
	conns = json_array();
	err = tcp_accept_loop(o, r, lfd, conns, &received);
	close(lfd);

	set_str(out, "mode", modes[o->mode].name);
	set_str(out, "bind", o->bind ? o->bind : "::");
	set_int(out, "port", o->port);
	json_object_set_new(out, "rr", json_boolean(o->rr));
	set_int(out, "connections_total", json_array_size(conns));
	set_int(out, "bytes_received", received);
	set_real(out, "elapsed_s", es_tool_secs(es_tool_now_ns() - r->start));
	set_str(out, "stopped_by",
		es_tool_stop_reason(o->once && json_array_size(conns)));
	/* the table printed each connection already */
	if (o->json)
		json_object_set_new(out, "connections", conns);
	else
		json_decref(conns);
	return err ? EXIT_FAIL : EXIT_SUCCESS;
}

typedef int (*mode_fn)(const struct opts *o, struct run *r, json_t *out);

static const mode_fn mode_fns[MODE_COUNT] = {
	[MODE_UDP_SERVER] = udp_server,
	[MODE_UDP_CLIENT] = udp_client,
	[MODE_UDP_RR] = udp_rr,
	[MODE_TCP_SERVER] = tcp_server,
	[MODE_TCP_CLIENT] = tcp_client,
	[MODE_TCP_RR] = tcp_rr,
};

int main(int argc, char **argv)
{
	struct run r = { 0 };
	char title[64];
	struct opts o;
	json_t *out;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_SUCCESS;
	es_tool_setup_signals(true);
	r.start = es_tool_now_ns();
	r.deadline = r.start + (uint64_t)(o.timeout * NSEC_PER_SEC);
	es_tool_progress_init(&r.progress, PROG);
	out = json_object();
	if (!out)
		return EXIT_FAIL;
	rc = mode_fns[o.mode](&o, &r, out);
	es_tool_progress_clear(&r.progress);
	if (json_object_size(out)) {
		snprintf(title, sizeof(title), PROG " %s", modes[o.mode].name);
		es_tool_emit(out, o.json, title, KEY_COL);
	}
	json_decref(out);
	return rc;
}
