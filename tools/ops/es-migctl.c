// SPDX-License-Identifier: GPL-2.0-only
/*
 * es-migctl: drives the migration data plane by hand, one step per
 * command, through lib/migctl and lib/replay (the calls the agent's migration
 * state machine makes). For tests, drills and operators; see
 * docs/migration.md for the order of the steps.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include "migctl/ctl.h"
#include "migctl/names.h"
#include "migctl/xlate.h"
#include "replay/inject.h"
#include "replay/replay.h"
#include "replay/tcp_replay.h"
#include "tool/opts.h"
#include "tool/tool_util.h"
#include "net/netns.h"
#include "net/udp_rqueue.h"

#define PROG		"es-migctl"
#define KEY_COL		22
#define DEFAULT_PIN	"/sys/fs/bpf/edgeshift"
#define HOLD_WAIT_MS	5000
#define MAX_KEYS	64	/* --session given more than once: tcp-replay's group */

struct opts {
	const char	*pin, *dev, *hook;
	struct es_mig_key keys[MAX_KEYS];	/* each --session; keys[0] the one most verbs take */
	unsigned int	nkeys;
	struct es_mig_svc_key svc;
	bool		has_key, has_svc, no_mirror, forward, mirror, del, json, ts;
	__u32		source[4], local[4], node[4];	/* as es_mig_key's addresses */
	__u16		port;
	uint64_t	limit, seq, timeout_ms, cursor, records, sessions, count;
	uint64_t	seq_delta, ts_delta;
};

/* An IPv4 or IPv6 address into the 16-byte field the option names (o->off). */
static int parse_addr(const struct es_opts *cli, const struct es_opt *o,
		      const char *s, void *conf)
{
	if (!es_mig_addr_parse(s, (__u32 *)((char *)conf + o->off)))
		return 0;
	return es_opts_error(cli, "--%s '%s' is not an IPv4 or IPv6 address", o->name, s);
}

static int parse_svc(const struct es_opts *cli, const struct es_opt *o,
		     const char *s, void *conf)
{
	struct es_mig_svc_key *k = &((struct opts *)conf)->svc;
	struct es_mig_key mk;
	char buf[ES_MIG_KEY_TEXT_LEN], err[ES_MIG_KEY_TEXT_LEN + 96];

	((struct opts *)conf)->has_svc = true;
	snprintf(buf, sizeof(buf), "0.0.0.0:0>%s", s);
	if (es_mig_key_parse(buf, &mk, err, sizeof(err)))
		return es_opts_error(cli, "--%s '%s': want ADDR:PORT", o->name, s);
	memset(k, 0, sizeof(*k));
	memcpy(k->svc_addr, mk.svc_addr, sizeof(k->svc_addr));
	k->svc_port = mk.svc_port;
	k->proto = mk.proto;	/* /tcp after the port, UDP without */
	return 0;
}

static int parse_session(const struct es_opts *cli, const struct es_opt *opt,
			 const char *s, void *conf)
{
	struct opts *o = conf;
	char err[160];

	(void)opt;	/* the message is the key parser's */
	if (o->nkeys == MAX_KEYS)
		return es_opts_error(cli, "--session: more than %d", MAX_KEYS);
	if (es_mig_key_parse(s, &o->keys[o->nkeys], err, sizeof(err)))
		return es_opts_error(cli, "--%s", err);
	o->nkeys++;
	o->has_key = true;
	return 0;
}

