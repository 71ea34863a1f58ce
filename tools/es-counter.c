// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-counter: the reference stateful service of the migration drills, and
 * its client. Linked statically (see the Makefile) so that it runs inside a
 * busybox root file system.
 *
 * The server's state is what a migration must carry: a counter, a memory
 * region of --mem-mb filled with pseudo-random words (one word rewritten per
 * request, with a running checksum the server can verify against the
 * memory at any time) and files in its state directory (a ballast file and
 * an append-only journal of answered requests). The protocol is text, one
 * request per datagram or line:
 *
 *   "SEQ n"   -> "SEQ n COUNT c CKSUM x FILE b"   (c: counter after this request)
 *   "CHECK"   -> "CHECK running recomputed COUNT c FILE b"
 *
 * The client sends SEQ requests at a chosen rate and logs one JSON line per
 * request (seq, send and receive times in CLOCK_REALTIME ns, the counter),
 * so drills can merge it with the agents' event logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define MAX_CONNS	16
#define LINE_MAX_LEN	256

struct server {
	uint64_t	counter;
	uint64_t	*mem;
	size_t		words;
	uint64_t	cksum;		/* XOR of every word of mem */
	uint64_t	rng;
	int		journal_fd;
	uint64_t	file_bytes;	/* bytes in the state directory's files */
	int		udp_fd;
	int		tcp_fd;
	int		conn_fd[MAX_CONNS];
	char		conn_buf[MAX_CONNS][LINE_MAX_LEN];
	size_t		conn_len[MAX_CONNS];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int fill_memory(struct server *s, unsigned long mem_mb)
{
	size_t i;

	s->words = mem_mb * 1024 * 1024 / sizeof(uint64_t);
	if (!s->words)
		return 0;
	s->mem = mmap(NULL, s->words * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->mem == MAP_FAILED)
		return -1;
	for (i = 0; i < s->words; i++) {
		s->mem[i] = xorshift(&s->rng);
		s->cksum ^= s->mem[i];
	}
	return 0;
}

static uint64_t recompute_cksum(const struct server *s)
{
	uint64_t c = 0;
	size_t i;

	for (i = 0; i < s->words; i++)
		c ^= s->mem[i];
	return c;
}

/* Random, incompressible ballast: the writable layer's size is honest. */
static int write_ballast(struct server *s, const char *dir, unsigned long kb)
{
	char path[512], buf[4096];
	unsigned long i;
	size_t j;
	int fd;

	if (!kb)
		return 0;
	snprintf(path, sizeof(path), "%s/ballast", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	for (i = 0; i < kb * 1024 / sizeof(buf); i++) {
		for (j = 0; j < sizeof(buf) / 8; j++)
			((uint64_t *)buf)[j] = xorshift(&s->rng);
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
			close(fd);
			return -1;
		}
	}
	s->file_bytes += kb * 1024;
	return close(fd);
}

static int open_journal(struct server *s, const char *dir)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/journal", dir);
	s->journal_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (s->journal_fd < 0)
		return -1;
	if (!fstat(s->journal_fd, &st))
		s->file_bytes += st.st_size;
	return 0;
}

/* One request in, one reply out; returns the reply length or 0 to ignore. */
static size_t handle_request(struct server *s, const char *req, char *out, size_t out_len)
{
	unsigned long long seq;
	char line[96];
	size_t w;
	int n;

	if (!strncmp(req, "CHECK", 5))
		return snprintf(out, out_len, "CHECK %016" PRIx64 " %016" PRIx64
				" COUNT %" PRIu64 " FILE %" PRIu64 "\n", s->cksum,
				recompute_cksum(s), s->counter, s->file_bytes);
	if (sscanf(req, "SEQ %llu", &seq) != 1)
		return 0;
	s->counter++;
	if (s->words) {
		w = xorshift(&s->rng) % s->words;
		s->cksum ^= s->mem[w];
		s->mem[w] = xorshift(&s->rng);
		s->cksum ^= s->mem[w];
	}
	if (s->journal_fd >= 0) {
		n = snprintf(line, sizeof(line), "%llu %" PRIu64 "\n", seq, s->counter);
		if (write(s->journal_fd, line, n) == n)
			s->file_bytes += n;
	}
	return snprintf(out, out_len, "SEQ %llu COUNT %" PRIu64 " CKSUM %016" PRIx64
			" FILE %" PRIu64 "\n", seq, s->counter, s->cksum, s->file_bytes);
}

