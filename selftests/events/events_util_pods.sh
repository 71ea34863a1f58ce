#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# utilisation.crossed for pods' interfaces: edgeshift-cni names every
# pod's interface by CNI_IFNAME, so two pods each have an eth0, and the
# Detector must keep one state for each. Pod a pings (above the
# threshold), pod b is quiet: a's eth0 crosses up once, from a's source
# (pods/NAMESPACE/NAME, subject interfaces/eth0, data.pod), b's never.
# Keyed by the name alone, the one state flipped between the two pods
# every round, an up and a down each time. The threshold is half of a
# 10 kbit/s capacity: a's pings (about 8 kbit/s each way) cross it, the
# ARP broadcasts b's macvlan also sees (under 1 kbit/s) do not.
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
	    "utilisation_threshold": 0.5}}
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
for _ in $(seq 100); do
	[ "$(es_api host /v1/node | jq '[.interfaces[] | select(.pod != null)] | length')" = 2 ] && break
	sleep 0.1
done
events() {	# the utilisation.crossed events received: source subject direction pod
	ev_jq sink '.[] | select(.status == 200 and (.invalid | not) and
		.type == "io.edgeshift.utilisation.crossed") |
		"\(.source | sub("^.*/pods/"; "pods/")) \(.subject) \(.data.direction) \(.data.pod)"'
}
# a pings for up to 20 s; a second of rounds after its first event
# (ten rounds, each a flip were the state shared) and it stops
es_bg es_in a ping -q -c 200 -i 0.1 -W 1 10.96.0.254
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
