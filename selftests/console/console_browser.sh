#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The web console in a real browser: three emulated nodes (namespaces n1,
# n2, n3, an edgeshiftd each on its 100 Mbit/s uplink) carry different
# loads; a real Prometheus scrapes them; edgeshift-console polls their
# agents and reads Prometheus, and Debian's headless Chromium loads its page. The node view lists the control plane first,
# then the workers by name, with Prometheus's figures, which match the
# agents' own /v1/node, and the agents' when Prometheus is stopped;
# the resource charts drew their lines; the sessions view shows the chosen
# node's sessions in the order a link asks; a node named with HTML in it is
# shown as text; the browser logs no console message; actions are refused
# without the token. Screenshots of each view go to build/console-*.png.
. "$(dirname "$0")/../lib.sh"
es_require_root console_browser
if ! command -v chromium >/dev/null || ! command -v iperf3 >/dev/null ||
   ! command -v prometheus >/dev/null ||
   [ ! -f "$ES_BUILD/console-ui/.built" ]; then
	es_plan 1
	es_skip "console in a browser" "chromium, iperf3, prometheus or build/console-ui missing (tools/setup/install-deps, then make)"
	echo "# SKIPPED: NO BROWSER RAN" >&2
	exit 0
fi
es_plan 41

CP=$ES_PREFIX-zz-cp
W=$ES_PREFIX-a-worker
# Rendered as markup, this would mark the body: the check below looks for it.
EVIL="$ES_PREFIX-<img src=x onerror=document.body.dataset.pwned=1>"
names=("" "$CP" "$W" "$EVIL")
es_netns_add mon || exit 1
# A real Prometheus scrapes the agents every second: the resource view's source.
es_prometheus_start mon edgeshift 10.247.1.2:9464 10.247.2.2:9464 10.247.3.2:9464
for k in 1 2 3; do
	es_netns_add "n$k" || exit 1
	es_no_ipv6 "n$k"
	es_veth mon "m$k" "10.247.$k.1" "n$k" "u$k" "10.247.$k.2" || exit 1
	U=$(es_ifname "u$k")
	cat >"$ES_TMP/agent-n$k.json" <<JSON
{"signals": {"window_ms": 2000, "link_capacity_mbps": {"$U": 100}, "uplinks": ["$U"]},
 "interfaces": [{"match": "$U", "pod": "edge/video-$k"}]}
JSON
	es_agent_launch "n$k" "n$k" -c "$ES_TMP/agent-n$k.json" -l 0.0.0.0:9464 \
		--node-name "${names[$k]}"
	pids[k]=$ES_AGENT_PID
done
for k in 1 2 3; do es_agent_wait "n$k" "n$k" "${pids[k]}" || exit 1; done
# Loads: n2 25 Mbit/s, n3 60 Mbit/s of UDP; pings keep a session and
# service latency samples on every node.
for k in 2 3; do es_bg es_in "n$k" iperf3 -s -p 5201; done
for k in 2 3; do es_wait_listen "n$k" t 5201 || es_diag <<<"iperf3 server on n$k not listening"; done
es_bg es_in mon iperf3 -c 10.247.2.2 -u -b 25M -t 40 -l 1400
es_bg es_in mon iperf3 -c 10.247.3.2 -u -b 60M -t 40 -l 1400
for k in 1 2 3; do es_bg es_in mon ping -q -i 0.2 -w 40 "10.247.$k.2"; done

es_bg --log "$ES_TMP/console.log" es_in mon "$ES_BUILD/edgeshift-console" \
	--control-plane http://10.247.1.2:9464 --agent http://10.247.2.2:9464 \
	--agent http://10.247.3.2:9464 -l 127.0.0.1:8080 --refresh-ms 500 --log-level debug \
	--prometheus http://127.0.0.1:9090
# A console given the agents' token, with an agent that does not answer:
# actions need the token; the dead agent's row comes from no source.
echo "es-console-test-token" >"$ES_TMP/token"
es_bg --log "$ES_TMP/console2.log" es_in mon "$ES_BUILD/edgeshift-console" \
	--agent http://127.0.0.1:9 --control-plane http://10.247.1.2:9464 -l 127.0.0.1:8081 \
	--token-file "$ES_TMP/token" --prometheus http://127.0.0.1:9090
URL=http://127.0.0.1:8080
for _ in $(seq 50); do
	es_in mon curl -sf -m 1 "$URL/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
capi() { es_in mon curl -s -m 5 "$@"; }
# A window of load for the rates, and three samples at least of every
# node's network in from Prometheus for the charts (its first scrapes can
# lag on a fresh machine: one node had two when the page loaded, in CI).
sleep 2.5
for _ in $(seq 40); do
	capi "$URL/api/history?window=60" | jq -e '.source == "prometheus" and
		([.nodes[].rx_utilisation | map(select(. != null)) | length] | min >= 3)' >/dev/null 2>&1 &&
		break
	sleep 0.5
