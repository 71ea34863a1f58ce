#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The data-plane hook: a pod interface made by edgeshift-cni carries the
# accounting programs and is named after its pod in `edgeshift sessions`
# and /metrics; an interface added while no agent ran is adopted when the
# agent starts; records whose namespace is gone are forgotten.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni dataplane"
cni_require "cni dataplane"
es_plan 9
cni_host || exit 1
ip -n "$(es_ns wire)" addr add 10.97.0.254/24 dev "$(es_ifname m0p)"
CNI_PINS=$(es_pin_path agent)
conf=$(cni_conf ours macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",
	\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.97.0.0/24\",\"dataDir\":\"$ES_TMP/hl\"}}")
pins_of() { find "$CNI_PINS/links" -name "*_$1" | wc -l; }
pod_args() { echo "K8S_POD_NAMESPACE=shop;K8S_POD_NAME=$1;K8S_POD_INFRA_CONTAINER_ID=x"; }
metric_pod() { es_api host /metrics | grep -c "pod=\"$1\""; }
session_pods() { es_in host "$ES_BUILD/edgeshift" sessions --json | jq -r '[.sessions[]?.pod // empty] | unique | join(",")'; }

# 1. No agent yet: ADD succeeds and leaves only a record.
cni_pod early || exit 1; P1=$(cni_pod_path early)
r=$(cni_exec "$CNI_BIN" ADD early "$P1" eth0 "$conf" "$(pod_args early-0)")
es_expect_eq "ADD without an agent succeeds" "$(jq -r '.interfaces[0].name' <<<"$r")" eth0
es_expect_eq "... and leaves a pod record" "$(jq -r .podName "$CNI_STATE/pods/early-eth0.json")" early-0

# 2. The agent starts and adopts it; then a pod added while it runs.
es_agent_start host agent --cni-state-dir "$CNI_STATE" || exit 1
cni_pod late || exit 1; P2=$(cni_pod_path late)
r=$(cni_exec "$CNI_BIN" ADD late "$P2" eth0 "$conf" "$(pod_args late-0)")
IDX=$(es_in late ip -j link show dev eth0 | jq -r '.[0].ifindex')
es_expect_eq "ADD with the agent running pins tcx links for the pod interface" \
	"$(pins_of "$IDX")" 2
es_expect_eq "pod interface ifindex is not used by a host link" \
	"$(ip -n "$(es_ns host)" -j link show | jq "[.[] | select(.ifindex == $IDX)] | length")" 0
for p in early late; do es_in "$p" ping -c 3 -i 0.2 -W 1 10.97.0.254 >/dev/null; done
sleep 1.5
es_expect_eq "edgeshift sessions names both pods" "$(session_pods)" "shop/early-0,shop/late-0"
es_expect_ge "/metrics names the adopted pod" "$(metric_pod early-0)" 1
es_expect_ge "/metrics names the pod added while running" "$(metric_pod late-0)" 1

# 3. DEL and a vanished namespace take the pods out.
cni_exec "$CNI_BIN" DEL late "$P2" eth0 "$conf" "$(pod_args late-0)" >/dev/null
es_expect_eq "DEL unpins the pod's links" "$(pins_of "$IDX")" 0
ip netns del "$(es_ns early)"
for _ in $(seq 30); do [ -e "$CNI_STATE/pods/early-eth0.json" ] || break; sleep 0.1; done
es_expect_eq "a record whose netns is gone is forgotten by the agent" \
	"$([ -e "$CNI_STATE/pods/early-eth0.json" ] && echo kept || echo forgotten)" forgotten
es_done
