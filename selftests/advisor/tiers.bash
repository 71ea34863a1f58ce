# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the advisor's tests (after lib.sh): the three-tier es-tier
# pipeline (front, logic, db), each tier a process in v1 cgroups of its
# own (cpu, cpuacct, memory, blkio) named with the per-run prefix, made
# and removed here; on a hybrid node also in the same path of its
# unified/ tree, as runc and systemd place a container, where its PSI
# files are.
CG=/sys/fs/cgroup
CTLS="cpu cpuacct memory blkio"
[ -f $CG/unified/cgroup.procs ] && CTLS="$CTLS unified"
TIERS="front logic db"
TIER=$ES_BUILD/es-tier

# tiers_skip_without_v1: a plan of 0 and exit when the node has no v1 CPU hierarchies.
tiers_skip_without_v1() {
	if [ ! -f $CG/cpu/cpu.cfs_quota_us ] || [ ! -f $CG/cpuacct/cpuacct.usage ]; then
		es_plan 0
		echo "# SKIP no v1 cpu and cpuacct hierarchies"
		exit 0
	fi
}

cg() { echo "$ES_PREFIX-$1"; }

# Kills the tiers' processes: a run that has its answer need not drain its queue.
tiers_stop() {
	local t p
	# a limit not yet applied must not land after the cleanup lifted the others
	[ -n "${TIERS_LIMITER_PID:-}" ] &&
		es_kill_ours "$TIERS_LIMITER_PID" "$TIERS_LIMITER_START"
	[ -n "${TIERS_GEN_PID:-}" ] && es_kill_ours "$TIERS_GEN_PID" "$TIERS_GEN_START"
	for t in $TIERS; do
		for p in $(cat $CG/cpu/"$(cg $t)"/cgroup.procs 2>/dev/null); do
			kill "$p" 2>/dev/null
		done
	done
}

# tiers_procs TIER: every process in any of TIER's cgroups (a stage may
# have joined some of them only when the test stopped it).
tiers_procs() {
	local c
	for c in $CTLS; do cat $CG/$c/"$(cg "$1")"/cgroup.procs 2>/dev/null; done | sort -u
}

# tiers_unlimit TIER: lifts what an injection may have set, so a stage
# held in reclaim or behind a throttle exits at once when killed (the CI
# run at d7e3b29 left db's cgroups behind: db under its 8 MiB limit
# outlived 2 s of retries on a loaded machine).
tiers_unlimit() {
	local d r
	d=$CG/cpu/"$(cg "$1")"
	[ -d "$d" ] && echo -1 >"$d"/cpu.cfs_quota_us 2>/dev/null
	d=$CG/memory/"$(cg "$1")"
	[ -d "$d" ] && echo -1 >"$d"/memory.limit_in_bytes 2>/dev/null
	d=$CG/blkio/"$(cg "$1")"
	[ -f "$d"/blkio.throttle.read_iops_device ] || return 0
	# A rule goes when its limit is written as 0.
	for r in read_iops write_iops read_bps write_bps; do
		awk '{ print $1 " 0" }' "$d"/blkio.throttle.${r}_device 2>/dev/null |
			while read -r l; do echo "$l" >"$d"/blkio.throttle.${r}_device; done
	done
}

# Kills what is left in our cgroups (a failed run's tiers) and removes
# them: limits lifted, SIGKILL, up to 10 s; what still holds a cgroup
# then is named on stderr (zz_leftovers.sh fails on the cgroup).
tiers_cleanup() {
	local t c p
	tiers_stop
	for t in $TIERS; do
		tiers_unlimit "$t"
		for _ in $(seq 200); do
			p=$(tiers_procs "$t")
			[ -z "$p" ] && break
			# shellcheck disable=SC2086 # a list of pids
			kill -KILL $p 2>/dev/null
			sleep 0.05
		done
		for c in $CTLS; do
			for _ in $(seq 20); do
				[ -d $CG/$c/"$(cg $t)" ] || break
				rmdir $CG/$c/"$(cg $t)" 2>/dev/null && break
				sleep 0.05
			done
			[ -d $CG/$c/"$(cg $t)" ] || continue
			echo "tiers_cleanup: $c/$(cg $t) stays, held by:" \
				"$(for p in $(tiers_procs "$t"); do
					printf '%s(%s) ' "$p" "$(awk '{ print $3 }' /proc/"$p"/stat 2>/dev/null)"
				done)" >&2
		done
	done
}

