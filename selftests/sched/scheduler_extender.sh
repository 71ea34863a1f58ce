#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Three emulated nodes (namespaces n1, n2, n3, each with an edgeshiftd on
# its 100 Mbit/s uplink) carry different loads; a real Prometheus scrapes
# the three agents; edgeshift-scheduler, given ExtenderArgs of the upstream
# format (NodeNames and full Nodes forms), filters and ranks them, and keeps
# its promises when Prometheus stops and for a node without data.
. "$(dirname "$0")/../lib.sh"
es_require_root scheduler_extender
if ! command -v prometheus >/dev/null || ! command -v iperf3 >/dev/null; then
	es_plan 1
	es_skip "scheduler extender" "prometheus or iperf3 missing (tools/setup/install-deps installs them)"
	exit 0
fi
es_plan 28

es_netns_add mon || exit 1
for k in 1 2 3; do
	es_netns_add "n$k" || exit 1
	es_no_ipv6 "n$k"
	es_veth mon "m$k" "10.248.$k.1" "n$k" "u$k" "10.248.$k.2" || exit 1
	cat >"$ES_TMP/agent-n$k.json" <<JSON
{"signals": {"window_ms": 3000, "link_capacity_mbps": {"$(es_ifname "u$k")": 100}}}
JSON
	es_agent_launch "n$k" "n$k" -c "$ES_TMP/agent-n$k.json" -l 0.0.0.0:9464 \
		-i "$(es_ifname "u$k")"
	AGENT[k]=$ES_AGENT_PID
done
# the three agents load their programs at once
for k in 1 2 3; do
	es_agent_wait "n$k" "n$k" "${AGENT[k]}" || exit 1
done
N1=$ES_PREFIX-n1; N2=$ES_PREFIX-n2; N3=$ES_PREFIX-n3; GHOST=$ES_PREFIX-ghost

es_prometheus_start mon edgeshift 10.248.1.2:9464 10.248.2.2:9464 10.248.3.2:9464
PROM_PID=$ES_PROM_PID

# Scheduler A fails a pod when metrics are stale; B lets it pass. Both
# refuse nodes over 70 % of the link or 20 sessions.
sched_start() {
	cat >"$ES_TMP/sched-$1.json" <<JSON
{"listen": "127.0.0.1:$2",
 "prometheus": {"url": "http://127.0.0.1:9090", "timeout_ms": 300,
                "refresh_interval_ms": 500, "max_staleness_ms": 3000},
 "filter": {"max_utilisation": 0.7, "max_sessions": 20},
 "latency_classes": {"ultra": {"slo_ms": 0.001}, "best-effort": {"slo_ms": 0}},
 "default_latency_class": "best-effort",
 "on_metrics_unavailable": "$3", "on_node_without_data": "$4", "no_data_score": 2}
JSON
	es_bg --log "$ES_TMP/sched-$1.log" es_in mon "$ES_BUILD/edgeshift-scheduler" \
		-c "$ES_TMP/sched-$1.json" --log-level debug
}
sched_start a 8888 error fail
SA_PID=$ES_BG_PID
sched_start b 8889 pass pass
SB_PID=$ES_BG_PID

# Loads: n2 40 Mbit/s, 10 UDP request/response sessions and pings; n3 85 Mbit/s.
es_bg es_in n2 iperf3 -s -p 5201
es_bg es_in n3 iperf3 -s -p 5201
es_bg es_in n2 "$ES_BUILD/es-traffic" udp-server --port 7000 --timeout 300
es_wait_listen n2 t 5201 && es_wait_listen n3 t 5201 && es_wait_listen n2 u 7000 ||
	es_diag <<<"a server did not come up"
es_bg es_in mon iperf3 -c 10.248.2.2 -u -b 40M -t 60 -l 1400
es_bg es_in mon iperf3 -c 10.248.3.2 -u -b 85M -t 60 -l 1400
# Echo requests keep service latency samples in n2's window; n1 gets none.
es_bg es_in mon ping -q -i 0.2 -w 60 10.248.2.2
for p in $(seq 41000 41009); do
	es_in mon "$ES_BUILD/es-traffic" udp-client --to 10.248.2.2 --port 7000 \
		--count 2 --size 100 --src-port "$p" >/dev/null
