// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshiftd: the node agent. Loads and pins the accounting programs,
 * attaches them to the configured interfaces (now and as they appear),
 * collects ended sessions and serves metrics and the session API. It runs
 * in the foreground; SIGTERM stops it and leaves the data plane running.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>
#include "util/log.h"
#include "core/iface_watch.h"
#include "core/pods.h"
#include "core/agent.h"
#include "migration/migration.h"
#include "signals/node_signals.h"
#include "zdm/zdm.h"

#define ERR_LEN 512

struct options {
	const char	*config_path;
	bool		cleanup;
	bool		check_only;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: edgeshiftd [options]\n"
		"  -c, --config FILE           JSON configuration (see docs/operations.md)\n"
		"  -i, --interface NAME[=NS/POD]  attach to NAME (fnmatch pattern); repeatable\n"
		"  -p, --pin-path DIR          bpffs directory of the pins (default %s)\n"
		"  -l, --listen ADDR:PORT      HTTP address (default 127.0.0.1:9464)\n"
		"  -s, --session-map-size N    entries per session map (default 65536)\n"
		"      --idle-timeout-ms N     collect sessions idle this long (default 300000)\n"
		"      --node-name NAME        node label of every metric (default hostname)\n"
		"      --log-level LEVEL       debug, info, warn or error (default info)\n"
		"      --rx-hook auto|xdp|tc   receive hook (default auto: tc on veth, XDP elsewhere)\n"
		"      --cni-state-dir DIR     edgeshift-cni's pod records (default /run/edgeshift/cni)\n"
		"      --check-config          validate the configuration and exit\n"
		"      --cleanup               remove every pin (detaches the programs) and exit\n"
		"  -V, --version               print the version and exit\n",
		ES_DEFAULT_PIN_PATH);
}

static int set_uint_flag(const char *name, const char *val, unsigned int lo, unsigned int hi,
			 unsigned int *dst)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || !*val || v < lo || v > hi) {
		fprintf(stderr, "edgeshiftd: %s must be an integer from %u to %u, got \"%s\"\n",
			name, lo, hi, val);
		return -1;
	}
	*dst = v;
	return 0;
}

/* Flags override the file, so the file is loaded first. */
static int parse_args(int argc, char **argv, struct es_config *cfg, struct options *o)
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interface", required_argument, NULL, 'i' },
		{ "pin-path", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "session-map-size", required_argument, NULL, 's' },
		{ "idle-timeout-ms", required_argument, NULL, 'T' },
		{ "node-name", required_argument, NULL, 'N' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "rx-hook", required_argument, NULL, 'R' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "cni-state-dir", required_argument, NULL, 'D' },
		{ "cleanup", no_argument, NULL, 'X' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *short_opts = "c:i:p:l:s:Vh";
	enum es_log_level lvl;
	char err[ERR_LEN];
	int c;

	while ((c = getopt_long(argc, argv, short_opts, lopts, NULL)) != -1) {
		if (c == 'c')
			o->config_path = optarg;
		else if (c == 'h' || c == '?')
			return usage(c == 'h' ? stdout : stderr), c == 'h' ? 1 : -1;
		else if (c == 'V')
			return printf("edgeshiftd %s (map layout %d)\n", ES_VERSION,
				      ES_MAP_LAYOUT_VERSION), 1;
	}
	if (o->config_path && es_config_load_file(cfg, o->config_path, err, sizeof(err))) {
		fprintf(stderr, "edgeshiftd: %s\n", err);
		return -1;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, short_opts, lopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (es_config_add_iface(cfg, optarg, err, sizeof(err)))
				return fprintf(stderr, "edgeshiftd: %s\n", err), -1;
			break;
		case 'p':
			snprintf(cfg->pin_path, sizeof(cfg->pin_path), "%s", optarg);
			break;
		case 'l':
			snprintf(cfg->listen, sizeof(cfg->listen), "%s", optarg);
			break;
		case 's':
			if (set_uint_flag("--session-map-size", optarg, 1024, 1U << 24,
					  &cfg->session_map_size))
				return -1;
			break;
		case 'T':
			if (set_uint_flag("--idle-timeout-ms", optarg, 1000, 86400000,
					  &cfg->idle_timeout_ms))
				return -1;
			break;
		case 'N':
			snprintf(cfg->node_name, sizeof(cfg->node_name), "%s", optarg);
			break;
		case 'L':
			if (es_log_parse_level(optarg, &lvl))
				return fprintf(stderr, "edgeshiftd: --log-level must be debug, info, warn or error\n"), -1;
			es_log_set_level(lvl);
			break;
		case 'R':
			if (es_rx_hook_parse(optarg, &cfg->rx_hook))
				return fprintf(stderr, "edgeshiftd: --rx-hook must be auto, xdp or tc\n"), -1;
			break;
		case 'D':
			snprintf(cfg->cni_state_dir, sizeof(cfg->cni_state_dir), "%s", optarg);
			break;
		case 'C':
			o->check_only = true;
			break;
		case 'X':
			o->cleanup = true;
			break;
		}
	}
	if (optind < argc)
		return fprintf(stderr, "edgeshiftd: unexpected argument \"%s\"\n", argv[optind]), -1;
	if (es_config_validate(cfg, err, sizeof(err)))
		return fprintf(stderr, "edgeshiftd: %s\n", err), -1;
	return 0;
}

