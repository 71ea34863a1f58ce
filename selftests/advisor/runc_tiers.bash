# SPDX-License-Identifier: GPL-2.0-only
# Sourced by the advisor's runc test and its benchmark (after lib.sh and
# tiers.bash): the three-tier service as runc containers, each with the
# cgroups runc makes for it and a network namespace of its own:
#
#   ab -k (namespace "user", as nobody) -> front: es-front, HTTP on 198.18.1.2:8080
#     -> logic: es-tier stage --reply --redis, 198.18.2.2:7000
#     -> db: Debian's redis-server, unmodified, 198.18.3.2:6379
#
# The namespaces, their veths to the namespace "node" (which forwards) and
# the tbf of 1 Gbit/s on each tier's link are tiers.bash's
# (tiers_net_setup); the user's namespace is one more pod of it
# (198.18.4.2). Each container's cgroupsPath is "/$(cg TIER)", so the
# advisor's blocks, tiers_limit and tiers_link name them as they name the
# es-tier pipeline's cgroups. One read-only root file system
# (es-image.sh --redis --tiers) serves the three; each container has
# $ES_TMP/data-TIER at /data: a tier's working set (RT_WS) lives there,
# on the disk of the test's files; front's is a tmpfs holding its latency
# file, $ES_TMP/data-front/perf (on the disk, the write-back of a file
# rewritten 4 times a second is I/O of the front's cgroup, which tracked
# the latency's noise in a control run and named front).
RT_RUNC=$ES_TMP/runc
RT_PERF=$ES_TMP/data-front/perf
RT_CONC=${RT_CONC:-16}	# ab's requests in flight

rt_runc() { runc --root "$RT_RUNC" "$@"; }

# rt_skip_without_runc: a plan of 0 and exit when runc, ab, redis-server
# or busybox (the root file system's) is missing.
rt_skip_without_runc() {
	local b
	for b in runc ab redis-server busybox; do
		if ! command -v $b >/dev/null; then
			es_plan 0
			echo "# SKIP $b is not installed"
			exit 0
		fi
	done
}

# rt_cleanup: the containers (runc removes their cgroups), then what
# tiers.bash made.
rt_cleanup() {
	local c
	# a limit not yet applied must not land after the cleanup
	[ -n "${RT_LIM_PID:-}" ] && es_kill_ours "$RT_LIM_PID" "$RT_LIM_START"
	# ab is the child of the es_in subshell recorded
	[ -n "${RT_AB_PID:-}" ] && es_kill_tree "$RT_AB_PID" "$RT_AB_START"
	for c in $(rt_runc list -q 2>/dev/null); do
		rt_runc delete -f "$c" >/dev/null 2>&1
	done
	tiers_cleanup
}

# rt_image: the root file system of the three (RT_ROOTFS).
rt_image() {
	local d
	d=$(bash "$ES_ROOT/tools/fixtures/es-image.sh" --state-dir "$ES_TMP/img" --build "$ES_BUILD" \
		--redis --tiers) || return 1
	RT_ROOTFS=$ES_TMP/img/images/$d/rootfs
}

# rt_bundle TIER ARGS...: TIER's bundle in $ES_TMP/bundle-TIER, running ARGS.
rt_bundle() {
	local t=$1 b=$ES_TMP/bundle-$1 args
	shift
	# one JSON string a word (jq 1.6 takes words like --port as its options)
	args=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
	mkdir -p "$b" "$ES_TMP/data-$t"
	rm -f "$b/config.json"
	runc spec --bundle "$b" || return 1
	jq --arg root "$RT_ROOTFS" --arg cg "/$(cg "$t")" --arg t "$t" \
		--arg ns "/run/netns/$(es_ns "$t")" --arg data "$ES_TMP/data-$t" \
		--argjson args "$args" '.process.terminal = false | .process.args = $args |
		.root = {path: $root, readonly: true} | .hostname = $t |
		.linux.cgroupsPath = $cg |
		.linux.namespaces |= map(if .type == "network" then .path = $ns else . end) |
		.mounts += [{destination: "/data", type: "bind", source: $data,
			     options: ["rbind", "rw"]},
			    {destination: "/tmp", type: "tmpfs", source: "tmpfs",
			     options: ["nosuid", "nodev", "size=65536k"]}]' \
		<"$b/config.json" >"$b/config.new" && mv "$b/config.new" "$b/config.json"
}

# rt_ws TIER: logic's working set options when RT_WS names it (the tier
# that reads pages of a file on the disk a request: what a memory limit
# makes reclaim, RT_WS_ARGS as TIERS_WS_ARGS).
rt_ws() {
	[ "$1" = "${RT_WS:-}" ] &&
		echo --touch-file /data/ws ${RT_WS_ARGS:---touch-mb 32 --touch-pages 16}
}

