#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make drill`: the scripted zero-downtime migration drill (docs/drills.md).
#
#   tools/drill/drill.sh [SCENARIO.json] [--rate R] [--count N] [--handoff-at K]
#                  [--mode partial|complete] [--delay-ms D] [--wan-rate R]
#                  [--fault KIND] [--fault-at PHASE] [--outage-s S] [--retry]
#                  [--replay-limit N] [--retry-replay-limit N] [--retry-to-other]
#                  [--replay-order arrival|connection] [--service-replies N] [--quiet-every K]
#                  [--service udp|tcp|redis|http] [--service-clock] [--connections N]
#                  [--pipeline P] [--others-count N] [--hold-connections] [--after-hold N]
#                  [--records N]
#                  [--ab N | --redis-benchmark N] [--ab-concurrency C] [--ab-pace R]
#                  [--wan-loss [requests:|replies:]P] [--ipv6] [--node-ipv6]
#                  [--out DIR] [--json] [--quiet]
#
# --retry-replay-limit N (with --fault buffer_full --retry): before the
# retry, node 2's agent is restarted with zero_downtime.replay_limit N, as
# an operator would raise it after a "replay buffer full" failure.
# --retry-to-other (with --retry, IPv4): the site has a third node, node 3,
# linked to node 1 beside the WAN, with an access point of its own; before
# the retry the user moves on to it and the retry goes to node 3: a failed
# migration keeps node 1's es_mig_remote entries, which name node 2, and
# the retry must name node 3 in them (site.retry_remote counts them).
# --service redis runs Debian's redis-server, unmodified, instead of
# es-counter; the user's connections each INCR a key of their own.
# --service http runs es-counter --http (HTTP/1.1 keep-alive, a counter
# per key); each connection GETs /incr/KEY of its own. --ab N (HTTP): the
# user also runs `ab -k -c C -n N` against /incr/ab through the handoff
# and the migration, its connections opened before the handoff;
# --redis-benchmark N (Redis): `redis-benchmark -c C -n N INCR ab` the same
# way. Their C connections share the key ab.
# --connections N (TCP services): the user keeps N connections, each
# sending at the rate; the migration carries all of them. --pipeline P:
# each connection writes P requests at a time (redis-benchmark -P).
# --others-count N: the other connections send N requests and close (the
# user closes connections while the container moves). --hold-connections:
# every connection stays open after its last answer until the migration
# has ended; with a small --others-count, the other connections are idle
# while they move. --after-hold N: once the hold ends, each connection
# sends N more requests, which the container that serves it now answers.
# --late-connections N (redis, http): N more connections opened once the
# checkpoint is taken (the source resumed), each sending at the rate for
# 3 s: connections opened in the window, which the migration takes in and
# the target replays from their SYN. --late-every MS: instead, one every
# MS ms from then until the source's cut-over step (at most N): some open
# while the source takes connections in, some at its seal, some while the
# seal holds new users (docs/migration.md, "The seal"). --late-count N:
# each late connection sends N requests, then closes (default 3 s' worth).
# --ipv6: the user and the service are IPv6 (docs/migration.md, "IPv6
# users and services").
# --node-ipv6: the nodes' link, their agents' URLs and so the migration's
# tunnel are IPv6 (an IPv6-only cluster with --ipv6; docs/migration.md,
# "Tunnel").
# The emulated site: a user namespace with two access links (old AP to
# node 1, new AP to node 2), two edge nodes each running edgeshiftd with the
# migration data plane, the WAN emulator between the nodes (the scenario's
# one-way delay, so 2x of it is the RTT, and rate). The reference service
# (es-counter) runs in a runc container on node 1; the user sends requests
# at the scenario's rate and hands off to node 2 at request K; node 2's data
# plane sees the user, forwards and buffers its requests and its agent asks
# node 1 to migrate the service; the report tells what the user saw.
# Exit status: 0 when nothing was lost or answered twice and the counter
# check passed (and, for a fault scenario, the migration failed cleanly).
. "$(dirname "$0")/../../selftests/lib.sh"
# shellcheck source=tools/drill/drill-ab.inc
. "$(dirname "$0")/drill-ab.inc"

SCENARIO=$ES_ROOT/tools/drill/plans/default.json
OUT=""
JSON=0
QUIET=0
declare -A OVR=()
while [ $# -gt 0 ]; do
	case "$1" in
	--rate) OVR[rate]=$2; shift 2 ;;
	--count) OVR[count]=$2; shift 2 ;;
	--handoff-at) OVR[handoff_at]=$2; shift 2 ;;
	--mode) OVR[mode]=$2; shift 2 ;;
	--delay-ms) OVR[delay_ms]=$2; shift 2 ;;
	--wan-rate) OVR[wan_rate]=$2; shift 2 ;;
	--fault) OVR[fault]=$2; shift 2 ;;
	--fault-at) OVR[fault_at]=$2; shift 2 ;;
	--outage-s) OVR[outage_s]=$2; shift 2 ;;
	--replay-limit) OVR[replay_limit]=$2; shift 2 ;;
	--replay-order) OVR[replay_order]=$2; shift 2 ;;
	--retry) OVR[retry]=true; shift ;;
	--retry-replay-limit) OVR[retry_replay_limit]=$2; shift 2 ;;
	--retry-to-other) OVR[retry_to_other]=true; shift ;;
	--service-replies) OVR[udp_replies]=$2; shift 2 ;;
	--quiet-every) OVR[quiet_every]=$2; shift 2 ;;
	--service) OVR[protocol]=$2; shift 2 ;;
	--service-clock) OVR[reply_clock]=true; shift ;;
	--connections) OVR[connections]=$2; shift 2 ;;
	--pipeline) OVR[pipeline]=$2; shift 2 ;;
	--others-count) OVR[others_count]=$2; shift 2 ;;
	--hold-connections) OVR[hold_connections]=true; shift ;;
	--after-hold) OVR[after_hold]=$2; shift 2 ;;
	--late-connections) OVR[late_connections]=$2; shift 2 ;;
	--late-every) OVR[late_every_ms]=$2; shift 2 ;;
	--late-count) OVR[late_count]=$2; shift 2 ;;
	--records) OVR[records]=$2; shift 2 ;;
	--wan-loss) OVR[wan_loss]=$2; shift 2 ;;
	--ipv6) OVR[family]=6; shift ;;
	--node-ipv6) OVR[node_family]=6; shift ;;
	--pod-network) OVR[pod_network]=true; shift ;;
	--node-network) OVR[pod_network]=false; shift ;;
	--ab|--redis-benchmark) OVR[ab_requests]=$2; shift 2 ;;
	--ab-concurrency) OVR[ab_concurrency]=$2; shift 2 ;;
	--ab-pace) OVR[ab_pace]=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--json) JSON=1; shift ;;
	--quiet) QUIET=1; shift ;;
	-h|--help) sed -n 's/^#   //p' "$0" >&2; exit 0 ;;
	-*) echo "drill: unknown option $1" >&2; exit 2 ;;
	*) SCENARIO=$1; shift ;;
	esac
done
if ! [ -r "$SCENARIO" ] || ! jq -e . "$SCENARIO" >/dev/null; then
	echo "drill: $SCENARIO is not readable JSON" >&2
	exit 2
