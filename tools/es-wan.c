// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-wan: a WAN emulator for a kernel without sch_netem. It relays every
 * Ethernet frame between two interfaces (one veth end towards side A, one
 * towards side B, both in a middle namespace), delaying, rate-limiting and
 * dropping them independently per direction (a2b, b2a).
 *
 * Each frame gets a departure time when it arrives:
 *	dep = max(arrival + delay, previous dep + wire_len / rate)
 * so the delay is exact on an idle link and the rate exact under load.
 * The bytes waiting for the bottleneck (previous dep - arrival - delay,
 * times the rate) are bounded by --limit: tail drop. Loss is an independent
 * draw per frame. A frame leaves at its departure time: the loop sleeps to
 * just before it (learning how late wake-ups are) and spins the rest.
 *
 *	es-wan run --a IF --b IF [settings] [--control PATH] [--json]
 *	es-wan ctl --control PATH SETTING...	(e.g. loss=100, b2a.delay-ms=5)
 *	es-wan stats --control PATH [--json]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <jansson.h>
#include "tool_util.h"

#define PROG			"es-wan"
#define KEY_COL			22

#define EXIT_FAIL		1
#define EXIT_USAGE		2

#define BATCH			64
#define VNET_LEN		sizeof(struct virtio_net_hdr)
#define FRAME_MAX		(65536 + ETH_HLEN + 4)	/* a GSO frame at most */
#define BUF_MAX			(VNET_LEN + FRAME_MAX)
#define RING_BYTES		(256ULL << 20)	/* per direction, reserved lazily */
#define RCVBUF_BYTES		(16 << 20)
#define MAX_DELAY_MS		60000.0
#define MAX_RATE_BPS		100e9		/* bytes per second */
#define MAX_LIMIT		RING_BYTES
#define MIN_AUTO_LIMIT		(100 * 1514ULL)
#define IDLE_WAIT_NS		(200 * NSEC_PER_MSEC)
#define SLACK_INIT_NS		(20 * NSEC_PER_USEC)
#define SLACK_MAX_NS		(50 * NSEC_PER_USEC)
#define SLACK_OUTLIER_NS	(500 * NSEC_PER_USEC)
#define RX_ROUNDS		4	/* batches per socket between departures */
#define CTL_MSG_MAX		4096
#define CTL_WAIT_MS		200
#define RT_PRIORITY		10
#define RX_TS_MAX_AGE_NS	(100 * NSEC_PER_MSEC)

enum dir_id { A2B, B2A, NDIR };
static const char *const dir_names[NDIR] = { "a2b", "b2a" };

/* One direction's settings; rate 0 = unlimited, limit 0 = auto (1 BDP). */
struct dir_conf {
	double		delay_ms;
	double		rate;		/* bytes per second */
	double		loss_pct;
	uint64_t	limit;		/* bytes waiting for the bottleneck */
};

struct dir_stats {
	uint64_t	received, received_bytes;
	uint64_t	forwarded, forwarded_bytes;
	uint64_t	dropped_loss, dropped_queue, dropped_memory;
	uint64_t	dropped_tx, dropped_socket;
	uint64_t	gso_frames;
	uint64_t	backlog_max;
	int64_t		late_sum_ns;
	uint64_t	late_max_ns;
	uint64_t	rx_kernel_ts, rx_wait_sum_ns;
};

/* A frame in a direction's queue: header, then vnet header and frame. */
struct qent {
	uint64_t	dep;
	uint32_t	len;		/* vnet header + frame */
	uint32_t	wire;		/* bytes the rate is charged for */
	uint32_t	paced;		/* dep set by the rate, not the delay */
	uint32_t	pad;
};
#define QENT_WRAP	UINT32_MAX

/* A FIFO of variable-sized entries in one mapping; dep never decreases. */
struct ring {
	uint8_t		*buf;
	size_t		cap, head, tail, used;
	uint64_t	frames, bytes;
};

struct dir {
	enum dir_id		id;
	int			rx_fd, tx_fd;
	struct dir_conf		conf;
	struct dir_stats	st;
	struct ring		q;
	uint64_t		last_dep;
};

struct wan {
	const char		*if_name[NDIR];	/* A side, B side */
	int			fd[NDIR];
	const char		*ctl_path;
	int			ctl_fd;
	struct dir		dir[NDIR];
	uint64_t		rng;
	uint64_t		start;
	uint64_t		slack_ns;	/* how early to wake before a departure */
	bool			realtime;
	bool			json;
	double			duration;
	uint8_t			*stage;		/* BATCH receive buffers */
	struct es_tool_progress	progress;
};

/* ---- settings: one parser for options and control messages ---- */

static int parse_number(const char *s, double min, double max, double *out,
			char **rest)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < min || v > max)
		return -1;
	if (!rest && *end)
		return -1;
	if (rest)
		*rest = end;
	*out = v;
	return 0;
}

/*
 * "10MB/s", "100Mbit/s", "100mbit", "1.5Gbit", "800kB/s", "unlimited", "0":
 * B is bytes, bit is bits (a lone b is refused as ambiguous); k M G are
 * powers of 1000, Ki Mi Gi of 1024; "/s" optional. Result in bytes/s.
 */
