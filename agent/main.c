// SPDX-License-Identifier: GPL-2.0-only
/*
 * edgeshiftd: the node agent. Loads and pins the accounting programs,
 * attaches them to the configured interfaces (now and as they appear),
 * collects ended sessions and serves metrics and the session API. It runs
 * in the foreground; SIGTERM stops it and leaves the data plane running.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <bpf/libbpf.h>
#include "util/clock.h"
#include "util/log.h"
#include "tool/opts.h"
#include "api/api.h"
#include "core/core.h"
#include "migration/migration.h"
#include "signals/signals.h"
#include "zdm/zdm.h"

#define ERR_LEN 512

/* The command line; flags override the file, so they apply after it. */
struct options {
	const char		*config_path;
	struct es_opt_multi	ifaces;
	const char		*pin_path;
	const char		*listen;
	unsigned int		session_map_size;	/* 0: not given */
	unsigned int		idle_timeout_ms;	/* 0: not given */
	const char		*node_name;
	const char		*log_level;
	const char		*rx_hook;
	const char		*cni_state_dir;
	const char		*state_dir;
	bool			cleanup;
	bool			check_only;
	bool			version;
};

#define F(field)	ES_OPT_AT(struct options, field)
static const struct es_opt opts[] = {
	ES_OPT_STR(F(config_path), "config", 'c', "FILE",
		   "JSON configuration (see docs/operations.md)"),
	ES_OPT_MULTI(F(ifaces), "interface", 'i', "NAME[=NS/POD]",
		     "attach to NAME (fnmatch pattern); repeatable"),
	ES_OPT_STR(F(pin_path), "pin-path", 'p', "DIR",
		   "bpffs directory of the pins (default " ES_DEFAULT_PIN_PATH ")"),
	ES_OPT_STR(F(listen), "listen", 'l', "ADDR:PORT", "HTTP address (default 127.0.0.1:9464)"),
	ES_OPT_UINT(F(session_map_size), "session-map-size", 's', 1024, 1U << 24, "N",
		    "entries per session map (default 65536)"),
	ES_OPT_UINT(F(idle_timeout_ms), "idle-timeout-ms", 0, 1000, 86400000, "N",
		    "collect sessions idle this long (default 300000)"),
	ES_OPT_STR(F(node_name), "node-name", 0, "NAME",
		   "node label of every metric (default hostname)"),
	ES_OPT_STR(F(log_level), "log-level", 0, "LEVEL",
		   "debug, info, warn or error (default info)"),
	ES_OPT_STR(F(rx_hook), "rx-hook", 0, "auto|xdp|tc",
		   "receive hook (default auto: tc on veth, XDP elsewhere)"),
	ES_OPT_STR(F(cni_state_dir), "cni-state-dir", 0, "DIR",
		   "edgeshift-cni's pod records (default /run/edgeshift/cni)"),
	ES_OPT_STR(F(state_dir), "state-dir", 0, "DIR",
		   "images, containers, migrations, events (default /var/lib/edgeshift)"),
	ES_OPT_BOOL(F(check_only), "check-config", 0, "validate the configuration and exit"),
	ES_OPT_BOOL(F(cleanup), "cleanup", 0,
		    "remove every pin (detaches the programs) and exit"),
	ES_OPT_BOOL(F(version), "version", 'V', "print the version and exit"),
	{ }
};

static const struct es_opts cli = {
	.prog	= "edgeshiftd",
	.opts	= opts,
	.usage	= "[options]",
};

