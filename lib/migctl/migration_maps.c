// SPDX-License-Identifier: GPL-2.0-only
/*
 * Control of the migration data plane: loading and pinning, the session
 * commands (through the es_mig_ctl syscall program, so every change to a
 * session is atomic against the packet path), the replay buffer, and the
 * two ways a recorded request is sent again (into the local container, or
 * through the tunnel to the source).
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/accounting_skel.h"
#include "migration_maps.h"
#include "migration.skel.h"

#define MIG_WAIT_STEP_NS	(2 * 1000 * 1000)
#define MIG_RESUME_TRIES	1000
/*
 * Replayed requests in flight to the restored container: a UDP socket's
 * receive buffer holds a few hundred small datagrams, and a burst of every
 * buffered request (hundreds at 100 requests/s) overflows it, losing
 * requests that never take effect.
 */
#define MIG_REPLAY_WINDOW	32
/* No answer from the restored container for this long: give up (abort). */
#define MIG_REPLAY_STALL_MS	3000

static const char *const hook_prog[ES_MIG_HOOK_MAX] = {
	"es_mig_xdp_ingress", "es_mig_xdp_wan", "es_mig_tc_ctr", "es_mig_tc_ingress",
	"es_mig_tc_egress",
};
static const char *const hook_name[ES_MIG_HOOK_MAX] = { "user", "wan", "ctr", "usertc",
							 "egress" };
static const char *const prog_pins[] = {
	"es_mig_xdp_ingress", "es_mig_xdp_wan", "es_mig_tc_ctr", "es_mig_tc_ingress",
	"es_mig_tc_egress", "es_mig_ctl",
};
static const char *const map_pins[] = {
	"es_mig_sessions", "es_mig_replay", "es_mig_services", "es_mig_remote",
	"es_mig_config", "es_mig_events", "es_mig_held",
};

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

static void set_err(char *err, size_t len, const char *fmt, const char *a, int e)
{
	if (err && len)
		snprintf(err, len, fmt, a, strerror(e));
}

/* ---- loading ---- */

/*
 * Maps pinned by another object (the accounting agent) keep their size:
 * take it from the pin, so that libbpf reuses the pin instead of failing.
 */
static void size_like_pins(struct migration *skel, const char *pin_path)
{
	char path[PATH_MAX];
	struct bpf_map_info info;
	__u32 len;
	struct bpf_map *map;
	int fd;

	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_path, bpf_map__name(map));
		bpf_map__set_pin_path(map, path);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_map_get_info_by_fd(fd, &info, &len) && info.max_entries)
			bpf_map__set_max_entries(map, info.max_entries);
		close(fd);
	}
}

static int pin_programs(struct migration *skel, const char *pin_path)
{
	char path[PATH_MAX];
	struct bpf_program *prog;
	int ret;

	bpf_object__for_each_program(prog, skel->obj) {
		snprintf(path, sizeof(path), "%s/prog_%s", pin_path, bpf_program__name(prog));
		unlink(path);
		ret = bpf_program__pin(prog, path);
		if (ret)
			return ret;
	}
	return 0;
}

static int write_layout(struct migration *skel)
{
	struct es_mig_node_config cfg = {};
	__u32 zero = 0;
	int fd = bpf_map__fd(skel->maps.es_mig_config);

	if (!bpf_map_lookup_elem(fd, &zero, &cfg) && cfg.layout_version == ES_MIG_LAYOUT_VERSION)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.layout_version = ES_MIG_LAYOUT_VERSION;
	return bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

int es_mig_load(const char *pin_path, const struct es_mig_load_opts *opts,
		struct migration **skelp, char *err, size_t err_len)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct migration *skel;
	int ret;

	if (mkdir(pin_path, 0700) && errno != EEXIST) {
		ret = -errno;
		set_err(err, err_len, "cannot create pin directory %s: %s", pin_path, errno);
		return ret;
	}
	if (es_kernel_config_missing())
		oo.kconfig = ES_KCONFIG_FALLBACK;
	skel = migration__open_opts(&oo);
	if (!skel) {
		ret = -errno;
		set_err(err, err_len, "cannot open the migration object%s: %s", "", errno);
		return ret;
	}
	if (opts && opts->sessions) {
		bpf_map__set_max_entries(skel->maps.es_mig_sessions, opts->sessions);
		bpf_map__set_max_entries(skel->maps.es_mig_remote, opts->sessions);
	}
	if (opts && opts->records)
		bpf_map__set_max_entries(skel->maps.es_mig_replay, opts->records);
	size_like_pins(skel, pin_path);
	ret = migration__load(skel);
	if (ret) {
		set_err(err, err_len, "cannot load the migration programs or reuse the pins in %s: %s",
			pin_path, -ret);
		goto fail;
	}
	ret = write_layout(skel);
	if (!ret)
		ret = pin_programs(skel, pin_path);
	if (ret) {
		set_err(err, err_len, "cannot pin the migration programs in %s: %s", pin_path, -ret);
		goto fail;
	}
	*skelp = skel;
	return 0;
fail:
	migration__destroy(skel);
	return ret;
}