done

# ExtenderArgs as kube-scheduler sends them: a v1.Pod and NodeNames, or a
# full v1.NodeList.
pod_json() { # ANNOTATIONS-JSON
	jq -nc --argjson ann "$1" '{metadata: {name: "video-0", namespace: "edge",
		uid: "8d1c3f0e-0000-4000-8000-000000000001", annotations: $ann},
		spec: {containers: [{name: "c", image: "busybox",
			resources: {requests: {cpu: "100m", memory: "64Mi"}}}]},
		status: {phase: "Pending"}}'
}
args_names() { # ANNOTATIONS NODE...
	local ann=$1
	shift
	jq -nc --argjson pod "$(pod_json "$ann")" '{Pod: $pod, Nodes: null, NodeNames: $ARGS.positional}' \
		--args "$@"
}
args_nodes() { # ANNOTATIONS NODE...
	local ann=$1
	shift
	jq -nc --argjson pod "$(pod_json "$ann")" '{Pod: $pod, NodeNames: null, Nodes: {
		kind: "NodeList", apiVersion: "v1", metadata: {resourceVersion: "1"},
		items: [$ARGS.positional[] | {metadata: {name: ., labels: {"kubernetes.io/hostname": .}},
			spec: {podCIDR: "10.244.0.0/24"},
			status: {capacity: {cpu: "4", memory: "8Gi", pods: "110"},
				allocatable: {cpu: "4", memory: "8Gi", pods: "110"},
				conditions: [{type: "Ready", status: "True"}]}}]}}' --args "$@"
}
post() { # PORT VERB BODY
	es_in mon curl -s -m 10 -XPOST -H 'Content-Type: application/json' \
		--data-binary "$3" "http://127.0.0.1:$1/edgeshift/$2"
}
AWARE='{"edgeshift.io/placement": "network-aware", "edgeshift.io/bandwidth": "7M"}'

