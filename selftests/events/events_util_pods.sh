#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# utilisation.crossed for pods' interfaces: edgeshift-cni names every
# pod's interface by CNI_IFNAME, so two pods each have an eth0, and the
# Detector must keep one state for each. Pod a pings (above the
# threshold), pod b is quiet: a's eth0 crosses up once, from a's source
# (pods/NAMESPACE/NAME, subject interfaces/eth0, data.pod), b's never.
# Keyed by the name alone, the one state flipped between the two pods
# every round, an up and a down each time. The threshold is a fifth of a
# 10 kbit/s capacity: a's pings of 300 bytes (27 kbit/s each way) cross
# it with room for a stalled second; a and the wire know each other's
# MAC, so no broadcast reaches b.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/events_lib.sh"
. "$(dirname "$0")/../cni/cni_lib.bash"
es_require_root events_util_pods
cni_require events_util_pods
ev_sdk_or_skip events_util_pods
es_plan 4

cni_macvlan_net 96 || exit 1
conf=$CNI_NET_CONF
cat >"$ES_TMP/agent.json" <<JSON
{"gc_interval_ms": 100,
 "signals": {"window_ms": 1000, "link_capacity_mbps": {"eth0": 0.01}},
 "events": {"sink": "http://127.0.0.1:8080/ce", "types": ["utilisation.crossed"],
	    "utilisation_threshold": 0.2}}
JSON
ev_receiver host sink 8080 --mode binary || exit 1
es_agent_start host agent -c "$ES_TMP/agent.json" --cni-state-dir "$CNI_STATE" || exit 1
for p in a b; do
	cni_pod "$p" || exit 1
	cni_exec "$CNI_BIN" ADD "$p" "$(cni_pod_path "$p")" eth0 "$conf" "$(cni_pod_args "$p-0")" \
		>"$ES_TMP/add-$p.json"
done
es_expect_eq "two pods, each with an eth0" \
	"$(jq -r '.interfaces[0].name' "$ES_TMP/add-a.json" "$ES_TMP/add-b.json" | paste -sd,)" eth0,eth0
# the agent names both before any traffic (its rounds see b quiet)
named() { es_api host /v1/node | jq '[.interfaces[] | select(.pod != null)] | length'; }
for _ in $(seq 100); do [ "$(named)" = 2 ] && break; sleep 0.1; done
[ "$(named)" = 2 ] || { es_diag <<<"the agent named $(named) pod interfaces, not 2"; exit 1; }
events() {	# the utilisation.crossed events received: source subject direction pod
	ev_jq sink '.[] | select(.status == 200 and (.invalid | not) and
		.type == "io.edgeshift.utilisation.crossed") |
		"\(.source | sub("^.*/pods/"; "pods/")) \(.subject) \(.data.direction) \(.data.pod)"'
}
# No ARP: its broadcasts reach b's macvlan too, and one frame early in a
# window (its rate over the span covered so far) crosses any threshold.
a_ip=$(jq -r '.ips[0].address | sub("/.*"; "")' "$ES_TMP/add-a.json")
a_mac=$(jq -r '.interfaces[0].mac' "$ES_TMP/add-a.json")
w_mac=$(ip -n "$(es_ns wire)" -j link show dev "$(es_ifname m0p)" | jq -r '.[0].address')
es_in a ip neigh replace 10.96.0.254 lladdr "$w_mac" dev eth0 nud permanent
ip -n "$(es_ns wire)" neigh replace "$a_ip" lladdr "$a_mac" dev "$(es_ifname m0p)" nud permanent
# a pings for up to 20 s; a second of rounds after its first event
# (ten rounds, each a flip were the state shared) and it stops
es_bg es_in a ping -q -c 200 -i 0.1 -s 300 -W 1 10.96.0.254
ping_pid=$ES_BG_PID ping_start=$ES_BG_START
for _ in $(seq 100); do [ "$(events | wc -l)" -ge 1 ] && break; sleep 0.1; done
sleep 1
events >"$ES_TMP/during"
es_kill_tree "$ping_pid" "$ping_start"
es_diag <"$ES_TMP/during"
es_expect_eq "pod a's eth0 crosses up once, from its pod, while b's eth0 stays quiet" \
	"$(cat "$ES_TMP/during")" "pods/shop/a-0 interfaces/eth0 up shop/a-0"
for _ in $(seq 50); do [ "$(events | wc -l)" -ge 2 ] && break; sleep 0.1; done
es_expect_eq "and down once quiet, from pod a again" "$(events | sed -n 2p)" \
	"pods/shop/a-0 interfaces/eth0 down shop/a-0"
es_expect_eq "no event from pod b" "$(events | grep -c "b-0")" 0
for p in a b; do
	cni_exec "$CNI_BIN" DEL "$p" "$(cni_pod_path "$p")" eth0 "$conf" "$(cni_pod_args "$p-0")" >/dev/null
done
es_done