void es_mig_unload(struct migration *skel)
{
	migration__destroy(skel);
}

const char *es_mig_hook_name(enum es_mig_hook hook)
{
	return hook < ES_MIG_HOOK_MAX ? hook_name[hook] : "unknown";
}

static void link_path(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex,
		      char *buf, size_t len)
{
	snprintf(buf, len, "%s/links/mig_%s_%u", pin_path, hook_name[hook], ifindex);
}

int es_mig_attach(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex,
		  char *err, size_t err_len)
{
	char path[PATH_MAX];
	int prog_fd, link_fd, ret;

	if (hook >= ES_MIG_HOOK_MAX)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/prog_%s", pin_path, hook_prog[hook]);
	prog_fd = bpf_obj_get(path);
	if (prog_fd < 0) {
		ret = -errno;
		set_err(err, err_len, "no pinned program %s: %s (load first)", path, errno);
		return ret;
	}
	link_fd = bpf_link_create(prog_fd, ifindex,
				  hook == ES_MIG_HOOK_USER || hook == ES_MIG_HOOK_WAN ? BPF_XDP :
				  hook == ES_MIG_HOOK_EGRESS ? BPF_TCX_EGRESS : BPF_TCX_INGRESS,
				  NULL);
	close(prog_fd);
	if (link_fd < 0) {
		ret = -errno;
		set_err(err, err_len, "cannot attach %s: %s", hook_prog[hook], errno);
		return ret;
	}
	snprintf(path, sizeof(path), "%s/links", pin_path);
	mkdir(path, 0700);
	link_path(pin_path, hook, ifindex, path, sizeof(path));
	unlink(path);
	ret = bpf_obj_pin(link_fd, path) ? -errno : 0;
	if (ret)
		set_err(err, err_len, "cannot pin link %s: %s", path, -ret);
	close(link_fd);
	return ret;
}

int es_mig_detach(const char *pin_path, enum es_mig_hook hook, unsigned int ifindex)
{
	char path[PATH_MAX];

	if (hook >= ES_MIG_HOOK_MAX)
		return -EINVAL;
	link_path(pin_path, hook, ifindex, path, sizeof(path));
	return unlink(path) ? -errno : 0;
}

static int open_pin(const char *pin_path, const char *name, char *err, size_t err_len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_path, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		set_err(err, err_len, "cannot open pin %s: %s", path, errno);
	return fd;
}

int es_mig_dp_open(struct es_mig_dp *dp, const char *pin_path, char *err, size_t err_len)
{
	int *fds[] = { &dp->sessions_fd, &dp->replay_fd, &dp->services_fd, &dp->remote_fd,
		       &dp->config_fd, &dp->events_fd, &dp->held_fd };
	struct es_mig_node_config cfg = {};
	__u32 zero = 0;
	size_t i;

	memset(dp, 0, sizeof(*dp));
	snprintf(dp->pin_path, sizeof(dp->pin_path), "%s", pin_path);
	dp->ctl_fd = -1;
	for (i = 0; i < ARRAY_LEN(fds); i++)
		*fds[i] = -1;
	dp->ctl_fd = open_pin(pin_path, "prog_es_mig_ctl", err, err_len);
	if (dp->ctl_fd < 0)
		goto fail;
	for (i = 0; i < ARRAY_LEN(fds); i++) {
		*fds[i] = open_pin(pin_path, map_pins[i], err, err_len);
		if (*fds[i] < 0)
			goto fail;
	}
	if (bpf_map_lookup_elem(dp->config_fd, &zero, &cfg) ||
	    cfg.layout_version != ES_MIG_LAYOUT_VERSION) {
		if (err)
			snprintf(err, err_len, "pinned migration maps in %s have layout %u, not %u",
				 pin_path, cfg.layout_version, ES_MIG_LAYOUT_VERSION);
		errno = EPROTO;
		goto fail;
	}
	return 0;
fail:
	i = errno;
	es_mig_dp_close(dp);
	return -(int)i;
}