static int parse_rate(const char *s, double *out)
{
	static const struct { const char *p; double mul; } pfx[] = {
		{ "Ki", 1024.0 }, { "Mi", 1048576.0 }, { "Gi", 1073741824.0 },
		{ "k", 1e3 }, { "K", 1e3 }, { "m", 1e6 }, { "M", 1e6 },
		{ "g", 1e9 }, { "G", 1e9 }, { "", 1.0 },
	};
	double v, mul = 1.0, unit;
	size_t i, n;
	char *u;

	if (!strcmp(s, "unlimited")) {
		*out = 0;
		return 0;
	}
	if (parse_number(s, 0, 1e15, &v, &u))
		return -1;
	if (!*u && v == 0) {
		*out = 0;
		return 0;
	}
	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		n = strlen(pfx[i].p);
		if (!strncmp(u, pfx[i].p, n)) {
			mul = pfx[i].mul;
			u += n;
			break;
		}
	}
	if (!strncmp(u, "bit", 3) || !strncmp(u, "bps", 3)) {
		unit = 1.0 / 8;
		u += 3;
	} else if (*u == 'B') {
		unit = 1.0;
		u++;
	} else {
		return -1;
	}
	if (*u && strcmp(u, "/s"))
		return -1;
	v *= mul * unit;
	if (v > MAX_RATE_BPS)
		return -1;
	*out = v;
	return 0;
}

/* "0", "64k", "2M", "1Mi", "auto" (0): bytes. */
static int parse_bytes(const char *s, uint64_t *out)
{
	double v, mul = 1;
	char *u;

	if (!strcmp(s, "auto")) {
		*out = 0;
		return 0;
	}
	if (parse_number(s, 0, (double)MAX_LIMIT, &v, &u))
		return -1;
	if (!strcmp(u, "k") || !strcmp(u, "K") || !strcmp(u, "kB"))
		mul = 1e3;
	else if (!strcmp(u, "M") || !strcmp(u, "MB"))
		mul = 1e6;
	else if (!strcmp(u, "Ki") || !strcmp(u, "KiB"))
		mul = 1024;
	else if (!strcmp(u, "Mi") || !strcmp(u, "MiB"))
		mul = 1048576;
	else if (*u && strcmp(u, "B"))
		return -1;
	if (v * mul > (double)MAX_LIMIT)
		return -1;
	*out = (uint64_t)(v * mul);
	return 0;
}

enum setting { SET_DELAY, SET_RATE, SET_LOSS, SET_LIMIT, NSET };
static const char *const setting_names[NSET] = {
	"delay-ms", "rate", "loss", "limit",
};
static const char *const setting_help[NSET] = {
	"a number of milliseconds in 0..60000",
	"a rate such as 10MB/s, 100Mbit/s, 1Gbit, 0 or unlimited",
	"a loss percentage in 0..100",
	"a byte count such as 2M, 512Ki, or auto (one bandwidth-delay product)",
};

/*
 * KEY is [a2b.|b2a.|a2b-|b2a-]NAME; without a direction it sets both.
 * Returns 0, or -1 with the reason in err.
 */
static int apply_setting(struct dir_conf conf[NDIR], const char *key,
			 const char *val, char *err, size_t errlen)
{
	unsigned int mask = (1 << A2B) | (1 << B2A);
	const char *name = key;
	struct dir_conf tmp;
	int d, s;

	for (d = 0; d < NDIR; d++) {
		size_t n = strlen(dir_names[d]);

		if (!strncmp(key, dir_names[d], n) &&
		    (key[n] == '.' || key[n] == '-')) {
			mask = 1 << d;
			name = key + n + 1;
		}
	}
	for (s = 0; s < NSET; s++)
		if (!strcmp(name, setting_names[s]))
			break;
	if (s == NSET) {
		snprintf(err, errlen, "unknown setting '%s' (delay-ms, rate, "
			 "loss, limit, each optionally prefixed a2b. or b2a.)", key);
		return -1;
	}
	memset(&tmp, 0, sizeof(tmp));
	if ((s == SET_DELAY && parse_number(val, 0, MAX_DELAY_MS, &tmp.delay_ms, NULL)) ||
	    (s == SET_RATE && parse_rate(val, &tmp.rate)) ||
	    (s == SET_LOSS && parse_number(val, 0, 100, &tmp.loss_pct, NULL)) ||
	    (s == SET_LIMIT && parse_bytes(val, &tmp.limit))) {
		snprintf(err, errlen, "%s: '%s' is not %s", key, val, setting_help[s]);
		return -1;
	}
	for (d = 0; d < NDIR; d++) {
		if (!(mask & (1 << d)))
			continue;
		switch (s) {
		case SET_DELAY: conf[d].delay_ms = tmp.delay_ms; break;
		case SET_RATE: conf[d].rate = tmp.rate; break;
		case SET_LOSS: conf[d].loss_pct = tmp.loss_pct; break;
		case SET_LIMIT: conf[d].limit = tmp.limit; break;
		}
	}
	return 0;
}

