#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make demo`: two emulated hosts in network namespaces, traffic between
# them, edgeshiftd accounting it on host B; prints the sessions table, the
# agent status and a metrics scrape, then removes everything it made.
. "$(dirname "$0")/../../selftests/lib.sh"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "two hosts: $(es_ns a) (10.242.0.1) and $(es_ns b) (10.242.0.2), one veth pair"
es_netns_add a && es_netns_add b || exit 1
es_veth a eth 10.242.0.1 b eth 10.242.0.2 fd00:242::1 fd00:242::2 || exit 1
IF=$(es_ifname eth)

step "edgeshiftd on host B, attached to $IF as pod demo/web"
es_agent_start b demo -i "$IF=demo/web" || exit 1
sed 's/^/  /' "$ES_TMP/agent-demo.log" | grep -E 'datapath_ready|attached|ready'

step "traffic: ping (IPv4, IPv6), 200 UDP requests, a 20 MB TCP transfer, 2 s of iperf3"
es_bg es_in b "$ES_BUILD/es-traffic" udp-server --port 5353 --timeout 60
es_bg es_in b "$ES_BUILD/es-traffic" tcp-server --port 8080 --timeout 60
es_bg es_in b iperf3 -s -1 -p 5201
es_wait_listen b t 5201 || { echo "demo: iperf3 server not listening" >&2; exit 1; }
es_in a ping -q -c 4 -i 0.2 10.242.0.2 | tail -1 | sed 's/^/  ping:  /'
es_in a ping -q -c 4 -i 0.2 fd00:242::2 | tail -1 | sed 's/^/  ping6: /'
es_in a "$ES_BUILD/es-traffic" udp-client --to 10.242.0.2 --port 5353 --count 200 --size 200 \
	--rate 400 --json | jq -r '"  udp:   \(.sent) sent, \(.received) answered, rtt p50 \(.rtt_us.p50) us"'
es_in a "$ES_BUILD/es-traffic" tcp-client --to 10.242.0.2 --port 8080 --bytes 20000000 \
	--json | jq -r '"  tcp:   \(.sent) bytes sent, \(.tcp_info.segs_out) segments, \(.throughput_mbps | floor) Mbit/s"'
es_in a iperf3 -c 10.242.0.2 -p 5201 -t 2 | grep -E 'sender|receiver' | sed 's/^/  iperf3: /'
sleep 0.5

API="--api http://127.0.0.1:$ES_AGENT_PORT --pin-path $(es_pin_path demo)"
step "edgeshift sessions --top 10 (sorted by bytes)"
es_in b "$ES_BUILD/edgeshift" $API sessions --top 10
step "edgeshift status"
es_in b "$ES_BUILD/edgeshift" $API status
step "GET /metrics (excerpt)"
es_api b /metrics | grep -E '^edgeshift_(interface_(packets|bytes)_total|sessions_active|pod_bytes_total|session_map_(entries|pressure)|latency_seconds_count)' \
	| grep -v ' 0$' | sed 's/^/  /'

step "clean-up"
es_cleanup
trap - EXIT
left=$(ip netns list | grep -c "^$ES_PREFIX-" || true)
echo "  agent stopped, pins removed ($(ls -d "$(es_pin_path demo)" 2>/dev/null | wc -l) left), namespaces deleted ($left left)"