void es_mig_dp_close(struct es_mig_dp *dp)
{
	int *fds[] = { &dp->ctl_fd, &dp->sessions_fd, &dp->replay_fd, &dp->services_fd,
		       &dp->remote_fd, &dp->config_fd, &dp->events_fd, &dp->held_fd };
	size_t i;

	for (i = 0; i < ARRAY_LEN(fds); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

void es_mig_dp_from_skel(struct es_mig_dp *dp, struct migration *skel)
{
	memset(dp, 0, sizeof(*dp));
	dp->ctl_fd = bpf_program__fd(skel->progs.es_mig_ctl);
	dp->sessions_fd = bpf_map__fd(skel->maps.es_mig_sessions);
	dp->replay_fd = bpf_map__fd(skel->maps.es_mig_replay);
	dp->services_fd = bpf_map__fd(skel->maps.es_mig_services);
	dp->remote_fd = bpf_map__fd(skel->maps.es_mig_remote);
	dp->config_fd = bpf_map__fd(skel->maps.es_mig_config);
	dp->events_fd = bpf_map__fd(skel->maps.es_mig_events);
	dp->held_fd = bpf_map__fd(skel->maps.es_mig_held);
}

int es_mig_cleanup_pins(const char *pin_path)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t i;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/links", pin_path);
	dir = opendir(path);
	while (dir && (de = readdir(dir))) {
		if (strncmp(de->d_name, "mig_", 4))
			continue;
		snprintf(path, sizeof(path), "%s/links/%s", pin_path, de->d_name);
		unlink(path);
	}
	if (dir)
		closedir(dir);
	for (i = 0; i < ARRAY_LEN(prog_pins); i++) {
		snprintf(path, sizeof(path), "%s/prog_%s", pin_path, prog_pins[i]);
		unlink(path);
	}
	for (i = 0; i < ARRAY_LEN(map_pins); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_path, map_pins[i]);
		unlink(path);
	}
	return 0;
}

/* ---- node settings and services ---- */

int es_mig_config_get(const struct es_mig_dp *dp, struct es_mig_node_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(dp->config_fd, &zero, cfg) ? -errno : 0;
}

/*
 * The ingress program skips its lookups while nothing migrates: switch them
 * on before an entry exists, off once both maps are empty.
 */