static const char verbs[] =
	"  load [--records N] [--sessions N]      load and pin the programs and maps\n"
	"  attach --hook user|usertc|wan|ctr --dev IF  attach one program, pin the link\n"
	"  config --local ADDR --port P [--limit N]  tunnel address/port, default replay bound\n"
	"  service --service ADDR:PORT[/tcp] --node ADDR [--forward] [--mirror] [--limit N] | --del\n"
	"  start --session S --source ADDR [--no-mirror] [--limit N]\n"
	"  hold --session S                       FORWARDING -> HOLD, prints hold_seq\n"
	"  wait --session S --seq N [--timeout-ms T]  until the source answered 1..N\n"
	"  resume --session S --cursor N          cursor, send held requests, FORWARDING\n"
	"  replay --session S                     replay into the local container, cut over\n"
	"  tcp-replay --session S [--timeout-ms T]  the same for a TCP session (JSON); with\n"
	"                                         more than one --session, together in the\n"
	"                                         order their segments arrived\n"
	"  abort | finish | show | records --session S\n"
	"  events [--count N] [--timeout-ms T]    print data plane events\n"
	"  rqueue --service ADDR:PORT             bytes queued on its UDP sockets (this netns)\n"
	"  xlate --session S --seq-delta N [--ts --ts-delta N]  translate a TCP connection\n"
	"  xlate-show | xlate-del --session S     its translation entry (JSON) | remove it\n"
	"  cleanup                                remove the migration pins\n"
	"  S is USER_ADDR:PORT>SERVICE_ADDR:PORT[/udp]\n";

#define F(field)	ES_OPT_AT(struct opts, field)
static const struct es_opt opts[] = {
	ES_OPT_STR(F(pin), "pin", 0, "DIR", "bpffs directory (default " DEFAULT_PIN ")"),
	ES_OPT_FUNC("session", 0, parse_session, "S", "the session"),
	ES_OPT_FUNC("source", 0, parse_addr, "ADDR", "the source node", F(source)),
	ES_OPT_UINT(F(limit), "limit", 0, 1, UINT32_MAX, "N", "replay bound"),
	ES_OPT_BOOL(F(no_mirror), "no-mirror", 0, "start: no mirroring"),
	ES_OPT_STR(F(hook), "hook", 0, "HOOK", "attach: user, usertc, wan or ctr"),
	ES_OPT_STR(F(dev), "dev", 0, "IF", "attach: the interface"),
	ES_OPT_FUNC("local", 0, parse_addr, "ADDR", "config: tunnel address",
		    F(local)),
	ES_OPT_UINT(F(port), "port", 0, 1, 65535, "P", "config: tunnel port"),
	ES_OPT_FUNC("service", 0, parse_svc, "ADDR:PORT", "the service"),
	ES_OPT_FUNC("node", 0, parse_addr, "ADDR", "service: the node serving it",
		    F(node)),
	ES_OPT_BOOL(F(forward), "forward", 0, "service: forward to the node"),
	ES_OPT_BOOL(F(mirror), "mirror", 0, "service: mirror to the node"),
	ES_OPT_BOOL(F(del), "del", 0, "service: remove it"),
	ES_OPT_UINT(F(seq), "seq", 0, 0, ES_MIG_SEQ_MASK, "N", "wait: the last sequence"),
	ES_OPT_UINT(F(timeout_ms), "timeout-ms", 0, 1, 3600000, "T", "wait, events: how long"),
	ES_OPT_UINT(F(cursor), "cursor", 0, 0, ES_MIG_SEQ_MASK, "N", "resume: the cursor"),
	ES_OPT_UINT(F(records), "records", 0, 1, 1 << 22, "N", "load: event records"),
	ES_OPT_UINT(F(sessions), "sessions", 0, 1, 1 << 22, "N", "load: sessions"),
	ES_OPT_UINT(F(count), "count", 0, 1, 1 << 30, "N", "events: how many"),
	ES_OPT_BOOL(F(json), "json", 0, "JSON output"),
	ES_OPT_UINT(F(seq_delta), "seq-delta", 0, 0, UINT32_MAX, "N",
		    "xlate: restored ISN - old ISN (mod 2^32)"),
	ES_OPT_UINT(F(ts_delta), "ts-delta", 0, 0, UINT32_MAX, "N",
		    "xlate: restored TSval - old TSval (mod 2^32)"),
	ES_OPT_BOOL(F(ts), "ts", 0, "xlate: translate TCP timestamps too"),
	{ }
};