/* The flags that override the file's settings, in the file's config. */
static int apply_flags(const struct options *o, struct es_config *cfg)
{
	enum es_log_level lvl;
	char err[ERR_LEN];
	unsigned int i;

	for (i = 0; i < o->ifaces.n; i++)
		if (es_config_add_iface(cfg, o->ifaces.v[i], err, sizeof(err)))
			return fprintf(stderr, "edgeshiftd: %s\n", err), -1;
	if (o->pin_path)
		snprintf(cfg->pin_path, sizeof(cfg->pin_path), "%s", o->pin_path);
	if (o->listen)
		snprintf(cfg->listen, sizeof(cfg->listen), "%s", o->listen);
	if (o->session_map_size)
		cfg->acct.session_map_size = o->session_map_size;
	if (o->idle_timeout_ms)
		cfg->acct.idle_timeout_ms = o->idle_timeout_ms;
	if (o->node_name && (!*o->node_name || strlen(o->node_name) >= sizeof(cfg->node_name)))
		return fprintf(stderr, "edgeshiftd: --node-name must be a non-empty string of "
			       "reasonable length (as node_name in the file)\n"), -1;
	if (o->node_name)
		snprintf(cfg->node_name, sizeof(cfg->node_name), "%s", o->node_name);
	if (o->log_level && es_log_parse_level(o->log_level, &lvl))
		return fprintf(stderr, "edgeshiftd: --log-level must be debug, info, "
			       "warn or error\n"), -1;
	if (o->log_level)
		es_log_set_level(lvl);
	if (o->rx_hook && es_rx_hook_parse(o->rx_hook, &cfg->rx_hook))
		return fprintf(stderr, "edgeshiftd: --rx-hook must be auto, xdp or tc\n"), -1;
	if (o->cni_state_dir)
		snprintf(cfg->cni_state_dir, sizeof(cfg->cni_state_dir), "%s", o->cni_state_dir);
	/* as state_dir in the file: an absolute path that fits */
	if (o->state_dir && (o->state_dir[0] != '/' ||
			     strlen(o->state_dir) >= sizeof(cfg->mig.state_dir)))
		return fprintf(stderr, "edgeshiftd: --state-dir must be an absolute path of "
			       "reasonable length (as state_dir in the file)\n"), -1;
	if (o->state_dir)
		snprintf(cfg->mig.state_dir, sizeof(cfg->mig.state_dir), "%s", o->state_dir);
	return 0;
}

/* 0 to run, 1 when done (help, version), -1 on an error. */
static int parse_args(int argc, char **argv, struct es_config *cfg, struct options *o)
{
	char err[ERR_LEN];
	int n;

	n = es_opts_parse(&cli, argc, argv, o);
	if (n <= 0)
		return n ? -1 : 1;
	if (o->version)
		return printf("edgeshiftd %s (map layout %d)\n", ES_VERSION,
			      ES_MAP_LAYOUT_VERSION), 1;
	if (o->config_path && es_config_load_file(cfg, o->config_path, err, sizeof(err))) {
		fprintf(stderr, "edgeshiftd: %s\n", err);
		return -1;
	}
	if (apply_flags(o, cfg))
		return -1;
	if (es_events_config_finish(&cfg->events, cfg->mig.state_dir, err, sizeof(err)))
		return fprintf(stderr, "edgeshiftd: %s\n", err), -1;
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

	for (i = 0; i < a->acct.dp.n_att; i++)
		if (a->acct.dp.att[i].ifindex == ifindex)
			a->acct.dp.att[i].seen = true;
}

static void on_link(const struct es_link_event *ev, void *arg)
{
	struct es_agent *a = arg;
	struct es_datapath *dp = &a->acct.dp;
	const struct es_iface_rule *rule;

	pthread_mutex_lock(&a->acct.lock);
	if (ev->removed) {
		/* a pod interface leaving the host netns is not a removal */
		if (es_datapath_find(dp, ev->ifindex) && !es_pods_owns(&a->pods, ev->ifindex))
			es_datapath_detach(dp, ev->ifindex, true);
	} else {
		rule = es_config_match(&a->cfg, ev->ifname);
		if (rule)
			es_datapath_attach(dp, ev->ifindex, ev->ifname,
					   &(struct es_iface_owner){ rule->pod_namespace,
								     rule->pod_name, NULL },
					   es_rx_wants_xdp(a->cfg.rx_hook, ev->kind));
		else if (es_datapath_find(dp, ev->ifindex))
			/* renamed out of every rule */
			es_datapath_detach(dp, ev->ifindex, true);
		mark_seen(a, ev->ifindex);
	}
	pthread_mutex_unlock(&a->acct.lock);
}

/*
 * A pattern that matches no interface at start is likely a typo: the
 * agent goes on (the interface may come later) but says so.
 */