int es_mig_set_active(const struct es_mig_dp *dp, bool on)
{
	struct es_mig_node_config cfg;
	__u32 zero = 0;
	__u8 key[sizeof(struct es_mig_key)];

	if (!on && (!bpf_map_get_next_key(dp->sessions_fd, NULL, key) ||
		    !bpf_map_get_next_key(dp->services_fd, NULL, key)))
		return 0;
	if (bpf_map_lookup_elem(dp->config_fd, &zero, &cfg))
		return -errno;
	if (cfg.active == on)
		return 0;
	cfg.active = on;
	return bpf_map_update_elem(dp->config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

int es_mig_config_set(const struct es_mig_dp *dp, __u32 local_addr, __u16 tunnel_port_host,
		      __u32 default_replay_limit)
{
	struct es_mig_node_config cfg = {};
	__u32 zero = 0;

	bpf_map_lookup_elem(dp->config_fd, &zero, &cfg);
	cfg.layout_version = ES_MIG_LAYOUT_VERSION;
	cfg.local_addr = local_addr;
	cfg.tunnel_port = htons(tunnel_port_host);
	cfg.default_replay_limit = default_replay_limit;
	return bpf_map_update_elem(dp->config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

int es_mig_service_set(const struct es_mig_dp *dp, const struct es_mig_svc_key *key,
		       __u32 node_addr, __u32 flags, __u32 replay_limit)
{
	struct es_mig_svc svc = {};

	/* Keep the handoff count of an entry being changed. */
	bpf_map_lookup_elem(dp->services_fd, key, &svc);
	svc.node_addr = node_addr;
	svc.flags = flags;
	svc.replay_limit = replay_limit;
	if (es_mig_set_active(dp, true))
		return -errno;
	return bpf_map_update_elem(dp->services_fd, key, &svc, BPF_ANY) ? -errno : 0;
}

int es_mig_service_del(const struct es_mig_dp *dp, const struct es_mig_svc_key *key)
{
	if (bpf_map_delete_elem(dp->services_fd, key))
		return -errno;
	return es_mig_set_active(dp, false);
}

/* ---- sessions ---- */

int es_mig_ctl(const struct es_mig_dp *dp, struct es_mig_cmd *cmd)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.ctx_in = cmd,
		.ctx_size_in = sizeof(*cmd),
	);

	if (bpf_prog_test_run_opts(dp->ctl_fd, &opts))
		return -errno;
	return (int)opts.retval;
}

int es_mig_session_get(const struct es_mig_dp *dp, const struct es_mig_key *key,
		       struct es_mig_session *s)
{
	return bpf_map_lookup_elem(dp->sessions_fd, key, s) ? -errno : 0;
}

static __u64 seq_of(__u64 seq_state)
{
	return seq_state & ES_MIG_SEQ_MASK;
}

static unsigned int state_of(__u64 seq_state)
{
	return seq_state >> ES_MIG_STATE_SHIFT;
}

static int cmd_run(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 op,
		   struct es_mig_cmd *cmd)
{
	cmd->key = *key;
	cmd->op = op;
	return es_mig_ctl(dp, cmd);
}

static int set_state(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 from,
		     __u32 to, __u64 expect, __u64 *seq_state)
{
	struct es_mig_cmd cmd = { .from = from, .to = to, .expect_seq = expect };
	int ret = cmd_run(dp, key, ES_MIG_CMD_SET_STATE, &cmd);

	if (seq_state)
		*seq_state = cmd.seq_state;
	return ret;
}

static int set_value(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 op,
		     __u64 value)
{
	struct es_mig_cmd cmd = { .value = value };

	return cmd_run(dp, key, op, &cmd);
}

int es_mig_start(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 source_addr,
		 bool mirror, __u32 replay_limit)
{
	struct es_mig_cmd cmd = {
		.to = ES_MIG_FORWARDING,
		.flags = mirror ? ES_MIG_F_MIRROR : 0,
		.source_addr = source_addr,
		.replay_limit = replay_limit,
	};
	struct es_mig_session s;
	unsigned int st;
	int ret;

	ret = es_mig_set_active(dp, true);
	if (ret)
		return ret;
	ret = cmd_run(dp, key, ES_MIG_CMD_CREATE, &cmd);
	if (ret != -EEXIST)
		return ret;
	/* Made on handoff detection: take it over where it is. */
	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	st = state_of(s.seq_state);
	if (st != ES_MIG_NONE && st != ES_MIG_FORWARDING)
		return -EBUSY;
	/* Earlier requests were not buffered; they precede any checkpoint. */
	ret = set_value(dp, key, ES_MIG_CMD_SET_CURSOR, seq_of(s.seq_state));
	if (!ret)
		ret = cmd_run(dp, key, ES_MIG_CMD_CONFIGURE, &cmd);
	if (!ret && st == ES_MIG_NONE)
		ret = set_state(dp, key, ES_MIG_NONE, ES_MIG_FORWARDING, ES_MIG_ANY_SEQ, NULL);
	return ret;
}

int es_mig_hold(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *hold_seq)
{
	__u64 ss = 0;
	int ret;

	ret = set_state(dp, key, ES_MIG_FORWARDING, ES_MIG_HOLD, ES_MIG_ANY_SEQ, &ss);
	if (hold_seq)
		*hold_seq = seq_of(ss);
	return ret;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int es_mig_wait_answered(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 __u64 hold_seq, unsigned int timeout_ms)
{
	__u64 end = mono_ns() + timeout_ms * 1000000ULL;
	struct timespec step = { 0, MIG_WAIT_STEP_NS };
	struct es_mig_session s;
	int ret;

	for (;;) {
		ret = es_mig_session_get(dp, key, &s);
		if (ret)
			return ret;
		if (s.old_replies >= hold_seq)
			return 0;
		if (mono_ns() >= end)
			return -ETIMEDOUT;
		nanosleep(&step, NULL);
	}
}

/*
 * A state change no request may slip past: step() handles every sequence
 * number up to the head seen, then finish() changes the state only if the
 * head is still that one; otherwise (-EAGAIN, *head updated) the newcomers
 * are handled first and it tries again.
 */
struct drain {
	const struct es_mig_dp	*dp;
	const struct es_mig_key	*key;
	int			fd;		/* tunnel or injection socket */
	__u32			dst;		/* send_to_source: the source node */
	__u32			from, to;	/* switch_state: the state change */
	__u64			cursor;		/* replay_step: last in the checkpoint */
	__u64			released;	/* release_held: delivered by earlier calls */
	unsigned int		done;		/* sequence numbers handled by step() */
	int (*step)(struct drain *d, __u64 seq);
	int (*finish)(struct drain *d, __u64 *head);
};

static int drain_then_switch(struct drain *d, __u64 next, __u64 head)
{
	int tries, ret;

	for (tries = 0; tries < MIG_RESUME_TRIES; tries++) {
		for (; next <= head; next++) {
			ret = d->step(d, next);
			if (ret)
				return ret;
		}
		ret = d->finish(d, &head);
		if (ret != -EAGAIN)
			return ret;
	}
	return -EAGAIN;
}

static int switch_state(struct drain *d, __u64 *head)
{
	__u64 ss = 0;
	int ret = set_state(d->dp, d->key, d->from, d->to, *head, &ss);

	*head = seq_of(ss);
	return ret;
}

static int send_to_source(struct drain *d, __u64 seq)
{
	struct es_mig_record rec;
	int ret = es_mig_record_get(d->dp, d->key, seq, &rec);

	if (!ret)
		ret = es_mig_tunnel_send(d->dp, d->fd, d->dst, seq, &rec);
	if (!ret)
		d->done++;
	return ret;
}

int es_mig_resume(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 cursor,
		  unsigned int *sent)
{
	struct es_mig_session s;
	struct drain d = { .dp = dp, .key = key, .step = send_to_source,
			   .finish = switch_state, .from = ES_MIG_HOLD, .to = ES_MIG_FORWARDING };
	int ret;

	if (sent)
		*sent = 0;
	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	if (state_of(s.seq_state) != ES_MIG_HOLD)
		return -ESTALE;
	ret = set_value(dp, key, ES_MIG_CMD_SET_CURSOR, cursor);
	if (ret)
		return ret;
	es_mig_records_delete(dp, key, 1, cursor);
	d.fd = es_mig_tunnel_open(dp);
	if (d.fd < 0)
		return d.fd;
	d.dst = s.source_addr;
	ret = drain_then_switch(&d, s.hold_seq + 1, seq_of(s.seq_state));
	close(d.fd);
	if (sent)
		*sent = d.done;
	return ret;
}

int es_mig_cursor_set(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 cursor)
{
	struct es_mig_session s;
	int ret;

	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	if (state_of(s.seq_state) != ES_MIG_FORWARDING)
		return -ESTALE;
	if (cursor > seq_of(s.seq_state))
		return -ERANGE;
	ret = set_value(dp, key, ES_MIG_CMD_SET_CURSOR, cursor);
	if (!ret)
		es_mig_records_delete(dp, key, 1, cursor);
	return ret;
}

/*
 * Waits until the restored container has answered all but `window` of the
 * requests replayed up to `sent` (its replies are counted by the reply
 * hook from the cursor on). -ETIMEDOUT when it stops answering.
 */
static int replay_wait_window(const struct es_mig_dp *dp, const struct es_mig_key *key,
			      __u64 cursor, __u64 sent, __u64 window)
{
	const struct timespec step = { .tv_nsec = 200 * 1000 };
	struct es_mig_session s;
	__u64 answered, last = 0;
	long waited_us = 0;
	int ret;

	for (;;) {
		ret = es_mig_session_get(dp, key, &s);
		if (ret)
			return ret;
		answered = s.new_replies;	/* the n-th answers cursor + n */
		if (sent - cursor <= answered + window)
			return 0;
		if (answered != last) {
			last = answered;
			waited_us = 0;
		}
		if (waited_us >= MIG_REPLAY_STALL_MS * 1000L)
			return -ETIMEDOUT;
		nanosleep(&step, NULL);
		waited_us += 200;
	}
}

static int replay_step(struct drain *d, __u64 seq)
{
	struct es_mig_record rec;
	int ret;

	ret = replay_wait_window(d->dp, d->key, d->cursor, seq - 1, MIG_REPLAY_WINDOW);
	if (!ret)
		ret = es_mig_record_get(d->dp, d->key, seq, &rec);
	if (!ret)
		ret = es_mig_inject(d->fd, &rec);
	if (!ret)
		ret = set_value(d->dp, d->key, ES_MIG_CMD_SET_REPLAYED, seq);
	if (!ret)
		d->done++;
	return ret;
}

int es_mig_replay_cutover(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  unsigned int *replayed)
{
	struct es_mig_session s;
	struct drain d = { .dp = dp, .key = key, .step = replay_step, .finish = switch_state,
			   .from = ES_MIG_REPLAYING, .to = ES_MIG_CUTOVER };
	__u64 ss = 0;
	int ret;

	if (replayed)
		*replayed = 0;
	ret = set_state(dp, key, ES_MIG_FORWARDING, ES_MIG_REPLAYING, ES_MIG_ANY_SEQ, &ss);
	if (ret)
		return ret;
	ret = es_mig_session_get(dp, key, &s);
	if (ret)
		return ret;
	d.fd = es_mig_inject_open();
	if (d.fd < 0)
		return d.fd;
	d.cursor = s.cursor;
	ret = drain_then_switch(&d, (s.replayed > s.cursor ? s.replayed : s.cursor) + 1,
				seq_of(ss));
	close(d.fd);
	if (replayed)
		*replayed = d.done;
	return ret;
}

/* Send the records in [from, to] that exist to the source, in order. */
static int send_records(const struct es_mig_dp *dp, const struct es_mig_key *key,
			__u32 dst, __u64 from, __u64 to, unsigned int *sent)
{
	struct es_mig_record rec;
	__u64 seq;
	int fd, ret = 0;

	fd = es_mig_tunnel_open(dp);
	if (fd < 0)
		return fd;
	for (seq = from; seq <= to && !ret; seq++) {
		if (es_mig_record_get(dp, key, seq, &rec))
			continue;
		ret = es_mig_tunnel_send(dp, fd, dst, seq, &rec);
		if (!ret && sent)
			(*sent)++;
	}
	close(fd);
	return ret;
}

/*
 * An abort during HOLD leaves the held requests in the buffer only: send
 * them to the source before anything deletes them (late, and possibly
 * after newer ones, but not lost).
 */
static int send_held_after_abort(const struct es_mig_dp *dp, const struct es_mig_key *key)
{
	struct es_mig_cmd cmd = {};
	struct es_mig_session s;
	int ret;

	ret = es_mig_session_get(dp, key, &s);
	if (ret || !(s.flags & ES_MIG_F_ABORT_HELD))
		return ret;
	ret = send_records(dp, key, s.source_addr, s.hold_seq + 1, s.abort_seq, NULL);
	if (ret)
		return ret;
	cmd.flags = s.flags & ~ES_MIG_F_ABORT_HELD;
	return cmd_run(dp, key, ES_MIG_CMD_CONFIGURE, &cmd);
}

int es_mig_abort(const struct es_mig_dp *dp, const struct es_mig_key *key)
{
	struct es_mig_cmd cmd = {};
	int ret;

	ret = cmd_run(dp, key, ES_MIG_CMD_ABORT, &cmd);
	if (!ret)
		ret = send_held_after_abort(dp, key);
	return ret;
}

int es_mig_finish(const struct es_mig_dp *dp, const struct es_mig_key *key,
		  unsigned int *records_deleted)
{
	struct es_mig_cmd cmd = {};
	int n, ret;

	ret = send_held_after_abort(dp, key);
	if (ret && ret != -ENOENT)
		return ret;
	n = es_mig_records_delete(dp, key, 0, ES_MIG_SEQ_MASK);
	if (records_deleted)
		*records_deleted = n < 0 ? 0 : n;
	ret = cmd_run(dp, key, ES_MIG_CMD_DELETE, &cmd);
	if (!ret)
		ret = es_mig_set_active(dp, false);
	return ret;
}

/* ---- the source-side hold ---- */

int es_mig_remote_get(const struct es_mig_dp *dp, const struct es_mig_key *key,
		      struct es_mig_remote *r)
{
	return bpf_map_lookup_elem(dp->remote_fd, key, r) ? -errno : 0;
}

int es_mig_src_hold(const struct es_mig_dp *dp, const struct es_mig_key *key, __u32 peer_addr,
		    __u64 *hold_at)
{
	struct es_mig_cmd cmd = { .source_addr = peer_addr };
	struct es_mig_remote r;
	int ret;

	ret = es_mig_set_active(dp, true);
	if (!ret)
		ret = cmd_run(dp, key, ES_MIG_CMD_SRC_HOLD, &cmd);
	if (ret && ret != -ESTALE)
		return ret;
	ret = es_mig_remote_get(dp, key, &r);
	if (!ret && hold_at)
		*hold_at = r.hold_at;
	return ret;
}

int es_mig_src_wait_quiet(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  __u64 hold_at, unsigned int timeout_ms)
{
	const struct timespec step = { .tv_nsec = 200 * 1000 };
	__u64 end = mono_ns() + timeout_ms * 1000000ULL;
	struct es_mig_remote r;
	int ret;

	for (;;) {
		ret = es_mig_remote_get(dp, key, &r);
		if (ret)
			return ret;
		if (r.replies >= hold_at)
			return 0;
		if (mono_ns() >= end)
			return -ETIMEDOUT;
		nanosleep(&step, NULL);
	}
}

static int held_get(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 ordinal,
		    struct es_mig_held *h)
{
	struct es_mig_record_key hk = { .session = *key, .seq = ordinal };

	return bpf_map_lookup_elem(dp->held_fd, &hk, h) ? -errno : 0;
}

int es_mig_src_cursor(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 *cursor)
{
	struct es_mig_remote r;
	struct es_mig_held h;
	int ret;

	ret = es_mig_remote_get(dp, key, &r);
	if (ret)
		return ret;
	if (r.flags & ES_MIG_RF_HOLD_BROKEN)
		return -EPROTO;
	if (r.hold_at)
		*cursor = r.last_seq;
	else if (!held_get(dp, key, 1, &h))
		*cursor = h.seq - 1;
	else
		*cursor = ES_MIG_ANY_SEQ;
	return 0;
}

/* A held request, delivered in order; absent: it could not be kept and went at once. */
static int release_held(struct drain *d, __u64 seq)
{
	struct es_mig_record_key hk = { .session = *d->key, .seq = seq };
	struct es_mig_held h;
	int ret;

	if (bpf_map_lookup_elem(d->dp->held_fd, &hk, &h))
		return 0;
	ret = es_mig_inject_packet(d->fd, h.data, h.len);
	if (ret)
		return ret;
	bpf_map_delete_elem(d->dp->held_fd, &hk);
	d->done++;
	return 0;
}

static int release_hold(struct drain *d, __u64 *head)
{
	struct es_mig_cmd cmd = { .expect_seq = *head, .value = d->released + d->done };
	int ret = cmd_run(d->dp, d->key, ES_MIG_CMD_SRC_RELEASE, &cmd);

	*head = seq_of(cmd.seq_state);
	return ret;
}

int es_mig_src_release(const struct es_mig_dp *dp, const struct es_mig_key *key,
		       unsigned int *sent)
{
	struct drain d = { .dp = dp, .key = key, .step = release_held, .finish = release_hold };
	struct es_mig_remote r;
	int ret;

	if (sent)
		*sent = 0;
	ret = es_mig_remote_get(dp, key, &r);
	if (ret)
		return ret;
	if (r.hold >> ES_MIG_STATE_SHIFT != ES_MIG_SRC_HOLD)
		return -ESTALE;
	d.fd = es_mig_inject_open();
	if (d.fd < 0)
		return d.fd;
	d.released = r.released;
	/* an agent that died while releasing goes on after what it delivered */
	ret = drain_then_switch(&d, r.hold_at + r.released + 1, seq_of(r.hold));
	close(d.fd);
	if (sent)
		*sent = d.done;
	return ret;
}

/* ---- the replay buffer ---- */

int es_mig_record_get(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 seq,
		      struct es_mig_record *rec)
{
	struct es_mig_record_key rk = { .session = *key, .seq = seq };

	return bpf_map_lookup_elem(dp->replay_fd, &rk, rec) ? -errno : 0;
}

/* Visit the session's record keys; delete them when del. Count, or -errno. */
static int records_scan(const struct es_mig_dp *dp, const struct es_mig_key *key, __u64 from,
			__u64 to, bool del, __u64 *lowest, __u64 *highest)
{
	struct es_mig_record_key cur, next, *prev = NULL, *hits = NULL, *h;
	size_t n = 0, cap = 0, i;
	int ret = 0;

	while (!bpf_map_get_next_key(dp->replay_fd, prev, &next)) {
		cur = next;
		prev = &cur;
		if (memcmp(&cur.session, key, sizeof(*key)) || cur.seq < from || cur.seq > to)
			continue;
		if (lowest && (!n || cur.seq < *lowest))
			*lowest = cur.seq;
		if (highest && (!n || cur.seq > *highest))
			*highest = cur.seq;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			h = realloc(hits, cap * sizeof(*hits));
			if (!h) {
				ret = -ENOMEM;
				goto out;
			}
			hits = h;
		}
		hits[n++] = cur;
	}
	/* Deleting while walking would restart the walk at the bucket's head. */
	for (i = 0; del && i < n; i++)
		bpf_map_delete_elem(dp->replay_fd, &hits[i]);
	ret = n;
out:
	free(hits);
	return ret;
}

int es_mig_records_delete(const struct es_mig_dp *dp, const struct es_mig_key *key,
			  __u64 from, __u64 to)
{
	return records_scan(dp, key, from, to, true, NULL, NULL);
}

int es_mig_records_count(const struct es_mig_dp *dp, const struct es_mig_key *key,
			 __u64 *lowest, __u64 *highest)
{
	*lowest = *highest = 0;
	return records_scan(dp, key, 0, ES_MIG_SEQ_MASK, false, lowest, highest);
}

/* ---- sending recorded requests ---- */

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static __u32 csum_add(__u32 sum, const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

/* Recompute the UDP checksum of an IPv4 packet in place; -EINVAL if it is not one. */
static int udp4_fix_csum(__u8 *pkt, size_t len)
{
	size_t ihl, ulen;
	__u32 sum;
	__u16 c;

	if (len < 28 || (pkt[0] >> 4) != 4 || pkt[9] != IPPROTO_UDP)
		return -EINVAL;
	ihl = (pkt[0] & 0xf) * 4;
	if (ihl < 20 || len < ihl + 8)
		return -EINVAL;
	ulen = (size_t)pkt[ihl + 4] << 8 | pkt[ihl + 5];
	if (ulen < 8 || ihl + ulen > len)
		return -EINVAL;
	pkt[ihl + 6] = pkt[ihl + 7] = 0;
	sum = csum_add(0, pkt + 12, 8);		/* source and destination addresses */
	sum += IPPROTO_UDP + ulen;
	sum = csum_add(sum, pkt + ihl, ulen);
	c = ~csum_fold(sum);
	if (!c)
		c = 0xffff;
	pkt[ihl + 6] = c >> 8;
	pkt[ihl + 7] = c & 0xff;
	return 0;
}

int es_mig_inject_open(void)
{
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);

	return fd < 0 ? -errno : fd;
}

int es_mig_inject_packet(int fd, const __u8 *data, __u32 len)
{
	__u8 pkt[ES_MIG_RECORD_BYTES];
	struct sockaddr_in dst = { .sin_family = AF_INET };

	if (len < 20 || len > ES_MIG_RECORD_BYTES)
		return -EINVAL;
	memcpy(pkt, data, len);
	if (udp4_fix_csum(pkt, len))
		return -EINVAL;
	memcpy(&dst.sin_addr, pkt + 16, 4);
	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&dst, sizeof(dst)) != (ssize_t)len)
		return -errno;
	return 0;
}

