#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift-scheduler against bad input and a Prometheus that never
# answers, or answers a value that is no number: malformed ExtenderArgs and
# bad annotations get an error result
# (filter: 200 with Error; prioritize: 400), never a crash; requests answer
# at once while a refresh hangs; SIGTERM stops it within the query timeout;
# --help and --check-config.
. "$(dirname "$0")/../lib.sh"
es_require_root scheduler_input
es_plan 36
S=$ES_BUILD/edgeshift-scheduler

es_check "--help exits 0 and names the verbs" bash -c "set -o pipefail; '$S' --help | grep -q 'POST <prefix>/filter'"
echo '{"filter": {"max_utilisation": "high"}}' >"$ES_TMP/bad.json"
out=$("$S" --check-config -c "$ES_TMP/bad.json" 2>&1); rc=$?
es_expect_eq "--check-config: a bad field exits 2" "$rc" 2
es_check "and names the field" grep -q "field 'filter.max_utilisation' must be a number" <<<"$out"
out=$("$S" --check-config --prometheus "http://$(printf 'p%.0s' $(seq 600)):9090" 2>&1); rc=$?
es_expect_eq "--prometheus too long: exit 2, said, not cut to fit" \
	"$rc/$(grep -c 'prometheus is too long' <<<"$out")" "2/1"
echo '{"surprise": 1}' >"$ES_TMP/bad.json"
out=$("$S" --check-config -c "$ES_TMP/bad.json" 2>&1); rc=$?
es_expect_eq "an unknown field is named (exit 2)" \
	"$rc/$(grep -c "field 'surprise' is not a known field" <<<"$out")" "2/1"

# Prometheus at an address that never answers: 10.249.0.2 is routed to a
# veth whose peer does not hold it, so every connect waits for ARP.
es_netns_add s && es_netns_add x || exit 1
es_veth s vs 10.249.0.1 x vx 10.249.0.3 || exit 1
cat >"$ES_TMP/sched.json" <<JSON
{"listen": "127.0.0.1:8888",
 "prometheus": {"url": "http://10.249.0.2:9090", "timeout_ms": 2000,
                "refresh_interval_ms": 500, "max_staleness_ms": 3000},
 "on_metrics_unavailable": "error"}
JSON
es_bg --log "$ES_TMP/sched.log" es_in s "$S" -c "$ES_TMP/sched.json"
SPID=$ES_BG_PID
for _ in $(seq 50); do
	es_in s curl -sf -m 1 http://127.0.0.1:8888/healthz >/dev/null && break
	sleep 0.1
done

# post VERB BODY: prints "STATUS BODY"
post() {
	es_in s curl -s -m 5 -o "$ES_TMP/body" -w '%{http_code}' -XPOST \
		-H 'Content-Type: application/json' --data-binary "$2" "http://127.0.0.1:8888/$1"
	printf ' '
	cat "$ES_TMP/body"
}
# filter_error NAME BODY PATTERN: 200 with Error matching PATTERN
filter_error() {
	local r
	r=$(post filter "$2")
	if [ "${r%% *}" = 200 ] && jq -e --arg p "$3" '.Error | test($p)' <<<"${r#* }" >/dev/null; then
		es_ok "$1"
	else
		es_not_ok "$1" "got $r"
	fi
}
M="malformed ExtenderArgs: "
filter_error "not JSON" '{"Pod": {' "${M}not JSON \\(line 1"
filter_error "empty body" '' "${M}not JSON"
filter_error "top level array" '[1, 2]' "${M}top level is not an object"
filter_error "no Pod" '{"NodeNames": ["a"]}' "${M}Pod is missing"
filter_error "Pod is a string" '{"Pod": "p", "NodeNames": ["a"]}' "${M}Pod is missing or not an object"
filter_error "annotations not an object" '{"Pod": {"metadata": {"annotations": [1]}}, "NodeNames": ["a"]}' \
	"${M}Pod.metadata.annotations is not an object"
filter_error "neither Nodes nor NodeNames" '{"Pod": {}}' "${M}neither Nodes nor NodeNames"
filter_error "NodeNames not an array" '{"Pod": {}, "NodeNames": "a"}' "${M}NodeNames is not an array"
filter_error "NodeNames[1] not a string" '{"Pod": {}, "NodeNames": ["a", 7]}' "${M}NodeNames\\[1\\] is not"
filter_error "Nodes not an object" '{"Pod": {}, "Nodes": [1]}' "${M}Nodes is not a NodeList"
filter_error "Nodes.items[1] without a name" \
	'{"Pod": {}, "Nodes": {"items": [{"metadata": {"name": "a"}}, {"metadata": {}}]}}' \
	"${M}Nodes.items\\[1\\].metadata.name is missing"