# Wait for Prometheus to hold the loads of a full window.
ok=0
for _ in $(seq 60); do
	nodes=$(es_in mon curl -s -m 2 http://127.0.0.1:8888/v1/nodes)
	t2=$(jq -r --arg n "$N2" '.nodes[] | select(.node == $n) | .throughput // 0' <<<"$nodes")
	t3=$(jq -r --arg n "$N3" '.nodes[] | select(.node == $n) | .throughput // 0' <<<"$nodes")
	s2=$(jq -r --arg n "$N2" '.nodes[] | select(.node == $n) | .sessions // 0' <<<"$nodes")
	# n1 carries no load, but it must have been scraped too (its capacity)
	c1=$(jq -r --arg n "$N1" '.nodes[] | select(.node == $n) | .capacity // 0' <<<"$nodes")
	if awk -v a="${t2:-0}" -v b="${t3:-0}" -v s="${s2:-0}" -v c="${c1:-0}" \
		'BEGIN { exit !(a > 35e6 && a < 45e6 && b > 75e6 && s >= 10 && c > 0) }'; then
		ok=1
		break
	fi
	sleep 0.5
done
es_expect_eq "Prometheus holds the three nodes' signals (n2 ~40M, n3 ~85M, n2 >= 10 sessions, n1 scraped)" "$ok" 1
[ "$ok" = 1 ] || echo "$nodes" | es_diag
es_expect_eq "capacity comes from the agents' configuration" \
	"$(jq -r --arg n "$N1" '.nodes[] | select(.node == $n) | .capacity' <<<"$nodes")" 100000000

# Filter, NodeNames form: n3 is over 70 % once the pod's 7 Mbit/s is added.
r=$(post 8888 filter "$(args_names "$AWARE" "$N1" "$N2" "$N3" "$GHOST")")
es_expect_eq "filter (NodeNames): n1 and n2 pass, in order" "$(jq -c .NodeNames <<<"$r")" "[\"$N1\",\"$N2\"]"
es_expect_eq "filter (NodeNames): n3 failed for utilisation" \
	"$(jq -r --arg n "$N3" '.FailedNodes[$n] | test("utilisation would be 0\\.9[0-9]*.*above max_utilisation 0\\.700")' <<<"$r")" true
es_expect_eq "filter: node without data is unresolvable, with the reason" \
	"$(jq -r --arg n "$GHOST" '.FailedAndUnresolvableNodes[$n] | test("no .* data for node")' <<<"$r")" true
es_expect_eq "filter: no Error, Nodes null in the NodeNames form" "$(jq -c '[.Error, .Nodes]' <<<"$r")" '["",null]'

# Filter, full Nodes form: the passing Node objects come back whole.
r=$(post 8888 filter "$(args_nodes "$AWARE" "$N1" "$N2" "$N3")")
es_expect_eq "filter (Nodes): items of n1 and n2, NodeNames null" \
	"$(jq -c '[[.Nodes.items[].metadata.name], .NodeNames]' <<<"$r")" "[[\"$N1\",\"$N2\"],null]"
es_expect_eq "filter (Nodes): node objects returned unchanged" \
	"$(jq -c '.Nodes.items[0].status.capacity' <<<"$r")" '{"cpu":"4","memory":"8Gi","pods":"110"}'
es_expect_eq "filter (Nodes): n3 in FailedNodes" "$(jq -r --arg n "$N3" '.FailedNodes | has($n)' <<<"$r")" true

# Session cap: a pod bringing 15 sessions fits n1 (a few) but not n2 (>= 10).
r=$(post 8888 filter "$(args_names '{"edgeshift.io/placement": "network-aware", "edgeshift.io/sessions": "15"}' "$N1" "$N2")")
es_expect_eq "session cap: n2 fails with 15 more sessions" \
	"$(jq -r --arg n "$N2" '.FailedNodes[$n] | test("sessions would be .* above max_sessions 20")' <<<"$r")" true
es_expect_eq "session cap: n1 passes" "$(jq -c .NodeNames <<<"$r")" "[\"$N1\"]"

# Latency SLO: n2 has service latency samples (tens of us), n1 none; the
# agents' sample counts say so, which tells n1 idle rather than unknown.
nodes=$(es_in mon curl -s -m 2 http://127.0.0.1:8888/v1/nodes)
es_expect_eq "the agents' latency sample counts: n1 0 without a latency, n2 some with one" \
	"$(jq -c --arg a "$N1" --arg b "$N2" '[(.nodes[] | select(.node == $a) | [.latency_samples, .latency]),
		(.nodes[] | select(.node == $b) | [.latency_samples > 0, .latency > 0])]' <<<"$nodes")" \
	'[[0,null],[true,true]]'
r=$(post 8888 filter "$(args_names '{"edgeshift.io/placement": "network-aware", "edgeshift.io/latency-class": "ultra"}' "$N1" "$N2")")
es_expect_eq "latency SLO of 1 us: n2 fails on latency, n1 (no samples, nothing waited) passes" \
	"$(jq -r --arg n "$N2" '.FailedNodes[$n] | test("latency .* above the 0\\.001 ms SLO of latency class ultra")' <<<"$r") $(jq -c .NodeNames <<<"$r")" \
	"true [\"$N1\"]"

# Prioritize: n1 (idle) ranks above n2 (40 %), scores within 0..10.
r=$(post 8888 prioritize "$(args_names "$AWARE" "$N1" "$N2" "$N3")")
s1=$(jq -r --arg n "$N1" '.[] | select(.Host == $n) | .Score' <<<"$r")
s2=$(jq -r --arg n "$N2" '.[] | select(.Host == $n) | .Score' <<<"$r")
s3=$(jq -r --arg n "$N3" '.[] | select(.Host == $n) | .Score' <<<"$r")
es_expect_eq "prioritize: one HostPriority per node, scores 0..10" \
	"$(jq '[.[] | select(.Score >= 0 and .Score <= 10)] | length' <<<"$r")" 3
es_check "prioritize: n1 ($s1) > n2 ($s2) and n1 > n3 ($s3)" test "$s1" -gt "$s2" -a "$s1" -gt "$s3"
es_expect_ge "prioritize: idle n1 scores at least 8" "$s1" 8
r=$(post 8888 prioritize "$(args_nodes "$AWARE" "$N1" "$N2")")
es_expect_eq "prioritize (Nodes form): same scores" \
	"$(jq -c '[.[].Score]' <<<"$r")" "[$s1,$s2]"

# A pod without the annotation is not touched.
r=$(post 8888 filter "$(args_names '{}' "$N1" "$N3" "$GHOST")")
es_expect_eq "pod without opt-in: every node passes" "$(jq -c '[.NodeNames, .FailedNodes]' <<<"$r")" \
	"[[\"$N1\",\"$N3\",\"$GHOST\"],{}]"

# Scheduler B lets a node without data pass, with no_data_score.
r=$(post 8889 prioritize "$(args_names "$AWARE" "$GHOST")")
es_expect_eq "on_node_without_data pass: score is no_data_score" "$(jq -c '.[0].Score' <<<"$r")" 2

# Prometheus stops. Within max_staleness (3 s) the cached inputs still decide.
kill "$PROM_PID"
wait "$PROM_PID" 2>/dev/null
r=$(post 8888 filter "$(args_names "$AWARE" "$N1" "$N3")")
es_expect_eq "Prometheus just stopped: cached inputs still decide" "$(jq -c .NodeNames <<<"$r")" "[\"$N1\"]"
sleep 3.5
t0=$(date +%s%N)
r=$(post 8888 filter "$(args_names "$AWARE" "$N1" "$N3")")
ms=$((($(date +%s%N) - t0) / 1000000))
es_expect_eq "Prometheus down past the bound, on_metrics_unavailable error: Error names the cause" \
	"$(jq -r '.Error | test("not placed: edgeshift metrics are [0-9.]+ s old \\(bound 3\\.0 s\\).*Couldn.t connect")' <<<"$r")" true
es_expect_le "and the answer took under 1 s (ms)" "$ms" 1000
code=$(es_in mon curl -s -m 10 -o "$ES_TMP/prio.json" -w '%{http_code}' -XPOST \
	-H 'Content-Type: application/json' --data-binary "$(args_names "$AWARE" "$N1" "$N3")" \
	http://127.0.0.1:8888/edgeshift/prioritize)
es_expect_eq "... prioritize: 400 with the same cause" \
	"$code/$(jq -r '.Error | test("not placed: edgeshift metrics are [0-9.]+ s old")' "$ES_TMP/prio.json")" "400/true"
r=$(post 8889 filter "$(args_names "$AWARE" "$N1" "$N3")")
es_expect_eq "on_metrics_unavailable pass: every node passes" "$(jq -c '[.NodeNames, .Error]' <<<"$r")" \
	"[[\"$N1\",\"$N3\"],\"\"]"
r=$(post 8889 prioritize "$(args_names "$AWARE" "$N1" "$N3")")
es_expect_eq "on_metrics_unavailable pass: neutral scores" "$(jq -c '[.[].Score]' <<<"$r")" "[0,0]"
es_expect_eq "GET /v1/nodes says why the inputs are unusable" \
	"$(es_in mon curl -s http://127.0.0.1:8888/v1/nodes | jq -r '.usable, (.error | test("s old"))' | paste -sd,)" \
	"false,true"
es_expect_eq "the scheduler counted the failing refreshes" \
	"$(es_in mon curl -s http://127.0.0.1:8888/metrics | awk '/^edgeshift_scheduler_metrics_refreshes_total\{result="error"\}/ { print ($2 > 0) }')" 1
es_check "both schedulers still run" kill -0 "$SA_PID" "$SB_PID"
es_done
