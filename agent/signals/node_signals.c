// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sliding-window placement signals. The main loop keeps, per attached
 * interface, a ring of samples of its byte counters and latency histogram,
 * one every window/20 at most (so the ring of 32 always reaches a full
 * window back). A request computes each rate between the oldest sample
 * still inside the window and a read of the counters made at that moment,
 * so a scrape sees traffic up to the instant it asks.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "util/clock.h"
#include "accounting/accounting.h"
#include "bpf/iface_counters.h"
#include "net/netns.h"
#include "host_load.h"
#include "signals.h"

#define RING		32
#define MIN_STEP_NS	100000000ULL	/* 100 ms */
#define MIN_SPAN_NS	50000000ULL	/* rates over less than 50 ms are noise */
/*
 * A device's speed is asked again after this long: a pod's is asked from
 * a thread of its own (setns), which every view of every pod interface
 * would otherwise start.
 */
#define SPEED_TTL_NS	10000000000ULL

struct sample {
	__u64	t_ns;
	__u64	bytes[ES_DIR_MAX];
	__u64	hist[ES_LAT_MAX][ES_LAT_BUCKETS];
};

struct iface_ring {
	__u32		ifindex;
	unsigned int	head;	/* next slot to write */
	unsigned int	n;	/* samples held */
	struct sample	s[RING];
	/* the device's speed, read at speed_ns (0: never) in namespace speed_netns */
	double		speed_bps;
	__u64		speed_ns;
	char		speed_netns[sizeof(((struct es_attachment *)0)->netns)];
};

/* The node's CPU time, sampled with the interfaces. */
struct cpu_ring {
	unsigned int	head, n;
	struct host_cpu	s[RING];
};

struct es_node_signals {
	const struct es_signals_config	*cfg;
	struct es_accounting		*acct;	/* what is attached, and its maps */
	pthread_mutex_t			lock;
	__u64				window_ns, step_ns, last_ns;
	struct iface_ring		*rings;
	size_t				n_rings;
	struct cpu_ring			cpu;
};

struct es_node_signals *es_node_signals_new(const struct es_signals_config *sc,
					    struct es_accounting *acct)
{
	struct es_node_signals *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = sc;
	s->acct = acct;
	pthread_mutex_init(&s->lock, NULL);
	s->window_ns = sc->window_ms * 1000000ULL;
	s->step_ns = s->window_ns / 20 > MIN_STEP_NS ? s->window_ns / 20 : MIN_STEP_NS;
	return s;
}

void es_node_signals_free(struct es_node_signals *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->rings);
	free(s);
}

/* One interface as the signals see it, copied out under the accounting lock. */
struct att_copy {
	struct es_iface_info	info;
	char			netns[sizeof(((struct es_attachment *)0)->netns)];
	bool			wanted;		/* claimed by a rule or a pod record */
	__u64			sessions;
};

static struct att_copy *copy_attachments(struct es_accounting *a, size_t *n, __u64 *entries)
{
	struct att_copy *c;
	size_t i, s;
	int k;

	pthread_mutex_lock(&a->lock);
	*n = a->dp.n_att;
	c = calloc(*n + 1, sizeof(*c));
	for (i = 0; c && i < *n; i++) {
		c[i].info = a->dp.att[i].info;
		c[i].info.ifindex = a->dp.att[i].ifindex;
		memcpy(c[i].netns, a->dp.att[i].netns, sizeof(c[i].netns));
		c[i].wanted = a->dp.att[i].wanted;
		for (s = 0; s < a->snap.n_ifaces; s++) {
			if (a->snap.ifaces[s].ifindex != a->dp.att[i].ifindex)
				continue;
			for (k = 0; k < ES_PROTO_SLOTS; k++)
				c[i].sessions += a->snap.ifaces[s].active[k];
		}
	}
	if (entries)
		*entries = a->snap.entries[0] + a->snap.entries[1];
	pthread_mutex_unlock(&a->lock);
	return c;
}

static void read_sample(struct es_accounting *a, __u32 ifindex, struct sample *out, __u64 now)
{
	struct es_iface_traffic tr;
	struct es_iface_stats st;
	int d;

	es_iface_read_traffic(&a->dp.maps, ifindex, &tr);
	es_iface_read_stats(&a->dp.maps, ifindex, &st);
	out->t_ns = now;
	for (d = 0; d < ES_DIR_MAX; d++)
		out->bytes[d] = tr.bytes[d] + st.bytes[d];
	memcpy(out->hist, st.lat_hist, sizeof(out->hist));
}

static struct iface_ring *ring_find(struct es_node_signals *s, __u32 ifindex)
{
	size_t i;

	for (i = 0; i < s->n_rings; i++)
		if (s->rings[i].ifindex == ifindex)
			return &s->rings[i];
	return NULL;
}

