#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The agent as the Detector, with real traffic on a veth: each new session
# to the configured service is a session.opened, its end a session.closed
# with its totals, the first session of a user address a user.attached;
# traffic to other services is not announced. Then a broker outage
# (ES_EVENTS_OUTAGE_S, 60 s by default) with the agent killed (SIGKILL) in
# the middle and restarted: every event of before and after the kill is
# delivered once the broker is back, none missing. All received by a
# receiver on the official CloudEvents JavaScript SDK.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/events_lib.sh"
es_require_root events_agent
ev_sdk_or_skip events_agent
OUTAGE=${ES_EVENTS_OUTAGE_S:-60}
es_plan 17

es_netns_add a && es_netns_add b || exit 1
es_no_ipv6 a b
es_veth a va 10.246.0.1 b vb 10.246.0.2 || exit 1
VA=$(es_ifname va); VB=$(es_ifname vb)
cat >"$ES_TMP/agent.json" <<JSON
{"state_dir": "$ES_TMP/state", "idle_timeout_ms": 1000, "closed_linger_ms": 100,
 "gc_interval_ms": 250,
 "signals": {"window_ms": 1000, "link_capacity_mbps": {"$ES_PREFIX*": 0.01}},
 "events": {"sink": "http://127.0.0.1:8080/ce", "services": ["10.246.0.2:9/udp"],
	    "utilisation_threshold": 0.5, "latency_slo_ms": {"service": 0.001},
	    "delivery": {"retry": 2, "backoffDelay": "PT0.2S"}}}