make_cgroups() {
	local t c
	for t in $TIERS; do
		for c in $CTLS; do mkdir -p $CG/$c/"$(cg $t)"; done
	done
}

# join TIER CMD...: moves this subshell into TIER's cgroups, then runs CMD.
join() {
	local c t=$1
	shift
	for c in $CTLS; do echo $BASHPID >$CG/$c/"$(cg $t)"/cgroup.procs; done
	exec "$@"
}

# stage_args TIER: a stage's command; the tier named in TIERS_WS (if any)
# also reads a 32 MiB working set, 16 random pages a request, or what
# TIERS_WS_ARGS says instead (e.g. --touch-mb 4 --touch-pages 1 --direct).
stage_args() {
	echo "$TIER" stage --burn-us 100
	[ "$1" = "${TIERS_WS:-}" ] &&
		echo --touch-file "$ES_TMP/ws-$1" ${TIERS_WS_ARGS:---touch-mb 32 --touch-pages 16}
}

# tiers_io_check: TIERS_IO_DEV, the block device (MAJ:MIN) of the test's
# files, when a v1 blkio read throttle and delay accounting can hold a
# tier's reads back and be seen; else returns 1 with TIERS_IO_SKIP saying why.
tiers_io_check() {
	TIERS_IO_DEV= TIERS_IO_SKIP=
	[ -f $CG/blkio/blkio.throttle.read_iops_device ] || TIERS_IO_SKIP="no v1 blkio throttle"
	[ -w /proc/sys/kernel/task_delayacct ] ||
		TIERS_IO_SKIP="no kernel.task_delayacct (delay accounting)"
	[ -z "$TIERS_IO_SKIP" ] || return 1
	TIERS_IO_DEV=$(findmnt -no MAJ:MIN -T "$ES_TMP" | head -1 | tr -d ' ')
	# A file system on no block device (tmpfs, overlay) has a major of 0.
	case "$TIERS_IO_DEV" in
	0:*|"") TIERS_IO_SKIP="the test's files ($(findmnt -no FSTYPE -T "$ES_TMP")) are on no block device: nothing to throttle" ;;
	*) [ -e /sys/dev/block/"$TIERS_IO_DEV" ] ||
		TIERS_IO_SKIP="device $TIERS_IO_DEV of the test's files is not a block device" ;;
	esac
	[ -z "$TIERS_IO_SKIP" ]
}

# tiers_net_setup: the tiers as pods on a node: a network namespace a
# tier, joined by a veth to the namespace "node" (which forwards between
# them; 198.18.N.0/24 for the Nth tier, the node .1, the tier .2), where
# the tier's link, TIERS_LINK_<tier> (the node's side, what carries the
# traffic into the tier), has a tbf root qdisc of 1 Gbit/s: a bandwidth
# limit, as Kubernetes' bandwidth plugin sets, that does not bind yet.
# tiers_run then sends the requests over TCP from tier to tier (after
# this, TIERS_NET=1).
tiers_net_setup() {
	local i=1 t
	es_netns_add node && es_no_ipv6 node || return 1
	es_in node sysctl -q -w net.ipv4.ip_forward=1
	for t in $TIERS; do
		es_netns_add "$t" && es_no_ipv6 "$t" && tiers_veth "$t" "n$t" $i || return 1
		tc -n "$(es_ns node)" qdisc add dev "$(es_ifname "n$t")" root \
			tbf rate 1gbit burst 256kb latency 50ms || return 1
		eval "TIERS_LINK_$t=$(es_ifname "n$t")"
		i=$((i + 1))
	done
	TIERS_NET=1
}