static int listen_socket(int type, const char *bind_addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1;

	if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "es-counter: --bind: \"%s\" is not an IPv4 address\n", bind_addr);
		return -1;
	}
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (type == SOCK_DGRAM)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (type == SOCK_STREAM && listen(fd, 16))) {
		fprintf(stderr, "es-counter: bind %s:%d: %s\n", bind_addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The reply leaves from the address the request was sent to (IP_PKTINFO):
 * a service IP on the node's loopback answers as itself, not as whatever
 * address the route back would pick.
 */
static void serve_udp(struct server *s)
{
	char req[LINE_MAX_LEN], out[LINE_MAX_LEN];
	char ctl[CMSG_SPACE(sizeof(struct in_pktinfo))] = {};
	struct sockaddr_storage from;
	struct iovec iov = { req, sizeof(req) - 1 };
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	ssize_t n;
	size_t r;

	n = recvmsg(s->udp_fd, &mh, MSG_DONTWAIT);
	if (n <= 0)
		return;
	req[n] = '\0';
	r = handle_request(s, req, out, sizeof(out));
	if (!r)
		return;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(cm);

			pi->ipi_spec_dst = pi->ipi_addr;
			pi->ipi_ifindex = 0;
		}
	iov = (struct iovec){ out, r };
	mh.msg_flags = 0;
	sendmsg(s->udp_fd, &mh, 0);
}

static void accept_tcp(struct server *s)
{
	int fd = accept4(s->tcp_fd, NULL, NULL, SOCK_CLOEXEC), i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CONNS; i++) {
		if (s->conn_fd[i] < 0) {
			s->conn_fd[i] = fd;
			s->conn_len[i] = 0;
			return;
		}
	}
	close(fd);
}

static void serve_conn(struct server *s, int i)
{
	char out[LINE_MAX_LEN], *nl, *buf = s->conn_buf[i];
	ssize_t n;
	size_t r;

	n = read(s->conn_fd[i], buf + s->conn_len[i], LINE_MAX_LEN - 1 - s->conn_len[i]);
	if (n <= 0) {
		close(s->conn_fd[i]);
		s->conn_fd[i] = -1;
		return;
	}
	s->conn_len[i] += n;
	buf[s->conn_len[i]] = '\0';
	while ((nl = strchr(buf, '\n'))) {
		*nl = '\0';
		r = handle_request(s, buf, out, sizeof(out));
		if (r && write(s->conn_fd[i], out, r) != (ssize_t)r)
			break;
		s->conn_len[i] -= nl + 1 - buf;
		memmove(buf, nl + 1, s->conn_len[i] + 1);
	}
	if (s->conn_len[i] >= LINE_MAX_LEN - 1)
		s->conn_len[i] = 0;	/* overlong line: drop it */
}