static void warn_unmatched(struct es_agent *a)
{
	const struct es_datapath *dp = &a->acct.dp;
	unsigned int r, i;

	pthread_mutex_lock(&a->acct.lock);
	for (r = 0; r < a->cfg.n_ifaces; r++) {
		for (i = 0; i < dp->n_att; i++)
			if (es_config_match(&a->cfg, dp->att[i].info.ifname) == &a->cfg.ifaces[r])
				break;
		if (i == dp->n_att)
			es_warn("interface_pattern_unmatched", "pattern=\"%s\" interfaces=%u",
				a->cfg.ifaces[r].match, dp->n_att);
	}
	pthread_mutex_unlock(&a->acct.lock);
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
	struct es_datapath *dp = &a->acct.dp;
	unsigned int i = 0;

	es_warn("netlink_resync", "reason=lost_notifications");
	pthread_mutex_lock(&a->acct.lock);
	for (i = 0; i < dp->n_att; i++)
		dp->att[i].seen = false;
	pthread_mutex_unlock(&a->acct.lock);
	if (es_iface_watch_dump(w, on_link, a))
		return;
	pthread_mutex_lock(&a->acct.lock);
	i = 0;
	while (i < dp->n_att) {
		if (dp->att[i].seen || es_pods_owns(&a->pods, dp->att[i].ifindex))
			i++;
		else
			es_datapath_detach(dp, dp->att[i].ifindex, true);
	}
	pthread_mutex_unlock(&a->acct.lock);
}