JSON
ev_receiver b sink 8080 --mode binary || exit 1
rx=$EV_RX_PID
es_agent_start b main -c "$ES_TMP/agent.json" -i "$VB" || exit 1
MAC=$(es_in b ip -j link show dev "$VB" | jq -r '.[0].address')
flood() {	# NET COUNT
	es_in a "$ES_BUILD/es-flood" --dev "$VA" --dst-mac "$MAC" --src-net "$1" \
		--dst 10.246.0.2 --count "$2" --dport 9 --rate 2000 --json >/dev/null
}
count() {	# TYPE [NET-PREFIX]: distinct subjects of that type received, valid
	ev_jq sink "[.[] | select(.status == 200 and .type == \"io.edgeshift.$1\" and
		(.subject | contains(\"${2:-}\"))) | .subject] | unique | length"
}
wait_count() {	# WANT TYPE [NET-PREFIX]
	for _ in $(seq 150); do [ "$(count "$2" "${3:-}")" -ge "$1" ] && return; sleep 0.1; done
}

flood 10.246.1.0/24 300
es_in a ping -q -c 3 -i 0.2 10.246.0.2 >/dev/null	# not a configured service
wait_count 300 session.opened 10.246.1.
es_expect_eq "300 sessions: 300 session.opened" "$(count session.opened 10.246.1.)" 300
es_expect_eq "one user: one user.attached, its address" \
	"$(ev_jq sink '[.[] | select(.type == "io.edgeshift.user.attached")] | "\(length) \(.[0].data.user) \(.[0].data.service)"')" \
	"1 10.246.1.1 10.246.0.2:9"
wait_count 300 session.closed 10.246.1.
es_expect_eq "each closed (idle) with its totals: 1 packet in, 0 out" \
	"$(ev_jq sink '[.[] | select(.type == "io.edgeshift.session.closed" and .data.packets_in == 1 and .data.packets_out == 0 and .data.reason == "idle")] | length')" 300
es_expect_eq "the ping (no configured service) is not announced" \
	"$(ev_jq sink '[.[] | select(.data.protocol == "icmp")] | length')" 0
es_expect_eq "every request valid for the SDK and the schema" \
	"$(ev_jq sink '[.[] | select(.invalid)] | length')" 0
es_expect_eq "source names node and interface (the node alone for latency)" \
	"$(ev_jq sink "[.[] | select(.source == \"/edgeshift/$ES_PREFIX-b/interfaces/$VB\" or
		(.type == \"io.edgeshift.latency.crossed\" and .source == \"/edgeshift/$ES_PREFIX-b\"))] | length")" \
	"$(ev_jq sink length)"
lat=$(ev_jq sink '[.[] | select(.type == "io.edgeshift.session.opened") | (.recv_ns - .data.first_seen_ns) / 1e6] | sort | "\(.[length / 2 | floor] | floor) \(.[length * 99 / 100 | floor] | floor)"')
es_diag <<<"first packet to event at the receiver: p50 p99 = $lat ms (gc_interval_ms 250)"
es_expect_le "first packet to event, p99 (ms)" "${lat#* }" 1500
# 10 kbit/s links: the flood crossed the threshold, and the quiet after it crossed back.
for _ in $(seq 50); do [ "$(count utilisation.crossed)" -ge 1 ] &&
	[ "$(ev_jq sink '[.[] | select(.type == "io.edgeshift.utilisation.crossed")] | last | .data.direction')" = down ] && break; sleep 0.1; done
es_expect_eq "utilisation crossed 0.5 up, then down" \
	"$(ev_jq sink '[.[] | select(.type == "io.edgeshift.utilisation.crossed") | .data.direction] | join(" ")')" "up down"
# The echo replies (service latency, a few us) are over a 1 ns SLO.
es_expect_eq "the ping's service latency crossed its SLO" \
	"$(ev_jq sink '[.[] | select(.type == "io.edgeshift.latency.crossed") | "\(.subject) \(.data.direction)"] | join(",")')" \
	"latency/service up"
sleep 0.5
delivered=$(es_metric b 'edgeshift_events_delivered_total{')
emitted=$(es_api b /metrics | awk '/^edgeshift_events_emitted_total/ { s += $NF } END { print s }')
es_expect_eq "metrics: delivered equals emitted (604 events)" "$delivered $emitted" "604 604"
es_expect_eq "metrics: spool empty, nothing dropped" \
	"$(es_metric b 'edgeshift_events_spool_depth{') $(es_api b /metrics | awk '/^edgeshift_events_dropped_total/ { s += $NF } END { print s }')" "0 0"
es_expect_eq "metrics: a latency sample per delivery" \
	"$(es_metric b 'edgeshift_events_delivery_latency_seconds_count{')" 604

# The outage: the broker goes, the agent is killed in the middle and restarted.
t0=$(date +%s)
ev_stop "$rx"
flood 10.246.2.0/24 500
for _ in $(seq 100); do [ "$(es_metric b 'edgeshift_events_spool_depth{')" -ge 501 ] && break; sleep 0.1; done
es_expect_ge "broker down: the events wait in the spool" "$(es_metric b 'edgeshift_events_spool_depth{')" 501
sleep $(( OUTAGE / 2 - ($(date +%s) - t0) > 0 ? OUTAGE / 2 - ($(date +%s) - t0) : 0 ))
kill -9 "$ES_AGENT_PID"
wait "$ES_AGENT_PID" 2>/dev/null
es_agent_start b main -c "$ES_TMP/agent.json" -i "$VB" || exit 1
es_expect_ge "restarted: the killed agent's events are still spooled" \
	"$(es_metric b 'edgeshift_events_spool_depth{')" 501
flood 10.246.3.0/24 200
sleep $(( OUTAGE - ($(date +%s) - t0) > 0 ? OUTAGE - ($(date +%s) - t0) : 0 ))
es_diag <<<"broker down for $(( $(date +%s) - t0 )) s, agent killed at $(( OUTAGE / 2 )) s"
ev_receiver b sink 8080 --mode binary || exit 1
wait_count 500 session.opened 10.246.2.
wait_count 200 session.opened 10.246.3.
es_expect_eq "after the outage: the 500 sessions spooled before the kill, none missing" \
	"$(count session.opened 10.246.2.)" 500
es_expect_eq "and the 200 after it" "$(count session.opened 10.246.3.)" 200
es_expect_eq "and the two new users attached (3 in all)" "$(count user.attached 10.246.)" 3
es_done