fi
sc() { local v=${OVR[$1]:-}; [ -n "$v" ] && { echo "$v"; return; }; jq -r "$2 // \"$3\"" "$SCENARIO"; }
RATE=$(sc rate .rate 10)
COUNT=$(sc count .count 200)
HANDOFF=$(sc handoff_at .handoff_at 50)
MODE=$(sc mode .mode partial)
DELAY=$(sc delay_ms .wan.delay_ms 100)
WRATE=$(sc wan_rate .wan.rate 10MB/s)
# loss on the WAN, percent: both directions, or only the tunnel's requests
# (node 2 -> node 1) or replies (node 1 -> node 2); the agents' own
# connections cross it too
WLOSS=$(sc wan_loss .wan.loss 0)
case "$WLOSS" in
requests:*) WLOSS_OPT=(--b2a-loss "${WLOSS#requests:}") ;;
replies:*) WLOSS_OPT=(--a2b-loss "${WLOSS#replies:}") ;;
*) WLOSS_OPT=(--loss "$WLOSS") ;;
esac
# How long the user's clients keep listening after their last request (they
# stop as soon as all are answered). Over a lossy WAN a request can wait
# for a lost one before it, for as long as the agents' own recovery bound
# (gap_timeout_ms, 10 s: then it is given up, loudly); a user who stopped
# listening sooner would count as lost a request that was answered.
DRAIN_MS=$((4 * DELAY + 3000))
[ "${WLOSS##*:}" != 0 ] && DRAIN_MS=$((DRAIN_MS + 10000))
MEM_MB=$(sc mem_mb .service.mem_mb 8)
WRITE_KB=$(sc write_kb .service.write_kb 256)
IMAGE_MB=$(sc image_mb .service.image_mb 0)
LIMIT=$(sc replay_limit .replay_limit 4096)
# the target's order of a migration's TCP connections: arrival or connection
REPLAY_ORDER=$(sc replay_order .replay_order arrival)
# the replay buffer's records for all sessions of a node (zero_downtime.records)
RECORDS=$(sc records .records 8192)
FAULT=$(sc fault '.faults[0].kind' none)
FAULT_AT=$(sc fault_at '.faults[0].at' transfer)
# wan_outage: the WAN drops everything (loss=100) for this long
OUTAGE_S=$(sc outage_s '.faults[0].seconds' 3)
# after the fault, once the migration has failed, ask for it again by hand
RETRY=$(sc retry .retry false)
# the target's replay_limit for the retry (node 2's agent restarted with it); 0: unchanged
RETRY_LIMIT=$(sc retry_replay_limit .retry_replay_limit 0)
# the retry goes to node 3, a third node, instead of node 2
RETRY_OTHER=$(sc retry_to_other .retry_to_other false)
# datagrams the service answers each request with (es-counter --udp-replies)
REPLIES=$(sc udp_replies .service.udp_replies 1)
# every K-th request wants no reply (es-counter's "SEQ n QUIET"); 0: none
QUIET_EVERY=$(sc quiet_every .service.quiet_every 0)
# the user's session: datagrams, or one TCP connection that must live
# through the migration (CRIU carries it: the container's tcp_established)
PROTO=$(sc protocol .service.protocol udp)
# replies that carry the time: the restored container's bytes differ from
# the old one's, which the migration must detect and give up on
CLOCK=$(sc reply_clock .service.reply_clock false)
# connections the user keeps to a TCP service, each at RATE
CONNS=$(sc connections .service.connections 1)
# requests each of the other connections sends before it closes
OTHERS_COUNT=$(sc others_count .service.others_count "$COUNT")
# the connections stay open once answered, until the migration has ended
HOLD_CONNS=$(sc hold_connections .service.hold_connections false)
# requests each connection sends once its hold has ended
AFTER_HOLD=$(sc after_hold .service.after_hold 0)
# requests each connection writes at a time
PIPELINE=$(sc pipeline .service.pipeline 1)
# connections opened after the migration began forwarding
LATE=$(sc late_connections .service.late_connections 0)
# 0: all at once; else one every LATE_EVERY ms until the cut-over
LATE_EVERY=$(sc late_every_ms .service.late_every_ms 0)
# requests each late connection sends before it closes; 0: 3 s at the rate
LATE_COUNT=$(sc late_count .service.late_count 0)
# ab -k through the migration (HTTP): requests, connections, and the
# requests per second its connections make through the old access point
# before the handoff (ab has no rate of its own: unpaced it would finish
# before the handoff on a local link)
# (the plan's "load", or "ab" as HTTP plans name it)
AB_N=$(sc ab_requests '(.load // .ab).requests' 0)
AB_C=$(sc ab_concurrency '(.load // .ab).concurrency' 1)
AB_PACE=$(sc ab_pace '(.load // .ab).pace' 40)
case "$PROTO" in
udp) SESSION_SUFFIX=""; CLIENT_PROTO=(); TCP_EST=false ;;
tcp) SESSION_SUFFIX=/tcp; CLIENT_PROTO=(--tcp); TCP_EST=true ;;
redis) SESSION_SUFFIX=/tcp; CLIENT_PROTO=(--redis key1); TCP_EST=true ;;
http) SESSION_SUFFIX=/tcp; CLIENT_PROTO=(--http key1); TCP_EST=true ;;
*) echo "drill: --service must be udp, tcp, redis or http, not '$PROTO'" >&2; exit 2 ;;
esac
if ! [[ "$PIPELINE" =~ ^[0-9]+$ ]] || [ "$PIPELINE" -lt 1 ] || [ "$PIPELINE" -gt 64 ] ||
	{ [ "$PROTO" = udp ] && [ "$PIPELINE" != 1 ]; }; then
	echo "drill: --pipeline must be 1 to 64, and 1 for a UDP service" >&2
	exit 2
fi
[ "$PIPELINE" -gt 1 ] && CLIENT_PROTO+=(--pipeline "$PIPELINE")
if ! [[ "$CONNS" =~ ^[0-9]+$ ]] || [ "$CONNS" -lt 1 ] || [ "$CONNS" -gt 100 ] ||
	{ [ "$PROTO" != redis ] && [ "$PROTO" != http ] && [ "$CONNS" != 1 ]; }; then
	# es-counter's line protocol keeps one counter for the service: each
	# connection's replies could not be checked against its own requests
	echo "drill: --connections must be 1 to 100, and 1 unless the service is redis or http" >&2
	exit 2
fi
if ! [[ "$LATE" =~ ^[0-9]+$ ]] || [ "$LATE" -gt 100 ] ||
	{ [ "$LATE" -gt 0 ] && [ "$PROTO" != redis ] && [ "$PROTO" != http ]; }; then
	echo "drill: --late-connections must be 0 to 100, and 0 unless the service is redis or http" >&2
	exit 2
fi
if ! [[ "$RETRY_LIMIT" =~ ^[0-9]+$ ]] || [ "$RETRY_LIMIT" -gt 1000000 ] ||
	{ [ "$RETRY_LIMIT" -gt 0 ] && { [ "$FAULT" != buffer_full ] || [ "$RETRY" != true ]; }; }; then
	echo "drill: --retry-replay-limit must be 0 to 1000000, and needs --fault buffer_full --retry" >&2
	exit 2
fi
if ! [[ "$AFTER_HOLD" =~ ^[0-9]+$ ]] || [ "$AFTER_HOLD" -gt 10000 ] ||
	{ [ "$AFTER_HOLD" -gt 0 ] && { [ "$PROTO" = udp ] ||
		{ [ "$RETRY" != true ] && [ "$HOLD_CONNS" != true ]; }; }; }; then
	echo "drill: --after-hold must be 0 to 10000, and needs a TCP service and --retry or --hold-connections" >&2
	exit 2
fi
if ! [[ "$LATE_EVERY" =~ ^[0-9]+$ ]] || [ "$LATE_EVERY" -gt 10000 ] ||
	{ [ "$LATE_EVERY" -gt 0 ] && [ "$LATE" = 0 ]; }; then
	echo "drill: --late-every must be 0 to 10000 ms, and needs --late-connections" >&2
	exit 2
fi
if ! [[ "$LATE_COUNT" =~ ^[0-9]+$ ]] || [ "$LATE_COUNT" -gt 100000 ]; then
	echo "drill: --late-count must be 0 to 100000" >&2
	exit 2
fi
[ "$LATE_COUNT" = 0 ] && LATE_COUNT=$((RATE * 3))
# one migration carries at most 256 connections (docs/migration.md)
# the load client: ab for HTTP, redis-benchmark for Redis
AB_TOOL=ab
[ "$PROTO" = redis ] && AB_TOOL=redis-benchmark
if ! [[ "$AB_N$AB_C$AB_PACE" =~ ^[0-9]+$ ]] || [ "$AB_C" -lt 1 ] || [ "$AB_PACE" -lt 1 ] ||
	{ [ "$AB_N" -gt 0 ] && { { [ "$PROTO" != http ] && [ "$PROTO" != redis ]; } ||
		[ "$AB_N" -lt "$AB_C" ] || [ $((CONNS + AB_C + LATE)) -gt 256 ]; }; }; then
	echo "drill: --ab N (--redis-benchmark N) needs --service http (redis), N at least --ab-concurrency C, C + connections + late connections at most 256, a pace of 1/s or more" >&2
	exit 2