static struct es_opts cli = {
	.prog	= PROG,
	.opts	= opts,
	.usage	= "COMMAND [--pin DIR] [options]   (DIR default " DEFAULT_PIN ")",
	.doc	= verbs,
};

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(-err));
	return 1;
}

static int need_key(const struct opts *o)
{
	if (o->has_key)
		return 0;
	return es_opts_error(&cli, "--session is required");
}

static json_t *session_json(const struct es_mig_session *s)
{
	char src[INET6_ADDRSTRLEN];

	es_mig_addr_format(s->source_addr, src, sizeof(src));
	return json_pack("{s:s, s:I, s:s, s:b, s:I, s:I, s:I, s:I, s:i, s:s, s:I, s:b, "
			 "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
			 "state", es_mig_state_name(s->seq_state >> ES_MIG_STATE_SHIFT),
			 "seq", (json_int_t)(s->seq_state & ES_MIG_SEQ_MASK),
			 "source", src, "mirror", !!(s->flags & ES_MIG_F_MIRROR),
			 "cursor", (json_int_t)s->cursor, "replayed", (json_int_t)s->replayed,
			 "hold_seq", (json_int_t)s->hold_seq, "cut_seq", (json_int_t)s->cut_seq,
			 "replay_limit", (int)s->replay_limit,
			 "abort_reason", es_mig_abort_name(s->abort_reason),
			 "abort_seq", (json_int_t)s->abort_seq,
			 "held_unsent", !!(s->flags & ES_MIG_F_ABORT_HELD),
			 "packets",
			 "forwarded", (json_int_t)s->forwarded, "mirrored", (json_int_t)s->mirrored,
			 "held", (json_int_t)s->held, "old_replies", (json_int_t)s->old_replies,
			 "new_replies", (json_int_t)s->new_replies,
			 "reply_base", (json_int_t)s->reply_base,
			 "claims_failed", (json_int_t)s->claims_failed,
			 "suppressed_old", (json_int_t)s->suppressed_old,
			 "suppressed_new", (json_int_t)s->suppressed_new,
			 "tcp_old_late", (json_int_t)s->tcp_old_late,
			 "passed_local", (json_int_t)s->passed_local,
			 "fwd_errors", (json_int_t)s->fwd_errors);
}

static int cmd_show(const struct es_mig_dp *dp, const struct opts *o)
{
	struct es_mig_session s;
	__u64 lo, hi;
	json_t *out;
	int ret, n;

	ret = es_mig_session_get(dp, &o->keys[0], &s);
	if (ret)
		return fail("no such session", ret);
	out = session_json(&s);
	n = es_mig_records_count(dp, &o->keys[0], &lo, &hi);
	json_object_set_new(out, "records", json_pack("{s:i, s:I, s:I}", "count", n,
						      "lowest", (json_int_t)lo,
						      "highest", (json_int_t)hi));
	es_tool_emit(out, o->json, "migration session", KEY_COL);
	json_decref(out);
	return 0;
}