# tiers_veth NS NODE_IF N: a veth from the node (NODE_IF, 198.18.N.1,
# ifindex 2100+N) to the pod namespace NS (p<NS>, 198.18.N.2, ifindex
# 3100+N, its default route via the node). The indexes are set so that a
# pod's interface never shares its index with a link of the node, where
# the agent refuses to account it (pods.c).
tiers_veth() {
	local ns=$1 ifn=$2 n=$3 pod
	pod=$(es_ifname "p$ns")
	ip link add "$(es_ifname "$ifn")" index $((2100 + n)) netns "$(es_ns node)" type veth \
		peer name "$pod" index $((3100 + n)) netns "$(es_ns "$ns")" || return 1
	ip -n "$(es_ns node)" addr add 198.18.$n.1/24 dev "$(es_ifname "$ifn")"
	ip -n "$(es_ns "$ns")" addr add 198.18.$n.2/24 dev "$pod"
	ip -n "$(es_ns node)" link set "$(es_ifname "$ifn")" up
	ip -n "$(es_ns "$ns")" link set "$pod" up
	ip -n "$(es_ns "$ns")" route add default via 198.18.$n.1
}

# tiers_pod_record NS POD: edgeshift-cni's record of the pod POD (namespace
# shop) whose interface is p<NS> in the namespace NS, in $ES_TMP/cni/pods:
# the agent (--cni-state-dir $ES_TMP/cni) accounts it and counts POD.
tiers_pod_record() {
	local ns=$1 pod=$2 ifn idx
	ifn=$(es_ifname "p$ns")
	idx=$(ip -n "$(es_ns "$ns")" -j link show "$ifn" | jq '.[0].ifindex')
	mkdir -p "$ES_TMP/cni/pods"
	jq -n --arg ns "/run/netns/$(es_ns "$ns")" --arg i "$ifn" --argjson x "$idx" \
		--arg p "$pod" '{containerID: $p, ifname: $i, netns: $ns, ifindex: $x,
		podNamespace: "shop", podName: $p, attached: false}' \
		>"$ES_TMP/cni/pods/.$pod.tmp" &&
		mv "$ES_TMP/cni/pods/.$pod.tmp" "$ES_TMP/cni/pods/$pod.json"
}

# tiers_agent_start: the agent in the namespace "node" (after
# tiers_net_setup) with the three tiers as its advisor's blocks (500 ms,
# 12 samples), each with its cgroup, its link and its pods
# ("TIER-7d9c-*"), the pipeline's latency file as the performance.
tiers_agent_start() {
	local t blocks
	blocks=$(for t in $TIERS; do
		printf '{"name": "%s", "cgroup": "%s", "link": "%s", "pods": "%s-7d9c-*"},' \
			$t "$(cg $t)" "$(tiers_link $t)" $t
	done)
	cat >"$ES_TMP/agent.json" <<JSON
{"advisor": {"interval_ms": 500, "samples": 12, "blocks": [${blocks%,}],
  "performance": {"file": "$ES_TMP/perf", "kind": "latency"}}}
JSON
	es_agent_start node main -c "$ES_TMP/agent.json" --cni-state-dir "$ES_TMP/cni"
}

# tiers_link TIER: the node's side of TIER's veth.
tiers_link() { eval "echo \$TIERS_LINK_$1"; }

# tiers_limit TIER LIMIT: the injection. TIERS_LIMIT is a cgroup file
# (CONTROLLER/FILE) that LIMIT is written to, or "net": LIMIT is the rate
# of the tbf on TIER's link (e.g. 8mbit).
tiers_limit() {
	local t=$1 limit=$2 file=${TIERS_LIMIT:-cpu/cpu.cfs_quota_us}
	if [ "$file" = net ]; then
		tc -n "$(es_ns node)" qdisc change dev "$(tiers_link "$t")" root \
			tbf rate "$limit" burst 16kb latency 50ms
	else
		echo "$limit" >$CG/"${file%%/*}"/"$(cg "$t")"/"${file#*/}"
	fi
}

