// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-flood: sends --count frames through a real interface, each with its
 * own (source address, source port) tuple, so that every frame opens a new
 * session in the data plane. Used to overrun the session map while a live
 * session keeps running. Frames go out of an AF_PACKET socket with
 * sendmmsg(); a full device queue (ENOBUFS) is waited out and retried, so
 * the count sent is the count that left the interface.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_arp.h>
#include <linux/if_packet.h>
#include <jansson.h>
#include "pkt_build.h"
#include "tool_util.h"

#define PROG			"es-flood"
#define KEY_COL			18	/* table: key width, indent included */

#define PORT_FIRST		1024
#define PORTS_PER_ADDR		(65535 - PORT_FIRST + 1)
#define DEFAULT_TIMEOUT_S	30.0
#define MAX_TIMEOUT_S		604800.0
#define MAX_COUNT		(1ULL << 40)
#define DEFAULT_BATCH		64
#define MAX_BATCH		1024
#define DEFAULT_DPORT		9
#define MAX_FRAME		(9216 + 14)
#define RETRY_SPINS		8	/* yields before sleeping between retries */
#define RETRY_SLEEP_NS		(50 * NSEC_PER_USEC)
#define SNDTIMEO_MS		100

#define EXIT_FAIL		1
#define EXIT_USAGE		2

enum opt_id {
	OPT_DEV = 1,
	OPT_DST_MAC,
	OPT_SRC_NET,
	OPT_DST,
	OPT_COUNT,
	OPT_RATE,
	OPT_SIZE,
	OPT_PROTO,
	OPT_DPORT,
	OPT_BATCH,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_HELP,
};

#define OPT_BIT(id)	(1UL << (id))
#define OPTS_REQUIRED	(OPT_BIT(OPT_DEV) | OPT_BIT(OPT_DST_MAC) | \
			 OPT_BIT(OPT_SRC_NET) | OPT_BIT(OPT_DST) | OPT_BIT(OPT_COUNT))

static const struct option long_opts[] = {
	{ "dev",	required_argument, NULL, OPT_DEV },
	{ "dst-mac",	required_argument, NULL, OPT_DST_MAC },
	{ "src-net",	required_argument, NULL, OPT_SRC_NET },
	{ "dst",	required_argument, NULL, OPT_DST },
	{ "count",	required_argument, NULL, OPT_COUNT },
	{ "rate",	required_argument, NULL, OPT_RATE },
	{ "size",	required_argument, NULL, OPT_SIZE },
	{ "proto",	required_argument, NULL, OPT_PROTO },
	{ "dport",	required_argument, NULL, OPT_DPORT },
	{ "batch",	required_argument, NULL, OPT_BATCH },
	{ "timeout",	required_argument, NULL, OPT_TIMEOUT },
	{ "json",	no_argument,	   NULL, OPT_JSON },
	{ "help",	no_argument,	   NULL, OPT_HELP },
	{ }
};

static const struct es_tool_cli cli = {
	.prog	= PROG,
	.opts	= long_opts,
	.help	= OPT_HELP,
};

struct flood_opts {
	unsigned long	given;
	const char	*dev;
	const char	*src_net;
	const char	*dst;
	uint8_t		dst_mac[6];
	int		family;
	struct in6_addr	net;		/* IPv4 in the last 4 bytes, as pkt_build */
	unsigned int	prefix;
	struct in6_addr	dst_addr;
	uint64_t	count;
	double		rate;
	uint64_t	size;
	uint8_t		proto;
	uint16_t	dport;
	unsigned int	batch;
	double		timeout;
	bool		json;
};

/* Source tuples: host numbers first_host.. in the network, ports 1024.. */
struct tuple_space {
	uint32_t	base;		/* low 32 bits of the network address */
	uint64_t	first_host;
	uint64_t	hosts;
};

