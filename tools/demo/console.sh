#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make console`: an emulated edge site to look at in the web console.
# Three nodes (network namespaces, an edgeshiftd each on a 100 Mbit/s
# uplink; n1 is the control plane) carry different loads, and
# edgeshift-console serves the page on the host's 127.0.0.1:CONSOLE_PORT
# (default 8080). The agents and the console share a token (printed), so
# the migrations view reads the agents' lists and the session test can run
# from the host towards the `es-session sink` on edge-node-2. When
# Prometheus is installed, one scrapes the agents on the host's
# 127.0.0.1:CONSOLE_PROM_PORT (default 9091) and the console reads it.
# Runs until Ctrl-C, then removes everything it made.
. "$(dirname "$0")/../../selftests/lib.sh"
PORT=${CONSOLE_PORT:-8080}
if [ "$(id -u)" != 0 ]; then
	echo "console: needs root (namespaces, BPF)" >&2
	exit 1
fi
# The host reaches the agents over a veth into each node.
loads=("" "" 20M 55M)
TOKEN=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; echo "$TOKEN" >"$ES_TMP/token")
for k in 1 2 3; do
	es_netns_add "n$k" || exit 1
	es_no_ipv6 "n$k"
	ip link add "${ES_PREFIX}h$k" type veth peer name "${ES_PREFIX}u$k" netns "$(es_ns "n$k")" || exit 1
	ip addr add "10.246.$k.1/24" dev "${ES_PREFIX}h$k"
	ip link set "${ES_PREFIX}h$k" up
	ip -n "$(es_ns "n$k")" addr add "10.246.$k.2/24" dev "${ES_PREFIX}u$k"
	ip -n "$(es_ns "n$k")" link set "${ES_PREFIX}u$k" up
	U=${ES_PREFIX}u$k
	cat >"$ES_TMP/agent-n$k.json" <<JSON
{"signals": {"window_ms": 3000, "link_capacity_mbps": {"$U": 100}, "uplinks": ["$U"]},
 "interfaces": [{"match": "$U", "pod": "edge/app-$k"}],
 "state_dir": "$ES_TMP/state-$k", "migration": {"token": "$TOKEN"}}
JSON
	es_agent_start "n$k" "n$k" -c "$ES_TMP/agent-n$k.json" -l 0.0.0.0:9464 \
		--node-name "edge-node-$k" --log-level info || exit 1
	es_bg es_in "n$k" iperf3 -s -p 5201
	es_bg ping -q -i 0.5 "10.246.$k.2"
done
es_bg es_in n2 "$ES_BUILD/es-session" sink --port 7700
sleep 0.3
for k in 2 3; do es_bg iperf3 -c "10.246.$k.2" -u -b "${loads[$k]}" -t 86400 -l 1400; done
PROM=()
if command -v prometheus >/dev/null; then
	ES_PROM_LISTEN=127.0.0.1:${CONSOLE_PROM_PORT:-9091} es_prometheus_start - edgeshift \
		10.246.1.2:9464 10.246.2.2:9464 10.246.3.2:9464
	PROM=(--prometheus "http://127.0.0.1:${CONSOLE_PROM_PORT:-9091}")
	echo "console: Prometheus on http://127.0.0.1:${CONSOLE_PROM_PORT:-9091}/"
fi
echo "console: http://127.0.0.1:$PORT/ (Ctrl-C stops the site)"
echo "console: token $TOKEN; session test: destination 10.246.2.2, port 7700"
"$ES_BUILD/edgeshift-console" --control-plane http://10.246.1.2:9464 \
	--agent http://10.246.2.2:9464 --agent http://10.246.3.2:9464 -l "127.0.0.1:$PORT" \
	--token-file "$ES_TMP/token" "${PROM[@]}"
