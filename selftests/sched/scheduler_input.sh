#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift-scheduler against bad input and a Prometheus that never
# answers, or answers a value that is no number: malformed ExtenderArgs and
# bad annotations get an error result
# (filter: 200 with Error; prioritize: 400), never a crash; requests answer
# at once while a refresh hangs; SIGTERM stops it within the query timeout;
# --help and --check-config. A stub Prometheus answering per query tells
# an idle node (latency sample count 0, no latency series) from one whose
# latency is unknown (samples but no series, or no count at all).
. "$(dirname "$0")/../lib.sh"
es_require_root scheduler_input
es_plan 55
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
echo '{"prometheus": {"queries": {"latency_samples": ""}}}' >"$ES_TMP/bad.json"
out=$("$S" --check-config -c "$ES_TMP/bad.json" 2>&1); rc=$?
es_expect_eq "the latency sample count query is configurable like the others (exit 2 when empty)" \
	"$rc/$(grep -c "field 'prometheus.queries.latency_samples' must be a PromQL" <<<"$out")" "2/1"
echo '{"prometheus": {"queries": {"latency": "max by (node) (edgeshift_node_latency_seconds)"}}}' \
	>"$ES_TMP/bad.json"
out=$("$S" --check-config -c "$ES_TMP/bad.json" 2>&1); rc=$?
es_expect_eq "latency without latency_samples refused: the count must be of the same kind (exit 2)" \
	"$rc/$(grep -c "latency and latency_samples are set together" <<<"$out")" "2/1"

# Prometheus at an address that never answers: 10.249.0.2 is routed to a
# veth whose peer does not hold it, so every connect waits for ARP.
es_netns_add s && es_netns_add x || exit 1

# A staleness bound equal to the refresh period: every snapshot is stale
# before the next refresh begins. Refused at start (in s: were it taken,
# it would serve on its own port until the timeout), naming both fields.
echo '{"prometheus": {"refresh_interval_ms": 500, "max_staleness_ms": 500}}' >"$ES_TMP/stale.json"
out=$(es_in s timeout 5 "$S" -c "$ES_TMP/stale.json" 2>&1); rc=$?
es_expect_eq "max_staleness_ms equal to refresh_interval_ms: refused at start (exit 2), both named" \
	"$rc/$(grep -c "field 'prometheus.max_staleness_ms' must be above prometheus.refresh_interval_ms (500 ms is not above 500 ms)" <<<"$out")" \
	"2/1"
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
# 3000 ms against 500 + 2 x 5 queries x 2000: accepted, and warned about
tight='event=max_staleness_tight max_staleness_ms=3000 refresh_ms=500 timeout_ms=2000 queries=5'
for _ in $(seq 20); do grep -q "$tight" "$ES_TMP/sched.log" && break; sleep 0.1; done
es_expect_eq "a staleness bound a slow refresh outlasts: warned about at start" \
	"$(grep -c "$tight" "$ES_TMP/sched.log")" 1

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

# A stub Prometheus on PORT, writing each query to LOG. Without a MODE it
# answers each query by the metric it names, for four nodes with a link, a
# load and sessions: idle (latency sample count 0, no latency series, as
# the agent exports a node where nothing waited), busy (a count and a 5 ms
# p99), lost (a count of 5 but no latency series: the latency query misses
# it) and uncounted (no count either); a query naming none of the metrics
# gets an error, so the refresh fails. MODE nan answers every query with a
# sample value that is no number; MODE odd adds to the throughput answer a
# second series for busy (another instance label, 90 Mbit/s) and answers
# idle's capacity as +Inf.
cat >"$ES_TMP/prom_stub.py" <<'PY'
import http.server, json, sys, urllib.parse
port, log, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
nodes = ("idle", "busy", "lost", "uncounted")
series = {
    "edgeshift_node_link_capacity_bits_per_second": {n: 1e8 for n in nodes},
    "edgeshift_node_link_throughput_bits_per_second": {n: 1e6 for n in nodes},
    "edgeshift_node_sessions_active": {n: 2 for n in nodes},
    "edgeshift_node_latency_seconds": {"busy": 0.005},
    "edgeshift_node_latency_window_samples": {"idle": 0, "busy": 40, "lost": 5},
}
def answer(q):
    names = [m for m in series if m in q]
    if mode == ["nan"]:
        res = [{"metric": {"node": "n1"}, "value": [0, "abc"]}]
    elif len(names) == 1:
        res = [{"metric": {"node": n}, "value": [0, str(v)]}
               for n, v in series[names[0]].items()]
        if mode == ["odd"] and names[0] == "edgeshift_node_link_throughput_bits_per_second":
            res.append({"metric": {"node": "busy", "instance": "b"}, "value": [0, "9e7"]})
        if mode == ["odd"] and names[0] == "edgeshift_node_link_capacity_bits_per_second":
            res = [dict(r, value=[0, "+Inf"]) if r["metric"]["node"] == "idle" else r
                   for r in res]
    else:
        return {"status": "error", "errorType": "bad_data", "error": "stub: no answer to " + q}
    return {"status": "success", "data": {"resultType": "vector", "result": res}}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("query", [""])[0]
        with open(log, "a") as f:
            f.write(q + "\n")
        b = json.dumps(answer(q)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("10.249.0.3", port), H).serve_forever()
