#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Extender latency per request (filter + prioritize) for 100 and 1,000
# nodes with warm metrics. The per-node series are synthetic: a static
# exposition file of 1,000 nodes, served by busybox httpd and scraped by a
# real Prometheus; edgeshift-scheduler reads them from Prometheus in the
# background, so no request waits on it. Ratios measured side by side:
# 1,000 nodes over 100 nodes, and an opted-in pod (the policy runs) over a
# pod without the annotation (parse and answer only).
. "$(dirname "$0")/../../../selftests/lib.sh"
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
ROUNDS=${ES_BENCH_SCHED_ROUNDS:-200}
NODES_MAX=1000
step() { printf '  %s\n' "$*" >&2; }
for c in prometheus busybox jq; do
	command -v "$c" >/dev/null || { echo "scheduler bench: $c missing (tools/setup/install-deps)" >&2; exit 1; }
done

es_netns_add b || exit 1
mkdir -p "$ES_TMP/www"
# Node i: 1 Gbit/s uplink, (i % 90) % used, i % 50 sessions, p99 20 + i % 400 us
# over 100 + i % 50 latency samples (the count the extender needs beside it).
awk -v n="$NODES_MAX" 'BEGIN {
	for (i = 1; i <= n; i++) {
		node = sprintf("node-%04d", i)
		printf "edgeshift_node_link_capacity_bits_per_second{node=\"%s\"} 1e9\n", node
		printf "edgeshift_node_link_throughput_bits_per_second{node=\"%s\",direction=\"rx\"} %d\n", node, (i % 90) * 1e7
		printf "edgeshift_node_link_throughput_bits_per_second{node=\"%s\",direction=\"tx\"} %d\n", node, (i % 45) * 1e7
		printf "edgeshift_node_sessions_active{node=\"%s\"} %d\n", node, i % 50
		printf "edgeshift_node_latency_seconds{node=\"%s\",kind=\"service\",quantile=\"0.99\"} %.6f\n", node, (20 + i % 400) / 1e6
		printf "edgeshift_node_latency_window_samples{node=\"%s\",kind=\"service\"} %d\n", node, 100 + i % 50
	}
}' >"$ES_TMP/www/metrics"
es_bg es_in b busybox httpd -f -p 127.0.0.1:9465 -h "$ES_TMP/www"
es_prometheus_start b synthetic 127.0.0.1:9465
cat >"$ES_TMP/sched.json" <<JSON
{"listen": "127.0.0.1:8888",
 "prometheus": {"url": "http://127.0.0.1:9090", "refresh_interval_ms": 1000, "max_staleness_ms": 60000},
 "filter": {"max_utilisation": 0.7, "max_sessions": 40}}
JSON
es_bg es_in b "$ES_BUILD/edgeshift-scheduler" -c "$ES_TMP/sched.json" --log-level warn
SCHED_PID=$ES_BG_PID