filter_error "Nodes and NodeNames name different nodes" \
	'{"Pod": {}, "NodeNames": ["a", "b"], "Nodes": {"items": [{"metadata": {"name": "a"}}, {"metadata": {"name": "c"}}]}}' \
	"${M}Nodes.items\\[1\\] is c, NodeNames\\[1\\] b"
filter_error "binary garbage" "$(head -c 300 /dev/urandom | tr -d '\0')" "${M}not JSON"
POD='{"metadata": {"name": "p", "namespace": "edge", "annotations": {"edgeshift.io/placement": "network-aware", '
filter_error "bad bandwidth annotation names it" "{\"Pod\": $POD\"edgeshift.io/bandwidth\": \"fast\"}}}, \"NodeNames\": [\"a\"]}" \
	'pod edge/p: annotation edgeshift.io/bandwidth: "fast" is not a bit/s quantity'
filter_error "unknown latency class names it" "{\"Pod\": $POD\"edgeshift.io/latency-class\": \"gold\"}}}, \"NodeNames\": [\"a\"]}" \
	'annotation edgeshift.io/latency-class: "gold" is not a latency class'
filter_error "bad sessions annotation names it" "{\"Pod\": $POD\"edgeshift.io/sessions\": \"-3\"}}}, \"NodeNames\": [\"a\"]}" \
	'annotation edgeshift.io/sessions: "-3" is not an integer'
# what strtod() takes and an integer annotation must not: a space, hexadecimal, an exponent
for v in " 4" 0x10 1e1; do
	filter_error "sessions annotation \"$v\" refused" \
		"{\"Pod\": $POD\"edgeshift.io/sessions\": \"$v\"}}}, \"NodeNames\": [\"a\"]}" \
		"annotation edgeshift.io/sessions: \"$v\" is not an integer"
done
filter_error "unknown placement value" '{"Pod": {"metadata": {"annotations": {"edgeshift.io/placement": "fast"}}}, "NodeNames": ["a"]}' \
	'annotation edgeshift.io/placement: "fast" is neither'

r=$(post prioritize '{"Pod": 1}')
es_expect_eq "prioritize, malformed: 400" "${r%% *}" 400
es_expect_eq "with Error in the body" "$(jq -r '.Error | test("Pod is missing")' <<<"${r#* }")" true

# Go decodes field names case-insensitively, and so do we.
r=$(post filter '{"pod": {"metadata": {"name": "p"}}, "nodenames": ["a", "b"]}')
es_expect_eq "lower-case field names accepted" "$(jq -c .NodeNames <<<"${r#* }")" '["a","b"]'

# While the refresh waits on the silent Prometheus, requests answer at once.
t0=$(date +%s%N)
r=$(post filter "{\"Pod\": ${POD}\"edgeshift.io/bandwidth\": \"7M\"}}}, \"NodeNames\": [\"a\"]}")
ms=$((($(date +%s%N) - t0) / 1000000))
es_expect_le "a request does not wait on Prometheus (ms)" "$ms" 500
es_check "and reports why the pod is not placed" jq -e '.Error | test("no edgeshift metrics from Prometheus yet")' <<<"${r#* }"
es_expect_eq "unknown path: 404" "$(es_in s curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8888/nope)" 404
es_check "still alive after all of it" kill -0 "$SPID"

t0=$(date +%s%N)
kill -TERM "$SPID"
wait "$SPID"; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
es_expect_eq "SIGTERM: exit 0" "$rc" 0
es_expect_le "within the 2 s query timeout and a margin (ms)" "$ms" 3000
es_check "logs 'stopped'" grep -q 'event=stopped' "$ES_TMP/sched.log"

# A Prometheus whose answer holds a sample value that is no number: the
# refresh fails and names the value, where it was read as 0 (an idle node).
es_bg es_in x python3 -c '
import http.server, json
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = json.dumps({"status": "success", "data": {"resultType": "vector",
            "result": [{"metric": {"node": "n1"}, "value": [0, "abc"]}]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("10.249.0.3", 9090), H).serve_forever()'
es_wait_listen x t 9090 || es_diag <<<"the stub Prometheus did not listen"
sed 's|10.249.0.2:9090|10.249.0.3:9090|; s|127.0.0.1:8888|127.0.0.1:8889|' "$ES_TMP/sched.json" \
	>"$ES_TMP/sched-nan.json"
es_bg --log "$ES_TMP/sched-nan.log" es_in s "$S" -c "$ES_TMP/sched-nan.json"
nodes=
for _ in $(seq 50); do
	nodes=$(es_in s curl -s -m 1 http://127.0.0.1:8889/v1/nodes)
	jq -e '.usable or (.error // "" | test("not a number"))' <<<"$nodes" >/dev/null 2>&1 && break
	sleep 0.1
done
es_expect_eq "a sample value that is no number: inputs unusable, the value named" \
	"$(jq -r '"\(.usable) \(.error // "" | test("node n1: sample value abc is not a number"))"' <<<"$nodes")" \
	"false true"
es_done