int es_mig_inject(int fd, const struct es_mig_record *rec)
{
	return es_mig_inject_packet(fd, rec->data, rec->len);
}

int es_mig_tunnel_open(const struct es_mig_dp *dp)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct es_mig_node_config cfg;
	int fd, ret;

	ret = es_mig_config_get(dp, &cfg);
	if (ret)
		return ret;
	if (!cfg.local_addr || !cfg.tunnel_port)
		return -ENOTCONN;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	/* The source answers to the outer source address: this node's tunnel address. */
	src.sin_addr.s_addr = cfg.local_addr;
	if (bind(fd, (struct sockaddr *)&src, sizeof(src))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

int es_mig_tunnel_send(const struct es_mig_dp *dp, int fd, __u32 dst, __u64 seq,
		       const struct es_mig_record *rec)
{
	__u8 buf[sizeof(struct es_mig_tunhdr) + ES_MIG_RECORD_BYTES];
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct es_mig_tunhdr th = {};
	struct es_mig_node_config cfg;
	size_t len;
	int ret;

	if (rec->len < 20 || rec->len > ES_MIG_RECORD_BYTES)
		return -EINVAL;
	ret = es_mig_config_get(dp, &cfg);
	if (ret)
		return ret;
	th.magic = htons(ES_MIG_TUN_MAGIC);
	th.version = ES_MIG_TUN_VERSION;
	th.type = ES_MIG_TUN_REQUEST;
	th.seq = htobe64(seq);
	memcpy(buf, &th, sizeof(th));
	memcpy(buf + sizeof(th), rec->data, rec->len);
	if (udp4_fix_csum(buf + sizeof(th), rec->len))
		return -EINVAL;
	len = sizeof(th) + rec->len;
	to.sin_addr.s_addr = dst;
	to.sin_port = cfg.tunnel_port;
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len)
		return -errno;
	return 0;
}