PY

# A Prometheus whose answer holds a sample value that is no number: the
# refresh fails and names the value, where it was read as 0 (an idle node).
es_bg es_in x python3 "$ES_TMP/prom_stub.py" 9090 "$ES_TMP/queries-nan.log" nan
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

# The stub answering per query (above) tells idle from unknown latency.
es_bg es_in x python3 "$ES_TMP/prom_stub.py" 9091 "$ES_TMP/queries.log"
es_wait_listen x t 9091 || es_diag <<<"the per-query stub Prometheus did not listen"
# Scheduler C scores by latency alone (a score is 10 x the latency
# headroom) and fails nodes without data; D lets them pass with
# no_data_score 3 and counts samples with a query of its own.
cat >"$ES_TMP/sched-c.json" <<JSON
{"listen": "127.0.0.1:8890",
 "prometheus": {"url": "http://10.249.0.3:9091", "timeout_ms": 2000,
                "refresh_interval_ms": 500, "max_staleness_ms": 3000},
 "score": {"weights": {"bandwidth": 0, "sessions": 0, "latency": 1}},
 "on_metrics_unavailable": "error"}
JSON
jq '.listen = "127.0.0.1:8891" | .on_node_without_data = "pass" | .no_data_score = 3 |
	.prometheus.queries.latency_samples = "sum by (node) (edgeshift_node_latency_window_samples)" |
	.prometheus.queries.latency = "max by (node) (edgeshift_node_latency_seconds{kind=\"service\",quantile=\"0.99\"})"' \
	"$ES_TMP/sched-c.json" >"$ES_TMP/sched-d.json"
es_bg --log "$ES_TMP/sched-c.log" es_in s "$S" -c "$ES_TMP/sched-c.json"
es_bg --log "$ES_TMP/sched-d.log" es_in s "$S" -c "$ES_TMP/sched-d.json"
for port in 8890 8891; do
	for _ in $(seq 50); do
		es_in s curl -s -m 1 "http://127.0.0.1:$port/v1/nodes" | jq -e .usable >/dev/null 2>&1 && break
		sleep 0.1
	done
