# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers of the shell selftests: TAP output, per-run namespaces and
# veth pairs, the agent, and cleanup that runs however the test ends.
# Source it; then call es_plan N before the first check.

ES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ES_BUILD=${ES_BUILD:-$ES_ROOT/build}
# Short, per-run prefix: interface names have 15 characters at most.
ES_PREFIX=${ES_PREFIX:-es$(printf '%04x' $((RANDOM % 65536)))$$}
ES_PREFIX=${ES_PREFIX:0:9}
ES_TMP=$(mktemp -d "/tmp/$ES_PREFIX.XXXXXX")
: >"$ES_TMP/bg.pids"
ES_PIN_ROOT=/sys/fs/bpf
ES_TEST_N=0
ES_FAILED=0
ES_NETNS=()
ES_PIDS=()
ES_PINS=()

es_plan() { echo "TAP version 13"; echo "1..$1"; }

es_diag() { sed 's/^/# /'; }

es_ok() { ES_TEST_N=$((ES_TEST_N + 1)); echo "ok $ES_TEST_N - $1"; }

es_not_ok() {
	ES_TEST_N=$((ES_TEST_N + 1))
	ES_FAILED=$((ES_FAILED + 1))
	echo "not ok $ES_TEST_N - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | es_diag
	return 0
}

es_skip() { ES_TEST_N=$((ES_TEST_N + 1)); echo "ok $ES_TEST_N - $1 # SKIP $2"; }

# es_expect_eq NAME GOT WANT
es_expect_eq() {
	if [ "$2" = "$3" ]; then es_ok "$1"; else es_not_ok "$1" "got '$2', want '$3'"; fi
}

# es_expect_ne NAME GOT UNWANTED: GOT neither empty nor UNWANTED
es_expect_ne() {
	if [ -n "$2" ] && [ "$2" != "$3" ]; then es_ok "$1"
	else es_not_ok "$1" "got '$2', want a value other than '$3'"; fi
}

# es_expect_match NAME GOT REGEX (grep -E)
es_expect_match() {
	if grep -qE -- "$3" <<<"$2"; then es_ok "$1"; else es_not_ok "$1" "got '$2', want a match of '$3'"; fi
}

# es_expect_ge NAME GOT MIN
es_expect_ge() {
	if [ -n "$2" ] && [ "$2" -ge "$3" ] 2>/dev/null; then es_ok "$1"
	else es_not_ok "$1" "got '$2', want at least $3"; fi
}

# es_expect_le NAME GOT MAX
es_expect_le() {
	if [ -n "$2" ] && [ "$2" -le "$3" ] 2>/dev/null; then es_ok "$1"
	else es_not_ok "$1" "got '$2', want at most $3"; fi
}

# es_check NAME CMD...: ok when CMD exits 0; its output becomes the diagnostic.
es_check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then es_ok "$name"; else es_not_ok "$name" "$out"; fi
}

es_require_root() {
	if [ "$(id -u)" != 0 ]; then
		es_plan 1
		es_skip "$1" "needs root"
		exit 0
	fi
}

es_ns() { echo "$ES_PREFIX-$1"; }

es_netns_add() {
	ip netns add "$(es_ns "$1")" || return 1
	ES_NETNS+=("$(es_ns "$1")")
	ip -n "$(es_ns "$1")" link set lo up
}

# es_no_ipv6 NS...: no IPv6 on interfaces created after this in NS, so no
# link-local chatter (router solicitations, MLD) moves counters mid-check.
es_no_ipv6() {
	local ns
	for ns in "$@"; do
		es_in "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
}

# Run in a namespace's network only: the mount namespace (and so bpffs)
# stays the host's, unlike `ip netns exec`, which remounts /sys.
es_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$(es_ns "$ns")" "$@"
}