# tiers_net_chain SECS: the pipeline over TCP (after tiers_net_setup): the
# generator in the node namespace sends to front, each stage in its own
# namespace listens on port 7000 and sends to the next tier; db's replies
# go to the sink on a pipe. Every request carries TIERS_PAD bytes
# (default 1000): at 1500 requests/s about 13 Mbit/s into each tier.
# Replicas: TIERS_LOGIC_MORE (ADDR:PORT,...) are more logic replicas the
# front sends to in turn once each is up (tiers_replica starts one), and
# TIERS_DB_ARGS more words for db's stage (--clients, --contend-us);
# TIERS_SOCKBUF, the socket buffers of every connection (--sockbuf).
tiers_net_chain() {
	local secs=$1 pad=${TIERS_PAD:-1000} nsr=/run/netns sb=()
	[ -n "${TIERS_SOCKBUF:-}" ] && sb=(--sockbuf "$TIERS_SOCKBUF")
	# shellcheck disable=SC2046,SC2086 # stage_args and TIERS_DB_ARGS print words
	( (join db nsenter --net=$nsr/"$(es_ns db)" $(stage_args db) --listen 7000 \
		${TIERS_DB_ARGS:-} "${sb[@]}") |
	  "$TIER" sink --out "$ES_TMP/perf" --every-ms 250 ) 2>>"$ES_TMP/tiers.log" &
	TIERS_PID=$!
	# shellcheck disable=SC2046
	(join logic nsenter --net=$nsr/"$(es_ns logic)" $(stage_args logic) --listen 7000 \
		--connect 198.18.3.2:7000 "${sb[@]}") 2>>"$ES_TMP/tiers.log" &
	# shellcheck disable=SC2046
	(join front nsenter --net=$nsr/"$(es_ns front)" $(stage_args front) --listen 7000 \
		--connect "198.18.2.2:7000${TIERS_LOGIC_MORE:+,$TIERS_LOGIC_MORE}" "${sb[@]}") \
		2>>"$ES_TMP/tiers.log" &
	nsenter --net=$nsr/"$(es_ns node)" "$TIER" gen --rate-from 1500 --rate-to 1500 \
		--secs "$secs" --pad "$pad" --connect 198.18.1.2:7000 "${sb[@]}" \
		2>>"$ES_TMP/tiers.log" &
	TIERS_GEN_PID=$!
	TIERS_GEN_START=$(es_pid_start "$TIERS_GEN_PID")
}

# tiers_replica NS: one more logic replica, a pod of its own (the namespace
# NS, made with tiers_veth) in cgroups of its own named after NS (the
# caller adds NS to TIERS first, so that make_cgroups makes them and the
# cleanup removes them), sending on to db; the front reaches it when its
# address is in TIERS_LOGIC_MORE.
tiers_replica() {
	local sb=()
	[ -n "${TIERS_SOCKBUF:-}" ] && sb=(--sockbuf "$TIERS_SOCKBUF")
	# shellcheck disable=SC2046 # stage_args prints words
	(join "$1" nsenter --net=/run/netns/"$(es_ns "$1")" $(stage_args "$1") --listen 7000 \
		--connect 198.18.3.2:7000 "${sb[@]}") 2>>"$ES_TMP/tiers.log" &
}