static const struct sample *ring_newest(const struct iface_ring *r)
{
	return r->n ? &r->s[(r->head + RING - 1) % RING] : NULL;
}

static void ring_push(struct iface_ring *r, const struct sample *smp)
{
	const struct sample *last = ring_newest(r);
	int d;

	/* Counters went back: the interface was dropped and attached anew. */
	for (d = 0; last && d < ES_DIR_MAX; d++)
		if (smp->bytes[d] < last->bytes[d])
			r->n = 0;
	r->s[r->head] = *smp;
	r->head = (r->head + 1) % RING;
	if (r->n < RING)
		r->n++;
}

/* Rings of the interfaces in atts, in that order; the others are dropped. */
static int rings_rebuild(struct es_node_signals *s, const struct att_copy *atts, size_t n)
{
	struct iface_ring *nr = calloc(n + 1, sizeof(*nr)), *old;
	size_t i;

	if (!nr)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		old = ring_find(s, atts[i].info.ifindex);
		if (old)
			nr[i] = *old;
		else
			nr[i].ifindex = atts[i].info.ifindex;
	}
	free(s->rings);
	s->rings = nr;
	s->n_rings = n;
	return 0;
}

static void cpu_push(struct es_node_signals *s, __u64 now)
{
	struct host_cpu c;

	if (host_cpu_read(&c, now))
		return;
	pthread_mutex_lock(&s->lock);
	s->cpu.s[s->cpu.head] = c;
	s->cpu.head = (s->cpu.head + 1) % RING;
	if (s->cpu.n < RING)
		s->cpu.n++;
	pthread_mutex_unlock(&s->lock);
}

void es_node_signals_sample(struct es_node_signals *s)
{
	struct att_copy *atts;
	struct sample *smp;
	__u64 now = es_now_ns();
	size_t n, i;

	if (!s || (s->last_ns && now - s->last_ns < s->step_ns))
		return;
	cpu_push(s, now);
	atts = copy_attachments(s->acct, &n, NULL);
	smp = calloc(n + 1, sizeof(*smp));
	if (!atts || !smp)
		goto out;
	/* Maps are read outside the lock: a slow read never holds a scrape. */
	for (i = 0; i < n; i++)
		read_sample(s->acct, atts[i].info.ifindex, &smp[i], now);
	pthread_mutex_lock(&s->lock);
	if (!rings_rebuild(s, atts, n)) {
		for (i = 0; i < n; i++)
			ring_push(&s->rings[i], &smp[i]);
		s->last_ns = now;
	}
	pthread_mutex_unlock(&s->lock);
out:
	free(atts);
	free(smp);
}

/* The oldest sample no older than the window, or NULL. */
static const struct sample *ring_base(const struct iface_ring *r, __u64 now, __u64 window)
{
	unsigned int i;
	const struct sample *smp;

	for (i = 0; i < r->n; i++) {
		smp = &r->s[(r->head + RING - r->n + i) % RING];
		if (smp->t_ns + window >= now)
			return smp;
	}
	return NULL;
}

double es_lat_hist_quantile(const __u64 *buckets, double q)
{
	double rank, lo, hi, total = 0, cum = 0;
	int b;

	for (b = 0; b < ES_LAT_BUCKETS; b++)
		total += buckets[b];
	if (total <= 0)
		return -1;
	rank = q * total;
	for (b = 0; b < ES_LAT_BUCKETS; b++) {
		if (!buckets[b] || cum + buckets[b] < rank) {
			cum += buckets[b];
			continue;
		}
		hi = (double)(1ULL << (b + ES_LAT_BUCKET_SHIFT));
		lo = b ? hi / 2 : 0;
		if (b == ES_LAT_BUCKETS - 1)
			return lo / 1e9;	/* unbounded: its lower bound, as Prometheus does */
		return (lo + (hi - lo) * (rank - cum) / buckets[b]) / 1e9;
	}
	return (double)(1ULL << (ES_LAT_BUCKETS - 1 + ES_LAT_BUCKET_SHIFT - 1)) / 1e9;
}