step "waiting for Prometheus to scrape $NODES_MAX synthetic nodes and the scheduler to cache them"
n=0
for _ in $(seq 120); do
	n=$(es_in b curl -s -m 2 http://127.0.0.1:8888/v1/nodes | jq '[.nodes[] | select(.latency != null)] | length' 2>/dev/null)
	[ "${n:-0}" -ge "$NODES_MAX" ] && break
	sleep 0.5
done
[ "${n:-0}" -ge "$NODES_MAX" ] || { echo "scheduler bench: only ${n:-0} nodes cached" >&2; exit 1; }

# ExtenderArgs as kube-scheduler sends them: NodeNames (nodeCacheCapable)
# or the full v1.NodeList, with node objects of a realistic size.
args() { # NODES FORM OPTED_IN
	jq -nc --argjson n "$1" --arg form "$2" --argjson aware "$3" '
	def node(i): ("node-" + ((10000 + i) | tostring | .[1:])) as $name | {
		metadata: {name: $name, uid: ("0000-" + $name), resourceVersion: "12345",
			labels: {"kubernetes.io/hostname": $name, "kubernetes.io/os": "linux",
				"kubernetes.io/arch": "amd64", "topology.kubernetes.io/zone": "edge-a",
				"node.kubernetes.io/instance-type": "mec-small"},
			annotations: {"node.alpha.kubernetes.io/ttl": "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
		spec: {podCIDR: "10.244.1.0/24", podCIDRs: ["10.244.1.0/24"]},
		status: {capacity: {cpu: "8", memory: "16318712Ki", pods: "110", "ephemeral-storage": "101445540Ki"},
			allocatable: {cpu: "8", memory: "16216312Ki", pods: "110", "ephemeral-storage": "93492209510"},
			conditions: [range(5) | {type: "Ready", status: "True",
				lastHeartbeatTime: "2026-11-21T00:00:00Z", reason: "KubeletReady"}],
			addresses: [{type: "InternalIP", address: "10.0.0.1"}, {type: "Hostname", address: $name}],
			nodeInfo: {kernelVersion: "6.18.0", osImage: "Debian GNU/Linux 12 (bookworm)",
				containerRuntimeVersion: "containerd://1.7.0", kubeletVersion: "v1.31.0",
				architecture: "amd64", operatingSystem: "linux"},
			images: [range(10) | {names: ["registry.example/app-\(.)@sha256:0123456789abcdef"],
				sizeBytes: 123456789}]}};
	{Pod: {metadata: {name: "video-0", namespace: "edge",
		annotations: (if $aware then {"edgeshift.io/placement": "network-aware",
			"edgeshift.io/bandwidth": "7M"} else {} end)},
		spec: {containers: [{name: "c", image: "busybox"}]}}}
	+ (if $form == "names" then {NodeNames: [range(1; $n + 1) | node(.).metadata.name], Nodes: null}
	   else {Nodes: {metadata: {}, items: [range(1; $n + 1) | node(.)]}, NodeNames: null} end)' \
		>"$ES_TMP/args-$1-$2-$3.json"
}
measure() { # NODES FORM OPTED_IN
	set -o pipefail
	args "$@"
	es_in b "$ES_BUILD/es-extender-load" --prefix http://127.0.0.1:8888/edgeshift \
		--args "$ES_TMP/args-$1-$2-$3.json" --rounds "$ROUNDS" --warmup 20 --json |
		jq -c --argjson n "$1" --arg f "$2" --argjson a "$3" '{nodes: $n, form: $f, opted_in: $a} + .'
}
: >"$OUT/scheduler.runs"
for form in names nodes; do
	for nodes in 100 "$NODES_MAX"; do
		for aware in true false; do
			step "$form form, $nodes nodes, opted_in=$aware: $ROUNDS rounds"
			measure "$nodes" "$form" "$aware" >>"$OUT/scheduler.runs" || exit 1
		done
	done
done
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$SCHED_PID/status")

jq -s --argjson rss "$rss" --argjson max "$NODES_MAX" '
	def pick(n; f; a): .[] | select(.nodes == n and .form == f and .opted_in == a);
	. as $r | {
	runs: $r,
	scheduler_rss_kib: $rss,
	summary: [ ("names", "nodes") as $f | {
		form: $f,
		p50_us_100: (pick(100; $f; true) | .filter_plus_prioritize.p50_us),
		p99_us_100: (pick(100; $f; true) | .filter_plus_prioritize.p99_us),
		p50_us_1000: (pick($max; $f; true) | .filter_plus_prioritize.p50_us),
		p99_us_1000: (pick($max; $f; true) | .filter_plus_prioritize.p99_us),
		growth_p50: ((pick($max; $f; true) | .filter_plus_prioritize.p50_us) /
			(pick(100; $f; true) | .filter_plus_prioritize.p50_us)),
		growth_p99: ((pick($max; $f; true) | .filter_plus_prioritize.p99_us) /
			(pick(100; $f; true) | .filter_plus_prioritize.p99_us)),
		policy_over_passthrough_p50_1000: ((pick($max; $f; true) | .filter_plus_prioritize.p50_us) /
			(pick($max; $f; false) | .filter_plus_prioritize.p50_us))
	} ] }' "$OUT/scheduler.runs" >"$OUT/scheduler.json"
rm -f "$OUT/scheduler.runs"

printf '\n%-10s %12s %12s %12s %12s %9s %9s %14s\n' form "p50 100" "p99 100" "p50 1000" "p99 1000" \
	"x p50" "x p99" "policy/bypass"
jq -r '.summary[] | [.form, .p50_us_100, .p99_us_100, .p50_us_1000, .p99_us_1000, .growth_p50,
	.growth_p99, .policy_over_passthrough_p50_1000] | @tsv' "$OUT/scheduler.json" |
	awk -F'\t' '{ printf "%-10s %10.0fus %10.0fus %10.0fus %10.0fus %8.2fx %8.2fx %13.2fx\n",
		$1, $2, $3, $4, $5, $6, $7, $8 }'
echo "(filter + prioritize per request; x: 1000 nodes over 100 nodes; policy/bypass: opted-in pod over a pod without the annotation, 1000 nodes)"
echo "JSON: $OUT/scheduler.json"