done
es_diag <<<"setup done after $SECONDS s"

# chrome URL OUT [options]: the page after 2 s of its virtual time (screenshots
# at that moment too).
chrome() {
	local url=$1 out=$2
	shift 2
	es_in mon timeout 40 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$ES_TMP/chrome" --enable-logging=stderr --v=0 \
		--virtual-time-budget=2000 --window-size=1280,900 "$@" "$url" \
		>"$out" 2>>"$ES_TMP/chrome.log"
}
# The agents' own view just before and just after the page loaded.
for k in 1 2 3; do es_api "n$k" /v1/node >"$ES_TMP/before-$k.json"; done
chrome "$URL/#nodes" "$ES_TMP/dom.html" --dump-dom --screenshot="$ES_BUILD/console-nodes.png"
es_diag <<<"page loaded after $SECONDS s"
for k in 1 2 3; do es_api "n$k" /v1/node >"$ES_TMP/node-$k.json"; done
dom=$(python3 "$ES_ROOT/selftests/console/console_dom.py" <"$ES_TMP/dom.html")
echo "$dom" >"$ES_TMP/dom.json"
jq -c '.nodes[]' <<<"$dom" | es_diag
# row I of the table (0 first), field F
row() { jq -r ".nodes[$1].$2" <<<"$dom"; }
agent() { jq -r "$2" "$ES_TMP/node-$1.json"; }
# shellcheck disable=SC2317 # called through es_check
# bracketed V K FILTER [MARGIN]: V lies between the agent's figures before and
# after the page (widened by MARGIN: a rate under a loaded CPU comes in bursts).
bracketed() {
	awk -v v="$1" -v a="$(jq -r "$3" "$ES_TMP/before-$2.json")" -v b="$(jq -r "$3" "$ES_TMP/node-$2.json")" \
		-v m="${4:-0}" 'BEGIN { lo = a < b ? a : b; hi = a < b ? b : a
			exit !(v != "" && v >= lo - m && v <= hi + m) }'
}

# shellcheck disable=SC2317 # called through es_check
# bracketed_row I K: row I of the linked page's node table, against node K's
# agent; sessions within 1, as the stopped Prometheus's scrape connection
# leaves the session maps meanwhile.
bracketed_row() {
	row2() { jq -r ".nodes[$1].$2" <<<"$dom2"; }
	[ "$(row2 "$1" capacity)" = "$(agent "$2" .uplink.capacity_bps)" ] &&
		bracketed "$(row2 "$1" sessions)" "$2" .sessions_active 1 &&
		bracketed "$(row2 "$1" '"rx-util"')" "$2" .uplink.rx.utilisation 0.05
}

es_expect_eq "node view: control plane first, then the workers by name" \
	"$(jq -r '[.nodes[].name] | join("|")' <<<"$dom")" "$CP|$EVIL|$W"
es_expect_eq "node view: roles" "$(jq -r '[.nodes[].role] | join(",")' <<<"$dom")" \
	"control-plane,worker,worker"
es_expect_eq "node view: every row from Prometheus, and the page says so" \
	"$(jq -r '([.nodes[].source] | join(",")), .nodes_source' <<<"$dom" | paste -sd'|')" \
	"prometheus,prometheus,prometheus|From Prometheus, as it last scraped each agent."
# Scraped every second, asked every 500 ms: 1.5 s old at most, 3 under this load.
es_check "node view: Prometheus's figures scraped within the interval ($(jq -c '[.nodes[].age_ms]' <<<"$dom") ms old)" \
	jq -e '[.nodes[].age_ms] | max < 3000' <<<"$dom"
es_expect_eq "a node name with HTML in it is shown as text, no element made of it" \
	"$(jq -r '.foreign_tags | length' <<<"$dom"),$(jq -r '.body["data-pwned"] // "clean"' <<<"$dom")" \
	"0,clean"
# Rows 0, 1, 2 are n1, n3, n2 (control plane, then "<img..." before "a-...").
k_of=(1 3 2)
for i in 0 1 2; do
	k=${k_of[$i]}
	es_expect_eq "${names[$k]##*-}: link capacity as the agent's /v1/node" \
		"$(row "$i" capacity)" "$(agent "$k" '.uplink.capacity_bps')"
	es_check "${names[$k]##*-}: $(row "$i" sessions) sessions, the agent's $(jq -r .sessions_active "$ES_TMP/before-$k.json") then $(agent "$k" .sessions_active)" \
		bracketed "$(row "$i" sessions)" "$k" .sessions_active
	es_check "${names[$k]##*-}: net in $(row "$i" '"rx-util"'), the agent's $(jq -r .uplink.rx.utilisation "$ES_TMP/before-$k.json") then $(agent "$k" '.uplink.rx.utilisation')" \
		bracketed "$(row "$i" '"rx-util"')" "$k" .uplink.rx.utilisation 0.05