/* "k=v k=v ..." applied all or nothing. */
static int apply_settings(struct dir_conf conf[NDIR], char *text, char *err,
			  size_t errlen)
{
	struct dir_conf next[NDIR];
	char *save = NULL, *tok, *eq;

	memcpy(next, conf, sizeof(next));
	for (tok = strtok_r(text, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		eq = strchr(tok, '=');
		if (!eq) {
			snprintf(err, errlen, "'%s' is not KEY=VALUE", tok);
			return -1;
		}
		*eq = '\0';
		if (apply_setting(next, tok, eq + 1, err, errlen))
			return -1;
	}
	memcpy(conf, next, sizeof(next));
	return 0;
}

/* ---- the queue ---- */

static size_t qent_size(uint32_t len)
{
	return (sizeof(struct qent) + len + 7) & ~(size_t)7;
}

static int ring_init(struct ring *r, size_t cap)
{
	/* Pages are only committed as the delay line fills them. */
	r->buf = mmap(NULL, cap, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->buf == MAP_FAILED) {
		r->buf = NULL;
		return -1;
	}
	r->cap = cap;
	return 0;
}

/* Where the entry at pos really is: the end of the mapping may be skipped. */
static size_t ring_norm(const struct ring *r, size_t pos)
{
	if (pos + sizeof(struct qent) > r->cap ||
	    ((struct qent *)(r->buf + pos))->len == QENT_WRAP)
		return 0;
	return pos;
}

static struct qent *ring_peek(struct ring *r)
{
	if (!r->frames)
		return NULL;
	r->head = ring_norm(r, r->head);
	return (struct qent *)(r->buf + r->head);
}

static void ring_pop(struct ring *r)
{
	struct qent *e = ring_peek(r);

	r->head += qent_size(e->len);
	r->frames--;
	r->bytes -= e->wire;
	if (!r->frames)
		r->head = r->tail = 0;
}

/*
 * Room for an entry of len bytes at the tail, or NULL when the ring is
 * full. Used space is [head, tail) or, wrapped, [head, end) + [0, tail);
 * head == tail only when empty.
 */
static struct qent *ring_reserve(struct ring *r, uint32_t len)
{
	size_t sz = qent_size(len);

	if (!r->frames)
		return sz <= r->cap ? (struct qent *)r->buf : NULL;
	if (r->tail > r->head) {
		if (r->cap - r->tail >= sz)
			return (struct qent *)(r->buf + r->tail);
		if (r->head <= sz)
			return NULL;
		if (r->cap - r->tail >= sizeof(struct qent))
			((struct qent *)(r->buf + r->tail))->len = QENT_WRAP;
		r->tail = 0;
		return (struct qent *)r->buf;
	}
	return r->head - r->tail > sz ? (struct qent *)(r->buf + r->tail) : NULL;
}

static void ring_commit(struct ring *r, struct qent *e)
{
	r->tail = (uint8_t *)e - r->buf + qent_size(e->len);
	r->frames++;
	r->bytes += e->wire;
}

/* ---- admission: loss, bottleneck queue, departure time ---- */

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64: fast, and reproducible under --seed */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool lose(struct wan *w, double pct)
{
	if (pct <= 0)
		return false;
	if (pct >= 100)
		return true;
	return (rng_next(&w->rng) >> 11) * 0x1.0p-53 * 100.0 < pct;
}

/* The bottleneck queue bound in bytes: --limit, or one bandwidth-delay product. */
static uint64_t dir_limit(const struct wan *w, const struct dir *d)
{
	double rtt_s, bdp;

	if (d->conf.limit)
		return d->conf.limit;
	rtt_s = (w->dir[A2B].conf.delay_ms + w->dir[B2A].conf.delay_ms) / 1e3;
	bdp = d->conf.rate * rtt_s;
	return bdp > MIN_AUTO_LIMIT ? (uint64_t)bdp : MIN_AUTO_LIMIT;
}

/*
 * What the rate is charged for: the Ethernet frame, and for a GSO frame
 * (an endpoint with TSO on) every segment's headers too.
 */
static uint32_t wire_len(const struct virtio_net_hdr *vh, uint32_t frame_len,
			 struct dir_stats *st)
{
	uint32_t hdr, segs;

	if (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE || !vh->gso_size)
		return frame_len;
	st->gso_frames++;
	hdr = vh->hdr_len && vh->hdr_len < frame_len ? vh->hdr_len : 0;
	segs = (frame_len - hdr + vh->gso_size - 1) / vh->gso_size;
	return frame_len + (segs > 1 ? (segs - 1) * hdr : 0);
}

static void admit(struct wan *w, struct dir *d, const uint8_t *buf,
		  uint32_t len, uint64_t now)
{
	const struct virtio_net_hdr *vh = (const void *)buf;
	uint64_t base, dep, backlog = 0, ser = 0;
	uint32_t wire;
	struct qent *e;

	d->st.received++;
	wire = wire_len(vh, len - VNET_LEN, &d->st);
	d->st.received_bytes += wire;
	if (lose(w, d->conf.loss_pct)) {
		d->st.dropped_loss++;
		return;
	}
	base = now + (uint64_t)(d->conf.delay_ms * NSEC_PER_MSEC);
	dep = base;
	if (d->conf.rate > 0) {
		ser = (uint64_t)(wire * 1e9 / d->conf.rate);
		if (d->last_dep > base)
			backlog = (uint64_t)((d->last_dep - base) * d->conf.rate / 1e9);
		if (backlog + wire > dir_limit(w, d)) {
			d->st.dropped_queue++;
			return;
		}
		if (backlog > d->st.backlog_max)
			d->st.backlog_max = backlog;
	}
	/* FIFO: a shorter delay set at run time never overtakes older frames */
	if (d->last_dep + ser > dep)
		dep = d->last_dep + ser;
	e = ring_reserve(&d->q, len);
	if (!e) {
		d->st.dropped_memory++;
		return;
	}
	e->dep = dep;
	e->len = len;
	e->wire = wire;
	e->paced = dep > base;
	memcpy(e + 1, buf, len);
	ring_commit(&d->q, e);
	d->last_dep = dep;
}

/* ---- packet sockets ---- */

static int set_ethtool(int fd, const char *ifname, uint32_t cmd)
{
	struct ethtool_value ev = { .cmd = cmd, .data = 0 };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	return ioctl(fd, SIOCETHTOOL, &ifr);
}

/*
 * Frames must stay MTU-sized so that loss and the rate act per frame: no
 * GRO on what we receive, no GSO/TSO on what we send. A device that cannot
 * change them is fine (the features are off already).
 */
static void disable_offloads(int fd, const char *ifname)
{
	set_ethtool(fd, ifname, ETHTOOL_SGRO);
	set_ethtool(fd, ifname, ETHTOOL_SGSO);
	set_ethtool(fd, ifname, ETHTOOL_STSO);
}

static int setsockopt_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

static int open_side(const char *ifname)
{
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd, ifindex;

	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, PROG ": interface '%s': %s\n", ifname, strerror(errno));
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		fprintf(stderr, PROG ": packet socket: %s\n", strerror(errno));
		return -1;
	}
	disable_offloads(fd, ifname);
	mr.mr_ifindex = ifindex;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	/*
	 * The vnet header carries checksum-offload state (and GSO, should an
	 * endpoint keep TSO on) across the relay, so frames the sender left
	 * to "hardware" checksumming are still accepted at the far end.
	 */
	if (setsockopt_int(fd, SOL_PACKET, PACKET_VNET_HDR, 1) ||
	    setsockopt_int(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1) ||
	    setsockopt_int(fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1) ||
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, PROG ": packet socket on '%s': %s\n", ifname,
			strerror(errno));
		close(fd);
		return -1;
	}
	setsockopt_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	if (setsockopt_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF_BYTES))
		setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, RCVBUF_BYTES);
	return fd;
}