/* Each record: seq, arrival, length, answered bits, and the payload's first 8 bytes. */
static int cmd_records(const struct es_mig_dp *dp, const struct opts *o)
{
	struct es_mig_record rec;
	__u64 lo, hi, seq;
	json_t *arr = json_array(), *out;
	size_t ihl, l4len;
	char hex[17];
	__u8 proto;
	int i;

	if (es_mig_records_count(dp, &o->keys[0], &lo, &hi) > 0) {
		for (seq = lo; seq <= hi; seq++) {
			if (es_mig_record_get(dp, &o->keys[0], seq, &rec))
				continue;
			hex[0] = '\0';
			/* past the IP header (either family) and 8 bytes: a UDP payload */
			if (es_ip_l4(rec.data, rec.len, &ihl, &l4len, &proto))
				ihl = rec.len;
			for (i = 0; i < 8 && ihl + 8 + i < rec.len; i++)
				sprintf(hex + 2 * i, "%02x", rec.data[ihl + 8 + i]);
			json_array_append_new(arr, json_pack("{s:I, s:I, s:i, s:i, s:s}",
				"seq", (json_int_t)seq, "ts_ns", (json_int_t)rec.ts_ns,
				"len", (int)rec.len, "answered", (int)rec.answered, "payload", hex));
		}
	}
	out = json_pack("{s:o}", "records", arr);
	es_tool_emit(out, o->json, "replay buffer", KEY_COL);
	json_decref(out);
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct es_mig_event *ev = data;
	uint64_t *left = ctx;
	char key[ES_MIG_KEY_TEXT_LEN], node[INET6_ADDRSTRLEN];

	if (size < sizeof(*ev))
		return 0;
	es_mig_key_format(&ev->key, key, sizeof(key));
	es_mig_addr_format(ev->node_addr, node, sizeof(node));
	printf("{\"type\":\"%s\",\"session\":\"%s\",\"node\":\"%s\",\"reason\":\"%s\","
	       "\"seq\":%llu}\n", ev->type == ES_MIG_EV_HANDOFF ? "handoff" : "abort", key, node,
	       es_mig_abort_name(ev->reason), (unsigned long long)ev->seq);
	fflush(stdout);
	if (*left)
		(*left)--;
	return *left ? 0 : 1;
}

static int cmd_events(const struct es_mig_dp *dp, const struct opts *o)
{
	uint64_t left = o->count ? o->count : 1, end;
	struct ring_buffer *rb;
	int ret = 0;

	rb = ring_buffer__new(dp->events_fd, on_event, &left, NULL);
	if (!rb)
		return fail("ring buffer", -errno);
	end = es_now_ns() + (o->timeout_ms ? o->timeout_ms : 10000) * NSEC_PER_MSEC;
	while (left && es_now_ns() < end && !es_tool_stop_signal()) {
		ret = ring_buffer__poll(rb, 100);
		if (ret < 0 && ret != -EINTR)
			break;
	}
	ring_buffer__free(rb);
	return left ? 1 : 0;
}

static int cmd_xlate_show(const struct es_mig_dp *dp, const struct opts *o)
{
	struct es_mig_xlate x;
	json_t *out;
	int ret;

	ret = es_mig_xlate_get(dp, &o->keys[0], &x);
	if (ret)
		return fail("xlate-show", ret);
	out = json_pack("{s:I, s:I, s:b, s:b, s:b, s:b, s:I, s:I, s:I, s:I}",
			"seq_delta", (json_int_t)x.seq_delta, "ts_delta", (json_int_t)x.ts_delta,
			"ts", !!(x.flags & ES_MIG_XLATE_TS),
			"fin_in", !!(x.closed & ES_MIG_XLATE_FIN_IN),
			"fin_out", !!(x.closed & ES_MIG_XLATE_FIN_OUT),
			"rst", !!(x.closed & ES_MIG_XLATE_RST), "in_segs", (json_int_t)x.in_segs,
			"out_segs", (json_int_t)x.out_segs, "bad_opts", (json_int_t)x.bad_opts,
			"last_ns", (json_int_t)x.last_ns);
	es_tool_emit(out, o->json, "sequence translation", KEY_COL);
	json_decref(out);
	return 0;
}

static json_t *tcp_replay_json(const struct es_mig_tcp_replay *r,
				const struct es_mig_tcp_verdict *v)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:I, s:b, s:I, s:I}", "injected", r->injected,
			 "again", r->again, "probes", r->probes, "acks_lowered", r->acks_lowered,
			 "cut_seq", (json_int_t)r->cut_seq, "passed", v->passed,
			 "matched", (json_int_t)v->matched, "diverged", (json_int_t)v->diverged);
}

/*
 * One session replayed on its own (es_mig_tcp_replay), its figures; more
 * than one replayed together (es_mig_tcp_replay_group):
 * {passed, sessions: [each as for one]}.
 */