static int serve_loop(struct server *s)
{
	struct pollfd p[MAX_CONNS + 2];
	int n, i, map[MAX_CONNS + 2];

	while (!stop) {
		n = 0;
		if (s->udp_fd >= 0)
			map[n] = -2, p[n++] = (struct pollfd){ .fd = s->udp_fd, .events = POLLIN };
		if (s->tcp_fd >= 0)
			map[n] = -1, p[n++] = (struct pollfd){ .fd = s->tcp_fd, .events = POLLIN };
		for (i = 0; i < MAX_CONNS; i++)
			if (s->conn_fd[i] >= 0)
				map[n] = i, p[n++] = (struct pollfd){ .fd = s->conn_fd[i],
								    .events = POLLIN };
		if (poll(p, n, 1000) < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < n; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (map[i] == -2)
				serve_udp(s);
			else if (map[i] == -1)
				accept_tcp(s);
			else
				serve_conn(s, map[i]);
		}
	}
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "udp", required_argument, NULL, 'u' },
		{ "tcp", required_argument, NULL, 't' },
		{ "bind", required_argument, NULL, 'b' },
		{ "mem-mb", required_argument, NULL, 'm' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "write-kb", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{}
	};
	static struct server s = { .udp_fd = -1, .tcp_fd = -1, .journal_fd = -1, .rng = 88172645463325252ULL };
	const char *bind_addr = "0.0.0.0", *dir = NULL;
	unsigned long mem_mb = 0, write_kb = 0;
	int udp = 0, tcp = 0, c, i;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'u': udp = atoi(optarg); break;
		case 't': tcp = atoi(optarg); break;
		case 'b': bind_addr = optarg; break;
		case 'm': mem_mb = strtoul(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		case 'w': write_kb = strtoul(optarg, NULL, 10); break;
		case 's': s.rng = strtoull(optarg, NULL, 0) ?: 1; break;
		default: return 2;
		}
	}
	if (!udp && !tcp) {
		fprintf(stderr, "es-counter serve: give --udp PORT and/or --tcp PORT\n");
		return 2;
	}
	for (i = 0; i < MAX_CONNS; i++)
		s.conn_fd[i] = -1;
	if (fill_memory(&s, mem_mb)) {
		fprintf(stderr, "es-counter: --mem-mb %lu: %s\n", mem_mb, strerror(errno));
		return 1;
	}
	if (dir && (mkdir(dir, 0755) && errno != EEXIST)) {
		fprintf(stderr, "es-counter: --state-dir %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (dir && (write_ballast(&s, dir, write_kb) || open_journal(&s, dir))) {
		fprintf(stderr, "es-counter: writing into %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if ((udp && (s.udp_fd = listen_socket(SOCK_DGRAM, bind_addr, udp)) < 0) ||
	    (tcp && (s.tcp_fd = listen_socket(SOCK_STREAM, bind_addr, tcp)) < 0))
		return 1;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	return serve_loop(&s);
}

struct client_opts {
	struct sockaddr_in	to;
	bool			tcp;
	double			rate;
	unsigned long		count;
	double			duration;
	unsigned int		timeout_ms;
	unsigned long long	start_seq;
	bool			check;
	FILE			*log;
};

static int client_connect(const struct client_opts *o)
{
	int fd = socket(AF_INET, (o->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	if (o->tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&o->to, sizeof(o->to))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait for one reply line to the request; 0, or -1 on timeout/error. */
static int await_reply(int fd, const char *want_prefix, unsigned int timeout_ms, char *out,
		       size_t out_len)
{
	uint64_t deadline = now_ns(CLOCK_MONOTONIC) + timeout_ms * 1000000ULL, now;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t len = 0;
	ssize_t n;

	for (;;) {
		now = now_ns(CLOCK_MONOTONIC);
		if (now >= deadline || poll(&p, 1, (deadline - now) / 1000000 + 1) <= 0)
			return -1;
		n = recv(fd, out + len, out_len - 1 - len, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			return -1;	/* closed, or ICMP port unreachable */
		len += n;
		out[len] = '\0';
		/* a late reply to an earlier request is skipped, not mistaken for this one */
		if (strchr(out, '\n') || len == out_len - 1) {
			if (!strncmp(out, want_prefix, strlen(want_prefix)))
				return 0;
			len = 0;
		}
	}
}

static int client_check(const struct client_opts *o)
{
	char out[LINE_MAX_LEN];
	char running[20], recomputed[20];
	unsigned long long count, file;
	int fd = client_connect(o);

	if (fd < 0 || send(fd, o->tcp ? "CHECK\n" : "CHECK", o->tcp ? 6 : 5, 0) < 0 ||
	    await_reply(fd, "CHECK", o->timeout_ms, out, sizeof(out)) ||
	    sscanf(out, "CHECK %19s %19s COUNT %llu FILE %llu", running, recomputed, &count,
		   &file) != 4) {
		fprintf(stderr, "es-counter: no CHECK reply from %s\n", inet_ntoa(o->to.sin_addr));
		return 1;
	}
	printf("{\"cksum\":\"%s\",\"recomputed\":\"%s\",\"memory_intact\":%s,\"counter\":%llu,"
	       "\"file_bytes\":%llu}\n", running, recomputed,
	       strcmp(running, recomputed) ? "false" : "true", count, file);
	return 0;
}

/* One request: log a JSON line; 1 when answered. */
static int client_request(const struct client_opts *o, int *fd, unsigned long long seq,
			  unsigned long long *counter)
{
	char req[64], want[64], out[LINE_MAX_LEN];
	uint64_t sent, recv_ns;
	int n, answered;

	static unsigned int conn;	/* connections made: a TCP one that survives stays 1 */

	n = snprintf(req, sizeof(req), "SEQ %llu%s", seq, o->tcp ? "\n" : "");
	snprintf(want, sizeof(want), "SEQ %llu ", seq);
	if (*fd < 0) {
		*fd = client_connect(o);
		conn += *fd >= 0;
	}
	sent = now_ns(CLOCK_REALTIME);
	answered = *fd >= 0 && send(*fd, req, n, MSG_NOSIGNAL) == n &&
		   !await_reply(*fd, want, o->timeout_ms, out, sizeof(out)) &&
		   sscanf(out + strlen(want), "COUNT %llu", counter) == 1;
	recv_ns = now_ns(CLOCK_REALTIME);
	if (!answered && o->tcp && *fd >= 0) {
		close(*fd);	/* reconnect for the next request */
		*fd = -1;
	}
	if (answered)
		fprintf(o->log, "{\"seq\":%llu,\"sent_ns\":%" PRIu64 ",\"recv_ns\":%" PRIu64
			",\"rtt_us\":%.1f,\"counter\":%llu,\"conn\":%u}\n", seq, sent, recv_ns,
			(recv_ns - sent) / 1e3, *counter, conn);
	else
		fprintf(o->log, "{\"seq\":%llu,\"sent_ns\":%" PRIu64 ",\"lost\":true}\n", seq, sent);
	fflush(o->log);
	return answered;
}

static int client_run(const struct client_opts *o)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC), next = start, gap = 1e9 / o->rate, now;
	unsigned long long seq = o->start_seq, counter = 0, last_counter = 0;
	unsigned long sent = 0, answered = 0;
	int fd = -1;

	while (!stop) {
		if (o->count && sent >= o->count)
			break;
		if (!o->count && now_ns(CLOCK_MONOTONIC) - start >= o->duration * 1e9)
			break;
		now = now_ns(CLOCK_MONOTONIC);
		if (now < next) {
			struct timespec ts = { .tv_sec = (next - now) / 1000000000ULL,
					       .tv_nsec = (next - now) % 1000000000ULL };
			nanosleep(&ts, NULL);
			continue;
		}
		next += gap;
		sent++;
		if (client_request(o, &fd, seq++, &counter)) {
			answered++;
			last_counter = counter;
		}
	}
	if (fd >= 0)
		close(fd);
	fprintf(stderr, "es-counter client: %lu sent, %lu answered, %lu lost, last counter %llu\n",
		sent, answered, sent - answered, last_counter);
	return answered ? 0 : 1;
}

static int cmd_client(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "to", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "tcp", no_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "timeout-ms", required_argument, NULL, 'T' },
		{ "start-seq", required_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'c' },
		{ "log", required_argument, NULL, 'l' },
		{}
	};
	struct client_opts o = { .to.sin_family = AF_INET, .rate = 10, .count = 1,
				 .timeout_ms = 1000, .start_seq = 1, .log = stdout };
	const char *addr = NULL;
	int c, port = 0;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 't': o.tcp = true; break;
		case 'r': o.rate = strtod(optarg, NULL); break;
		case 'n': o.count = strtoul(optarg, NULL, 10); break;
		case 'd': o.duration = strtod(optarg, NULL); o.count = 0; break;
		case 'T': o.timeout_ms = strtoul(optarg, NULL, 10); break;
		case 's': o.start_seq = strtoull(optarg, NULL, 10); break;
		case 'c': o.check = true; break;
		case 'l':
			o.log = fopen(optarg, "a");
			if (!o.log) {
				fprintf(stderr, "es-counter: --log %s: %s\n", optarg, strerror(errno));
				return 1;
			}
			break;
		default: return 2;
		}
	}
	if (!addr || inet_pton(AF_INET, addr, &o.to.sin_addr) != 1 || port <= 0 || port > 65535 ||
	    o.rate <= 0 || !o.timeout_ms) {
		fprintf(stderr, "es-counter client: needs --to IPv4 --port N (and a positive --rate)\n");
		return 2;
	}
	o.to.sin_port = htons(port);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	return o.check ? client_check(&o) : client_run(&o);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return cmd_client(argc - 1, argv + 1);
	fprintf(stderr,
		"usage: es-counter serve [--udp PORT] [--tcp PORT] [--bind ADDR] [--mem-mb N]\n"
		"                        [--state-dir DIR] [--write-kb N] [--seed N]\n"
		"       es-counter client --to ADDR --port N [--tcp] [--rate PER_S]\n"
		"                        [--count N | --duration S] [--timeout-ms MS]\n"
		"                        [--start-seq N] [--log FILE] [--check]\n"
		"Client log: one JSON line per request {seq, sent_ns, recv_ns, rtt_us, counter, conn}\n"
		"or {seq, sent_ns, lost: true}; CLOCK_REALTIME nanoseconds.\n");
	return 2;
}