done
# ask PORT VERB CLASS: the answer to a pod of latency class CLASS on the four nodes
ask() {
	es_in s curl -s -m 5 -XPOST -H 'Content-Type: application/json' \
		--data-binary "{\"Pod\": {\"metadata\": {\"annotations\": {
			\"edgeshift.io/placement\": \"network-aware\",
			\"edgeshift.io/latency-class\": \"$3\"}}},
			\"NodeNames\": [\"idle\", \"busy\", \"lost\", \"uncounted\"]}" \
		"http://127.0.0.1:$1/$2"
}
nodes=$(es_in s curl -s -m 1 http://127.0.0.1:8890/v1/nodes)
es_expect_eq "/v1/nodes: the sample count beside the latency (idle 0, lost 5 without latency, uncounted none)" \
	"$(jq -c '[.nodes[] | [.node, .latency_samples, .latency]]' <<<"$nodes")" \
	'[["busy",40,0.005],["idle",0,null],["lost",5,null],["uncounted",null,null]]'
r=$(ask 8890 filter critical)
es_expect_eq "only idle (sample count 0, no latency series) passes the 1 ms SLO of critical" \
	"$(jq -c .NodeNames <<<"$r")" '["idle"]'
es_expect_match "a known latency still fails the SLO" "$(jq -r .FailedNodes.busy <<<"$r")" \
	'^edgeshift: latency 5\.000 ms is above the 1\.000 ms SLO of latency class critical$'
es_expect_eq "5 samples, no latency series: unresolvable, the reason names latency and the count" \
	"$(jq -r .FailedAndUnresolvableNodes.lost <<<"$r")" \
	"edgeshift: no latency data for node lost in Prometheus (5 samples, no series: check prometheus.queries.latency)"
es_expect_eq "no sample count: unresolvable, the reason names latency and the count's query" \
	"$(jq -r .FailedAndUnresolvableNodes.uncounted <<<"$r")" \
	"edgeshift: no latency data for node uncounted in Prometheus (no sample count: check prometheus.queries.latency_samples)"
r=$(ask 8890 prioritize best-effort)
es_expect_eq "prioritize: idle scores the full latency headroom (10), busy 5 (5 ms of 10)" \
	"$(jq -c '[.[0:2][] | [.Host, .Score]]' <<<"$r")" '[["idle",10],["busy",5]]'
es_expect_eq "prioritize: an unknown latency is not scored as idle (lost and uncounted 0)" \
	"$(jq -c '[.[2:][] | .Score]' <<<"$r")" '[0,0]'
r=$(ask 8891 filter critical)
es_expect_eq "on_node_without_data pass: lost and uncounted pass as nodes without data" \
	"$(jq -c '[.NodeNames, (.FailedNodes | keys)]' <<<"$r")" '[["idle","lost","uncounted"],["busy"]]'
r=$(ask 8891 prioritize best-effort)
es_expect_eq "on_node_without_data pass: they score no_data_score 3, not 10" \
	"$(jq -c '[.[].Score]' <<<"$r")" '[10,5,3,3]'
es_check "the configured sample count query is the one asked" \
	grep -qxF 'sum by (node) (edgeshift_node_latency_window_samples)' "$ES_TMP/queries.log"
# A node name of 100 "é": its reason cuts it at 128 bytes, inside a
# character. Before, that reason was not UTF-8, jansson refused it, and
# the node was left out of every list (later: the whole answer an Error).
# The cut byte is now a '?' (es_text_utf8): the node fails with its reason.
big="n$(printf 'é%.0s' $(seq 100))"
r=$(es_in s curl -s -m 5 -XPOST -H 'Content-Type: application/json' \
	--data-binary "{\"Pod\": {\"metadata\": {\"annotations\": {
		\"edgeshift.io/placement\": \"network-aware\"}}}, \"NodeNames\": [\"idle\", \"$big\"]}" \
	http://127.0.0.1:8890/filter)
es_expect_eq "filter: a reason cut inside a character is given, the cut byte a '?'" \
	"$(jq -r --arg b "$big" '"[\(.Error)] \(.FailedAndUnresolvableNodes[$b] | test("é[?] in Prometheus"))"' \
		<<<"$r")" "[] true"
es_expect_eq "and the answer was built" "$(grep -c 'event=answer_unbuilt' "$ES_TMP/sched-c.log")" 0

# Two throughput series for busy: which is busy's is unknown, so neither
# is used (the larger, 90 Mbit/s of 100, would fail it on utilisation;
# the smaller would pass it): the missing-data path, said and logged.
es_bg es_in x python3 "$ES_TMP/prom_stub.py" 9092 "$ES_TMP/queries-odd.log" odd
es_wait_listen x t 9092 || es_diag <<<"the duplicating stub Prometheus did not listen"
jq '.listen = "127.0.0.1:8892" | .prometheus.url = "http://10.249.0.3:9092"' \
	"$ES_TMP/sched-c.json" >"$ES_TMP/sched-e.json"
es_bg --log "$ES_TMP/sched-e.log" es_in s "$S" -c "$ES_TMP/sched-e.json"
# its first refresh done
for _ in $(seq 50); do
	grep -q 'event=metrics_available' "$ES_TMP/sched-e.log" && break
	sleep 0.1
done
r=$(ask 8892 filter best-effort)
es_expect_eq "two series for one node: no value, unresolvable, the reason names the query" \
	"$(jq -r '"\(.NodeNames | index("busy")) \(.FailedAndUnresolvableNodes.busy)"' <<<"$r")" \
	"null edgeshift: no throughput data for node busy in Prometheus (2 series for the node, not one: check prometheus.queries.throughput)"
sleep 1	# two more refreshes, each with the same two series
es_expect_eq "logged once while it lasts" "$(grep -c 'event=metrics_ambiguous' "$ES_TMP/sched-e.log")" 1
grep 'event=metrics_ambiguous' "$ES_TMP/sched-e.log" | es_diag
# idle's capacity is +Inf: no value, not a capacity every pod fits in
# (before, its utilisation was 0 and it passed every filter)
es_expect_eq "an infinite capacity is no value: idle unresolvable for want of it" \
	"$(jq -r '.FailedAndUnresolvableNodes.idle | test("^edgeshift: no capacity data for node idle ")' \
		<<<"$r")" true
es_done