static int cmd_tcp_replay(const struct es_mig_dp *dp, const struct opts *o)
{
	unsigned int i, n = o->nkeys, ms = o->timeout_ms ? o->timeout_ms : 10000;
	struct es_mig_tcp_replay r[MAX_KEYS];
	struct es_mig_tcp_verdict v;
	json_t *out, *each = json_array();
	bool passed = true;
	int ret;

	ret = n > 1 ? es_mig_tcp_replay_group(dp, o->keys, n, ms, true, r) :
		      es_mig_tcp_replay(dp, &o->keys[0], ms, true, &r[0]);
	if (ret) {
		json_decref(each);
		return fail("tcp-replay", ret);
	}
	for (i = 0; i < n; i++) {
		ret = es_mig_tcp_verify(dp, &o->keys[i], &v);
		if (ret) {
			json_decref(each);
			return fail("tcp-replay: verify", ret);
		}
		passed &= v.passed;
		json_array_append_new(each, tcp_replay_json(&r[i], &v));
	}
	if (n > 1) {
		out = json_pack("{s:b, s:o}", "passed", passed, "sessions", each);
	} else {
		out = json_incref(json_array_get(each, 0));
		json_decref(each);
	}
	es_tool_emit(out, o->json, "tcp replay", KEY_COL);
	json_decref(out);
	return 0;
}

static int cmd_session(const struct es_mig_dp *dp, const char *cmd, const struct opts *o)
{
	unsigned int n = 0;
	__u64 seq = 0;
	int ret;

	if (need_key(o))
		return 2;
	if (!strcmp(cmd, "start")) {
		if (!es_mig_addr_set(o->source))
			return es_opts_error(&cli, "start needs --source") ? 2 : 2;
		ret = es_mig_start(dp, &o->keys[0], o->source, !o->no_mirror, o->limit);
	} else if (!strcmp(cmd, "hold")) {
		ret = es_mig_hold(dp, &o->keys[0], &seq);
		if (!ret)
			printf("%llu\n", (unsigned long long)seq);
	} else if (!strcmp(cmd, "wait")) {
		ret = es_mig_wait_answered(dp, &o->keys[0], o->seq,
					   o->timeout_ms ? o->timeout_ms : HOLD_WAIT_MS);
	} else if (!strcmp(cmd, "resume")) {
		ret = es_mig_resume(dp, &o->keys[0], o->cursor, &n);
		if (!ret)
			printf("%u\n", n);
	} else if (!strcmp(cmd, "replay")) {
		ret = es_mig_replay_cutover(dp, &o->keys[0], &n);
		if (!ret)
			printf("%u\n", n);
	} else if (!strcmp(cmd, "abort")) {
		ret = es_mig_abort(dp, &o->keys[0]);
	} else if (!strcmp(cmd, "finish")) {
		ret = es_mig_finish(dp, &o->keys[0], &n);
		if (!ret)
			printf("%u\n", n);
	} else if (!strcmp(cmd, "tcp-replay")) {
		return cmd_tcp_replay(dp, o);
	} else if (!strcmp(cmd, "xlate")) {
		ret = es_mig_xlate_add(dp, &o->keys[0], o->seq_delta, o->ts_delta,
				       o->ts ? ES_MIG_XLATE_TS : 0);
	} else if (!strcmp(cmd, "xlate-show")) {
		return cmd_xlate_show(dp, o);
	} else if (!strcmp(cmd, "xlate-del")) {
		ret = es_mig_xlate_del(dp, &o->keys[0]);
	} else if (!strcmp(cmd, "show")) {
		return cmd_show(dp, o);
	} else if (!strcmp(cmd, "records")) {
		return cmd_records(dp, o);
	} else {
		return es_opts_error(&cli, "unknown command '%s'", cmd) ? 2 : 2;
	}
	return ret ? fail(cmd, ret) : 0;
}

