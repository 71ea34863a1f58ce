// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-session: the far end of `edgeshift session-test`, and one session of
 * it for a Kubernetes pod.
 *
 *   sink: counts every session's datagrams, echoes latency probes at once
 *         and answers counter requests (lib/session_wire.h), on one port.
 *   send: one fixed-rate session to a sink (the same pacer as
 *         session-test), for the pods of the Kubernetes mode.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <jansson.h>
#include "session_pacer.h"
#include "session_wire.h"
#include "tool_util.h"

#define PROG		"es-session"
#define KEY_COL		22
#define BATCH		64
#define RCVBUF		(8 << 20)

enum opt_id {
	OPT_PORT = 1, OPT_BIND, OPT_TO, OPT_RATE, OPT_SIZE, OPT_DURATION, OPT_SESSION,
	OPT_RUN_ID, OPT_TIMEOUT, OPT_JSON, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "port",	required_argument, NULL, OPT_PORT },
	{ "bind",	required_argument, NULL, OPT_BIND },
	{ "to",		required_argument, NULL, OPT_TO },
	{ "rate",	required_argument, NULL, OPT_RATE },
	{ "size",	required_argument, NULL, OPT_SIZE },
	{ "duration",	required_argument, NULL, OPT_DURATION },
	{ "session",	required_argument, NULL, OPT_SESSION },
	{ "run-id",	required_argument, NULL, OPT_RUN_ID },
	{ "timeout",	required_argument, NULL, OPT_TIMEOUT },
	{ "json",	no_argument,	   NULL, OPT_JSON },
	{ "help",	no_argument,	   NULL, OPT_HELP },
	{ }
};

static const struct es_tool_cli cli = { .prog = PROG, .opts = long_opts, .help = OPT_HELP };

struct opts {
	const char	*to;
	const char	*bind;
	uint16_t	port;
	double		rate_mbit;
	uint64_t	size;
	double		duration;
	uint64_t	session;
	uint64_t	run_id;
	double		timeout;
	bool		json;
};

struct sink {
	uint32_t		run_id;
	uint64_t		runs;
	uint64_t		probes;
	uint64_t		stats_requests;
	uint64_t		foreign;	/* datagrams that are not ours */
	struct es_sw_counter	c[ES_SW_MAX_SESSIONS];
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: " PROG " sink [--port P] [--bind ADDR] [--timeout S] [--json]\n"
		"       " PROG " send --to ADDR [--port P] --rate MBIT [--size B]\n"
		"                  [--duration S] [--session N] [--run-id R] [--json]\n"
		"sink: counts the sessions of `edgeshift session-test`, echoes its probes,\n"
		"      answers its counter requests (UDP port P, default %d; stops on\n"
		"      SIGTERM/SIGINT or after --timeout S, default: never).\n"
		"send: one session of MBIT Mbit/s of UDP payload in datagrams of B bytes\n"
		"      (default 1400) for S seconds (default: until stopped), counted by\n"
		"      the sink as session N (0..%d) of run R.\n", ES_SW_PORT,
		ES_SW_MAX_SESSIONS - 1);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int id;

	while ((id = es_tool_next_opt(&cli, argc, argv, argv[0])) > 0) {
		switch (id) {
		case OPT_PORT:
			if (es_tool_parse_port(&cli, id, optarg, &o->port))
				return -1;
			break;
		case OPT_BIND: o->bind = optarg; break;
		case OPT_TO: o->to = optarg; break;
		case OPT_RATE:
			if (es_tool_parse_double(&cli, id, optarg, 0.001, 100000, &o->rate_mbit))
				return -1;
			break;
		case OPT_SIZE:
			if (es_tool_parse_u64(&cli, id, optarg, ES_SW_HDR_LEN, 65507, &o->size))
				return -1;
			break;
		case OPT_DURATION:
			if (es_tool_parse_double(&cli, id, optarg, 0, 604800, &o->duration))
				return -1;
			break;
		case OPT_SESSION:
			if (es_tool_parse_u64(&cli, id, optarg, 0, ES_SW_MAX_SESSIONS - 1,
					      &o->session))
				return -1;
			break;
		case OPT_RUN_ID:
			if (es_tool_parse_u64(&cli, id, optarg, 1, UINT32_MAX, &o->run_id))
				return -1;
			break;
		case OPT_TIMEOUT:
			if (es_tool_parse_double(&cli, id, optarg, 0, 604800, &o->timeout))
				return -1;
			break;
		case OPT_JSON: o->json = true; break;
		default:
			usage(stdout);
			exit(0);
		}
	}
	return id;
}