/* Frames the kernel dropped because our socket buffer was full. */
static void read_socket_drops(struct dir *d)
{
	struct tpacket_stats ts;
	socklen_t len = sizeof(ts);

	/* reading resets the kernel's counters */
	if (!getsockopt(d->rx_fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len))
		d->st.dropped_socket += ts.tp_drops;
}

/*
 * When the frame reached our socket, on CLOCK_MONOTONIC: the kernel's
 * receive timestamp, so time spent waiting for the relay to wake up is
 * part of the delay and not added to it. A timestamp that is not a plausible
 * wall-clock time (an skb carrying the sender's monotonic departure time)
 * falls back to now.
 */
static uint64_t arrival_time(struct msghdr *mh, uint64_t now, int64_t real_off,
			     struct dir_stats *st)
{
	struct cmsghdr *c;
	struct timespec ts;
	int64_t t;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		t = (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec - real_off;
		if (t > (int64_t)now || (int64_t)now - t > (int64_t)RX_TS_MAX_AGE_NS)
			break;
		st->rx_kernel_ts++;
		st->rx_wait_sum_ns += now - t;
		return t;
	}
	return now;
}

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns */
static int64_t realtime_offset(uint64_t *mono)
{
	struct timespec r;

	clock_gettime(CLOCK_REALTIME, &r);
	*mono = es_tool_now_ns();
	return (int64_t)r.tv_sec * NSEC_PER_SEC + r.tv_nsec - (int64_t)*mono;
}