# es_veth NS_A IF_A ADDR4_A NS_B IF_B ADDR4_B [ADDR6_A ADDR6_B]
es_veth() {
	local na nb
	na=$(es_ns "$1"); nb=$(es_ns "$4")
	ip link add "$ES_PREFIX$2" netns "$na" type veth peer name "$ES_PREFIX$5" netns "$nb" || return 1
	ip -n "$na" addr add "$3/24" dev "$ES_PREFIX$2"
	ip -n "$nb" addr add "$6/24" dev "$ES_PREFIX$5"
	if [ -n "${7:-}" ]; then
		ip -n "$na" addr add "$7/64" dev "$ES_PREFIX$2" nodad
		ip -n "$nb" addr add "$8/64" dev "$ES_PREFIX$5" nodad
	fi
	ip -n "$na" link set "$ES_PREFIX$2" up
	ip -n "$nb" link set "$ES_PREFIX$5" up
}

es_ifname() { echo "$ES_PREFIX$1"; }

# es_ns_pair NET: namespaces a and b without IPv6, joined by a veth pair,
# va (NET.1) and vb (NET.2); sets VA and VB to their names.
es_ns_pair() {
	es_netns_add a && es_netns_add b || return 1
	es_no_ipv6 a b
	es_veth a va "$1.1" b vb "$1.2" || return 1
	VA=$(es_ifname va); VB=$(es_ifname vb)
}

es_pin_path() { echo "$ES_PIN_ROOT/$ES_PREFIX-${1:-pins}"; }

# es_agent_start NS NAME [edgeshiftd args...]: starts the agent in NS with
# its own pin directory and log, and waits until /healthz answers.
# ES_AGENT_BIN=edgeshiftd-faults starts the test build instead, the one
# that injects the faults named in $EDGESHIFTD_FAULT (docs/migration.md).
ES_AGENT_PORT=9464
# es_prometheus_start NS JOB TARGET...: a real Prometheus in namespace NS
# (- for the host's) on ES_PROM_LISTEN (default 127.0.0.1:9090), scraping
# TARGETs every second as job JOB (labels kept as the targets give them),
# its data and config in ES_TMP; ES_PROM_PID.
es_prometheus_start() {
	local ns=$1 job=$2 targets in=(es_in "$1")
	[ "$ns" = - ] && in=()
	shift 2
	targets=$(printf '"%s", ' "$@")
	cat >"$ES_TMP/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: $job
    honor_labels: true
    static_configs:
      - targets: [${targets%, }]
YAML
	es_bg --log "$ES_TMP/prometheus.log" "${in[@]}" prometheus \
		--config.file="$ES_TMP/prometheus.yml" --storage.tsdb.path="$ES_TMP/prom" \
		--web.listen-address="${ES_PROM_LISTEN:-127.0.0.1:9090}" --log.level=warn
	ES_PROM_PID=$ES_BG_PID
}

es_agent_start() {
	es_agent_launch "$@" && es_agent_wait "$1" "$2"
}

# es_agent_launch NS NAME [edgeshiftd args...]: starts the agent as
# es_agent_start does without waiting; es_agent_wait NS NAME [PID] waits.
# Two agents started this way verify their BPF programs (most of a
# start) on two cores at once.
es_agent_launch() {
	local ns=$1 name=$2
	shift 2
	ES_PINS+=("$(es_pin_path "$name")")
	es_agent_dirs "$name" "$@"
	es_bg --log "$ES_TMP/agent-$name.log" es_in "$ns" "$ES_BUILD/${ES_AGENT_BIN:-edgeshiftd}" \
		-p "$(es_pin_path "$name")" -l "127.0.0.1:$ES_AGENT_PORT" \
		--node-name "$ES_PREFIX-$ns" --log-level debug "${ES_AGENT_DIRS[@]}" "$@"
	ES_AGENT_PID=$ES_BG_PID
}