static int cmd_rqueue(const struct opts *o)
{
	unsigned int sockets;
	uint64_t bytes;
	json_t *out;
	int ret;

	if (!o->has_svc)
		return es_opts_error(&cli, "rqueue needs --service") ? 2 : 2;
	ret = es_udp_rqueue(ES_NETNS_OWN, es_mig_in6(o->svc.svc_addr), o->svc.svc_port, &bytes,
			    &sockets);
	if (ret)
		return fail("sock_diag", ret);
	out = json_pack("{s:I, s:i}", "bytes", (json_int_t)bytes, "sockets", (int)sockets);
	es_tool_emit(out, o->json, "receive queue", KEY_COL);
	json_decref(out);
	return 0;
}

static int cmd_load(const struct opts *o)
{
	struct es_mig_load_opts lo = { .sessions = o->sessions, .records = o->records };
	struct migration *skel;
	char err[512];

	if (es_mig_load(o->pin, &lo, &skel, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	es_mig_unload(skel);
	return 0;
}

static int cmd_attach(const struct opts *o)
{
	unsigned int ifindex, h;
	char err[512];

	for (h = 0; h < ES_MIG_HOOK_MAX; h++)
		if (o->hook && !strcmp(o->hook, es_mig_hook_name(h)))
			break;
	if (h == ES_MIG_HOOK_MAX)
		return es_opts_error(&cli, "--hook must be user, usertc, wan or ctr") ? 2 : 2;
	ifindex = o->dev ? if_nametoindex(o->dev) : 0;
	if (!ifindex)
		return es_opts_error(&cli, "--dev '%s': no such interface",
					   o->dev ? o->dev : "") ? 2 : 2;
	if (es_mig_attach(o->pin, h, ifindex, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	return 0;
}

static int cmd_maps(const struct es_mig_dp *dp, const char *cmd, const struct opts *o)
{
	__u32 flags;
	int ret;

	if (!strcmp(cmd, "config")) {
		if (!es_mig_addr_set(o->local) || !o->port)
			return es_opts_error(&cli, "config needs --local and --port") ? 2 : 2;
		ret = es_mig_config_set(dp, o->local, o->port, o->limit ? o->limit : 1024);
		return ret ? fail("config", ret) : 0;
	}
	if (!strcmp(cmd, "events"))
		return cmd_events(dp, o);
	if (!strcmp(cmd, "service")) {
		if (!o->has_svc)
			return es_opts_error(&cli, "service needs --service") ? 2 : 2;
		if (o->del) {
			ret = es_mig_service_del(dp, &o->svc);
			return ret ? fail("service", ret) : 0;
		}
		if (!es_mig_addr_set(o->node))
			return es_opts_error(&cli, "service needs --node") ? 2 : 2;
		flags = (o->forward ? ES_MIG_SVC_FORWARD : 0) | (o->mirror ? ES_MIG_SVC_MIRROR : 0);
		ret = es_mig_service_set(dp, &o->svc, o->node, flags, o->limit);
		return ret ? fail("service", ret) : 0;
	}
	return cmd_session(dp, cmd, o);
}

int main(int argc, char **argv)
{
	struct opts o = { .pin = DEFAULT_PIN };
	struct es_mig_dp dp;
	const char *cmd;
	char err[512];
	int n, ret;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		es_opts_help(&cli, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	cli.mode = cmd;
	n = es_opts_parse(&cli, argc - 1, argv + 1, &o);
	if (n <= 0)
		return n ? 2 : 0;
	es_tool_setup_signals(true);
	if (!strcmp(cmd, "load"))
		return cmd_load(&o);
	if (!strcmp(cmd, "attach"))
		return cmd_attach(&o);
	if (!strcmp(cmd, "cleanup"))
		return es_mig_cleanup_pins(o.pin) ? 1 : 0;
	if (!strcmp(cmd, "rqueue"))
		return cmd_rqueue(&o);
	if (es_mig_dp_open(&dp, o.pin, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	ret = cmd_maps(&dp, cmd, &o);
	es_mig_dp_close(&dp);
	return ret;
}