/* A socket to ask devices with: in netns (a path) when given, else in the agent's namespace. */
static int speed_socket(const char *netns)
{
	int ns, fd;

	/*
	 * The ioctl asks the device in the socket's network namespace;
	 * /sys/class/net shows the namespace sysfs was mounted in, which
	 * need not be ours.
	 */
	if (!netns || !netns[0]) {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		return fd;
	}
	ns = open(netns, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return -1;
	fd = es_netns_socket(ns, AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		fd = es_netns_socket(ns, AF_INET6, SOCK_DGRAM, 0);
	close(ns);
	return fd;
}

double es_link_speed_bps(const char *netns, const char *ifname)
{
	struct ethtool_cmd cmd = { .cmd = ETHTOOL_GSET };
	struct ifreq ifr = {};
	__u32 speed;
	int fd, ret;

	fd = speed_socket(netns);
	if (fd < 0)
		return 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&cmd;
	ret = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	if (ret)
		return 0;
	speed = ethtool_cmd_speed(&cmd);
	return speed && speed != (__u32)SPEED_UNKNOWN ? speed * 1e6 : 0;
}

/*
 * The device's speed, kept in the interface's ring with the namespace it
 * was read in and read again after SPEED_TTL_NS (or in another namespace:
 * an ifindex a new pod took).
 */
static double device_speed(struct es_node_signals *s, const struct att_copy *att,
			   const char *ifname, __u64 now)
{
	struct iface_ring *r;
	double bps = 0;
	bool cached;

	pthread_mutex_lock(&s->lock);
	r = ring_find(s, att->info.ifindex);
	cached = r && r->speed_ns && now - r->speed_ns < SPEED_TTL_NS &&
		 !strcmp(r->speed_netns, att->netns);
	if (cached)
		bps = r->speed_bps;
	pthread_mutex_unlock(&s->lock);
	if (cached)
		return bps;
	/* asked outside the lock: a scrape never waits for another's thread */
	bps = es_link_speed_bps(att->netns, ifname);
	pthread_mutex_lock(&s->lock);
	r = ring_find(s, att->info.ifindex);
	if (r) {
		r->speed_bps = bps;
		r->speed_ns = now;
		memcpy(r->speed_netns, att->netns, sizeof(r->speed_netns));
	}
	pthread_mutex_unlock(&s->lock);
	return bps;
}

/*
 * The configured capacity, else the device's. A pod's interface is asked
 * for in the pod's namespace: its name (often eth0) means another device,
 * or none, in the agent's. An interface found pinned at start that no
 * rule or pod record has claimed yet may be a pod's whose namespace is
 * not known: it has no capacity until then, rather than another device's.
 */
static void set_capacity(struct es_node_signals *s, struct es_iface_signal *is,
			 const struct att_copy *att, __u64 now)
{
	const struct es_signals_config *sc = s->cfg;
	unsigned int i;

	for (i = 0; i < sc->n_caps; i++) {
		if (!fnmatch(sc->caps[i].match, is->ifname, 0)) {
			is->capacity_bps = sc->caps[i].bps;
			is->cap_source = ES_CAP_CONFIG;
			return;
		}
	}
	is->capacity_bps = att->wanted ? device_speed(s, att, is->ifname, now) : 0;
	is->cap_source = is->capacity_bps > 0 ? ES_CAP_DEVICE : ES_CAP_UNKNOWN;
}

static bool is_uplink(const struct es_signals_config *sc, const struct es_iface_info *info)
{
	unsigned int i;

	if (!sc->n_uplinks)
		return !info->pod_name[0];
	for (i = 0; i < sc->n_uplinks; i++)
		if (!fnmatch(sc->uplinks[i], info->ifname, 0))
			return true;
	return false;
}

/* Rates of one interface since the window's base; the span they cover, in s. */
static double iface_window(struct es_node_signals *s, struct es_iface_signal *is,
			   const struct sample *cur)
{
	const struct iface_ring *r;
	const struct sample *base;
	double span = 0;
	int d;

	pthread_mutex_lock(&s->lock);
	r = ring_find(s, is->ifindex);
	base = r ? ring_base(r, cur->t_ns, s->window_ns) : NULL;
	if (base && cur->t_ns - base->t_ns >= MIN_SPAN_NS &&
	    cur->bytes[0] >= base->bytes[0] && cur->bytes[1] >= base->bytes[1]) {
		span = (cur->t_ns - base->t_ns) / 1e9;
		for (d = 0; d < ES_DIR_MAX; d++)
			is->dir[d].bps = (cur->bytes[d] - base->bytes[d]) * 8.0 / span;
	}
	pthread_mutex_unlock(&s->lock);
	return span;
}

/* Latency percentiles of the window, summed over interfaces. */
static void lat_window(struct es_node_signals *s, const struct sample *cur, size_t n,
		       struct es_node_view *v)
{
	__u64 hist[ES_LAT_MAX][ES_LAT_BUCKETS] = {};
	const struct iface_ring *r;
	const struct sample *base;
	size_t i;
	int k, b;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n; i++) {
		r = ring_find(s, v->ifaces[i].ifindex);
		base = r ? ring_base(r, cur[i].t_ns, s->window_ns) : NULL;
		for (k = 0; base && k < ES_LAT_MAX; k++)
			for (b = 0; b < ES_LAT_BUCKETS; b++)
				if (cur[i].hist[k][b] > base->hist[k][b])
					hist[k][b] += cur[i].hist[k][b] - base->hist[k][b];
	}
	pthread_mutex_unlock(&s->lock);
	for (k = 0; k < ES_LAT_MAX; k++) {
		v->lat[k].samples = 0;
		for (b = 0; b < ES_LAT_BUCKETS; b++)
			v->lat[k].samples += hist[k][b];
		v->lat[k].p50_s = es_lat_hist_quantile(hist[k], 0.50);
		v->lat[k].p90_s = es_lat_hist_quantile(hist[k], 0.90);
		v->lat[k].p99_s = es_lat_hist_quantile(hist[k], 0.99);
	}
}

static void add_uplink(struct es_node_view *v, const struct es_iface_signal *is)
{
	int d;

	if (!is->uplink || is->capacity_bps <= 0)
		return;
	v->uplinks_known++;
	v->uplink_capacity_bps += is->capacity_bps;
	for (d = 0; d < ES_DIR_MAX; d++) {
		v->uplink_bps[d] += is->dir[d].bps;
		if (is->dir[d].utilisation > v->uplink_utilisation[d])
			v->uplink_utilisation[d] = is->dir[d].utilisation;
		if (is->capacity_bps > is->dir[d].bps)
			v->uplink_headroom_bps[d] += is->capacity_bps - is->dir[d].bps;
	}
}

/* CPU busy share since the oldest CPU sample inside the window, and memory now. */
static void host_window(struct es_node_signals *s, struct es_node_view *v)
{
	const struct host_cpu *base = NULL, *c;
	struct host_cpu cur;
	unsigned int i;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	v->cpus = cpus > 0 ? (unsigned int)cpus : 0;
	v->cpu_utilisation = -1;
	if (!host_cpu_read(&cur, es_now_ns())) {
		pthread_mutex_lock(&s->lock);
		for (i = 0; i < s->cpu.n && !base; i++) {
			c = &s->cpu.s[(s->cpu.head + RING - s->cpu.n + i) % RING];
			if (c->t_ns + s->window_ns >= cur.t_ns && cur.t_ns - c->t_ns >= MIN_SPAN_NS)
				base = c;
		}
		v->cpu_utilisation = host_cpu_utilisation(base, &cur);
		pthread_mutex_unlock(&s->lock);
	}
	if (host_mem_read(&v->mem_total_bytes, &v->mem_available_bytes))
		v->mem_total_bytes = v->mem_available_bytes = 0;
}

int es_node_view_compute(struct es_node_signals *s, struct es_node_view *v)
{
	const struct es_signals_config *sc;
	struct es_iface_signal *is;
	struct att_copy *atts;
	struct sample *cur;
	double span;
	size_t n, i;
	int d;

	memset(v, 0, sizeof(*v));
	if (!s)
		return -ENOMEM;	/* the sampler could not be allocated */
	sc = s->cfg;
	v->window_s = sc->window_ms / 1e3;
	atts = copy_attachments(s->acct, &n, &v->sessions);
	cur = calloc(n + 1, sizeof(*cur));
	v->ifaces = calloc(n + 1, sizeof(*v->ifaces));
	if (!atts || !cur || !v->ifaces) {
		free(atts);
		free(cur);
		free(v->ifaces);
		v->ifaces = NULL;
		return -ENOMEM;
	}
	v->n_ifaces = n;
	for (d = 0; d < ES_DIR_MAX; d++)
		v->uplink_utilisation[d] = -1;
	for (i = 0; i < n; i++) {
		is = &v->ifaces[i];
		is->ifindex = atts[i].info.ifindex;
		memcpy(is->ifname, atts[i].info.ifname, sizeof(is->ifname));
		memcpy(is->pod_namespace, atts[i].info.pod_namespace, sizeof(is->pod_namespace));
		memcpy(is->pod_name, atts[i].info.pod_name, sizeof(is->pod_name));
		is->ifname[sizeof(is->ifname) - 1] = '\0';
		is->sessions = atts[i].sessions;
		is->uplink = is_uplink(sc, &atts[i].info);
		set_capacity(s, is, &atts[i], es_now_ns());
		read_sample(s->acct, is->ifindex, &cur[i], es_now_ns());
		span = iface_window(s, is, &cur[i]);
		if (span > v->covered_s)
			v->covered_s = span;
		for (d = 0; d < ES_DIR_MAX; d++)
			is->dir[d].utilisation = is->capacity_bps > 0 ?
						 is->dir[d].bps / is->capacity_bps : -1;
		add_uplink(v, is);
	}
	lat_window(s, cur, n, v);
	host_window(s, v);
	free(atts);
	free(cur);
	return 0;
}

void es_node_view_free(struct es_node_view *v)
{
	free(v->ifaces);
	v->ifaces = NULL;
	v->n_ifaces = 0;
}