struct flood {
	const struct flood_opts	*o;
	struct tuple_space	ts;
	struct es_pkt_spec	spec;
	int			fd;
	int			ifindex;
	uint8_t			src_mac[6];
	bool			qdisc_bypass;
	size_t			frame_len;
	uint8_t			*frames;
	struct iovec		*iov;
	struct mmsghdr		*msgs;
	uint64_t		sent;
	uint64_t		retries;
	uint64_t		calls;
	struct es_tool_progress	progress;
};

static void print_usage(void)
{
	printf("Usage: " PROG " --dev IFNAME --dst-mac MAC --src-net NET/LEN --dst IP\n"
	       "                --count N [--rate PPS] [--size BYTES] [--proto udp|tcp]\n"
	       "                [--dport P] [--batch B] [--timeout S] [--json]\n"
	       "Sends N frames out of IFNAME, each from its own (source address,\n"
	       "source port) tuple: ports 1024..65535 of the first address of NET,\n"
	       "then of the next one (the network and IPv4 broadcast addresses are\n"
	       "skipped). IPv4 or IPv6 (the low 32 bits vary).\n\n"
	       "  --dev IFNAME     Ethernet interface to send on (source MAC is its own)\n"
	       "  --dst-mac MAC    destination MAC, aa:bb:cc:dd:ee:ff\n"
	       "  --src-net NET    source network, e.g. 10.200.0.0/16\n"
	       "  --dst IP         destination address (same family as --src-net)\n"
	       "  --count N        frames to send, all distinct tuples\n"
	       "  --rate PPS       frames per second, 0 (default) = as fast as possible\n"
	       "  --size BYTES     Ethernet frame length without FCS; default and\n"
	       "                   minimum: the headers alone (42 for UDP over IPv4)\n"
	       "  --proto P        udp (default) or tcp (SYN segments)\n"
	       "  --dport P        destination port (default 9)\n"
	       "  --batch B        frames per sendmmsg() call (default 64, max 1024)\n"
	       "  --timeout S      stop after S seconds and report (default 30)\n"
	       "  --json           print the summary as one JSON object\n"
	       "  --help           this text\n"
	       "Counts take k/m/g (x1000) or ki/mi/gi (x1024) suffixes. Progress goes\n"
	       "to stderr when it is a terminal. Exit status: 0 when N frames were\n"
	       "sent, 1 otherwise (summary still printed), 2 on a usage error.\n");
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	const char *p = s;
	int i, hi, lo;

	for (i = 0; i < 6; i++) {
		hi = hex_digit(p[0]);
		lo = hi < 0 ? -1 : hex_digit(p[1]);
		if (lo < 0)
			goto bad;
		mac[i] = hi << 4 | lo;
		p += 2;
		if (i < 5 && *p != ':' && *p != '-')
			goto bad;
		if (i < 5)
			p++;
	}
	if (!*p)
		return 0;
bad:
	return es_tool_usage_error(&cli, "--dst-mac: '%s' is not a MAC address "
				   "like 02:00:00:00:00:01", s);
}

/* "addr" into the pkt_build layout; AF_INET, AF_INET6 or 0. */
static int parse_addr(const char *s, struct in6_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->s6_addr[12]) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, a) == 1)
		return AF_INET6;
	return 0;
}

static void mask_addr(struct in6_addr *a, int family, unsigned int prefix)
{
	unsigned int first = family == AF_INET ? 12 : 0;
	unsigned int bits = prefix + first * 8;
	unsigned int i;

	for (i = first; i < 16; i++) {
		if (bits >= (i + 1) * 8)
			continue;
		if (bits <= i * 8)
			a->s6_addr[i] = 0;
		else
			a->s6_addr[i] &= 0xff << (8 - (bits - i * 8));
	}
}

static int parse_net(const char *s, struct flood_opts *o)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned int max;
	uint64_t len;

	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		goto bad;
	*slash = 0;
	o->family = parse_addr(buf, &o->net);
	if (!o->family)
		goto bad;
	max = o->family == AF_INET ? 32 : 128;
	if (es_tool_parse_u64(&cli, OPT_SRC_NET, slash + 1, 0, max, &len))
		return -1;
	o->prefix = len;
	mask_addr(&o->net, o->family, o->prefix);
	return 0;
