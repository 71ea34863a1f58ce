#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The advisor's performance series from the data plane: an agent attached
# to a veth, its "advisor" performance the p99 service latency (request in,
# reply out) of that interface. A UDP echo service behind it answers 20
# requests a second; every sample the advisor took while they flowed must
# be a latency the data plane measured (above 0, at most twice the client's
# longest round trip), and the answer must name where it comes from. About
# 5 s.
source "$(dirname "$0")/../lib.sh"
es_require_root
source "$(dirname "$0")/tiers.bash"

tiers_skip_without_v1
es_plan 4
trap 'tiers_cleanup; es_cleanup' EXIT

make_cgroups
es_netns_add a && es_netns_add b || exit 1
es_no_ipv6 a b
es_veth a va 10.252.0.1 b vb 10.252.0.2 || exit 1
VB=$(es_ifname vb)
cat >"$ES_TMP/agent.json" <<JSON
{"advisor": {"interval_ms": 250, "samples": 6,
  "blocks": [{"name": "front", "cgroup": "$(cg front)"}],
  "performance": {"interface": "$VB", "metric": "p99"}}}
JSON
es_agent_start b main -c "$ES_TMP/agent.json" -i "$VB" || exit 1
es_bg es_in b "$ES_BUILD/es-traffic" udp-server --port 7600 --timeout 30
es_wait_listen b u 7600
es_in a "$ES_BUILD/es-traffic" udp-client --to 10.252.0.2 --port 7600 --count 50 --size 64 \
	--rate 20 --json >"$ES_TMP/client.json"
es_expect_eq "all 50 requests answered" $? 0
# The service latency (request in, reply out at the server's side) lies
# inside the client's round trip; the log2 histogram's quantile is within a
# factor 2 of the true value. So the bound is measured, not assumed: a
# loaded machine answers later, and a unit slip (ns for us) is 1000 times.
max_rtt=$(jq -r '.rtt_us.max // empty' "$ES_TMP/client.json")
j=$(es_api b /v1/advice)
es_expect_eq "the performance is named by its source" "$(jq -r .perf <<<"$j")" "p99 latency of $VB"
es_expect_ge "samples taken while the requests flowed" "$(jq -r .samples_held <<<"$j")" 8
last=$(jq -r .performance_last <<<"$j")
es_check "the latest p99 is a latency the data plane measured ($last us, client's max RTT $max_rtt)" \
	awk -v v="$last" -v m="$max_rtt" 'BEGIN { exit !(m > 0 && v > 0 && v <= 2 * m) }'
es_done
