#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A pod interface's capacity is its own device's speed, asked for in the
# pod's network namespace. edgeshift-cni names a pod's interface by
# CNI_IFNAME (eth0 here), and the agent's namespace has an eth0 of its own,
# a bridge without a speed. Asked by name in the agent's namespace, the
# pod's eth0 got that bridge's unknown capacity (or, on a node, the node's
# eth0 speed); asked in the pod's, it gets its macvlan's lower device's,
# a veth's 10,000 Mbit/s. After a kill -9 and a restart the agent finds
# the namespace again from the pod's record.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cni/cni_lib.bash"
es_require_root pod_capacity
cni_require pod_capacity
es_plan 5

cni_macvlan_net 95 || exit 1
conf=$CNI_NET_CONF
ip -n "$(es_ns host)" link add eth0 type bridge || exit 1
ip -n "$(es_ns host)" link set eth0 up
echo '{"interfaces": ["eth0"]}' >"$ES_TMP/agent.json"
start() { es_agent_start host agent -c "$ES_TMP/agent.json" --cni-state-dir "$CNI_STATE"; }
start || exit 1
cni_pod a || exit 1
cni_exec "$CNI_BIN" ADD a "$(cni_pod_path a)" eth0 "$conf" "$(cni_pod_args a-0)" \
	>"$ES_TMP/add.json" || { es_diag <"$ES_TMP/add.json"; exit 1; }
# capacity and its source of the agent's eth0 (host) and of pod a's (pod)
capacity() {
	es_api host /v1/node | jq -r --arg k "$1" '.interfaces[] | select(.name == "eth0") |
		select(($k == "pod") == (.pod == "shop/a-0")) | "\(.capacity_bps) \(.capacity_source)"'
}
wait_pod() {
	local _
	for _ in $(seq 100); do [ -n "$(capacity pod)" ] && return 0; sleep 0.1; done
	es_diag <<<"the agent did not list pod a's eth0: $(es_api host /v1/node)"
	return 1
}
wait_pod || exit 1
es_expect_eq "the pod's eth0 has its own device's speed, from the pod's namespace" \
	"$(capacity pod)" "10000000000 device"
es_expect_eq "the agent's eth0, a bridge, has none" "$(capacity host)" "null unknown"
es_check "the metric says the same for the pod's eth0" \
	grep -q 'edgeshift_interface_link_capacity_bits_per_second{.*interface="eth0",namespace="shop",pod="a-0",source="device"} 10000000000$' \
	<<<"$(es_api host /metrics)"

kill -9 "$ES_AGENT_PID"
wait "$ES_AGENT_PID" 2>/dev/null
start || exit 1
wait_pod || exit 1
es_expect_eq "after kill -9 and a restart, the same speed from the pod's namespace" \
	"$(capacity pod)" "10000000000 device"
cni_exec "$CNI_BIN" DEL a "$(cni_pod_path a)" eth0 "$conf" "$(cni_pod_args a-0)" >/dev/null
es_expect_eq "gone from the agent's list after DEL" \
	"$(for _ in $(seq 50); do [ -z "$(capacity pod)" ] && break; sleep 0.1; done; capacity pod)" ""
es_done