# es_agent_dirs NAME [edgeshiftd args...]: ES_AGENT_DIRS, the agent's
# --state-dir and --cni-state-dir in the test's ES_TMP, each unless the
# arguments or their JSON config give one (a flag overrides the file). The
# defaults, /var/lib/edgeshift and /run/edgeshift/cni, are the machine's:
# a test's agent left its images, runc state and events log there, which
# the next test's agent shared and nothing removed.
es_agent_dirs() {
	local name=$1 prev="" a cfg="" state=true cni=true
	shift
	# getopt_long's spellings: -c F, -cF, --config F, --config=F and
	# unambiguous prefixes of --config (--conf F), of --state-dir too
	for a in "$@"; do
		case $prev in -c | --c | --co | --con | --conf | --confi | --config) cfg=$a ;; esac
		case $a in
		-c?*) cfg=${a#-c} ;;
		--st* | --cn*) [[ --state-dir == "${a%%=*}"* ]] && state=false
			[[ --cni-state-dir == "${a%%=*}"* ]] && cni=false ;;
		--co*=*) [[ --config == "${a%%=*}"* ]] && cfg=${a#*=} ;;
		esac
		prev=$a
	done
	# a config that is no regular file (a pipe, which jq would drain) is
	# not read: the test's dirs then win over any it names, never the machine's
	if [ -f "$cfg" ]; then
		jq -e 'has("state_dir") | not' "$cfg" >/dev/null 2>&1 || state=false
		jq -e 'has("cni_state_dir") | not' "$cfg" >/dev/null 2>&1 || cni=false
	fi
	ES_AGENT_DIRS=()
	[ "$state" = true ] && ES_AGENT_DIRS+=(--state-dir "$ES_TMP/state-$name")
	[ "$cni" = true ] && ES_AGENT_DIRS+=(--cni-state-dir "$ES_TMP/cni-$name")
	return 0
}

es_agent_wait() {
	local ns=$1 name=$2 pid=${3:-$ES_AGENT_PID}
	# ES_AGENT_READY_TRIES x 0.1 s: creating maps of millions of entries takes seconds.
	for _ in $(seq "${ES_AGENT_READY_TRIES:-100}"); do
		es_in "$ns" curl -sf -m 1 "http://127.0.0.1:$ES_AGENT_PORT/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "# agent did not become ready; its log:"
	es_diag <"$ES_TMP/agent-$name.log"
	return 1
}

es_agent_log() { cat "$ES_TMP/agent-$1.log" 2>/dev/null; }

# es_api NS PATH: GET from the agent in NS.
es_api() { es_in "$1" curl -sf -m 5 "http://127.0.0.1:$ES_AGENT_PORT$2"; }

# es_metric NS 'name{labels...}': the value of the first matching series.
es_metric() {
	es_api "$1" /metrics | awk -v m="$2" 'index($0, m) == 1 { print $NF; exit }'
}

# es_pid_start PID: the process's start time (clock ticks after boot), or
# nothing once it is gone. pid_max is 32768 on a small node and a full
# run starts far more processes than that, so pids wrap: a pid recorded
# earlier names our process only while its start time is the one recorded
# with it. The cleanup signals every pid it recorded, most of them long
# gone; without the start time a reused one would be another test's
# process (SIGTERM to a test's shell in its EXIT trap ends the trap there).
es_pid_start() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	# the command name, in parentheses, may hold spaces: fields after it
	s=${s##*) }
	# shellcheck disable=SC2086 # the fields, split
	set -- $s
	echo "${20}"
}

# es_pid_ours PID START: true while PID is the process that started at START.
es_pid_ours() { [ -n "$2" ] && [ "$(es_pid_start "$1")" = "$2" ]; }

# es_kill_ours [-SIG] PID START: signals PID only if it is still that process.
es_kill_ours() {
	local sig=-TERM
	case "$1" in -*) sig=$1; shift ;; esac
	es_pid_ours "$1" "$2" && kill "$sig" "$1" 2>/dev/null
}

# es_kill_tree PID START: a background subshell (a shell function, or
# es_in around a command) and what it started, two levels down, if PID is
# still the one started at START: killing the subshell alone leaves its
# command running.
es_kill_tree() {
	local c
	es_pid_ours "$1" "$2" || return 0
	for c in $(pgrep -P "$1"); do
		pkill -P "$c" 2>/dev/null
		kill "$c" 2>/dev/null
	done
	kill "$1" 2>/dev/null
}