/* ---- names and text ---- */

const char *es_mig_state_name(unsigned int state)
{
	static const char *const names[ES_MIG_STATE_MAX] = {
		"none", "forwarding", "hold", "replaying", "cutover", "aborted",
	};

	return state < ES_MIG_STATE_MAX ? names[state] : "unknown";
}

const char *es_mig_abort_name(unsigned int reason)
{
	static const char *const names[ES_MIG_ABORT_MAX] = {
		"none", "buffer_full", "map_full", "too_big", "agent",
	};

	return reason < ES_MIG_ABORT_MAX ? names[reason] : "unknown";
}

static int endpoint_parse(const char *s, __u32 *addr, __u16 *port)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long p;
	size_t n;

	if (!colon)
		return -EINVAL;
	n = colon - s;
	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, addr) != 1)
		return -EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p > 65535)
		return -EINVAL;
	*port = htons(p);
	return 0;
}

int es_mig_key_parse(const char *text, struct es_mig_key *key, char *err, size_t err_len)
{
	char buf[128], *gt, *slash;

	memset(key, 0, sizeof(*key));
	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf))
		goto bad;
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (strcmp(slash, "udp"))
			goto bad;
	}
	key->proto = IPPROTO_UDP;
	gt = strchr(buf, '>');
	if (!gt)
		goto bad;
	*gt++ = '\0';
	if (endpoint_parse(buf, &key->user_addr, &key->user_port) ||
	    endpoint_parse(gt, &key->svc_addr, &key->svc_port))
		goto bad;
	return 0;
bad:
	if (err)
		snprintf(err, err_len, "session '%s': want USER_ADDR:PORT>SERVICE_ADDR:PORT[/udp]",
			 text);
	return -EINVAL;
}

void es_mig_key_format(const struct es_mig_key *key, char *buf, size_t len)
{
	char u[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &key->user_addr, u, sizeof(u));
	inet_ntop(AF_INET, &key->svc_addr, s, sizeof(s));
	snprintf(buf, len, "%s:%u>%s:%u/udp", u, ntohs(key->user_port), s, ntohs(key->svc_port));
}