static int next_timeout_ms(struct es_agent *a, __u64 next_gc)
{
	__u64 now = es_now_ns(), due = next_gc;

	if (a->acct.close_due_ns && a->acct.close_due_ns < due)
		due = a->acct.close_due_ns;
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
	    epoll_add(ep, es_collector_fd(&a->acct), TAG_EVENTS) ||
	    (es_pods_fd(&a->pods) >= 0 && epoll_add(ep, es_pods_fd(&a->pods), TAG_PODS)))
		return -errno;
	while (!stop) {
		if (es_now_ns() >= next_gc ||
		    (a->acct.close_due_ns && es_now_ns() >= a->acct.close_due_ns)) {
			es_collector_run(&a->acct);
			es_node_signals_sample(a->signals);
			es_agent_detector_sample(a);
			es_pods_scan(&a->pods);
			next_gc = es_now_ns() + interval;
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
				es_pods_process(&a->pods);
			} else {
				es_collector_consume(&a->acct);
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

/*
 * On the heap and never freed: detached migration workers may still read
 * the migrator (and through it the configuration) while the process exits.
 */
static int es_agent_migrator_open(struct es_agent *a, char *err, size_t len)
{
	int ret;

	a->mig = calloc(1, sizeof(*a->mig));
	if (!a->mig) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	ret = es_migrator_init(a->mig, &a->cfg.mig, a->cfg.node_name, err, len);
	/* before the zdm room starts: a container left paused runs again first */
	if (!ret)
		es_mig_record_recover(a->mig);
	return ret;
}

/*
 * The zero-downtime state machine over the migrator, owned by the agent;
 * on the heap and never freed, like the migrator, for the same reason.
 */
static int es_agent_zdm_start(struct es_agent *a, char *err, size_t len)
{
	struct es_zdm_params p = { .cfg = &a->cfg.zdm, .mig = &a->cfg.mig,
				   .node_name = a->cfg.node_name, .pin_path = a->cfg.pin_path,
				   .m = a->mig };

	a->zdm = calloc(1, sizeof(*a->zdm));
	if (!a->zdm) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	return es_zdm_start(a->zdm, &p, err, len);
}

/* Every pin under pin_path: the programs detach with their last link. */
static int remove_pins(const char *pin_path)
{
	es_pods_cleanup(pin_path);
	es_mig_cleanup_pins(pin_path);
	return es_datapath_cleanup(pin_path);
}

static int agent_run(struct es_agent *a)
{
	struct es_http_server *http = NULL;
	struct es_iface_watch w = {};
	char err[ERR_LEN];
	bool fresh = false;
	int sfd, ret;

	/* Signals are blocked before any thread starts, so threads inherit it. */
	sfd = block_signals();
	ret = es_datapath_open(&a->acct.dp, a->cfg.pin_path, &a->cfg.acct, err, sizeof(err));
	if (ret) {
		es_error("datapath_failed", "error=\"%s\"", err);
		return ret;
	}
	fresh = a->acct.dp.created;
	es_info("datapath_ready", "pin_path=%s adopted_links=%u rebuilt=%d sessions=%u",
		a->acct.dp.pin_path, a->acct.dp.adopted_links, a->acct.dp.rebuilt,
		a->cfg.acct.session_map_size);
	ret = es_iface_watch_open(&w);
	if (!ret)
		ret = es_iface_watch_dump(&w, on_link, a);
	if (ret) {
		es_error("netlink_failed", "error=\"%s\"", strerror(-ret));
		goto out;
	}
	warn_unmatched(a);
	es_pods_open(&a->pods, &a->acct, a->cfg.cni_state_dir);
	fresh = fresh && !a->pods.n;	/* pod links came from edgeshift-cni: keep them */
	pthread_mutex_lock(&a->acct.lock);
	es_datapath_drop_unwanted(&a->acct.dp);
	pthread_mutex_unlock(&a->acct.lock);
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
	ret = es_collector_open(&a->acct);
	if (ret) {
		es_error("ring_buffer_failed", "error=\"%s\"", strerror(-ret));
		goto out;
	}
	a->signals = es_node_signals_new(&a->cfg.signals, &a->acct);
	ret = es_agent_detector_start(a, err, sizeof(err));
	if (ret) {
		es_error("events_setup_failed", "error=\"%s\"", err);
		goto out;
	}
	ret = es_agent_advisor_start(&a->cfg.advisor, &a->acct, &a->advisor, err, sizeof(err));
	if (ret) {
		es_error("advisor_setup_failed", "error=\"%s\"", err);
		goto out;
	}
	http = es_api_start(a, err, sizeof(err));
	if (!http) {
		es_error("http_failed", "error=\"%s\"", err);
		ret = -EADDRINUSE;
		goto out;
	}
	es_info("ready", "listen=%s interfaces=%u", a->cfg.listen, a->acct.dp.n_att);
	fresh = false;	/* served: what it pinned is the node's data plane now */
	ret = run_loop(a, &w, sfd);
out:
	es_api_stop(http);
	es_agent_advisor_stop(a->advisor);
	a->advisor = NULL;
	if (a->zdm)
		es_zdm_stop(a->zdm);
	es_agent_detector_stop(a);
	es_collector_close(&a->acct);
	es_node_signals_free(a->signals);
	a->signals = NULL;
	es_iface_watch_close(&w);
	es_pods_close(&a->pods);
	es_datapath_close(&a->acct.dp);
	if (a->mig)
		es_migrator_close(a->mig);
	close(sfd);
	/*
	 * A first start that never served removes what it attached and
	 * pinned (else a failed start leaves a second set of programs on the
	 * interfaces); pins it adopted, or made and served with, stay.
	 */
	if (fresh && ret && !remove_pins(a->cfg.pin_path))
		es_info("stopped", "data_plane=removed reason=never_served error=%d", ret);
	else
		es_info("stopped", "data_plane=left_attached error=%d", ret);
	return ret;
}

int main(int argc, char **argv)
{
	struct options o = {};
	struct es_agent *a;
	int ret;

	/* Never freed, like the migrator: threads may read it while the process exits. */
	a = calloc(1, sizeof(*a));
	if (!a)
		return 1;
	es_config_defaults(&a->cfg);
	ret = parse_args(argc, argv, &a->cfg, &o);
	if (ret)
		return ret > 0 ? 0 : 2;
	if (o.check_only) {
		/* where events go is the one setting the environment decides (K_SINK) */
		printf("configuration is valid\nevents: %s%s\n",
		       es_events_config_on(&a->cfg.events) ? "to " : "off (no sink)",
		       a->cfg.events.sink);
		return 0;
	}
	if (o.cleanup) {
		ret = remove_pins(a->cfg.pin_path);
		if (ret)
			fprintf(stderr, "edgeshiftd: cannot remove %s: %s\n", a->cfg.pin_path,
				strerror(-ret));
		/* harmless to a running container: made again before runc needs it */
		if (es_node_netns_release(a->cfg.mig.state_dir))
			fprintf(stderr, "edgeshiftd: cannot release %s/netns: %m\n",
				a->cfg.mig.state_dir);
		return ret ? 1 : 0;
	}
	libbpf_set_print(libbpf_log);
	es_agent_init(a);
	ret = agent_run(a);
	return ret ? 1 : 0;
}