# tiers_run LIMITED AT_S SECS [LIMIT]: the pipeline under a steady 1500
# requests/s (100 us of CPU a request in each tier: 0.15 CPU each) for
# SECS, its mean latency in $ES_TMP/perf every 250 ms; AT_S seconds in,
# LIMITED (or "none") gets LIMIT (tiers_limit; default the CFS quota,
# 10000 a 100 ms period: a tenth of a CPU, a capacity of 1000 requests/s).
# Over TCP after tiers_net_setup, on pipes otherwise.
# Returns at once: TIERS_PID is the pipeline, which ends by itself.
tiers_run() {
	local limited=$1 at=$2 secs=$3 limit=${4:-10000} t
	for t in $TIERS; do
		echo -1 >$CG/cpu/"$(cg $t)"/cpu.cfs_quota_us
		echo -1 >$CG/memory/"$(cg $t)"/memory.limit_in_bytes
	done
	rm -f "$ES_TMP/perf"
	if [ -n "${TIERS_NET:-}" ]; then
		tiers_net_chain "$secs"
	else
		# shellcheck disable=SC2046 # stage_args prints words
		( "$TIER" gen --rate-from 1500 --rate-to 1500 --secs "$secs" |
		  (join front $(stage_args front)) |
		  (join logic $(stage_args logic)) |
		  (join db $(stage_args db)) |
		  "$TIER" sink --out "$ES_TMP/perf" --every-ms 250 ) 2>>"$ES_TMP/tiers.log" &
		TIERS_PID=$!
	fi
	if [ "$limited" != none ]; then
		( sleep "$at"; tiers_limit "$limited" "$limit" ) &
		TIERS_LIMITER_PID=$!
		TIERS_LIMITER_START=$(es_pid_start $!)
	fi
	for _ in $(seq 100); do [ -f "$ES_TMP/perf" ] && break; sleep 0.05; done
}

# tiers_advise_short: `edgeshift advise --json` on the three tiers over a
# short window (16 samples of 250 ms), into TIERS_OUT; after
# tiers_net_setup, in the node's namespace with each tier's link.
tiers_advise_short() {
	local t pre=() links=()
	if [ -n "${TIERS_NET:-}" ]; then
		pre=(nsenter --net=/run/netns/"$(es_ns node)")
		for t in $TIERS; do links+=(--link "$t=$(tiers_link "$t")"); done
	fi
	TIERS_OUT=$("${pre[@]}" "$ES_BUILD/edgeshift" advise --perf "$ES_TMP/perf" \
		--interval-ms 250 --samples 16 --block front="$(cg front)" \
		--block logic="$(cg logic)" --block db="$(cg db)" "${links[@]}" --json 2>&1)
}

# tiers_expect_first TIER WHAT RESOURCE REASON: TIERS_OUT ranks TIER
# first, driven by RESOURCE (or one of "A|B"), scales it out, and its
# reason starts with "TIER: REASON" (WHAT names the injection in the
# test's lines).
tiers_expect_first() {
	local t=$1 what=$2 res=$3 reason=$4 got
	es_expect_eq "advise ranks the $what $t first" \
		"$(jq -r '.ranking[0].block // "none"' <<<"$TIERS_OUT" 2>/dev/null)" "$t"
	got=$(jq -r '.ranking[0].resource' <<<"$TIERS_OUT" 2>/dev/null)
	case "|$res|" in
	*"|$got|"*) es_ok "$t's driving resource is $got (of $res)" ;;
	*) es_not_ok "$t's driving resource is $res" "got '$got'" ;;
	esac
	es_expect_eq "the advice is to scale $t out" \
		"$(jq -r '.scale_out // "none"' <<<"$TIERS_OUT" 2>/dev/null)" "$t"
	got=$(jq -r '.reason' <<<"$TIERS_OUT" 2>/dev/null)
	case "$got" in
	"$t: $reason"*) es_ok "the reason says: $reason" ;;
	*) es_not_ok "the reason says: $reason" "got '$got'" ;;
	esac
	jq -c '{worsening, scale_out, confidence, reason,
		ranking: [.ranking[] | {block, resource, against, distance, r}]}' <<<"$TIERS_OUT" 2>/dev/null |
		es_diag
}