done
es_check "CPU and memory on every row, as the agents' (memory $(row 0 memory), agent $(agent 1 .host.memory_utilisation))" \
	jq -e --argjson m "$(agent 1 .host.memory_utilisation)" \
	'[.nodes[] | select(.cpu >= 0 and .cpu <= 1 and (.memory - $m) < 0.02 and ($m - .memory) < 0.02)] | length == 3' <<<"$dom"
es_expect_eq "sessions view: the control plane's sessions by default" \
	"$(jq -r '.sessions_node' <<<"$dom"),$(jq -r '.sessions | length > 0' <<<"$dom")" "0,true"
es_check "loads differ: n3 above 0.5, n2 near 0.25, the control plane idle" \
	awk -v a="$(row 1 '"rx-util"')" -v b="$(row 2 '"rx-util"')" -v c="$(row 0 '"rx-util"')" \
	'BEGIN { exit !(a > 0.5 && b > 0.2 && b < 0.32 && c < 0.01) }'
es_check "p99 service latency shown where the agent has one (n2: $(row 2 p99) us, agent $(agent 2 .latency.service.p99_us))" \
	awk -v a="$(row 2 p99)" -v b="$(agent 2 .latency.service.p99_us)" \
	'BEGIN { exit !(a > 0 && b > 0 && a / b < 4 && b / a < 4) }'
chrome "$URL/#resources?window=60" "$ES_TMP/dom3.html" --dump-dom --screenshot="$ES_BUILD/console-resources.png"
dom=$(python3 "$ES_ROOT/selftests/console/console_dom.py" <"$ES_TMP/dom3.html")
pts=$(jq -r '.charts[] | select(.resource == "rx_utilisation") | "\(.points) \(.line_pixels)"' <<<"$dom")
es_diag <<<"charts: $(jq -c .charts <<<"$dom")"
es_expect_eq "resource view: one chart per resource" "$(jq -r '[.charts[].resource] | join(",")' <<<"$dom")" \
	"cpu_utilisation,memory_utilisation,rx_utilisation,tx_utilisation,sessions,p50_us,p99_us"
es_check "resource view: the network-in chart has points of 3 nodes ($pts)" \
	awk -v p="${pts% *}" 'BEGIN { exit !(p >= 9) }'
es_check "resource view: its lines are painted on the canvas ($pts)" \
	awk -v p="${pts#* }" 'BEGIN { exit !(p >= 50) }'
es_expect_eq "resource view: drawn from Prometheus" "$(jq -r .history_source <<<"$dom")" prometheus
h=$(capi "$URL/api/history?window=60")
es_check "history from Prometheus: n3's network in, scraped, near the agent's ($(jq -c '.nodes[1].rx_utilisation | map(select(. != null)) | .[-3:]' <<<"$h"))" \
	jq -e --argjson a "$(agent 3 .uplink.rx.utilisation)" '.source == "prometheus" and
	(.nodes[1].rx_utilisation | map(select(. != null)) | length >= 3 and (.[-1] - $a | fabs) < 0.1)' <<<"$h"

es_expect_eq "read-only: an action is refused" \
	"$(capi -o /dev/null -w '%{http_code}' -X POST "$URL/api/session-test")" 403