bad:
	return es_tool_usage_error(&cli, "--src-net: '%s' is not a network like "
				   "10.200.0.0/16", s);
}

static int parse_proto(const char *s, uint8_t *proto)
{
	if (!strcasecmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else if (!strcasecmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else
		return es_tool_usage_error(&cli, "--proto: '%s' is neither udp "
					   "nor tcp", s);
	return 0;
}

static int set_opt(struct flood_opts *o, int id, const char *arg)
{
	uint64_t v;

	switch (id) {
	case OPT_DEV:
		if (!*arg || strlen(arg) >= IFNAMSIZ)
			return es_tool_usage_error(&cli, "--dev: '%s' is not an "
						   "interface name", arg);
		o->dev = arg;
		return 0;
	case OPT_DST_MAC:
		return parse_mac(arg, o->dst_mac);
	case OPT_SRC_NET:
		o->src_net = arg;
		return parse_net(arg, o);
	case OPT_DST:
		o->dst = arg;
		return 0;
	case OPT_COUNT:
		return es_tool_parse_u64(&cli, id, arg, 1, MAX_COUNT, &o->count);
	case OPT_RATE:
		return es_tool_parse_double(&cli, id, arg, 0, 1e9, &o->rate);
	case OPT_SIZE:
		return es_tool_parse_u64(&cli, id, arg, 1, MAX_FRAME, &o->size);
	case OPT_PROTO:
		return parse_proto(arg, &o->proto);
	case OPT_DPORT:
		return es_tool_parse_port(&cli, id, arg, &o->dport);
	case OPT_BATCH:
		if (es_tool_parse_u64(&cli, id, arg, 1, MAX_BATCH, &v))
			return -1;
		o->batch = v;
		return 0;
	case OPT_TIMEOUT:
		return es_tool_parse_double(&cli, id, arg, 0.001, MAX_TIMEOUT_S,
					    &o->timeout);
	case OPT_JSON:
		o->json = true;
		return 0;
	}
	return es_tool_usage_error(&cli, "internal: unhandled option %d", id);
}

static int check_args(struct flood_opts *o)
{
	unsigned long missing = OPTS_REQUIRED & ~o->given;
	int id, fam;

	for (id = OPT_DEV; id <= OPT_HELP; id++)
		if (missing & OPT_BIT(id))
			return es_tool_usage_error(&cli, "--%s is required",
						   es_tool_opt_name(&cli, id));
	fam = parse_addr(o->dst, &o->dst_addr);
	if (!fam)
		return es_tool_usage_error(&cli, "--dst: '%s' is not an IPv4 or "
					   "IPv6 address", o->dst);
	if (fam != o->family)
		return es_tool_usage_error(&cli, "--dst %s and --src-net %s are "
					   "not the same address family",
					   o->dst, o->src_net);
	return 0;
}

/* 0 to run, 1 when help was printed, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct flood_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->proto = IPPROTO_UDP;
	o->dport = DEFAULT_DPORT;
	o->batch = DEFAULT_BATCH;
	o->timeout = DEFAULT_TIMEOUT_S;
	while ((c = es_tool_next_opt(&cli, argc, argv, NULL)) > 0) {
		if (c == OPT_HELP) {
			print_usage();
			return 1;
		}
		o->given |= OPT_BIT(c);
		if (set_opt(o, c, optarg))
			return -1;
	}
	return c < 0 ? -1 : check_args(o);
}

/*
 * Only the low 32 bits of the address vary, which is all of IPv4 and
 * plenty of IPv6. The all-zero host and the IPv4 broadcast are left out.
 */
static int tuple_space_init(const struct flood_opts *o, struct tuple_space *ts)
{
	unsigned int bits = (o->family == AF_INET ? 32 : 128) - o->prefix;
	uint64_t size, capacity;

	if (bits > 32)
		bits = 32;
	size = 1ULL << bits;
	memcpy(&ts->base, &o->net.s6_addr[12], 4);
	ts->base = ntohl(ts->base);
	ts->first_host = size > 2 ? 1 : 0;
	ts->hosts = size - ts->first_host;
	if (o->family == AF_INET && size > 2)
		ts->hosts--;
	capacity = ts->hosts * PORTS_PER_ADDR;
	if (o->count > capacity)
		return es_tool_usage_error(&cli, "--count %" PRIu64 " exceeds the %"
					   PRIu64 " distinct tuples of --src-net %s",
					   o->count, capacity, o->src_net);
	return 0;
}

/* Source address and port of frame number idx. */
static void tuple_of(const struct tuple_space *ts, uint64_t idx,
		     struct in6_addr *src, uint16_t *sport)
{
	uint32_t low = ts->base + (uint32_t)(ts->first_host + idx / PORTS_PER_ADDR);

	low = htonl(low);
	memcpy(&src->s6_addr[12], &low, 4);
	*sport = PORT_FIRST + idx % PORTS_PER_ADDR;
}

static const char *tuple_str(const struct flood *f, uint64_t idx, char *buf,
			     size_t len)
{
	char a[INET6_ADDRSTRLEN];
	struct in6_addr src = f->spec.src;
	uint16_t sport;

	tuple_of(&f->ts, idx, &src, &sport);
	if (f->o->family == AF_INET)
		inet_ntop(AF_INET, &src.s6_addr[12], a, sizeof(a));
	else
		inet_ntop(AF_INET6, &src, a, sizeof(a));
	snprintf(buf, len, f->o->family == AF_INET ? "%s:%u" : "[%s]:%u", a, sport);
	return buf;
}

static int ifreq_ioctl(int fd, unsigned long req, const char *dev,
		       struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	strncpy(ifr->ifr_name, dev, IFNAMSIZ - 1);
	return ioctl(fd, req, ifr);
}

/* The interface must be an Ethernet device that is up with a carrier. */
static int check_dev(struct flood *f, unsigned int *mtu)
{
	const char *dev = f->o->dev;
	struct ifreq ifr;

	if (ifreq_ioctl(f->fd, SIOCGIFHWADDR, dev, &ifr)) {
		fprintf(stderr, PROG ": --dev %s: %s\n", dev, strerror(errno));
		return -1;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		fprintf(stderr, PROG ": --dev %s is not an Ethernet interface\n", dev);
		return -1;
	}
	memcpy(f->src_mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ifreq_ioctl(f->fd, SIOCGIFFLAGS, dev, &ifr))
		return -1;
	if (!(ifr.ifr_flags & IFF_UP) || !(ifr.ifr_flags & IFF_RUNNING)) {
		fprintf(stderr, PROG ": --dev %s is %s\n", dev,
			ifr.ifr_flags & IFF_UP ? "without carrier" : "down");
		return -1;
	}
	if (ifreq_ioctl(f->fd, SIOCGIFMTU, dev, &ifr))
		return -1;
	*mtu = ifr.ifr_mtu;
	return 0;
}

static int open_socket(struct flood *f)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct timeval tv = { .tv_usec = SNDTIMEO_MS * 1000 };
	int one = 1;

	f->ifindex = if_nametoindex(f->o->dev);
	if (!f->ifindex) {
		fprintf(stderr, PROG ": --dev %s: no such interface\n", f->o->dev);
		return -1;
	}
	/* Protocol 0: the socket only sends, nothing is queued to it. */
	f->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (f->fd < 0) {
		fprintf(stderr, PROG ": AF_PACKET socket: %s%s\n", strerror(errno),
			errno == EPERM ? " (needs CAP_NET_RAW)" : "");
		return -1;
	}
	sll.sll_ifindex = f->ifindex;
	if (bind(f->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, PROG ": bind to %s: %s\n", f->o->dev, strerror(errno));
		return -1;
	}
	f->qdisc_bypass = !setsockopt(f->fd, SOL_PACKET, PACKET_QDISC_BYPASS,
				      &one, sizeof(one));
	/* A send waiting for buffer space must not outlast --timeout. */
	setsockopt(f->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return 0;
}

static int setup_frames(struct flood *f, unsigned int mtu)
{
	const struct flood_opts *o = f->o;
	uint8_t probe[MAX_FRAME];
	size_t hdr;
	unsigned int i;

	es_pkt_spec_init(&f->spec);
	f->spec.family = o->family;
	f->spec.proto = o->proto;
	f->spec.src = o->net;
	f->spec.dst = o->dst_addr;
	f->spec.dport = o->dport;
	f->spec.tcp_flags = o->proto == IPPROTO_TCP ? 0x02 : 0;	/* SYN */
	memcpy(f->spec.src_mac, f->src_mac, 6);
	memcpy(f->spec.dst_mac, o->dst_mac, 6);
	hdr = es_pkt_build(&f->spec, probe, sizeof(probe));
	f->frame_len = o->size ? o->size : hdr;
	if (f->frame_len < hdr || f->frame_len > mtu + 14U) {
		fprintf(stderr, PROG ": --size %zu: must be %zu..%u for these "
			"headers and the MTU of %s\n", f->frame_len, hdr,
			mtu + 14, o->dev);
		return -1;
	}
	f->spec.payload = f->frame_len - hdr;
	f->frames = calloc(o->batch, f->frame_len);
	f->iov = calloc(o->batch, sizeof(*f->iov));
	f->msgs = calloc(o->batch, sizeof(*f->msgs));
	if (!f->frames || !f->iov || !f->msgs) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	for (i = 0; i < o->batch; i++) {
		f->iov[i].iov_base = f->frames + (size_t)i * f->frame_len;
		f->iov[i].iov_len = f->frame_len;
		f->msgs[i].msg_hdr.msg_iov = &f->iov[i];
		f->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

static void progress(struct flood *f, uint64_t t0)
{
	uint64_t now = es_tool_now_ns();

	es_tool_progress(&f->progress, "%" PRIu64 "/%" PRIu64 " frames, "
			 "%.0f pps, %" PRIu64 " retries", f->sent, f->o->count,
			 now > t0 ? f->sent / es_tool_secs(now - t0) : 0,
			 f->retries);
}

/*
 * Send n prepared frames. A full queue or ring on the way (ENOBUFS), or a
 * full socket buffer (EAGAIN), is retried: the frame was not sent, and
 * dropping it would make the reported count a lie. Returns frames sent,
 * or -1 on a hard error.
 */
static int64_t send_frames(struct flood *f, unsigned int n, uint64_t deadline)
{
	unsigned int off = 0, spins = 0;
	int r;

	while (off < n) {
		f->calls++;
		r = sendmmsg(f->fd, f->msgs + off, n - off, 0);
		if (r > 0) {
			off += r;
			spins = 0;
			continue;
		}
		if (r < 0 && !es_tool_send_transient(errno)) {
			fprintf(stderr, PROG ": sendmmsg on %s: %s\n", f->o->dev,
				strerror(errno));
			return -1;
		}
		f->retries++;
		if (es_tool_stop_signal() || es_tool_now_ns() >= deadline)
			break;
		/* Give the receiver a moment to drain before asking again. */
		if (spins++ < RETRY_SPINS)
			sched_yield();
		else
			es_tool_sleep_until(es_tool_now_ns() + RETRY_SLEEP_NS);
	}
	return off;
}

/* How many of the next frames --rate allows now; sleeps while none. */
static uint64_t paced(struct flood *f, uint64_t t0, uint64_t want,
		      uint64_t deadline)
{
	uint64_t allowed, due;

	if (f->o->rate <= 0)
		return want;
	allowed = (uint64_t)(es_tool_secs(es_tool_now_ns() - t0) * f->o->rate) + 1;
	if (allowed > f->sent)
		return allowed - f->sent < want ? allowed - f->sent : want;
	due = t0 + (uint64_t)(f->sent / f->o->rate * NSEC_PER_SEC);
	es_tool_sleep_until(due < deadline ? due : deadline);
	return 0;
}

static int flood_run(struct flood *f, uint64_t t0, uint64_t deadline)
{
	const struct flood_opts *o = f->o;
	uint64_t n, i;
	int64_t done;

	while (f->sent < o->count && !es_tool_stop_signal() &&
	       es_tool_now_ns() < deadline) {
		n = o->count - f->sent;
		if (n > o->batch)
			n = o->batch;
		n = paced(f, t0, n, deadline);
		if (!n)
			continue;
		for (i = 0; i < n; i++) {
			tuple_of(&f->ts, f->sent + i, &f->spec.src, &f->spec.sport);
			es_pkt_build(&f->spec, f->iov[i].iov_base, f->frame_len);
		}
		done = send_frames(f, n, deadline);
		if (done < 0)
			return -1;
		f->sent += done;
		progress(f, t0);
	}
	return 0;
}

static void mac_str(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
}

static double round3(double v)
{
	return round(v * 1000) / 1000;
}

static json_t *report(const struct flood *f, uint64_t elapsed)
{
	const struct flood_opts *o = f->o;
	char smac[18], dmac[18], first[64], last[64];
	double s = es_tool_secs(elapsed);
	json_t *j;

	mac_str(f->src_mac, smac, sizeof(smac));
	mac_str(o->dst_mac, dmac, sizeof(dmac));
	tuple_str(f, 0, first, sizeof(first));
	tuple_str(f, f->sent ? f->sent - 1 : 0, last, sizeof(last));
	j = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:I,"
		      " s:I, s:f, s:f, s:f, s:I, s:I, s:b, s:s, s:s, s:s}",
		      "dev", o->dev,
		      "ifindex", f->ifindex,
		      "src_mac", smac,
		      "dst_mac", dmac,
		      "src_net", o->src_net,
		      "dst", o->dst,
		      "proto", o->proto == IPPROTO_TCP ? "tcp" : "udp",
		      "dport", (int)o->dport,
		      "frame_bytes", (json_int_t)f->frame_len,
		      "count", (json_int_t)o->count,
		      "sent", (json_int_t)f->sent,
		      "bytes", (json_int_t)(f->sent * f->frame_len),
		      "elapsed_s", round3(s),
		      "pps", round3(s > 0 ? f->sent / s : 0),
		      "mbps", round3(s > 0 ? f->sent * f->frame_len * 8 / s / 1e6 : 0),
		      "retries", (json_int_t)f->retries,
		      "sendmmsg_calls", (json_int_t)f->calls,
		      "qdisc_bypass", f->qdisc_bypass,
		      "first_tuple", first,
		      "last_tuple", f->sent ? last : "-",
		      "stopped_by", es_tool_stop_reason(f->sent == o->count));
	return j;
}

static void flood_free(struct flood *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->frames);
	free(f->iov);
	free(f->msgs);
}

int main(int argc, char **argv)
{
	struct flood_opts o;
	struct flood f = { .fd = -1 };
	uint64_t t0, deadline;
	unsigned int mtu;
	int rc = EXIT_FAIL, err;
	json_t *j;

	err = parse_args(argc, argv, &o);
	if (err)
		return err < 0 ? EXIT_USAGE : EXIT_SUCCESS;
	f.o = &o;
	if (tuple_space_init(&o, &f.ts))
		return EXIT_USAGE;
	es_tool_setup_signals(false);
	t0 = es_tool_now_ns();
	deadline = t0 + (uint64_t)(o.timeout * NSEC_PER_SEC);
	if (open_socket(&f) || check_dev(&f, &mtu) || setup_frames(&f, mtu))
		goto out;
	es_tool_progress_init(&f.progress, PROG);
	t0 = es_tool_now_ns();
	err = flood_run(&f, t0, deadline);
	es_tool_progress_clear(&f.progress);
	j = report(&f, es_tool_now_ns() - t0);
	if (!j)
		goto out;
	es_tool_emit(j, o.json, PROG, KEY_COL);
	json_decref(j);
	rc = !err && f.sent == o.count ? EXIT_SUCCESS : EXIT_FAIL;
out:
	flood_free(&f);
	return rc;
}