static int resolve(const char *host, uint16_t port, bool passive, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = passive ? AI_PASSIVE : 0 };
	struct addrinfo *ai;
	char serv[8];
	int err;

	snprintf(serv, sizeof(serv), "%u", port);
	err = getaddrinfo(host, serv, &hints, &ai);
	if (err) {
		fprintf(stderr, PROG ": %s: %s\n", host ?: "(any)", gai_strerror(err));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int sink_socket(const struct opts *o)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons(o->port) };
	struct sockaddr_storage ss;
	int fd, rcvbuf = RCVBUF, off = 0;
	socklen_t len = sizeof(any);

	memcpy(&ss, &any, sizeof(any));
	if (o->bind && resolve(o->bind, o->port, true, &ss, &len))
		return -1;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	/* A full receive queue would count as the path's loss. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&ss, len))
		goto fail;
	return fd;
fail:
	fprintf(stderr, PROG ": sink on port %u: %s\n", o->port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static void sink_reply_stats(struct sink *k, int fd, const struct es_sw_hdr *h,
			     const struct sockaddr_storage *from, socklen_t from_len)
{
	static uint8_t out[ES_SW_HDR_LEN + ES_SW_MAX_SESSIONS * 16];
	struct es_sw_hdr r = *h;
	uint32_t i;

	r.type = ES_SW_STATS_REPLY;
	if (r.session > ES_SW_MAX_SESSIONS)
		r.session = ES_SW_MAX_SESSIONS;
	if (h->run_id != k->run_id)	/* nothing counted for that run yet */
		memset(k->c, 0, sizeof(k->c)), k->run_id = h->run_id, k->runs++;
	es_sw_encode(out, &r);
	for (i = 0; i < r.session; i++) {
		es_sw_put64(out + ES_SW_HDR_LEN + i * 16, k->c[i].packets);
		es_sw_put64(out + ES_SW_HDR_LEN + i * 16 + 8, k->c[i].bytes);
	}
	sendto(fd, out, ES_SW_HDR_LEN + r.session * 16, 0, (const struct sockaddr *)from,
	       from_len);
	k->stats_requests++;
}

static void sink_one(struct sink *k, int fd, uint8_t *buf, size_t len,
		     const struct sockaddr_storage *from, socklen_t from_len)
{
	struct es_sw_hdr h;

	if (es_sw_decode(buf, len, &h)) {
		k->foreign++;
		return;
	}
	if (h.type == ES_SW_PROBE) {
		sendto(fd, buf, len, 0, (const struct sockaddr *)from, from_len);
		k->probes++;
	} else if (h.type == ES_SW_STATS) {
		sink_reply_stats(k, fd, &h, from, from_len);
	} else if (h.type == ES_SW_DATA && h.session < ES_SW_MAX_SESSIONS) {
		if (h.run_id != k->run_id) {
			memset(k->c, 0, sizeof(k->c));
			k->run_id = h.run_id;
			k->runs++;
		}
		k->c[h.session].packets++;
		k->c[h.session].bytes += len;
	} else {
		k->foreign++;
	}
}