/* Reads what is waiting on the direction's socket; false when it is empty. */
static bool receive_batch(struct wan *w, struct dir *d)
{
	static char cbuf[BATCH][CMSG_SPACE(sizeof(struct timespec))];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int64_t real_off;
	uint64_t now;
	int i, n;

	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = w->stage + (size_t)i * BUF_MAX;
		iov[i].iov_len = BUF_MAX;
		memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_control = cbuf[i];
		msgs[i].msg_hdr.msg_controllen = sizeof(cbuf[i]);
	}
	n = recvmmsg(d->rx_fd, msgs, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return false;
	real_off = realtime_offset(&now);
	for (i = 0; i < n; i++) {
		if (msgs[i].msg_len <= VNET_LEN ||
		    (msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
			continue;
		admit(w, d, iov[i].iov_base, msgs[i].msg_len,
		      arrival_time(&msgs[i].msg_hdr, now, real_off, &d->st));
	}
	return n == BATCH;
}

static void receive_all(struct wan *w, struct dir *d)
{
	int round;

	for (round = 0; round < RX_ROUNDS; round++)
		if (!receive_batch(w, d))
			break;
}

/*
 * Sends every frame of d due by now, and paced frames due within the slack
 * (their exact instant only shapes the rate, which is kept on average).
 * Returns the next departure or UINT64_MAX; *exact when it must not leave
 * early.
 */
static uint64_t send_due(struct dir *d, uint64_t now, uint64_t slack, bool *exact)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t late;
	size_t pos, left;
	struct qent *e;
	int n, i, sent;

	for (;;) {
		n = 0;
		pos = d->q.head;
		for (left = d->q.frames; n < BATCH && left; left--) {
			pos = ring_norm(&d->q, pos);
			e = (struct qent *)(d->q.buf + pos);
			if (e->dep > now && (!e->paced || e->dep > now + slack))
				break;
			/* a received frame's "checksum verified" means nothing on send */
			((struct virtio_net_hdr *)(e + 1))->flags &=
				~VIRTIO_NET_HDR_F_DATA_VALID;
			iov[n].iov_base = e + 1;
			iov[n].iov_len = e->len;
			memset(&msgs[n].msg_hdr, 0, sizeof(msgs[n].msg_hdr));
			msgs[n].msg_hdr.msg_iov = &iov[n];
			msgs[n].msg_hdr.msg_iovlen = 1;
			pos += qent_size(e->len);
			n++;
		}
		if (!n)
			break;
		now = es_tool_now_ns();
		sent = sendmmsg(d->tx_fd, msgs, n, 0);
		if (sent <= 0) {
			/* the first frame failed (device queue full, down): drop it */
			d->st.dropped_tx++;
			ring_pop(&d->q);
			continue;
		}
		for (i = 0; i < sent; i++) {
			e = ring_peek(&d->q);
			d->st.forwarded++;
			d->st.forwarded_bytes += e->wire;
			/* early by up to the slack: signed */
			d->st.late_sum_ns += (int64_t)(now - e->dep);
			late = now > e->dep ? now - e->dep : 0;
			if (late > d->st.late_max_ns)
				d->st.late_max_ns = late;
			ring_pop(&d->q);
		}
	}
	e = ring_peek(&d->q);
	if (!e)
		return UINT64_MAX;
	*exact = !e->paced;
	return e->dep;
}

/* ---- counters as JSON ---- */

static json_t *dir_json(const struct wan *w, const struct dir *d)
{
	const struct dir_stats *s = &d->st;
	double late_mean = s->forwarded ? (double)s->late_sum_ns / s->forwarded / 1e3 : 0;
	double wait_mean = s->rx_kernel_ts ?
		(double)s->rx_wait_sum_ns / s->rx_kernel_ts / 1e3 : 0;

	return json_pack("{s:{s:f,s:f,s:f,s:f,s:I},s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
			 "s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:I,s:f}",
		"config",
		"delay_ms", d->conf.delay_ms,
		"rate_bytes_per_s", d->conf.rate,
		"rate_mbit_per_s", d->conf.rate * 8 / 1e6,
		"loss_pct", d->conf.loss_pct,
		"limit_bytes", (json_int_t)(d->conf.rate > 0 ? dir_limit(w, d) : 0),
		"received", (json_int_t)s->received,
		"received_bytes", (json_int_t)s->received_bytes,
		"forwarded", (json_int_t)s->forwarded,
		"forwarded_bytes", (json_int_t)s->forwarded_bytes,
		"dropped_loss", (json_int_t)s->dropped_loss,
		"dropped_queue", (json_int_t)s->dropped_queue,
		"dropped_memory", (json_int_t)s->dropped_memory,
		"dropped_tx", (json_int_t)s->dropped_tx,
		"dropped_socket", (json_int_t)s->dropped_socket,
		"gso_frames", (json_int_t)s->gso_frames,
		"queued", (json_int_t)d->q.frames,
		"queued_bytes", (json_int_t)d->q.bytes,
		"backlog_max_bytes", (json_int_t)s->backlog_max,
		"late_us_mean", late_mean,
		"late_us_max", (double)s->late_max_ns / 1e3,
		"rx_kernel_timestamps", (json_int_t)s->rx_kernel_ts,
		"rx_wait_us_mean", wait_mean);
}

static json_t *wan_json(struct wan *w)
{
	int i;

	for (i = 0; i < NDIR; i++)
		read_socket_drops(&w->dir[i]);
	return json_pack("{s:s,s:s,s:f,s:b,s:f,s:o,s:o}",
		"a", w->if_name[A2B], "b", w->if_name[B2A],
		"uptime_s", es_tool_secs(es_tool_now_ns() - w->start),
		"realtime", w->realtime,
		"wake_slack_us", (double)w->slack_ns / 1e3,
		"a2b", dir_json(w, &w->dir[A2B]),
		"b2a", dir_json(w, &w->dir[B2A]));
}

/* ---- control socket ---- */

static int ctl_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, PROG ": --control: path '%s' is too long\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* a stale socket of a killed run; never remove anything else */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(fd, 8)) {
		fprintf(stderr, PROG ": --control '%s': %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static char *ctl_answer(struct wan *w, char *req)
{
	struct dir_conf conf[NDIR];
	char err[256];
	json_t *out;
	char *s;
	int i;

	if (!strncmp(req, "set", 3) && (req[3] == ' ' || !req[3])) {
		for (i = 0; i < NDIR; i++)
			conf[i] = w->dir[i].conf;
		if (apply_settings(conf, req + 3, err, sizeof(err))) {
			out = json_pack("{s:b,s:s}", "ok", 0, "error", err);
		} else {
			for (i = 0; i < NDIR; i++)
				w->dir[i].conf = conf[i];
			out = json_pack("{s:b,s:o}", "ok", 1, "stats", wan_json(w));
		}
	} else if (!strcmp(req, "stats")) {
		out = json_pack("{s:b,s:o}", "ok", 1, "stats", wan_json(w));
	} else {
		snprintf(err, sizeof(err), "unknown request '%.64s' (set, stats)", req);
		out = json_pack("{s:b,s:s}", "ok", 0, "error", err);
	}
	s = out ? json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
	json_decref(out);
	return s;
}

/* One request per connection: the client sends it right after connecting. */
static void ctl_serve(struct wan *w)
{
	char req[CTL_MSG_MAX];
	struct pollfd pfd;
	char *ans;
	ssize_t n;
	int fd;

	while ((fd = accept4(w->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		n = -1;
		if (poll(&pfd, 1, CTL_WAIT_MS) > 0)
			n = recv(fd, req, sizeof(req) - 1, 0);
		if (n > 0) {
			req[n] = '\0';
			ans = ctl_answer(w, req);
			if (ans)
				send(fd, ans, strlen(ans), MSG_NOSIGNAL);
			free(ans);
		}
		close(fd);
	}
}

/* ---- the relay loop ---- */

static volatile sig_atomic_t want_stats;

static void on_usr1(int sig)
{
	(void)sig;
	want_stats = 1;
}

static void print_stats_line(struct wan *w)
{
	json_t *j = wan_json(w);

	es_tool_progress_clear(&w->progress);
	json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(9));
	putchar('\n');
	fflush(stdout);
	json_decref(j);
}

static void set_realtime(struct wan *w)
{
	struct sched_param sp = { .sched_priority = RT_PRIORITY };

	/* Wake-ups on time even while the endpoints load both CPUs. */
	w->realtime = !sched_setscheduler(0, SCHED_FIFO, &sp);
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}

/*
 * The slack is how early the loop wakes before a departure: a high quantile
 * of how late timed wake-ups are (it rises fast and decays slowly), capped
 * so that spinning the rest stays short. Spinning is only for frames whose
 * delay must be exact, and brief: a real-time task spinning on the CPU that
 * must run ksoftirqd, which delivers the very frames we relay, stalls the
 * relay by milliseconds.
 */
static void learn_slack(struct wan *w, uint64_t target, uint64_t woke)
{
	uint64_t late = woke > target ? woke - target : 0;

	if (late > SLACK_OUTLIER_NS)
		return;		/* descheduled: not the timer's fault */
	if (late > w->slack_ns)
		w->slack_ns += (late - w->slack_ns) / 4;
	else
		w->slack_ns -= (w->slack_ns - late) / 32;
	if (w->slack_ns > SLACK_MAX_NS)
		w->slack_ns = SLACK_MAX_NS;
}

static void show_progress(struct wan *w)
{
	const struct dir_stats *a = &w->dir[A2B].st, *b = &w->dir[B2A].st;

	es_tool_progress(&w->progress, "a2b %" PRIu64 " fwd %" PRIu64 " lost %"
			 PRIu64 " qdrop | b2a %" PRIu64 " fwd %" PRIu64 " lost %"
			 PRIu64 " qdrop", a->forwarded, a->dropped_loss,
			 a->dropped_queue, b->forwarded, b->dropped_loss,
			 b->dropped_queue);
}

static void wait_events(struct wan *w, uint64_t next, bool exact)
{
	struct pollfd pfd[3] = {
		{ .fd = w->fd[A2B], .events = POLLIN },
		{ .fd = w->fd[B2A], .events = POLLIN },
		{ .fd = w->ctl_fd, .events = POLLIN },
	};
	uint64_t now = es_tool_now_ns(), target;
	struct timespec ts;
	int n, i;

	if (next == UINT64_MAX)
		target = now + IDLE_WAIT_NS;
	else if (next > now + w->slack_ns)
		target = next - w->slack_ns;
	else
		target = now;
	ts.tv_sec = (target - now) / NSEC_PER_SEC;
	ts.tv_nsec = (target - now) % NSEC_PER_SEC;
	n = ppoll(pfd, w->ctl_fd >= 0 ? 3 : 2, &ts, NULL);
	if (n == 0 && next != UINT64_MAX && target > now) {
		now = es_tool_now_ns();
		learn_slack(w, target, now);
		while (exact && now < next)
			now = es_tool_now_ns();
	}
	if (n <= 0)
		return;
	for (i = 0; i < NDIR; i++)
		if (pfd[i].revents & POLLIN)
			receive_all(w, &w->dir[i]);
	if (pfd[2].revents & POLLIN)
		ctl_serve(w);
}

static void relay(struct wan *w)
{
	uint64_t next, n, end = UINT64_MAX;
	bool exact, e;
	int i;

	if (w->duration > 0)
		end = w->start + (uint64_t)(w->duration * NSEC_PER_SEC);
	while (!es_tool_stop_signal()) {
		uint64_t now = es_tool_now_ns();

		if (now >= end)
			break;
		next = UINT64_MAX;
		exact = false;
		for (i = 0; i < NDIR; i++) {
			n = send_due(&w->dir[i], now, w->slack_ns, &e);
			if (n < next) {
				next = n;
				exact = e;
			}
		}
		show_progress(w);
		if (want_stats) {
			want_stats = 0;
			print_stats_line(w);
		}
		wait_events(w, next, exact);
	}
}

/* ---- command line ---- */

enum opt_id {
	OPT_A = 1, OPT_B, OPT_CONTROL, OPT_SEED, OPT_DURATION, OPT_NO_RT,
	OPT_JSON, OPT_HELP,
	OPT_SETTING,	/* ids from here on are settings, see set_opts */
};

#define SETTING_OPT(name)						\
	{ name, required_argument, NULL, 0 },				\
	{ "a2b-" name, required_argument, NULL, 0 },			\
	{ "b2a-" name, required_argument, NULL, 0 }

static struct option long_opts[] = {
	{ "a",		required_argument, NULL, OPT_A },
	{ "b",		required_argument, NULL, OPT_B },
	{ "control",	required_argument, NULL, OPT_CONTROL },
	{ "seed",	required_argument, NULL, OPT_SEED },
	{ "duration",	required_argument, NULL, OPT_DURATION },
	{ "no-realtime", no_argument,	   NULL, OPT_NO_RT },
	{ "json",	no_argument,	   NULL, OPT_JSON },
	{ "help",	no_argument,	   NULL, OPT_HELP },
	SETTING_OPT("delay-ms"),
	SETTING_OPT("rate"),
	SETTING_OPT("loss"),
	SETTING_OPT("limit"),
	{ }
};

static const struct es_tool_cli cli = {
	.prog	= PROG,
	.opts	= long_opts,
	.help	= OPT_HELP,
};

static void number_setting_opts(void)
{
	struct option *o;
	int id = OPT_SETTING;

	for (o = long_opts; o->name; o++)
		if (!o->val)
			o->val = id++;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " run --a IFACE --b IFACE [SETTINGS] [--control PATH]\n"
"                  [--seed N] [--duration S] [--no-realtime] [--json]\n"
"       " PROG " ctl --control PATH KEY=VALUE...\n"
"       " PROG " stats --control PATH [--json]\n\n"
"run relays every frame between IFACE a and IFACE b (a WAN emulator):\n"
"  --delay-ms D    one-way delay, milliseconds (0..60000, fractions ok)\n"
"  --rate R        bottleneck rate: 10MB/s, 100Mbit/s, 1Gbit, unlimited (default)\n"
"                  charged per Ethernet frame (header included)\n"
"  --loss P        independent loss, percent (0..100; 100 cuts the link)\n"
"  --limit B       bytes allowed to wait for the rate (2M, 512Ki; default\n"
"                  auto: one bandwidth-delay product, at least 151400)\n"
"  Each also as --a2b-NAME or --b2a-NAME for one direction only.\n"
"  --control PATH  UNIX socket for ctl and stats while running\n"
"  --seed N        loss draws repeat for the same seed\n"
"  --duration S    stop after S seconds (default: on SIGINT/SIGTERM)\n"
"  --no-realtime   do not ask for SCHED_FIFO\n"
"  --json          the summary at exit as one JSON object\n"
"SIGUSR1 prints the counters as one JSON line on stdout.\n\n"
"ctl changes a running relay: KEY is delay-ms, rate, loss or limit,\n"
"optionally prefixed a2b. or b2a.; all settings apply at once or none.\n"
"stats prints the per-direction counters.\n"
"Exit status: 0 success, 1 failure, 2 usage.\n");
}

static int parse_run(int argc, char **argv, struct wan *w)
{
	struct dir_conf conf[NDIR] = { 0 };
	uint64_t seed = 0;
	char err[256];
	bool seeded = false;
	int c;

	while ((c = es_tool_next_opt(&cli, argc, argv, "run")) > 0) {
		switch (c) {
		case OPT_HELP:
			usage(stdout);
			return 1;
		case OPT_A: w->if_name[A2B] = optarg; break;
		case OPT_B: w->if_name[B2A] = optarg; break;
		case OPT_CONTROL: w->ctl_path = optarg; break;
		case OPT_NO_RT: w->realtime = false; break;
		case OPT_JSON: w->json = true; break;
		case OPT_SEED:
			if (es_tool_parse_u64(&cli, c, optarg, 0, UINT64_MAX, &seed))
				return -1;
			seeded = true;
			break;
		case OPT_DURATION:
			if (es_tool_parse_double(&cli, c, optarg, 0.001, 1e7,
						 &w->duration))
				return -1;
			break;
		default:
			if (apply_setting(conf, es_tool_opt_name(&cli, c), optarg,
					  err, sizeof(err)))
				return es_tool_usage_error(&cli, "--%s", err);
		}
	}
	if (c < 0)
		return -1;
	if (!w->if_name[A2B] || !w->if_name[B2A])
		return es_tool_usage_error(&cli, "run needs --a IFACE and --b IFACE");
	if (!strcmp(w->if_name[A2B], w->if_name[B2A]))
		return es_tool_usage_error(&cli, "--a and --b name the same "
					   "interface '%s'", w->if_name[A2B]);
	w->dir[A2B].conf = conf[A2B];
	w->dir[B2A].conf = conf[B2A];
	w->rng = seeded ? seed : es_tool_now_ns() ^ ((uint64_t)getpid() << 32);
	return 0;
}

static int setup(struct wan *w)
{
	int i;

	w->ctl_fd = -1;
	for (i = 0; i < NDIR; i++) {
		w->fd[i] = open_side(w->if_name[i]);
		if (w->fd[i] < 0)
			return -1;
		if (ring_init(&w->dir[i].q, RING_BYTES)) {
			fprintf(stderr, PROG ": queue memory: %s\n", strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < NDIR; i++) {
		w->dir[i].id = i;
		w->dir[i].rx_fd = w->fd[i];
		w->dir[i].tx_fd = w->fd[!i];
	}
	w->stage = malloc((size_t)BATCH * BUF_MAX);
	if (!w->stage)
		return -1;
	if (w->ctl_path) {
		w->ctl_fd = ctl_listen(w->ctl_path);
		if (w->ctl_fd < 0)
			return -1;
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct wan w = { .realtime = true, .slack_ns = SLACK_INIT_NS };
	struct sigaction sa = { .sa_handler = on_usr1 };
	json_t *out;
	int rc, i;

	rc = parse_run(argc, argv, &w);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_SUCCESS;
	es_tool_setup_signals(true);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (setup(&w))
		return EXIT_FAIL;
	if (w.realtime)
		set_realtime(&w);
	else
		prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	es_tool_progress_init(&w.progress, PROG);
	w.start = es_tool_now_ns();
	fprintf(stderr, PROG ": relaying %s <-> %s%s\n", w.if_name[A2B],
		w.if_name[B2A], w.realtime ? " (SCHED_FIFO)" : "");
	relay(&w);
	es_tool_progress_clear(&w.progress);
	out = wan_json(&w);
	json_object_set_new(out, "stop", json_string(es_tool_stop_reason(
		!es_tool_stop_signal())));
	es_tool_emit(out, w.json, PROG " summary", KEY_COL);
	json_decref(out);
	if (w.ctl_path)
		unlink(w.ctl_path);
	for (i = 0; i < NDIR; i++)
		close(w.fd[i]);
	return EXIT_SUCCESS;
}

/* ---- ctl and stats: clients of the control socket ---- */

static int ctl_request(const char *path, const char *req, json_t **reply)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[CTL_MSG_MAX * 4];
	json_error_t jerr;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, PROG ": --control: path '%s' is too long\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, PROG ": control socket '%s': %s\n", path, strerror(errno));
		goto fail;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0) {
		fprintf(stderr, PROG ": control socket '%s': no answer\n", path);
		goto fail;
	}
	buf[n] = '\0';
	close(fd);
	*reply = json_loads(buf, 0, &jerr);
	if (!*reply) {
		fprintf(stderr, PROG ": bad answer: %s\n", jerr.text);
		return -1;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* --control and --json, then KEY=VALUE arguments (ctl only). */
static int parse_client(int argc, char **argv, const char **path, bool *json,
			int *first_arg)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ }
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c == OPT_CONTROL) {
			*path = optarg;
		} else if (c == OPT_JSON) {
			*json = true;
		} else if (c == OPT_HELP || c == 'h') {
			usage(stdout);
			return 1;
		} else if (c == ':') {
			return es_tool_usage_error(&cli, "--control needs a value");
		} else {
			return es_tool_usage_error(&cli, "%s: unknown option '%s'",
						   argv[0], argv[optind - 1]);
		}
	}
	if (!*path)
		return es_tool_usage_error(&cli, "%s needs --control PATH", argv[0]);
	*first_arg = optind;
	return 0;
}

static int cmd_client(int argc, char **argv, bool set)
{
	char req[CTL_MSG_MAX] = "stats", err[256], scratch[CTL_MSG_MAX];
	struct dir_conf probe[NDIR] = { 0 };
	const char *path = NULL;
	bool json = false;
	json_t *reply, *stats;
	int first = 0, rc, i;

	rc = parse_client(argc, argv, &path, &json, &first);
	if (rc)
		return rc < 0 ? EXIT_USAGE : EXIT_SUCCESS;
	if (set) {
		if (first >= argc)
			return es_tool_usage_error(&cli, "ctl needs KEY=VALUE "
						   "settings (e.g. loss=100)"), EXIT_USAGE;
		strcpy(req, "set");
		for (i = first; i < argc; i++) {
			if (strlen(req) + strlen(argv[i]) + 2 > sizeof(req))
				return es_tool_usage_error(&cli, "too many settings"),
				       EXIT_USAGE;
			strcat(req, " ");
			strcat(req, argv[i]);
		}
		/* refuse bad settings here, with the usage status */
		snprintf(scratch, sizeof(scratch), "%s", req + 3);
		if (apply_settings(probe, scratch, err, sizeof(err)))
			return es_tool_usage_error(&cli, "%s", err), EXIT_USAGE;
	} else if (first < argc) {
		return es_tool_usage_error(&cli, "unexpected argument '%s'",
					   argv[first]), EXIT_USAGE;
	}
	if (ctl_request(path, req, &reply))
		return EXIT_FAIL;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		fprintf(stderr, PROG ": %s\n",
			json_string_value(json_object_get(reply, "error")) ?: "refused");
		json_decref(reply);
		return EXIT_FAIL;
	}
	stats = json_object_get(reply, "stats");
	if (!set)
		es_tool_emit(stats, json, PROG " stats", KEY_COL);
	json_decref(reply);
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	number_setting_opts();
	if (argc < 2)
		return es_tool_usage_error(&cli, "missing command (run, ctl, stats)"),
		       EXIT_USAGE;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctl"))
		return cmd_client(argc - 1, argv + 1, true);
	if (!strcmp(argv[1], "stats"))
		return cmd_client(argc - 1, argv + 1, false);
	return es_tool_usage_error(&cli, "unknown command '%s' (run, ctl, stats)",
				   argv[1]), EXIT_USAGE;
}