# The console given the token: actions need it (past the check, an empty start is a bad request).
act() { capi -o /dev/null -w '%{http_code}' -X POST "$@" http://127.0.0.1:8081/api/session-test; }
es_expect_eq "with a token: no token 401, a wrong one 401, the agents' own passes the check" \
	"$(act),$(act -H 'Authorization: Bearer es-console-test-tokem'),$(act -H 'Authorization: Bearer es-console-test-token')" \
	"401,401,400"
es_expect_eq "with a token: the page says actions are enabled" \
	"$(capi http://127.0.0.1:8081/api/nodes | jq -r .read_only)" false
es_check "an agent that does not answer keeps its row, after the control plane, with the reason" \
	jq -e '[.nodes[] | .role, .reachable] == ["control-plane", true, "worker", false] and
	(.nodes[1].error | test("127.0.0.1:9"))' <<<"$(capi http://127.0.0.1:8081/api/nodes)"
es_check "a node Prometheus has no series of: its agent's row and why; the others from Prometheus" \
	jq -e '[.nodes[] | .source] == ["prometheus", "agent"] and
	(.nodes[1].source_note | test("no live series"))' <<<"$(capi http://127.0.0.1:8081/api/nodes)"

# Prometheus stopped: the node view and the history fall back to the agents.
kill "$ES_PROM_PID"
for _ in $(seq 30); do
	capi "$URL/api/nodes" | jq -e '.prometheus_error' >/dev/null 2>&1 && break
	sleep 0.2
done
es_check "no Prometheus answering: the console's own samples, and why" \
	jq -e '.source == "console" and (.prometheus_error | test("Prometheus")) and (.nodes[0].t | length >= 1)' \
	<<<"$(capi "$URL/api/history?window=60")"

# A link to node n3's sessions, fewest packets first; its node table is the agents'.
for k in 1 2 3; do es_api "n$k" /v1/node >"$ES_TMP/before-$k.json"; done
chrome "$URL/#sessions?node=2&sort=packets&order=asc" "$ES_TMP/dom2.html" --dump-dom \
	--screenshot="$ES_BUILD/console-sessions.png"
es_diag <<<"linked page loaded after $SECONDS s"
dom2=$(python3 "$ES_ROOT/selftests/console/console_dom.py" <"$ES_TMP/dom2.html")
es_expect_eq "sessions view: the linked node, sorted by packets ascending" \
	"$(jq -r '.sessions_node, (.sorted | join(" ")), ([.sessions[].packets] == ([.sessions[].packets] | sort))' <<<"$dom2" | paste -sd,)" \
	"2,packets asc,true"
es_expect_eq "the resource and sessions views made no element of the name either" \
	"$(jq -s '[.[].foreign_tags[]] | length' <<<"$dom$dom2")" 0
es_check "sessions view: n3's UDP load is there" jq -e '[.sessions[] | select(.protocol == "udp" and .bytes > 1000000)] | length >= 1' <<<"$dom2"
for k in 1 2 3; do es_api "n$k" /v1/node >"$ES_TMP/node-$k.json"; done
es_check "Prometheus stopped: every row from its agent, and the page says why ($(jq -r .nodes_source <<<"$dom2"))" \
	jq -e '[.nodes[].source] == ["agent", "agent", "agent"] and
	(.nodes_source | test("^From the agents: Prometheus at http://127.0.0.1:9090: "))' <<<"$dom2"
for i in 0 1 2; do
	k=${k_of[$i]}
	es_check "${names[$k]##*-} from its agent: capacity, sessions and net in as its /v1/node ($(jq -c ".nodes[$i] | [.capacity, .sessions, .\"rx-util\"]" <<<"$dom2"); agent $(jq -c '[.uplink.capacity_bps, .sessions_active, .uplink.rx.utilisation]' "$ES_TMP/before-$k.json") then $(agent "$k" '[.uplink.capacity_bps, .sessions_active, .uplink.rx.utilisation]' | jq -c .))" \
		bracketed_row "$i" "$k"
done

grep CONSOLE "$ES_TMP/chrome.log" | es_diag
es_expect_eq "the browser logged no console message" "$(grep -c CONSOLE "$ES_TMP/chrome.log")" 0
# Control: the same browser and log do show a page's console error.
chrome 'data:text/html,<script>console.error("es-control")</script>' /dev/null --dump-dom
es_check "control: a page's console.error reaches that log" grep -q es-control "$ES_TMP/chrome.log"

# The Grafana dashboard queries only metrics the agents export and docs/metrics.md lists.
es_api n2 /metrics >"$ES_TMP/metrics.txt"
DASH=$ES_ROOT/deploy/grafana-dashboard.json
es_check "deploy/grafana-dashboard.json: structure, datasource variable, every metric real" \
	python3 "$ES_ROOT/selftests/console/dashboard_check.py" "$DASH" "$ES_TMP/metrics.txt" "$ES_ROOT/docs/metrics.md"
jq '.panels[1].targets[0].expr = "edgeshift_node_cpu_ratio"' "$DASH" >"$ES_TMP/bad-dash.json"
out=$(python3 "$ES_ROOT/selftests/console/dashboard_check.py" "$ES_TMP/bad-dash.json" "$ES_TMP/metrics.txt" "$ES_ROOT/docs/metrics.md")
es_check "control: a query of a metric the agent lacks is caught" grep -q "edgeshift_node_cpu_ratio: not exported" <<<"$out"
es_expect_eq "only files of the UI directory are served" \
	"$(capi -o /dev/null -w '%{http_code}' "$URL/ui/..%2F..%2Fedgeshift-console")" 404

es_diag <<<"done after $SECONDS s; screenshots: $(ls "$ES_BUILD"/console-*.png | paste -sd' ')"
es_done