# es_bg [--out FILE | --log FILE] [es_in NS] CMD...: start CMD in the background and
# remember it for cleanup. nsenter replaces itself with CMD, so the pid
# recorded is CMD's own (a backgrounded shell function would record a
# subshell, and killing that would orphan CMD). --out takes stdout,
# --log stdout and stderr; the rest goes to a log: it is not TAP.
es_bg() {
	local out=$ES_TMP/background.log err=$ES_TMP/background.log
	if [ "$1" = --out ]; then out=$2; shift 2; fi
	if [ "$1" = --log ]; then out=$2; err=$2; shift 2; fi
	if [ "$1" = es_in ]; then
		local ns=$2
		shift 2
		set -- nsenter --net="/run/netns/$(es_ns "$ns")" "$@"
	fi
	"$@" >>"$out" 2>>"$err" &
	ES_BG_PID=$!
	ES_BG_START=$(es_pid_start "$ES_BG_PID")
	ES_PIDS+=("$ES_BG_PID")
	# A subshell's additions to ES_PIDS are lost: the file keeps them all,
	# each with its start time (a process gone already has none: never killed).
	echo "$ES_BG_PID ${ES_BG_START:--}" >>"$ES_TMP/bg.pids"
}

es_cleanup() {
	local p s ns f=$ES_TMP/bg.pids
	[ -f "$f" ] || f=/dev/null
	while read -r p s; do
		es_kill_ours "$p" "$s"
	done <"$f"
	for p in "${ES_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	# started by subshells: not our children, so poll until they are gone;
	# one still there after 2 s is killed, not left writing into ES_TMP
	while read -r p s; do
		for _ in $(seq 40); do es_pid_ours "$p" "$s" || break; sleep 0.05; done
		es_kill_ours -KILL "$p" "$s"
	done <"$f"
	# --state-dir: the release of a node netns hold stays in ES_TMP
	# (the default would unmount the machine's /var/lib/edgeshift/netns)
	for p in "${ES_PINS[@]}"; do
		"$ES_BUILD/edgeshiftd" --cleanup -p "$p" --state-dir "$ES_TMP" 2>/dev/null || rm -rf "$p"
	done
	# what the test's agents mounted under ES_TMP (the node's netns held
	# at STATE/netns), deepest first, so the namespaces can go
	awk -v t="$ES_TMP/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r p; do umount -l "$p"; done
	for ns in "${ES_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$ES_TMP"
}
trap es_cleanup EXIT

es_done() { [ "$ES_FAILED" = 0 ]; exit $?; }