static bool es_rx_wants_xdp(enum es_rx_hook hook, const char *kind)
{
	if (hook != ES_RX_AUTO)
		return hook == ES_RX_XDP;
	return strcmp(kind, "veth") != 0;
}

static void mark_seen(struct es_agent *a, unsigned int ifindex)
{
	unsigned int i;

	for (i = 0; i < a->dp.n_att; i++)
		if (a->dp.att[i].ifindex == ifindex)
			a->dp.att[i].seen = true;
}

static void on_link(const struct es_link_event *ev, void *arg)
{
	struct es_agent *a = arg;
	const struct es_iface_rule *rule;

	pthread_mutex_lock(&a->lock);
	if (ev->removed) {
		/* a pod interface leaving the host netns is not a removal */
		if (es_datapath_find(&a->dp, ev->ifindex) && !es_pods_owns(ev->ifindex))
			es_datapath_detach(&a->dp, ev->ifindex, true);
	} else {
		rule = es_config_match(&a->cfg, ev->ifname);
		if (rule)
			es_datapath_attach(&a->dp, ev->ifindex, ev->ifname, rule,
					   es_rx_wants_xdp(a->cfg.rx_hook, ev->kind));
		else if (es_datapath_find(&a->dp, ev->ifindex))
			/* renamed out of every rule */
			es_datapath_detach(&a->dp, ev->ifindex, true);
		mark_seen(a, ev->ifindex);
	}
	pthread_mutex_unlock(&a->lock);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int epoll_add(int ep, int fd, int tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

enum { TAG_SIGNAL, TAG_NETLINK, TAG_EVENTS, TAG_PODS };

/*
 * Notifications were lost (the socket overflowed, or a read failed): dump
 * the links again, attach what is new and detach what is no longer there.
 */
static void resync_links(struct es_agent *a, struct es_iface_watch *w)
{
	unsigned int i = 0;

	es_warn("netlink_resync", "reason=lost_notifications");
	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->dp.n_att; i++)
		a->dp.att[i].seen = false;
	pthread_mutex_unlock(&a->lock);
	if (es_iface_watch_dump(w, on_link, a))
		return;
	pthread_mutex_lock(&a->lock);
	i = 0;
	while (i < a->dp.n_att) {
		if (a->dp.att[i].seen || es_pods_owns(a->dp.att[i].ifindex))
			i++;
		else
			es_datapath_detach(&a->dp, a->dp.att[i].ifindex, true);
	}
	pthread_mutex_unlock(&a->lock);
}

static int next_timeout_ms(struct es_agent *a, __u64 next_gc)
{
	__u64 now = es_mono_ns(), due = next_gc;

	if (a->close_due_ns && a->close_due_ns < due)
		due = a->close_due_ns;
	return due <= now ? 0 : (int)((due - now) / 1000000) + 1;
}

static int run_loop(struct es_agent *a, struct es_iface_watch *w, int sfd)
{
	__u64 interval = a->cfg.gc_interval_ms * 1000000ULL, next_gc = 0;
	struct epoll_event evs[8];
	int ep, n, i, err = 0;
	bool stop = false;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_add(ep, sfd, TAG_SIGNAL) ||
	    epoll_add(ep, es_iface_watch_fd(w), TAG_NETLINK) ||
	    epoll_add(ep, es_collector_fd(a), TAG_EVENTS) ||
	    (es_pods_fd() >= 0 && epoll_add(ep, es_pods_fd(), TAG_PODS)))
		return -errno;
	while (!stop) {
		if (es_mono_ns() >= next_gc ||
		    (a->close_due_ns && es_mono_ns() >= a->close_due_ns)) {
			es_collector_run(a);
			es_node_signals_sample(a);
			es_pods_scan(a);
			next_gc = es_mono_ns() + interval;
		}
		n = epoll_wait(ep, evs, 8, next_timeout_ms(a, next_gc));
		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == TAG_SIGNAL) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == sizeof(si))
					es_info("signal", "signo=%u", si.ssi_signo);
				stop = true;
			} else if (evs[i].data.u32 == TAG_NETLINK) {
				if (es_iface_watch_process(w, on_link, a))
					resync_links(a, w);
			} else if (evs[i].data.u32 == TAG_PODS) {
				es_pods_process(a);
			} else {
				es_collector_consume(a);
			}
		}
	}
	close(ep);
	return err;
}