static int run_sink(const struct opts *o)
{
	static uint8_t bufs[BATCH][2048];
	struct sockaddr_storage from[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct timespec ts = { 0, 200 * NSEC_PER_MSEC };
	struct sink *k = calloc(1, sizeof(*k));
	uint64_t deadline, total = 0;
	json_t *out;
	int fd, n, i;

	fd = sink_socket(o);
	if (fd < 0 || !k)
		return free(k), 1;
	deadline = o->timeout > 0 ? es_tool_now_ns() + o->timeout * NSEC_PER_SEC : UINT64_MAX;
	while (!es_tool_stop_signal() && es_tool_now_ns() < deadline) {
		for (i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
			msgs[i].msg_hdr = (struct msghdr){ .msg_name = &from[i],
				.msg_namelen = sizeof(from[i]), .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		/* A probe must not wait for a batch to fill: take what is there. */
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, &ts);
		if (n < 0 && errno != EINTR && errno != EAGAIN) {
			fprintf(stderr, PROG ": receive: %s\n", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			sink_one(k, fd, bufs[i], msgs[i].msg_len, &from[i], msgs[i].msg_hdr.msg_namelen);
		total += n > 0 ? n : 0;
	}
	out = json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I}", "mode", "sink", "port", o->port,
			"datagrams", (json_int_t)total, "runs", (json_int_t)k->runs,
			"probes_echoed", (json_int_t)k->probes,
			"stats_requests", (json_int_t)k->stats_requests,
			"foreign", (json_int_t)k->foreign);
	es_tool_emit(out, o->json, PROG " sink", KEY_COL);
	close(fd);
	free(k);
	return 0;
}

static int run_send(const struct opts *o)
{
	struct sockaddr_storage dst;
	struct es_pacer *p = calloc(1, sizeof(*p));
	uint64_t t0, end, pk, by, errs;
	double secs;
	socklen_t len;
	json_t *out;
	int err;

	if (!p)
		return 1;
	if (!o->to || o->rate_mbit <= 0) {
		free(p);
		return es_tool_usage_error(&cli, "send needs --to and --rate"), 2;
	}
	if (resolve(o->to, o->port, false, &dst, &len))
		return free(p), 1;
	err = es_pacer_init(p, (struct sockaddr *)&dst, len, o->run_id, o->rate_mbit * 1e6,
			    o->size);
	p->session_base = o->session;
	if (!err)
		err = es_pacer_start(p);
	if (!err)
		err = es_pacer_add(p) < 0 ? -EIO : 0;
	if (err) {
		fprintf(stderr, PROG ": send: %s\n", strerror(-err));
		es_pacer_stop(p);
		return free(p), 1;
	}
	t0 = es_tool_now_ns();
	end = o->duration > 0 ? t0 + o->duration * NSEC_PER_SEC : UINT64_MAX;
	while (!es_tool_stop_signal() && es_tool_now_ns() < end)
		es_tool_sleep_ns(20 * NSEC_PER_MSEC);
	es_pacer_counters(p, 0, &pk, &by, &errs);
	secs = es_tool_secs(es_tool_now_ns() - t0);
	es_pacer_stop(p);
	out = json_pack("{s:s,s:s,s:i,s:I,s:f,s:f,s:I,s:I,s:I}", "mode", "send", "to", o->to,
			"port", o->port, "session", (json_int_t)o->session, "rate_mbit", o->rate_mbit,
			"offered_mbit", secs > 0 ? by * 8 / secs / 1e6 : 0.0,
			"datagrams", (json_int_t)pk, "bytes", (json_int_t)by,
			"send_errors", (json_int_t)errs);
	es_tool_emit(out, o->json, PROG " send", KEY_COL);
	free(p);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .port = ES_SW_PORT, .size = 1400, .run_id = 1 };
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "--help") || !strcmp(mode, "-h"))
		return usage(stdout), 0;
	if (strcmp(mode, "sink") && strcmp(mode, "send")) {
		usage(stderr);
		return 2;
	}
	if (parse_opts(argc - 1, argv + 1, &o) < 0)
		return 2;
	es_tool_setup_signals(true);
	return !strcmp(mode, "sink") ? run_sink(&o) : run_send(&o);
}