# es_runc_cleanup STATE_DIR...: delete the runc containers of agents' state
# directories and unmount their root file systems (a test's EXIT trap).
es_runc_cleanup() {
	local st c
	for st in "$@"; do
		[ -d "$st/runc" ] || continue
		for c in $(runc --root "$st/runc" list -q 2>/dev/null); do
			runc --root "$st/runc" delete -f "$c" >/dev/null 2>&1
		done
		for c in "$st"/containers/*/rootfs; do
			mountpoint -q "$c" 2>/dev/null && umount -l "$c"
		done
	done
}

# es_wan A_NS A_IP B_NS B_IP [es-wan run options...]: A_IP/24 in A and
# B_IP/24 in B, one L2 segment through es-wan (delay, rate, loss; see
# docs/wan-emulator.md) in namespace "wan". Endpoints send MTU-sized
# frames (no TSO/GSO) so loss and the rate act per frame. ES_WAN_MTU, when
# set, is the segment's MTU (the migration tunnel needs 44 bytes above the
# users' MTU).
es_wan() {
	local a=$1 aip=$2 b=$3 bip=$4
	shift 4
	es_netns_add wan || return 1
	es_no_ipv6 wan
	ip link add "${ES_PREFIX}wa" netns "$(es_ns "$a")" type veth peer name "${ES_PREFIX}wwa" netns "$(es_ns wan)" &&
	ip link add "${ES_PREFIX}wb" netns "$(es_ns "$b")" type veth peer name "${ES_PREFIX}wwb" netns "$(es_ns wan)" || return 1
	es_wan_end "$a" wa "$aip" && es_wan_end "$b" wb "$bip" || return 1
	if [ -n "${ES_WAN_MTU:-}" ]; then
		ip -n "$(es_ns wan)" link set "${ES_PREFIX}wwa" mtu "$ES_WAN_MTU" &&
		ip -n "$(es_ns wan)" link set "${ES_PREFIX}wwb" mtu "$ES_WAN_MTU" || return 1
	fi
	ip -n "$(es_ns wan)" link set "${ES_PREFIX}wwa" up && ip -n "$(es_ns wan)" link set "${ES_PREFIX}wwb" up
	ES_WAN_CTL=$ES_TMP/wan.ctl
	es_bg --log "$ES_TMP/wan.log" es_in wan "$ES_BUILD/es-wan" run --a "${ES_PREFIX}wwa" \
		--b "${ES_PREFIX}wwb" --control "$ES_WAN_CTL" "$@"
	ES_WAN_PID=$ES_BG_PID
	export ES_WAN_PID
	for _ in $(seq 100); do
		es_wan_stats >/dev/null 2>&1 && return 0
		kill -0 "$ES_BG_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "# es-wan did not start; its log:"
	es_diag <"$ES_TMP/wan.log"
	return 1
}

# es_wan_end NS IF IP: an endpoint of es_wan, up with IP/24 (an IPv6 IP: /64).
es_wan_end() {
	local plen=24 dad=()
	case "$3" in *:*) plen=64 dad=(nodad) ;; esac
	es_in "$1" ethtool -K "$ES_PREFIX$2" tso off gso off >/dev/null 2>&1
	if [ -n "${ES_WAN_MTU:-}" ]; then
		ip -n "$(es_ns "$1")" link set "$ES_PREFIX$2" mtu "$ES_WAN_MTU" || return 1
	fi
	ip -n "$(es_ns "$1")" addr add "$3/$plen" dev "$ES_PREFIX$2" "${dad[@]}" &&
	ip -n "$(es_ns "$1")" link set "$ES_PREFIX$2" up
}

# es_wan_ctl SETTING...: e.g. loss=100, or a2b.delay-ms=50 rate=10MB/s
es_wan_ctl() { "$ES_BUILD/es-wan" ctl --control "$ES_WAN_CTL" "$@"; }

# es_wan_stats: the relay's per-direction counters as JSON
es_wan_stats() { "$ES_BUILD/es-wan" stats --control "$ES_WAN_CTL" --json; }

# es_ping_rtt NS IP N: "mean min" round-trip time in ms of N pings from NS,
# after one that resolves ARP
es_ping_rtt() {
	es_in "$1" ping -c 1 -W 3 "$2" >/dev/null
	es_in "$1" ping -c "$3" -i 0.02 -W 3 "$2" |
		awk -F'time=' '/time=/ { split($2, t, " "); s += t[1]; n++; if (!m || t[1] < m) m = t[1] }
			END { if (n) printf "%.4f %.4f\n", s / n, m }'
}

# es_wait_listen NS t|u PORT: until a TCP (t) or UDP (u) socket of NS
# listens on PORT (at most 5 s), so a client started next finds its server
es_wait_listen() {
	for _ in $(seq 100); do
		es_in "$1" ss -Hln"$2" "sport = :$3" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# es_iperf_goodput FROM TO TO_IP SKIP IPERF3_CLIENT_ARGS...: payload bytes/s
# at an iperf3 server in TO, over its one-second intervals after the first
# SKIP and before the last, partial one (the server JSON stays in
# $ES_TMP/iperf3-server.json)
es_iperf_goodput() {
	local from=$1 to=$2 ip=$3 skip=$4 srv=$ES_TMP/iperf3-server.json
	shift 4
	rm -f "$srv"
	es_bg --out "$srv" es_in "$to" iperf3 -s -1 -J -p 5201
	es_wait_listen "$to" t 5201
	es_in "$from" iperf3 -c "$ip" -p 5201 "$@" >/dev/null 2>&1
	wait "$ES_BG_PID"
	# ES_GOODPUT_STAT=median: the median second instead of the mean, for a
	# TCP flow whose data held behind a hole arrives in one burst
	jq --argjson s "$skip" --arg stat "${ES_GOODPUT_STAT:-mean}" \
		'[.intervals[$s:-1][].sum.bits_per_second] |
		 (if $stat == "median" then sort | .[length / 2 | floor] else add / length end) / 8' "$srv"
}