# rt_start: the namespaces, the three containers, and waits (10 s at most)
# until the front answers an HTTP request from the user's namespace.
rt_start() {
	local t
	if [ -z "${TIERS_NET:-}" ]; then
		tiers_net_setup || return 1
		es_netns_add user && es_no_ipv6 user && tiers_veth user nuser 4 || return 1
	fi
	[ -n "${RT_ROOTFS:-}" ] || rt_image || return 1
	mkdir -p "$ES_TMP/data-front"
	mountpoint -q "$ES_TMP/data-front" ||
		mount -t tmpfs -o size=1m tmpfs "$ES_TMP/data-front" || return 1
	rm -f "$RT_PERF" "$ES_TMP"/data-*/ws
	rt_bundle db /usr/bin/redis-server --port 6379 --bind 0.0.0.0 --protected-mode no \
		--save "" --appendonly no --dir /tmp || return 1
	# shellcheck disable=SC2046 # rt_ws prints words
	rt_bundle logic /usr/local/bin/es-tier stage --burn-us 100 --listen 7000 --reply \
		--redis 198.18.3.2:6379 $(rt_ws logic) || return 1
	rt_bundle front /usr/local/bin/es-front --listen 8080 --upstream 198.18.2.2:7000 \
		--burn-us 100 --out /data/perf --every-ms 250 || return 1
	for t in db logic front; do
		rt_runc run -d --bundle "$ES_TMP/bundle-$t" "$(cg "$t")" \
			>>"$ES_TMP/runc-$t.log" 2>&1 </dev/null || return 1
	done
	for _ in $(seq 100); do
		es_in user curl -sf -m 1 -o /dev/null http://198.18.1.2:8080/warm && return 0
		sleep 0.1
	done
	echo "runc_tiers: the front does not answer" >&2
	return 1
}

# rt_stop: the containers go (their cgroups with them); the namespaces stay.
rt_stop() {
	local t
	[ -n "${RT_AB_PID:-}" ] && kill "$RT_AB_PID" 2>/dev/null && wait "$RT_AB_PID" 2>/dev/null
	RT_AB_PID=
	for t in front logic db; do
		rt_runc delete -f "$(cg "$t")" >/dev/null 2>&1
	done
}

# rt_load SECS: ab -k with RT_CONC requests in flight for SECS, from the
# user's network namespace, as an unprivileged user (nobody, in a user
# namespace of its own) (RT_AB_PID; its report in $ES_TMP/ab.log).
rt_load() {
	es_in user unshare --user ab -k -q -c "$RT_CONC" -t "$1" -n 100000000 -s 30 \
		http://198.18.1.2:8080/req >"$ES_TMP/ab.log" 2>&1 &
	RT_AB_PID=$!
	RT_AB_START=$(es_pid_start "$RT_AB_PID")
}

# rt_advise SAMPLES [ARGS...]: `edgeshift advise --json ARGS` on the three
# containers' cgroups and links (250 ms a sample), in the node's namespace,
# into TIERS_OUT (as tiers_advise_short) and its exit status into RT_RC;
# the front's latency is the performance.
rt_advise() {
	local t n=$1 links=()
	shift
	for t in $TIERS; do links+=(--link "$t=$(tiers_link "$t")"); done
	TIERS_OUT=$(es_in node "$ES_BUILD/edgeshift" advise --perf "$RT_PERF" \
		--interval-ms 250 --samples "$n" --block front="$(cg front)" \
		--block logic="$(cg logic)" --block db="$(cg db)" "${links[@]}" --json "$@" 2>&1)
	RT_RC=$?
}

# rt_quota TIER QUOTA_US: the CFS quota of TIER's container (a 100 ms
# period; -1: none), set the way an operator would, by runc.
rt_quota() { rt_runc update --cpu-period 100000 --cpu-quota "$2" "$(cg "$1")"; }

# rt_limit KIND TIER STRENGTH: a bottleneck on TIER, set as an operator
# would: a CFS quota (us a 100 ms period), a memory limit (runc update), a
# rate on its link (a tbf), a read throttle of STRENGTH reads a second on
# TIERS_IO_DEV (tiers_io_check); STRENGTH "off" lifts it.
rt_limit() {
	case $1:$3 in
	cpu:off) rt_quota "$2" -1 ;;
	cpu:*) rt_quota "$2" "$3" ;;
	memory:off) rt_runc update --memory -1 "$(cg "$2")" ;;
	memory:*) rt_runc update --memory "$3" "$(cg "$2")" ;;
	net:off) tc -n "$(es_ns node)" qdisc change dev "$(tiers_link "$2")" root \
		tbf rate 1gbit burst 256kb latency 50ms ;;
	net:*) TIERS_LIMIT=net tiers_limit "$2" "$3" ;;
	io:off) echo "$TIERS_IO_DEV 0" >$CG/blkio/"$(cg "$2")"/blkio.throttle.read_iops_device ;;
	io:*) echo "$TIERS_IO_DEV $3" >$CG/blkio/"$(cg "$2")"/blkio.throttle.read_iops_device ;;
	esac
}
