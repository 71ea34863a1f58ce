#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The data-plane hook: a pod interface made by edgeshift-cni carries the
# accounting programs and is named after its pod in `edgeshift sessions`
# and /metrics; an interface added while no agent ran is adopted when the
# agent starts; records whose namespace is gone are forgotten. The agent
# keeps the links the plugin attached (no second attach) and a pod that
# reuses a deleted pod's ifindex keeps its links. An ADD whose pod record
# cannot be written fails and takes back its pins.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni dataplane"
cni_require "cni dataplane"
es_plan 17
cni_macvlan_net 97 || exit 1
conf=$CNI_NET_CONF
pins_of() { find "$CNI_PINS/links" -name "*_$1" | wc -l; }
metric_pod() { es_api host /metrics | grep -c "pod=\"$1\""; }
session_pods() { es_in host "$ES_BUILD/edgeshift" sessions --json | jq -r '[.sessions[]?.pod // empty] | unique | join(",")'; }
# pod_pkts POD DIR: packets of the pod's sessions in direction DIR (rx, tx)
pod_pkts() {
	es_in host "$ES_BUILD/edgeshift" sessions --json |
		jq --arg p "shop/$1" --arg d "$2" '[.sessions[]? | select(.pod == $p) | .[$d].packets] | add // 0'
}
link_ids() { for k in tci tcx; do bpftool -j link show pinned "$CNI_PINS/links/${k}_$1" | jq -r .id; done | paste -sd,; }

# 1. No agent yet: ADD succeeds and leaves only a record.
cni_pod early || exit 1; P1=$(cni_pod_path early)
r=$(cni_exec "$CNI_BIN" ADD early "$P1" eth0 "$conf" "$(cni_pod_args early-0)")
es_expect_eq "ADD without an agent succeeds" "$(jq -r '.interfaces[0].name' <<<"$r")" eth0
es_expect_eq "... and leaves a pod record" "$(jq -r .podName "$CNI_STATE/pods/early-eth0.json")" early-0

# 2. The agent starts and adopts it; then a pod added while it runs.
es_agent_start host agent --cni-state-dir "$CNI_STATE" || exit 1
cni_pod late || exit 1; P2=$(cni_pod_path late)
kill -STOP "$ES_AGENT_PID"	# the links as the plugin made them, before the agent acts
r=$(cni_exec "$CNI_BIN" ADD late "$P2" eth0 "$conf" "$(cni_pod_args late-0)")
IDX=$(es_in late ip -j link show dev eth0 | jq -r '.[0].ifindex')
IDS=$(link_ids "$IDX")
kill -CONT "$ES_AGENT_PID"
es_expect_eq "ADD with the agent running pins tcx links for the pod interface" \
	"$(pins_of "$IDX")" 2
es_expect_eq "pod interface ifindex is not used by a host link" \
	"$(ip -n "$(es_ns host)" -j link show | jq "[.[] | select(.ifindex == $IDX)] | length")" 0
for p in early late; do es_in "$p" ping -c 3 -i 0.2 -W 1 10.97.0.254 >/dev/null; done
sleep 1.5
es_expect_eq "the agent keeps the links the plugin attached (same link ids)" "$(link_ids "$IDX")" "$IDS"
# adopted once, and no attach of its own tried (one that failed would
# have counted as the adoption before)
es_expect_eq "... and owns them without a second attach" \
	"$(es_agent_log agent | grep -c -E "event=attached ifname=eth0 ifindex=$IDX .*adopted=1") \
$(es_agent_log agent | grep -c -E "event=attach_failed .*ifindex=$IDX ")" "1 0"
es_expect_ge "the pod's first packets are accounted (3 echo requests)" "$(pod_pkts late-0 tx)" 3
es_expect_eq "edgeshift sessions names both pods" "$(session_pods)" "shop/early-0,shop/late-0"
es_expect_ge "/metrics names the adopted pod" "$(metric_pod early-0)" 1
es_expect_ge "/metrics names the pod added while running" "$(metric_pod late-0)" 1

# 3. DEL and a vanished namespace take the pods out.
# The agent is held up while one pod goes and the next takes its pooled
# ifindex: it then sees both records change in one scan.
kill -STOP "$ES_AGENT_PID"
cni_exec "$CNI_BIN" DEL late "$P2" eth0 "$conf" "$(cni_pod_args late-0)" >/dev/null
es_expect_eq "DEL unpins the pod's links" "$(pins_of "$IDX")" 0
cni_gone late
for _ in $(seq 300); do [ -e "$CNI_STATE/ifindex/free/$IDX" ] && break; sleep 0.01; done
cni_pod next || exit 1; P3=$(cni_pod_path next)
cni_exec "$CNI_BIN" ADD next "$P3" eth0 "$conf" "$(cni_pod_args next-0)" >/dev/null
kill -CONT "$ES_AGENT_PID"
es_expect_eq "the next pod reuses the pooled ifindex" \
	"$(es_in next ip -j link show dev eth0 | jq -r '.[0].ifindex')" "$IDX"
es_in next ping -c 3 -i 0.2 -W 1 10.97.0.254 >/dev/null
sleep 1.5
es_expect_eq "the pod reusing the ifindex keeps its pinned links" "$(pins_of "$IDX")" 2
es_expect_ge "... and its sessions are accounted and named" "$(pod_pkts next-0 tx)" 3
cni_exec "$CNI_BIN" DEL next "$P3" eth0 "$conf" "$(cni_pod_args next-0)" >/dev/null
ip netns del "$(es_ns early)"
for _ in $(seq 30); do [ -e "$CNI_STATE/pods/early-eth0.json" ] || break; sleep 0.1; done
es_expect_eq "a record whose netns is gone is forgotten by the agent" \
	"$([ -e "$CNI_STATE/pods/early-eth0.json" ] && echo kept || echo forgotten)" forgotten

# 4. The pod record cannot be written (where its directory should be is a
# file): ADD fails, since no DEL would find the pins without the record,
# and undoes all it made. Pins are compared by name: the agent may still
# be dropping those of the namespace deleted above.
S2=$ES_TMP/cni-state-norec
mkdir -p "$S2" && : >"$S2/pods"
find "$CNI_PINS/links" -mindepth 1 | sort >"$ES_TMP/pins-before"
cni_pod norec || exit 1; P4=$(cni_pod_path norec)
r=$(cni_exec "$CNI_BIN" ADD norec "$P4" eth0 "$(jq -c --arg s "$S2" '.stateDir = $s' <<<"$conf")" \
	"$(cni_pod_args norec-0)")
es_expect_eq "ADD whose pod record cannot be written: code 5 naming the record" \
	"$(jq -r '"\(.code) \(.msg | contains("pod record"))"' <<<"$r")" "5 true"
cni_gone norec
find "$CNI_PINS/links" -mindepth 1 | sort >"$ES_TMP/pins-after"
es_expect_eq "... no new pin, pod name, link, attachment record or address left" \
	"$(comm -13 "$ES_TMP/pins-before" "$ES_TMP/pins-after" | wc -l)/$(bpftool -j map dump \
	pinned "$CNI_PINS/es_ifaces" | grep -c norec-0)/$(es_in norec ip -br link | grep -c eth0)/$(find \
	"$S2/attachments" -name '*.json' | wc -l)/$(grep -rl norec "$ES_TMP/hl" | wc -l)" "0/0/0/0/0"
es_done