fi
# the family of the user's and the service's addresses: 4, or 6 (--ipv6)
FAMILY=$(sc family .family 4)
if [ "$FAMILY" != 4 ] && [ "$FAMILY" != 6 ]; then
	echo "drill: the family must be 4 or 6 (--ipv6)" >&2
	exit 2
fi
# the family of the nodes' addresses and the tunnel's: 4, or 6 (--node-ipv6)
NODE_FAMILY=$(sc node_family .node_family 4)
if [ "$NODE_FAMILY" != 4 ] && [ "$NODE_FAMILY" != 6 ]; then
	echo "drill: node_family must be 4 or 6 (--node-ipv6)" >&2
	exit 2
fi
# the service's container in a pod namespace of its own, wired by
# edgeshift-cni on each node (docs/migration.md, "Pod networks"), or in
# the node's namespace (--node-network, scenario key pod_network: false)
POD_NET=$(sc pod_network .pod_network true)
if [ "$POD_NET" != true ] && [ "$POD_NET" != false ]; then
	echo "drill: pod_network must be true or false" >&2
	exit 2
fi
# the nodes: a third one only for a retry that goes there
NODES="1 2"
NEW_N=2
if [ "$RETRY_OTHER" = true ]; then
	if [ "$RETRY" != true ] || [ "$FAMILY" != 4 ] || [ "$NODE_FAMILY" != 4 ]; then
		echo "drill: --retry-to-other needs --retry, and IPv4 users and nodes" >&2
		exit 2
	fi
	NODES="1 2 3"
	NEW_N=3
fi
if [ "$HOLD_CONNS" != true ] && [ "$HOLD_CONNS" != false ]; then
	echo "drill: service.hold_connections must be true or false" >&2
	exit 2