static int block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int es_agent_migrator_open(struct es_agent *a, char *err, size_t len)
{
	static struct es_migrator mig;

	a->mig = &mig;
	return es_migrator_init(&mig, &a->cfg.mig, a->cfg.node_name, err, len);
}

/* The zero-downtime state machine over the migrator, owned by the agent. */
static int es_agent_zdm_start(struct es_agent *a, char *err, size_t len)
{
	static struct es_zdm zdm;
	struct es_zdm_params p = { .cfg = &a->cfg.zdm, .mig = &a->cfg.mig,
				   .node_name = a->cfg.node_name, .pin_path = a->cfg.pin_path,
				   .m = a->mig };

	a->zdm = &zdm;
	return es_zdm_start(&zdm, &p, err, len);
}

static int agent_run(struct es_agent *a)
{
	struct MHD_Daemon *http = NULL;
	struct es_iface_watch w = {};
	char err[ERR_LEN];
	int sfd, ret;

	/* Signals are blocked before any thread starts, so threads inherit it. */
	sfd = block_signals();
	ret = es_datapath_open(&a->dp, &a->cfg, err, sizeof(err));
	if (ret) {
		es_error("datapath_failed", "error=\"%s\"", err);
		return ret;
	}
	es_info("datapath_ready", "pin_path=%s adopted_links=%u rebuilt=%d sessions=%u",
		a->dp.pin_path, a->dp.adopted_links, a->dp.rebuilt, a->cfg.session_map_size);
	ret = es_iface_watch_open(&w);
	if (!ret)
		ret = es_iface_watch_dump(&w, on_link, a);
	if (ret) {
		es_error("netlink_failed", "error=\"%s\"", strerror(-ret));
		goto out;
	}
	es_pods_open(a);
	pthread_mutex_lock(&a->lock);
	es_datapath_drop_unwanted(&a->dp);
	pthread_mutex_unlock(&a->lock);
	ret = es_agent_migrator_open(a, err, sizeof(err));
	if (ret) {
		es_error("migration_setup_failed", "error=\"%s\"", err);
		goto out;
	}
	ret = es_agent_zdm_start(a, err, sizeof(err));
	if (ret) {
		es_error("zero_downtime_setup_failed", "error=\"%s\"", err);
		goto out;
	}
	ret = es_collector_open(a);
	if (ret) {
		es_error("ring_buffer_failed", "error=\"%s\"", strerror(-ret));
		goto out;
	}
	a->signals = es_node_signals_new(a->cfg.signals.window_ms);
	http = es_api_start(a, err, sizeof(err));
	if (!http) {
		es_error("http_failed", "error=\"%s\"", err);
		ret = -EADDRINUSE;
		goto out;
	}
	es_info("ready", "listen=%s interfaces=%u", a->cfg.listen, a->dp.n_att);
	ret = run_loop(a, &w, sfd);
out:
	es_api_stop(http);
	if (a->zdm)
		es_zdm_stop(a->zdm);
	es_collector_close(a);
	es_node_signals_free(a->signals);
	a->signals = NULL;
	es_iface_watch_close(&w);
	es_pods_close();
	es_datapath_close(&a->dp);
	if (a->mig)
		es_migrator_close(a->mig);
	close(sfd);
	es_info("stopped", "data_plane=left_attached error=%d", ret);
	return ret;
}

int main(int argc, char **argv)
{
	static struct es_agent agent;
	struct options o = {};
	int ret;

	es_config_defaults(&agent.cfg);
	ret = parse_args(argc, argv, &agent.cfg, &o);
	if (ret)
		return ret > 0 ? 0 : 2;
	if (o.check_only) {
		printf("configuration is valid\n");
		return 0;
	}
	if (o.cleanup) {
		es_pods_cleanup(agent.cfg.pin_path);
		es_mig_cleanup_pins(agent.cfg.pin_path);
		ret = es_datapath_cleanup(agent.cfg.pin_path);
		if (ret)
			fprintf(stderr, "edgeshiftd: cannot remove %s: %s\n", agent.cfg.pin_path,
				strerror(-ret));
		return ret ? 1 : 0;
	}
	libbpf_set_print(libbpf_log);
	pthread_mutex_init(&agent.lock, NULL);
	agent.start_time = time(NULL);
	ret = agent_run(&agent);
	return ret ? 1 : 0;
}
