#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The scale advisor on a real three-tier service in runc containers
# (selftests/advisor/runc_tiers.bash): an HTTP front (es-front), a logic
# tier (es-tier, one Redis INCR a request) and Debian's redis-server as
# the database, each with the cgroups runc made for it and a network
# namespace of its own, driven by ab -k from the user's namespace (a
# closed-loop client: when a tier reaches its limit the latency steps up).
# Logic reads 16 random pages of a 32 MiB file a request (its working
# set). Without a bottleneck `edgeshift advise` must recommend nothing;
# with a CFS quota set by `runc update` on logic, then on db, 2.5 s into
# a 4 s window, it must rank that tier first, driven by its CFS
# throttling, and scale it out (--patch: logic's Deployment at its
# replicas plus one); then with a memory limit of 4 MiB on logic (runc
# update --memory) it must name logic by its reclaim (or its memory
# stall), and with a rate of 0.5 Mbit/s on db's link by one of the link's
# series. About 35 s.
source "$(dirname "$0")/../lib.sh"
es_require_root
source "$(dirname "$0")/tiers.bash"
source "$(dirname "$0")/runc_tiers.bash"

tiers_skip_without_v1
rt_skip_without_runc
es_plan 25
trap 'rt_cleanup; es_cleanup' EXIT

RT_WS=logic
if ! rt_start; then
	es_not_ok "the three containers start and the front answers" \
		"$(tail -n 5 "$ES_TMP"/runc-*.log 2>&1)"
	es_done
fi
es_ok "the three containers start and the front answers"
for t in front logic db; do
	pid=$(rt_runc state "$(cg "$t")" | jq -r .pid)
	es_check "$t runs in the cpu cgroup runc made for it" \
		grep -qx "$pid" "$CG/cpu/$(cg "$t")/cgroup.procs"
done

# run_case KIND LIMITED STRENGTH ADVISE_ARGS...: 6 s of ab; 1 s in, the
# advice over 16 samples of 250 ms; 2.5 s into its window LIMITED (or
# none) gets the limit. The limit is lifted afterwards.
run_case() {
	local kind=$1 limited=$2 strength=$3
	shift 3
	rt_load 6
	sleep 1
	[ "$limited" = none ] || ( sleep 2.5; rt_limit "$kind" "$limited" "$strength" ) &
	rt_advise 16 "$@"
	wait "$RT_AB_PID"
	RT_AB_PID=
	wait
	[ "$limited" = none ] || rt_limit "$kind" "$limited" off
}

# The working set is written and read in once, before any window.
rt_load 3
wait "$RT_AB_PID"
RT_AB_PID=
run_case cpu none 0
# Usually the latency stays flat and nothing is ranked (exit 3); on a busy
# machine it can rise with no tier at fault, and then every block is held.
es_expect_eq "no bottleneck: nothing to scale out" \
	"$(jq -c '.scale_out' <<<"$TIERS_OUT" 2>/dev/null)" null
es_expect_eq "the exit status says whether it ranked (3: the service did not get worse)" \
	"$RT_RC" "$(jq -r 'if .performance_changed then 0 else 3 end' <<<"$TIERS_OUT" 2>/dev/null)"
jq -c '{worsening, reason}' <<<"$TIERS_OUT" 2>/dev/null | es_diag
es_check "ab's requests were all answered ($(grep -o 'Complete requests: *[0-9]*' "$ES_TMP/ab.log"))" \
	grep -q '^Failed requests: *0$' "$ES_TMP/ab.log"

# logic's quota: 5 ms a 100 ms period (it used about 0.5 CPU at full rate).
run_case cpu logic 5000 --patch --namespace shop --replicas logic=2
tiers_expect_first logic CPU-limited cpu_throttled "CPU throttled"
es_expect_eq "it reads the v1 cgroup runc made" \
	"$(jq -r '.ranking[0] | "\(.cgroup) \(.cgroup_version)"' <<<"$TIERS_OUT")" "$(cg logic) 1"
es_expect_eq "--patch prints logic's Deployment at 3 replicas" \
	"$(jq -r '.patch.command' <<<"$TIERS_OUT" 2>/dev/null)" \
	"kubectl -n shop patch deployment logic --type merge -p '{\"spec\":{\"replicas\":3}}'"

# db (Debian's redis-server, about 0.1 CPU at full rate): 2 ms a period.
run_case cpu db 2000
tiers_expect_first db CPU-limited cpu_throttled "CPU throttled"

# logic's 32 MiB working set under a 4 MiB limit: it reclaims and refaults.
run_case memory logic 4M
tiers_expect_first logic memory-limited "memory_reclaim|memory_pressure" "memory"
# db's link at 0.5 Mbit/s (about 4 Mbit/s of small packets go into it).
run_case net db 500kbit
tiers_expect_first db rate-limited "net_limited|net_drops|net_backlog|net_rate_used" \
	"network: link $(tiers_link db) rate-limited"
es_done