fi
NAME=$(jq -r '.name // "drill"' "$SCENARIO")
[ -n "$OUT" ] || OUT=$ES_BUILD/drill/$NAME
mkdir -p "$OUT"
rm -f "$OUT"/*.log "$OUT"/*.json* "$OUT"/*.svg "$OUT/hold.ended"

say() { [ "$QUIET" = 1 ] || printf '\033[1m== %s\033[0m\n' "$*" >&2; }
die() { echo "drill: $*" >&2; exit 1; }
command -v criu >/dev/null || die "criu missing (bash tools/setup/install-deps)"
command -v runc >/dev/null || die "runc missing (bash tools/setup/install-deps)"

# ---- the site ----
N=10.$((200 + RANDOM % 40)).$((RANDOM % 250))
USER_IP=172.31.$((RANDOM % 250)).2
SVC=172.30.$((RANDOM % 250)).1
W1=$N.1
W2=$N.2
AP1=10.$((160 + RANDOM % 30)).$((RANDOM % 250))
AP2=10.$((190 + RANDOM % 10)).$((RANDOM % 250))
# --retry-to-other: node 3's access point and its link to node 1 (W3)
AP3=10.$((150 + RANDOM % 10)).$((RANDOM % 250))
N3=10.$((240 + RANDOM % 10)).$((RANDOM % 250))
W3=$N3.3
# IPv6 groups from 1: a group of 0 is written as "::" (fd00:31::2), and
# the drills' checks, and one's eyes, want each address in one spelling
if [ "$NODE_FAMILY" = 6 ]; then
	N=fd00:b0:$((1 + RANDOM % 250))
	W1=$N::1
	W2=$N::2
fi
if [ "$FAMILY" = 6 ]; then
	USER_IP=fd00:31:$((1 + RANDOM % 250))::2
	SVC=fd00:30:$((1 + RANDOM % 250))::1
	AP1_6=fd00:a1:$((1 + RANDOM % 250))::
	AP2_6=fd00:a2:$((1 + RANDOM % 250))::
fi
# pod mode: the pods' subnet (the service's address is a pod's) and
# their gateway, the node's side
POD_PLEN=24 POD_GW=${SVC%.1}.254 POD_DEFAULT=0.0.0.0/0
[ "$FAMILY" = 6 ] && POD_PLEN=64 POD_GW=${SVC%::1}::fe POD_DEFAULT=::/0
# ep ADDR PORT: an endpoint as the tools take it, an IPv6 address in brackets
ep() { case "$1" in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }
# the agents listen on every address of the nodes' family (the IPv6
# wildcard takes IPv4 too: their own API calls go to 127.0.0.1)
LISTEN=0.0.0.0
[ "$NODE_FAMILY" = 6 ] && LISTEN=::
PORT=9464
SVC_PORT=7000
USER_PORT=$((20000 + RANDOM % 20000))
TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
NODE1=$ES_PREFIX-node1
NODE2=$ES_PREFIX-node2
NODE3=$ES_PREFIX-node3
ST1=$ES_TMP/state-1
ST2=$ES_TMP/state-2
ST3=$ES_TMP/state-3
# the node namespaces
NODE_NS=()
for n in $NODES; do NODE_NS+=("n$n"); done
export EDGESHIFT_TOKEN=$TOKEN
OTHER_PIDS=()

drill_cleanup() {
	site_hold
	# each pid with its start time: one the drill already waited for may
	# name another test's process by now (es_pid_start in lib.sh)
	[ -n "${FAULT_PID:-}" ] && es_kill_ours "$FAULT_PID" "$FAULT_START"
	# the clients let go first: a hold ends with the drill
	[ -n "$OUT" ] && touch "$OUT/hold.ended" 2>/dev/null
	[ -n "${HOLD_PID:-}" ] && es_kill_tree "$HOLD_PID" "$HOLD_START"
	# ab or redis-benchmark is the child of the es_in subshell recorded
	[ -n "${AB_PID:-}" ] && es_kill_tree "$AB_PID" "$AB_START"
	# both write into $OUT: not after the drill, while its caller removes it
	[ -n "${DP_DUMP_PID:-}" ] && es_kill_tree "$DP_DUMP_PID" "$DP_DUMP_START"
	[ -n "${LATE_PID:-}" ] && es_kill_tree "$LATE_PID" "$LATE_START"
	# each is a subshell around nsenter: its child is the client
	for pid in "${OTHER_PIDS[@]}"; do
		# shellcheck disable=SC2086 # "pid start"
		es_kill_tree $pid
	done
	es_runc_cleanup "$ST1" "$ST2" "$ST3"
	cp "$ES_TMP"/agent-*.log "$OUT/" 2>/dev/null
	es_cleanup
}
trap drill_cleanup EXIT

# ES_DRILL_SITE=FILE (a tool watching the drill, such as the console's
# test): once both agents answer, the drill writes FILE (shell
# assignments: each node's namespace, its agent's URL as seen from node 1,
# the agents' token) and, at its end, keeps the site up while FILE exists
# (ES_DRILL_SITE_HOLD_S, default 120 s, at most), so the watcher can still
# read the agents.
site_write() {
	[ -n "${ES_DRILL_SITE:-}" ] || return 0
	(umask 077; printf 'DRILL_NS1=%s\nDRILL_NS2=%s\nDRILL_URL1=%s\nDRILL_URL2=%s\nDRILL_TOKEN=%s\n' \
		"$(es_ns n1)" "$(es_ns n2)" "http://127.0.0.1:$PORT" "http://$(ep "$W2" $PORT)" "$TOKEN" \
		>"$ES_DRILL_SITE.tmp") && mv "$ES_DRILL_SITE.tmp" "$ES_DRILL_SITE"
}
site_hold() {
	[ -n "${ES_DRILL_SITE:-}" ] || return 0
	for _ in $(seq $((${ES_DRILL_SITE_HOLD_S:-120} * 10))); do
		[ -e "$ES_DRILL_SITE" ] || break
		sleep 0.1
	done
}

say "site: user $(es_ns u), node 1 $(es_ns n1), node 2 $(es_ns n2), WAN $(es_ns wan) ($((2 * DELAY)) ms RTT, $WRATE)"
for ns in u "${NODE_NS[@]}"; do es_netns_add "$ns" || die "namespace $ns"; done
# IPv6 where either family needs it; no duplicate address detection: a
# node forwards to the user only once its link-local address is no
# longer tentative
V6_NS=()
[ "$FAMILY" = 6 ] && V6_NS=(u n1 n2)
[ "$FAMILY" = 4 ] && [ "$NODE_FAMILY" = 6 ] && { es_no_ipv6 u; V6_NS=(n1 n2); }
[ "$FAMILY" = 4 ] && [ "$NODE_FAMILY" = 4 ] && es_no_ipv6 u "${NODE_NS[@]}"
for ns in "${V6_NS[@]}"; do
	es_in $ns sysctl -q -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	# the nodes route IPv6 (the XDP route look-up wants forwarding on too)
	[ $ns = u ] || es_in $ns sysctl -q -w net.ipv6.conf.all.forwarding=1
done
# the tunnel adds 44 bytes to a user's packet over IPv4, 64 over IPv6:
# the nodes' link carries full-sized ones (docs/migration.md, "Tunnel")
ENCAP=44
[ "$NODE_FAMILY" = 6 ] && ENCAP=64
ES_WAN_MTU=$((1500 + ENCAP)) es_wan n1 "$W1" n2 "$W2" --delay-ms "$DELAY" --rate "$WRATE" \
	"${WLOSS_OPT[@]}" >/dev/null || die "WAN emulator"
V6_1=() V6_2=()
[ "$FAMILY" = 6 ] && V6_1=("${AP1_6}2" "${AP1_6}1") V6_2=("${AP2_6}2" "${AP2_6}1")
es_veth u ua "$AP1.2" n1 ap "$AP1.1" "${V6_1[@]}" || die "access link 1"
es_veth u ub "$AP2.2" n2 ap "$AP2.1" "${V6_2[@]}" || die "access link 2"
# node 3's link to node 1, beside the WAN and without its delay: the retry
# to node 3 tests where node 1 sends, not how long that takes; node 3
# reaches node 1's tunnel address (on the WAN's link) through it
node3_link() {
	ip link add "$(es_ifname x3)" netns "$(es_ns n1)" type veth peer name "$(es_ifname x1)" \
		netns "$(es_ns n3)" || return 1
	ES_WAN_MTU=$((1500 + ENCAP)) es_wan_end n1 x3 "$N3.1" &&
		ES_WAN_MTU=$((1500 + ENCAP)) es_wan_end n3 x1 "$W3" &&
		es_in n3 ip route add "$W1/32" via "$N3.1"
}
if [ "$RETRY_OTHER" = true ]; then
	es_veth u uc "$AP3.2" n3 ap "$AP3.1" || die "access link 3"
	node3_link || die "link of node 1 and node 3"
fi
IF_AP=$(es_ifname ap)
# pod mode: each node's pods are macvlan children (edgeshift-cni) of a
# veth end standing for the node's pod NIC; the node reaches them
# through a macvlan of its own on it (ps), their gateway, which
# carries their replies into the node's stack (es_mig_tc_ctr)
if [ "$POD_NET" = true ]; then
	for n in $NODES; do
		es_in n$n ip link add "$(es_ifname pd)" type veth peer name "$(es_ifname pp)" &&
			es_in n$n ip link add "$(es_ifname ps)" link "$(es_ifname pd)" type macvlan mode bridge &&
			for dev in pd pp ps; do es_in n$n ip link set "$(es_ifname $dev)" up; done ||
			die "pod link of node $n"
	done
fi
for ns in u "${NODE_NS[@]}"; do
	for dev in $(es_in $ns ip -j link show | jq -r '.[] | select(.ifname != "lo") | .ifname'); do
		# complete checksums: a tunnelled packet crosses the WAN relay as bytes
		es_in $ns ethtool -K "$dev" tx off >/dev/null 2>&1
	done
done
[ "$AB_N" -gt 0 ] && { ab_pace_old_ap || die "pacing ab on the old access link"; }
# the user's address and the access point's gateway of the user's family
if [ "$FAMILY" = 6 ]; then
	HOST=128 GW1=${AP1_6}1 GW2=${AP2_6}1
else
	HOST=32 GW1=$AP1.1 GW2=$AP2.1
fi
# nodad: never tentative, not even until the kernel's DAD work runs (the
# route below names it as its source, refused while it is tentative)
NODAD=()
[ "$FAMILY" = 6 ] && NODAD=(nodad)
es_in u ip addr add "$USER_IP/$HOST" dev lo "${NODAD[@]}"
es_in u ip route add default via "$GW1" src "$USER_IP"
es_in u sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
for n in $NODES; do
	ap=$AP1.2; [ $n = 2 ] && ap=$AP2.2; [ $n = 3 ] && ap=$AP3.2
	[ "$FAMILY" = 6 ] && { ap=${AP1_6}2; [ $n = 2 ] && ap=${AP2_6}2; }
	if [ "$POD_NET" = true ]; then
		es_in n$n ip addr add "$POD_GW/$POD_PLEN" dev "$(es_ifname ps)"
	else
		es_in n$n ip addr add "$SVC/$HOST" dev lo
	fi
	es_in n$n ip route add "$USER_IP/$HOST" via "$ap"
	es_in n$n sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.accept_local=1
done

# rate_bps RATE: bytes per second of a WAN rate such as 10MB/s, 800kB/s,
# 100Mbit/s or 1Gbit; empty when unlimited or not understood
rate_bps() {
	awk -v r="$1" 'BEGIN {
		if (match(r, /^[0-9.]+/) == 0) exit
		n = substr(r, 1, RLENGTH); u = tolower(substr(r, RLENGTH + 1)); sub(/\/s$/, "", u)
		split("b 1 kb 1e3 mb 1e6 gb 1e9 kbit 125 mbit 125e3 gbit 125e6", f, " ")
		for (i = 1; i < 14; i += 2) if (u == f[i]) m = f[i + 1]
		if (m && n > 0) printf "%d\n", n * m
	}'
}
# The agents' transfer starts with one bandwidth-delay product in flight
# and is clamped to 1.5 (docs/migration.md, "TCP between agents"), as an
# operator who knows the path would set it: unclamped, its start-up
# overflows the emulator's 1-BDP queue (about 600 frames per CI-sized
# drill), and the tunnel's requests and replies share that queue.
PEER_TCP=""
if BPS=$(rate_bps "$WRATE") && [ -n "$BPS" ]; then
	BDP_SEGS=$((BPS * 2 * DELAY / 1000 / 1448))
	[ "$BDP_SEGS" -ge 10 ] && PEER_TCP="\"peer_init_cwnd\": $BDP_SEGS, \"peer_cwnd_clamp\": $((BDP_SEGS * 3 / 2)),"
fi

# ES_DRILL_CE_RECEIVER=CMD: the Detector on (docs/events.md); CMD PORT FILE
# serves CloudEvents on 127.0.0.1:PORT in each node's namespace, into
# $OUT/ce-nodeN.jsonl, and each agent's events go there.
events_config() { # N
	[ -n "${ES_DRILL_CE_RECEIVER:-}" ] || return 0
	echo "\"events\": { \"sink\": \"http://127.0.0.1:8090/\", \"spool_dir\": \"$OUT/events-spool-node$1\" },"
}
# pod mode: node N's CNI network (edgeshift-cni, macvlan on its pod NIC,
# the static IPAM plugin given the spec's "ips" through the ips
# capability) and the agent's pod_network object naming it
pod_network_config() { # N
	[ "$POD_NET" = true ] || return 0
	cat >"$ES_TMP/pods-$1.conf" <<JSON
{ "cniVersion": "1.0.0", "name": "$ES_PREFIX-pods", "type": "edgeshift-cni",
  "kind": "macvlan", "master": "$(es_ifname pd)", "mode": "bridge",
  "stateDir": "$ES_TMP/cni-$1", "pinPath": "$(es_pin_path "n$1")",
  "capabilities": { "ips": true },
  "ipam": { "type": "static", "routes": [ { "dst": "$POD_DEFAULT", "gw": "$POD_GW" } ] } }
JSON
	echo "\"pod_network\": { \"conf\": \"$ES_TMP/pods-$1.conf\", \"cni_path\": \"$ES_BUILD:/usr/lib/cni\" },"
}
# node_peers N: node N's peers as JSON members: node 1 knows every other
# node, the others know node 1
node_peers() {
	if [ "$1" != 1 ]; then
		echo "\"$NODE1\": \"http://$(ep "$W1" $PORT)\""
	elif [ "$RETRY_OTHER" = true ]; then
		echo "\"$NODE2\": \"http://$(ep "$W2" $PORT)\", \"$NODE3\": \"http://$(ep "$W3" $PORT)\""
	else
		echo "\"$NODE2\": \"http://$(ep "$W2" $PORT)\""
	fi
}
# node_wans N: node N's interfaces towards the other nodes, as JSON strings
node_wans() {
	case $1 in
	1) echo "\"${ES_PREFIX}wa\"$([ "$RETRY_OTHER" = true ] && echo ", \"$(es_ifname x3)\"")" ;;
	2) echo "\"${ES_PREFIX}wb\"" ;;
	3) echo "\"$(es_ifname x1)\"" ;;
	esac
}
node_config() { # N STATE MY_W
	cat >"$ES_TMP/config-$1.json" <<JSON
{
	"state_dir": "$2",
	"migration": {
		"token": "$TOKEN",
		"peers": { $(node_peers "$1") },
		"event_log": "$OUT/events-node$1.log",
		"connect_timeout_ms": 2000, "request_timeout_ms": 10000, "stall_timeout_ms": 5000,
		$PEER_TCP
		$(pod_network_config "$1")
		"restore_timeout_ms": 30000, "checkpoint_timeout_ms": 30000
	},
	$(events_config "$1")
	"zero_downtime": {
		"tunnel_addr": "$3",
		"user_interfaces": ["$IF_AP"],
		"wan_interfaces": [$(node_wans "$1")],
		$( [ "$POD_NET" = true ] && echo "\"pod_interfaces\": [\"$(es_ifname ps)\"],")
		"replay_limit": $LIMIT,
		"records": $RECORDS,
		"replay_order": "$REPLAY_ORDER",
		"mode": "$MODE",
		"auto": true,
		"services": [ { "service": "$(ep "$SVC" "$SVC_PORT")$SESSION_SUFFIX", "container": "svc", "node": "$NODE1" } ]
	}
}
JSON
	echo "$ES_TMP/config-$1.json"
}
agent_launch() { # N [extra env]: (re)start node N's agent, not waiting for it
	local n=$1 cfg st=ST$1 w=W$1 name=NODE$1
	cfg=$(node_config "$n" "${!st}" "${!w}")
	# the same pin directory across restarts, as on a real node
	es_agent_launch "n$n" "n$n" --config "$cfg" -l "$(ep $LISTEN $PORT)" --node-name "${!name}"
	eval "AGENT$n=\$ES_AGENT_PID AGENT${n}_START=\$ES_BG_START"
	eval "PIN$n=\$(es_pin_path n$n)"
}
agent_wait() { # N: until node N's agent answers
	local pid
	eval "pid=\$AGENT$1"
	es_agent_wait "n$1" "n$1" "$pid"
}
agent() { agent_launch "$1" && agent_wait "$1"; }
api() { # N METHOD PATH
	es_in n"$1" curl -s -m 30 -X "$2" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$3"
}

say "image and agents ($MODE mode)"
for n in $NODES; do st=ST$n; mkdir -p "${!st}"; done
IMAGE_OPT=()
[ "$PROTO" = redis ] && IMAGE_OPT=(--redis)
IMAGE=$(bash "$ES_ROOT/tools/fixtures/es-image.sh" --state-dir "$ST1" --image-mb "$IMAGE_MB" --build "$ES_BUILD" \
	"${IMAGE_OPT[@]}") || die "image"
if [ "$MODE" = partial ]; then
	for n in $NODES; do
		st=ST$n
		[ "$n" = 1 ] || { mkdir -p "${!st}/images" && cp -a "$ST1/images/$IMAGE" "${!st}/images/"; }
	done
fi
if [ -n "${ES_DRILL_CE_RECEIVER:-}" ]; then
	for n in 1 2; do es_bg es_in "n$n" $ES_DRILL_CE_RECEIVER 8090 "$OUT/ce-node$n.jsonl"; done
fi
# --fault-at stall_STEP: node 1's worker waits 3 s at STEP (the test
# build's stall fault, docs/migration.md) so the kill lands exactly there
# (both agents start at once: loading their programs is most of a start)
case "$FAULT_AT" in
stall_*) ES_AGENT_BIN=edgeshiftd-faults EDGESHIFTD_FAULT=$FAULT_AT agent_launch 1 ;;
*) agent_launch 1 ;;
esac
# the target's agent dies right after runc restore: the restore never completes
[ "$FAULT" = restore_fail ] && export ES_AGENT_BIN=edgeshiftd-faults EDGESHIFTD_FAULT=restore_crash
# the target's first exactly-once check says it timed out: the source must ask again
[ "$FAULT" = verify_timed_out ] && export ES_AGENT_BIN=edgeshiftd-faults EDGESHIFTD_FAULT=verify_timed_out
agent_launch 2
unset ES_AGENT_BIN EDGESHIFTD_FAULT
[ "$RETRY_OTHER" = true ] && agent_launch 3
agent_wait 1 || die "agent on node 1"
agent_wait 2 || die "agent on node 2"
[ "$RETRY_OTHER" = false ] || agent_wait 3 || die "agent on node 3"
site_write

POD_IPS=""
[ "$POD_NET" = true ] && POD_IPS=",\"ips\":[\"$SVC/$POD_PLEN\"]"
say "service: $([ "$PROTO" = redis ] && echo redis-server || echo es-counter) in container 'svc' on node 1 ($SVC:$SVC_PORT, $PROTO)"
if [ "$PROTO" = redis ]; then
	# unmodified: no persistence (the checkpoint carries its memory), no
	# protected mode (clients come from another namespace)
	args=$(printf '"%s",' /usr/bin/redis-server --port "$SVC_PORT" --bind "$SVC" --save "" \
		--appendonly no --protected-mode no --daemonize no --dir /data)
else
	# UDP on the service port in both cases: the drill's CHECK asks over it
	SVC_PROTO=(--udp-replies "$REPLIES")
	[ "$PROTO" = tcp ] && SVC_PROTO=(--tcp "$SVC_PORT")
	[ "$PROTO" = http ] && SVC_PROTO=(--tcp "$SVC_PORT" --http)
	[ "$CLOCK" = true ] && SVC_PROTO+=(--reply-clock)
	args=$(printf '"%s",' /usr/local/bin/es-counter serve --udp "$SVC_PORT" "${SVC_PROTO[@]}" --bind "$SVC" \
		--state-dir /data --mem-mb "$MEM_MB" --write-kb "$WRITE_KB")
fi
es_in n1 curl -sf -m 30 -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
	-d "{\"name\":\"svc\",\"image\":\"$IMAGE\",\"args\":[${args%,}],\"tcp_established\":$TCP_EST$POD_IPS}" \
	"http://127.0.0.1:$PORT/v1/containers" >/dev/null || die "container start"
check() {
	if [ "$PROTO" = redis ]; then
		redis_check "$1"
	elif [ "$PROTO" = http ]; then
		http_check "$1"
	else
		es_in "n$1" "$ES_BUILD/es-counter" client --to "$SVC" --port "$SVC_PORT" --check --timeout-ms 1000
	fi
}
# Redis: the first connection's counter, and whether every other
# connection's key holds what its client was answered (the service's
# memory: every effect kept once)
redis_check() {
	local k got want intact=true ctr
	ctr=$(es_in "n$1" timeout 5 redis-cli -h "$SVC" -p "$SVC_PORT" GET key1) || return 1
	for k in $(seq 2 "$CONNS"); do
		got=$(es_in "n$1" timeout 5 redis-cli -h "$SVC" -p "$SVC_PORT" GET "key$k")
		want=$(jq -r '.answered // empty' "$OUT/client-$k-summary.json" 2>/dev/null)
		[ -n "$want" ] && [ "${got:-0}" = "$want" ] || intact=false
	done
	jq -n --argjson c "${ctr:-0}" --argjson i "$intact" \
		--argjson ab "$(es_in "n$1" timeout 5 redis-cli -h "$SVC" -p "$SVC_PORT" GET ab | grep . ||
			echo 0)" '{counter: $c, memory_intact: $i, ab_counter: $ab}'
}
# HTTP: KEY's counter at node N's service (a fresh connection; 0 for a key
# never incremented, which the service answers with 404)
http_get() { # N KEY
	local body
	body=$(es_in "n$1" curl -s -m 5 "http://$(ep "$SVC" "$SVC_PORT")/get/$2") || return 1
	awk -v k="$2" '$1 == k { print $2 + 0; f = 1 } END { if (!f) print 0 }' <<<"$body"
}
# HTTP: as redis_check, the first connection's key and whether every
# other connection's key holds what its client was answered; the memory
# checksum (es-counter's CHECK) verifies too; and ab's key
http_check() {
	local k got want intact ctr mem
	ctr=$(http_get "$1" key1) || return 1
	mem=$(es_in "n$1" "$ES_BUILD/es-counter" client --to "$SVC" --port "$SVC_PORT" --check \
		--timeout-ms 1000 | jq .memory_intact)
	intact=${mem:-false}
	for k in $(seq 2 "$CONNS"); do
		got=$(http_get "$1" "key$k")
		want=$(jq -r '.answered // empty' "$OUT/client-$k-summary.json" 2>/dev/null)
		[ -n "$want" ] && [ "${got:-0}" = "$want" ] || intact=false
	done
	jq -n --argjson c "${ctr:-0}" --argjson i "$intact" --argjson ab "$(http_get "$1" ab || echo null)" \
		'{counter: $c, memory_intact: $i, ab_counter: $ab}'
}
svc_up() {
	if [ "$PROTO" = redis ]; then
		[ "$(es_in n1 timeout 2 redis-cli -h "$SVC" -p "$SVC_PORT" PING 2>/dev/null)" = PONG ]
	else
		check 1 >/dev/null 2>&1
	fi
}
for _ in $(seq 50); do svc_up && break; sleep 0.2; done
svc_up || die "service does not answer on node 1"

# ---- faults, started in the background at their moment ----
# retry_migration: wait until node 1 reports the migration failed, then ask
# for the same one again (edgeshift zdm, by hand): the retry must start from
# clean state on both nodes and pass the same checks. A migration that
# ended done (an agent killed after the cut-over) needs none.
retry_migration() {
	local st="" session ans
	session="$(ep "$USER_IP" "$USER_PORT")%3E$(ep "$SVC" "$SVC_PORT")$SESSION_SUFFIX"
	session=${session//[/%5B}
	session=${session//]/%5D}
	# up to 120 s: a failure found after the checkpoint hook (the cursor
	# step) waits for the engine's transfer and restore before it is told
	for _ in $(seq 1200); do
		st=$(api 1 GET /v1/zdm/migrations 2>/dev/null | jq -r '.[0].state // empty' 2>/dev/null)
		[ "$st" = failed ] || [ "$st" = done ] && break
		sleep 0.1
	done
	if [ "$st" = done ]; then
		echo "retry: not needed, the migration ended done" >>"$OUT/fault.log"
		return
	fi
	if [ "$st" != failed ]; then
		echo "retry: the first migration did not fail ($st)" >>"$OUT/fault.log"
		return
	fi
	# a TCP service's retry names no session: every connection again
	[ "$PROTO" = udp ] || session=""
	[ "$RETRY_LIMIT" -gt 0 ] && raise_target_limit
	[ "$RETRY_OTHER" = true ] && user_moves_on
	# the answer in fault.log: a refusal says why no retry was listed
	ans=$(api 1 POST "/v1/zdm/migrations?container=svc&to=$(new_node)${session:+&session=$session}&mode=$MODE" 2>&1)
	echo "retry: $ans" >>"$OUT/fault.log"
	jq -e '.id' <<<"$ans" >/dev/null 2>&1 && echo "retry: asked again" >>"$OUT/fault.log" ||
		echo "retry: refused, none started" >>"$OUT/fault.log"
}

# new_node: the name of the node the last migration goes to
new_node() { local name=NODE$NEW_N; echo "${!name}"; }

# --retry-to-other: the user reaches node 3 now. The route is moved here,
# not by a request: a connection idle while it moves sends nothing that
# would tell node 1 where the user went.
user_moves_on() {
	es_in u ip route replace default via "$AP3.1" src "$USER_IP"
	echo "retry: the user moved on to node 3" >>"$OUT/fault.log"
}

# retry_remote_dump: node 1's es_mig_remote once the retry forwards (its
# second forwarding step), before the retry, done, deletes the entries
retry_remote_dump() {
	for _ in $(seq 1200); do
		[ "$(grep -c '"step":"forwarding"' "$OUT/events-node1.log" 2>/dev/null)" -ge 2 ] && break
		sleep 0.05
	done
	bpftool -j map dump pinned "$PIN1/es_mig_remote" >"$OUT/bpftool-remote-retry.json" 2>/dev/null
}

# retry_remote: node 1's entries during the retry, counted by the node
# each names (peer_addr: IPv4-mapped, its last word the address's bytes)
retry_remote() {
	jq -c --arg w2 "$W2" --arg w3 "$W3" '[.[].formatted.value.peer_addr[3] |
		[., . / 256, . / 65536, . / 16777216] | map(floor % 256 | tostring) | join(".")] |
		{entries: length, naming_node2: map(select(. == $w2)) | length,
		 naming_node3: map(select(. == $w3)) | length}' "$OUT/bpftool-remote-retry.json" 2>/dev/null
}

# the operator's answer to "replay buffer full": node 2's agent restarted
# with a larger zero_downtime.replay_limit (its data plane stays)
raise_target_limit() {
	es_kill_ours -TERM "$AGENT2" "$AGENT2_START"
	while es_pid_ours "$AGENT2" "$AGENT2_START"; do sleep 0.1; done
	LIMIT=$RETRY_LIMIT
	agent 2 >>"$OUT/fault.log" 2>&1
	echo "retry: node 2's agent restarted with replay_limit $LIMIT" >>"$OUT/fault.log"
}

# migration_ended [N]: until node 1's newest migration has ended (done or
# failed), 240 s at most (status 2 then), with N listed when N is given:
# another number answered returns 1 at once (a retry refused). No answer
# (node 1's agent restarting, or slow) is asked again.
migration_ended() {
	local z n _
	for _ in $(seq 2400); do
		z=$(api 1 GET /v1/zdm/migrations 2>/dev/null)
		n=$(jq length <<<"$z" 2>/dev/null)
		[ -n "$n" ] && [ -n "${1:-}" ] && [ "$n" != "$1" ] && return 1
		case $(jq -r '.[0].state // empty' <<<"$z" 2>/dev/null) in
		done | failed) return 0 ;;
		esac
		sleep 0.1
	done
	return 2
}

# Run in the background only (fault_runner &): with a retry, its EXIT
# trap lets the clients go however it ends, a failed restart of node 2's
# agent included (without one, hold_release tells when they may go).
fault_runner() {
	[ "$RETRY" = true ] && trap 'touch "$OUT/hold.ended"' EXIT
	case "$FAULT" in
	buffer_full | verify_timed_out) ;;	# the data plane's limit, the test build's agent
	*) fault_inject ;;
	esac
	if [ "$RETRY" = true ]; then
		retry_migration
		[ "$RETRY_OTHER" = true ] && retry_remote_dump
		# the clients hold their connections until the retry has moved them
		migration_ended 2
		[ $? = 2 ] && echo "retry: still running after 240 s; the clients let go" \
			>>"$OUT/fault.log"
	fi
}

# hold_release: with --hold-connections (and no retry, whose end
# fault_runner tells), the clients let go once the migration has ended
hold_release() {
	trap 'touch "$OUT/hold.ended"' EXIT
	migration_ended
}

# fault_wait_phase EVENT: waits up to 30 s for the phase's event, then
# records in fault.json whether it came and whether the migration had
# already ended: a fault struck after the end, or at no known step,
# tests nothing, and the report fails the drill when the phase never came
fault_wait_phase() {
	local seen=false ended=false
	for _ in $(seq 600); do
		grep -q "\"event\":\"$1\"" "$OUT"/events-node*.log 2>/dev/null && { seen=true; break; }
		sleep 0.05
	done
	grep -qE '"event":"zdm_(done|failed)"' "$OUT"/events-node*.log 2>/dev/null && ended=true
	jq -n --arg e "$1" --argjson s "$seen" --argjson x "$ended" \
		'{phase_event: $e, phase_seen: $s, migration_ended_first: $x}' >"$OUT/fault.json"
	[ "$seen" = true ] || echo "fault: $1 not seen in 30 s, struck anyway" >>"$OUT/fault.log"
}

fault_inject() {
	local phase_ev=${FAULT_AT}_start
	# the replay and the cut-over are the target's steps, not engine phases
	case "$FAULT_AT" in
	replay) phase_ev=zdm_replay_start ;;
	cut_over) phase_ev=zdm_cutover ;;
	stall_*) phase_ev=fault_stall ;;
	esac
	if [ "$FAULT" = restore_fail ]; then
		# node 2's agent exits in the restore; it comes back without the fault
		while es_pid_ours "$AGENT2" "$AGENT2_START"; do sleep 0.1; done
		echo "fault: node 2's agent died in the restore" >"$OUT/fault.log"
		sleep 1; agent 2 >>"$OUT/fault.log" 2>&1
		return
	fi
	fault_wait_phase "$phase_ev"
	case "$FAULT" in
	kill_source_agent) es_kill_ours -KILL "$AGENT1" "$AGENT1_START"; echo "fault: node 1's agent killed at $phase_ev" >>"$OUT/fault.log"
		sleep 1; agent 1 >>"$OUT/fault.log" 2>&1 ;;
	kill_target_agent) es_kill_ours -KILL "$AGENT2" "$AGENT2_START"; echo "fault: node 2's agent killed at $phase_ev" >>"$OUT/fault.log"
		sleep 1; agent 2 >>"$OUT/fault.log" 2>&1 ;;
	target_dies) es_kill_ours -KILL "$AGENT2" "$AGENT2_START"; echo "fault: node 2's agent killed at $phase_ev, not restarted" >>"$OUT/fault.log" ;;
	wan_outage)
		"$ES_BUILD/es-wan" ctl --control "$ES_WAN_CTL" loss=100 >/dev/null
		echo "fault: WAN cut at $phase_ev for $OUTAGE_S s" >>"$OUT/fault.log"
		sleep "$OUTAGE_S"
		"$ES_BUILD/es-wan" ctl --control "$ES_WAN_CTL" "${WLOSS_OPT[0]#--}=${WLOSS_OPT[1]}" \
			>/dev/null ;;
	esac
}

say "user: $COUNT requests ($PROTO) at $RATE/s from $(ep "$USER_IP" "$USER_PORT"), handoff to node 2 at request $HANDOFF"
if [ "$FAULT" != none ] && { [ "$FAULT" != buffer_full ] || [ "$RETRY" = true ]; }; then
	fault_runner &
	FAULT_PID=$!
	FAULT_START=$(es_pid_start "$FAULT_PID")
fi
# bpftool's view of the migration maps while the session migrates: node 2's
# session (forwarding), node 1's source-side entry (holding for the checkpoint)
dp_dump() {
	local held='[.[] | .formatted.value.hold / 72057594037927936 | floor | select(. == 1)] | length'
	for _ in $(seq 600); do
		grep -q '"step":"forwarding"' "$OUT/events-node1.log" 2>/dev/null && break
		sleep 0.05
	done
	# the hold lasts about the checkpoint's pause: look until it is seen
	for _ in $(seq 300); do
		bpftool -j map dump pinned "$PIN1/es_mig_remote" >"$OUT/bpftool-remote.json" 2>/dev/null
		[ "$(jq "$held" "$OUT/bpftool-remote.json" 2>/dev/null)" = 1 ] && break
		grep -q '"event":"zdm_resumed"' "$OUT/events-node1.log" 2>/dev/null && break
	done
	bpftool -j map dump pinned "$PIN2/es_mig_sessions" >"$OUT/bpftool-sessions.json" 2>/dev/null
}
# stopped at the drill's end (drill_cleanup): still looking for the hold
# then, it wrote into $OUT while the test removed it, and left it behind
dp_dump &
DP_DUMP_PID=$!
DP_DUMP_START=$(es_pid_start $!)
# connections opened after the checkpoint: each its own key, 3 s at the
# rate (through the cut-over at the drills' RTTs). Opened earlier, a
# connection still in the listener's queue makes CRIU refuse the dump
# ("In-flight connection"): the migration fails before anything moved.
late_clients() {
	local k late
	for _ in $(seq 600); do
		grep -q '"step":"resumed"' "$OUT/events-node1.log" 2>/dev/null && break
		sleep 0.05
	done
	for k in $(seq "$LATE"); do
		if [ "$LATE_EVERY" -gt 0 ]; then
			[ "$k" -gt 1 ] && sleep "$(printf '%d.%03d' $((LATE_EVERY / 1000)) $((LATE_EVERY % 1000)))"
			grep -q '"step":"cut_over"' "$OUT/events-node1.log" 2>/dev/null && break
		fi
		echo "$k" >"$OUT/late-opened"
		late=(--redis "late$k")
		[ "$PROTO" = http ] && late=(--http "late$k")
		es_in u "$ES_BUILD/es-drill" client --to "$(ep "$SVC" "$SVC_PORT")" \
			--bind "$(ep "$USER_IP" $((USER_PORT + 200 + k)))" --rate "$RATE" --count "$LATE_COUNT" \
			--drain-ms "$DRAIN_MS" "${late[@]}" --log "$OUT/client-late-$k.jsonl" \
			>"$OUT/client-late-$k-summary.json" 2>"$OUT/client-late-$k.err" &
	done
	wait
}
if [ "$LATE" -gt 0 ]; then
	late_clients &
	LATE_PID=$!
	LATE_START=$(es_pid_start $!)
fi
PROGRESS=--progress
[ "$QUIET" = 1 ] && PROGRESS=""
# with a retry, every client keeps its connection until the retry has
# ended: the retry names no session and takes the connections open when
# it is asked, and a client done with its requests before that would have
# closed its own. A retry's end is fault_runner's to tell, so only when it
# runs; a hold with no handoff would wait for a migration that never comes.
HOLD=()
if [ "$RETRY" = true ] && [ -n "${FAULT_PID:-}" ]; then
	HOLD=(--hold-until "$OUT/hold.ended")
elif [ "$HOLD_CONNS" = true ] && [ "$HANDOFF" -gt 0 ]; then
	HOLD=(--hold-until "$OUT/hold.ended")
	hold_release &
	HOLD_PID=$!
	HOLD_START=$(es_pid_start "$HOLD_PID")
fi
[ "${#HOLD[@]}" -gt 0 ] && [ "$AFTER_HOLD" -gt 0 ] && HOLD+=(--after-hold "$AFTER_HOLD")
# the user's other connections: the same rate and count, no handoff of
# their own (the route they share moves with the first one's)
for k in $(seq 2 "$CONNS"); do
	other=(--tcp)
	[ "$PROTO" = redis ] && other=(--redis "key$k")
	[ "$PROTO" = http ] && other=(--http "key$k")
	[ "$PIPELINE" -gt 1 ] && other+=(--pipeline "$PIPELINE")
	es_in u "$ES_BUILD/es-drill" client --to "$(ep "$SVC" "$SVC_PORT")" \
		--bind "$(ep "$USER_IP" $((USER_PORT + k - 1)))" \
		--rate "$RATE" --count "$OTHERS_COUNT" --drain-ms "$DRAIN_MS" "${other[@]}" "${HOLD[@]}" \
		--log "$OUT/client-$k.jsonl" >"$OUT/client-$k-summary.json" 2>"$OUT/client-$k.err" &
	OTHER_PIDS+=("$! $(es_pid_start $!)")
done
if [ "$AB_N" -gt 0 ]; then
	say "$AB_TOOL -c $AB_C -n $AB_N on the key ab, about $AB_PACE/s until the handoff"
	ab_start || die "ab"
fi
es_in u "$ES_BUILD/es-drill" client --to "$(ep "$SVC" "$SVC_PORT")" --bind "$(ep "$USER_IP" "$USER_PORT")" \
	--rate "$RATE" --count "$COUNT" --handoff-at "$HANDOFF" --handoff-gw "$GW2" --drain-ms "$DRAIN_MS" \
	--parts "$REPLIES" --quiet-every "$QUIET_EVERY" "${CLIENT_PROTO[@]}" "${HOLD[@]}" \
	--log "$OUT/client.jsonl" $PROGRESS >"$OUT/client-summary.json" || die "client failed"
for pid in "${OTHER_PIDS[@]}"; do
	wait "${pid%% *}" || die "a client of the user's other connections failed"
done
OTHER_PIDS=()
AB_RC=0
if [ -n "${AB_PID:-}" ]; then
	wait "$AB_PID"
	AB_RC=$?
	AB_PID=""
fi
[ -n "${FAULT_PID:-}" ] && wait "$FAULT_PID"
FAULT_PID=""
# the late connections: what they saw is reported (es-drill-report holds
# them to the others' standard when the migration is done)
[ -n "${LATE_PID:-}" ] && wait "$LATE_PID"
LATE_PID=""

say "migration outcome"
state=none
[ "$HANDOFF" -gt 0 ] && for _ in $(seq 600); do
	api 1 GET /v1/zdm/migrations >"$OUT/zdm.json" 2>/dev/null
	state=$(jq -r '.[0].state // empty' "$OUT/zdm.json" 2>/dev/null)
	# a retry is the newest: wait for it (none after a first one done)
	[ "$RETRY" = true ] && [ "$(jq length "$OUT/zdm.json" 2>/dev/null)" != 2 ] &&
		[ "$state" != done ] && state=""
	if [ "$state" = "done" ] || [ "$state" = failed ]; then break; fi
	sleep 0.1
done
# where the service runs now (a migration that failed its exactly-once
# check after cut-over runs at node 2 too), and its counter, asked from
# inside that node
# the user's other connections, added up: lost, twice, resets, and replies
# whose counter is not their number
others=null
if [ "$CONNS" -gt 1 ]; then
	others=$(for k in $(seq 2 "$CONNS"); do
		jq -c --argjson w "$(jq -s '[.[] | select(.counter != null and .counter != .seq)] | length' \
			"$OUT/client-$k.jsonl")" '. + {wrong_counter: $w}' "$OUT/client-$k-summary.json"
	done | jq -s '{connections: (length + 1), sent: (map(.sent) | add), lost: (map(.lost) | add),
		answered_twice: (map(.answered_twice) | add), resets: (map(.resets) | add),
		replies_with_wrong_counter: (map(.wrong_counter) | add)}')
fi
# the connections opened in the window, added up as the others
late=null
LATE_OPENED=$(cat "$OUT/late-opened" 2>/dev/null || echo 0)
if [ "$LATE" -gt 0 ]; then
	late=$(for k in $(seq "$LATE_OPENED"); do
		jq -c --argjson w "$(jq -s '[.[] | select(.counter != null and .counter != .seq)] | length' \
			"$OUT/client-late-$k.jsonl" 2>/dev/null || echo 0)" '. + {wrong_counter: $w}' \
			"$OUT/client-late-$k-summary.json" 2>/dev/null || echo '{"sent": 0, "lost": 0, "resets": 0}'
	done | jq -s --argjson n "$LATE_OPENED" '{connections: length, opened: $n,
		sent: (map(.sent // 0) | add), answered: (map(.answered // 0) | add),
		lost: (map(.lost // 0) | add), answered_twice: (map(.answered_twice // 0) | add),
		resets: (map(.resets // 0) | add), replies_with_wrong_counter: (map(.wrong_counter // 0) | add)}')
fi
# connections to the service left half-open at the node that serves it
# now (closed by the user, not by the container): none may stay. Looked
# for where the service's sockets are: its pod's namespace in pod mode
# (the node's holds none of them); -1 when that cannot be read.
ST_NEW=ST$NEW_N
ST_NEW=${!ST_NEW}
svc_n=1
[ "$(runc --root "$ST_NEW/runc" list -q 2>/dev/null | grep -cx svc)" = 1 ] && svc_n=$NEW_N
svc_st=$ST1
[ "$svc_n" = "$NEW_N" ] && svc_st=$ST_NEW
ss_in=(es_in "n$svc_n")
[ "$POD_NET" = true ] && ss_in=(nsenter --net="$svc_st/pods/svc/netns")
halfopen=-1
if sockets=$("${ss_in[@]}" ss -Htan "sport = :$SVC_PORT" 2>/dev/null); then
	halfopen=$(printf '%s' "$sockets" | grep -cvE '^(LISTEN|ESTAB|TIME-WAIT)')
fi
# a container left paused on either node (an agent killed in the pause)
paused=$(for st in "$ST1" "$ST2" "$ST3"; do runc --root "$st/runc" list -f json 2>/dev/null; done |
	jq -s '[.[][]? | select(.status == "paused")] | length')
old=$(runc --root "$ST1/runc" list -q 2>/dev/null | grep -cx svc)
new=$(runc --root "$ST_NEW/runc" list -q 2>/dev/null | grep -cx svc)
where=1
[ "$new" = 1 ] && [ "$old" = 0 ] && where=$NEW_N
check "$where" >"$OUT/check.json" 2>/dev/null || echo '{}' >"$OUT/check.json"
# frames the WAN lost per direction (queue overflow, loss, the rest): a
# request or reply of the tunnel can be among them
wan=$(es_wan_stats 2>/dev/null | jq -c '[.a2b, .b2a] | map(.dropped_loss + .dropped_queue
	+ .dropped_memory + .dropped_tx + .dropped_socket) | {node1_to_node2: .[0], node2_to_node1: .[1]}' \
	2>/dev/null)
# ab's figures; a report that cannot be made fails the drill
ab=null
if [ "$AB_N" -gt 0 ]; then
	ab=$(ab_report "$AB_RC" "$state") || ab='{"passed": false, "error": "no report of the load client"}'
fi
# where the injected fault struck (fault_wait_phase); null: none was
landing=$(jq -c . "$OUT/fault.json" 2>/dev/null) || landing=null
[ -n "$landing" ] || landing=null
# --retry-to-other: the node each of node 1's entries named in the retry
remote=null
[ "$RETRY_OTHER" = true ] && { remote=$(retry_remote) && [ -n "$remote" ] || remote=null; }
jq -n --arg s "$state" --argjson o "$old" --argjson n "$new" --arg w "$where" --arg f "$FAULT" \
	--arg m "$MODE" --argjson r "$RATE" --argjson d "$DELAY" --arg wr "$WRATE" --argjson h "$HANDOFF" \
	--argjson wd "${wan:-null}" --argjson rt "$RETRY" --argjson ur "$REPLIES" --arg pr "$PROTO" \
	--argjson qe "$QUIET_EVERY" \
	--argjson ck "$CLOCK" --argjson pz "${paused:-0}" --argjson oc "${others:-null}" \
	--argjson ho "${halfopen:--1}" --argjson lc "${late:-null}" \
	--argjson ab "$ab" --arg ro "$REPLAY_ORDER" --argjson fl "$landing" --argjson rr "$remote" \
	'{migration_state: $s, old_running: $o, new_running: $n, paused: $pz, serving_node: $w, fault: $f, mode: $m,
	  rate: $r, wan_delay_ms: $d, wan_rate: $wr, handoff_at: $h, wan_dropped: $wd, retry: $rt,
	  udp_replies: $ur, quiet_every: $qe, protocol: $pr, service_clock: $ck, other_connections: $oc,
	  half_open_connections: $ho, late_connections: $lc, ab: $ab, replay_order: $ro,
	  fault_landing: $fl, retry_remote: $rr}' \
	>"$OUT/site.json"
REPORT_ARGS=()
[ "$JSON" = 1 ] && REPORT_ARGS=(--json)
[ "$RETRY_OTHER" = true ] && REPORT_ARGS+=(--events "$OUT/events-node3.log")
"$ES_BUILD/es-drill-report" --client "$OUT/client.jsonl" --summary "$OUT/client-summary.json" \
	--events "$OUT/events-node1.log" --events "$OUT/events-node2.log" --check "$OUT/check.json" \
	--site "$OUT/site.json" --zdm "$OUT/zdm.json" --json-out "$OUT/report.json" --svg "$OUT/response-time.svg" \
	"${REPORT_ARGS[@]}"
