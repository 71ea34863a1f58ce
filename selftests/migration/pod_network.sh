#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Containers in pod network namespaces of their own (migration.pod_network,
# docs/migration.md "Pod networks"), wired by edgeshift-cni as a kubelet's
# runtime would: ADD before the start and before the restore, DEL after
# the container is removed. Each node's pods are macvlan children of a
# veth end standing for its pod NIC; the node reaches them through a
# macvlan of its own on it. The configuration is checked, a failing ADD
# leaves nothing behind, CRIU's network lock stays inside the pod's
# namespace (never in the node's, where the agent and its other
# containers live), and a migration's restore gets a pod at the target.
. "$(dirname "$0")/../lib.sh"
es_require_root pod_network
# shellcheck source=selftests/migration/migration.inc
. "$(dirname "$0")/migration.inc"
command -v criu >/dev/null || { es_plan 1; es_skip pod_network "criu missing (tools/setup/install-deps)"; exit 0; }

es_plan 28
SUB=172.29.$((RANDOM % 200))
SVC=$SUB.1
GW=$SUB.254

# pod_conf N FILE: node N's CNI network (single plugin; the static IPAM
# plugin takes the spec's "ips" through the ips capability)
pod_conf() {
	cat >"$2" <<JSON
{ "cniVersion": "1.0.0", "name": "$ES_PREFIX-pods", "type": "edgeshift-cni",
  "kind": "macvlan", "master": "$(es_ifname pd)", "mode": "bridge",
  "stateDir": "$ES_TMP/cni-$1", "dataplane": false,
  "capabilities": { "ips": true },
  "ipam": { "type": "static", "routes": [ { "dst": "0.0.0.0/0", "gw": "$GW" } ] } }
JSON
}
pod_conf a "$ES_TMP/pods-a.conf"
pod_conf b "$ES_TMP/pods-b.conf"
pod_net() { echo "\"pod_network\": { \"conf\": \"$1\", \"cni_path\": \"$ES_BUILD:/usr/lib/cni\" }"; }

# the configuration: each mistake named, the agent refuses to start
check_config() { # EXPECTED_TEXT POD_NETWORK_JSON
	local f=$ES_TMP/bad.json out
	printf '{ "state_dir": "%s", "migration": { "token": "%s", %s } }\n' \
		"$ES_TMP/state-bad" "$MIG_TOKEN" "$2" >"$f"
	out=$("$ES_BUILD/edgeshiftd" --check-config -c "$f" 2>&1)
	es_expect_match "pod_network: $1" "$out" "$1"
}
check_config "'migration.pod_network.conf' must name a readable JSON file" \
	"$(pod_net "$ES_TMP/none.conf")"
echo '{ "cniVersion": "1.0.0", "name": "x" }' >"$ES_TMP/notype.conf"
check_config "'migration.pod_network.conf' must be a CNI network configuration" \
	"$(pod_net "$ES_TMP/notype.conf")"
check_config "'migration.pod_network.cni' is not a known field" \
	"\"pod_network\": { \"conf\": \"$ES_TMP/pods-a.conf\", \"cni\": 1 }"
check_config "'migration.pod_network.conf' is required" "\"pod_network\": { \"ifname\": \"eth0\" }"

MIG_CONFIG_EXTRA='"pod_network": { "conf": "'$ES_TMP'/pods-NODE.conf", "cni_path": "'$ES_BUILD':/usr/lib/cni" }'
# mig_config takes one extra text for both nodes: each names its own file
mig_config() {
	local f=$ES_TMP/config-$1.json
	cat >"$f" <<JSON
{ "state_dir": "$2",
  "migration": { "token": "$MIG_TOKEN", "peers": { "$3": "http://$4:$MIG_PORT" },
    "event_log": "$ES_TMP/events-$1.log", "connect_timeout_ms": 2000,
    "restore_timeout_ms": 30000, "checkpoint_timeout_ms": 30000,
    ${MIG_CONFIG_EXTRA//NODE/$1} } }
JSON
	echo "$f"
}
mig_setup partial || exit 1
for n in "$MIG_NS_A" "$MIG_NS_B"; do
	es_in "$n" ip link add "$(es_ifname pd)" type veth peer name "$(es_ifname pp)" &&
		es_in "$n" ip link add "$(es_ifname ps)" link "$(es_ifname pd)" type macvlan mode bridge &&
		es_in "$n" ip addr add "$GW/24" dev "$(es_ifname ps)" || exit 1
	for d in pd pp ps; do es_in "$n" ip link set "$(es_ifname $d)" up; done
done

# left N: "pods/containers/attachments" of node N (a or b)
left() {
	local st=$MIG_STATE_A
	[ "$1" = b ] && st=$MIG_STATE_B
	echo "$(ls "$st/pods" 2>/dev/null | wc -l)/$(ls "$st/containers" 2>/dev/null | wc -l)/$(
		find "$ES_TMP/cni-$1/attachments" -name '*.json' 2>/dev/null | wc -l)"
}
args=$(printf '"%s",' /usr/local/bin/es-counter serve --udp "$MIG_UDP" --tcp "$MIG_TCP" \
	--bind "$SVC" --state-dir /data)
spec() { # NAME IP
	printf '{"name":"%s","image":"%s","args":[%s],"tcp_established":true,"ips":["%s"]}' \
		"$1" "$MIG_IMAGE" "${args%,}" "$2"
}

# a failing ADD (the route's gateway is not on the pod's subnet): the
# plugin's reason, nothing left behind
out=$(mig_api a POST /v1/containers "$(spec bad 10.9.9.9/24)")
es_expect_match "failing ADD: the start fails with the plugin's reason" "$out" \
	"pod network: CNI ADD: .*route"
es_expect_eq "failing ADD: no pod, no container, no attachment left" "$(left a)" "0/0/0"
out=$(mig_api a POST /v1/containers "$(spec bad2 "$SVC")")
es_expect_match "a spec's ips without a prefix length is refused" "$out" "field 'ips'"

es_expect_eq "container p1 started in a pod" \
	"$(mig_api a POST /v1/containers "$(spec p1 "$SVC/24")" | tail -n 1)" 200
pid=$(mig_api a GET /v1/containers/p1 | head -n 1 | jq -r .pid)
pod_ns=$MIG_STATE_A/pods/p1/netns
es_expect_eq "its network namespace is the pod's, not the agent's" \
	"$(stat -L -c %i "/proc/$pid/ns/net")/$(stat -L -c %i "/proc/$MIG_PID_A/ns/net")" \
	"$(stat -L -c %i "$pod_ns")/$(stat -L -c %i "/proc/$MIG_PID_A/ns/net")"
es_expect_match "the pod's eth0 holds the address IPAM gave" \
	"$(nsenter --net="$pod_ns" ip -br addr show dev eth0)" "$SVC/24"
es_expect_eq "the node does not hold it (it routes to the pod)" \
	"$(es_in "$MIG_NS_A" ip -br addr show | grep -c " $SVC/")" 0
es_expect_eq "the CNI result is kept for DEL" \
	"$(jq -r '.ips[0].address' "$MIG_STATE_A/pods/p1/cni.json")" "$SVC/24"
MIG_IP_A=$SVC mig_wait_service a
es_expect_eq "the service answers at the pod's address" "$(MIG_IP_A=$SVC mig_request a 1)" 1

# CRIU's network lock while the container migrates: the node's and the
# pod's nftables watched (nft monitor: every table added, none missed)
es_bg --log "$ES_TMP/nft-node.log" es_in "$MIG_NS_A" nft monitor tables
mon_node=$ES_BG_PID
es_bg --log "$ES_TMP/nft-pod.log" nsenter --net="$pod_ns" nft monitor tables
mon_pod=$ES_BG_PID
sleep 0.3
mig_migrate --container p1 --to "$MIG_NODE_B" --mode partial --json --wait-s 60 \
	>"$ES_TMP/mig.json" 2>"$ES_TMP/mig.err"
sleep 0.3
kill "$mon_node" "$mon_pod" 2>/dev/null
es_expect_eq "p1 restored on B" "$(jq -r .state "$ES_TMP/mig.json")" restored
es_expect_ge "CRIU's lock was taken in the pod's namespace" \
	"$(grep -c 'create table inet CRIU' "$ES_TMP/nft-pod.log")" 1
es_expect_eq "and never in the node's" "$(grep -ci 'table' "$ES_TMP/nft-node.log")" 0
pid=$(mig_api b GET /v1/containers/p1 | head -n 1 | jq -r .pid)
es_expect_eq "B: ADD before the restore: the restored container is in B's pod" \
	"$(stat -L -c %i "/proc/$pid/ns/net")" "$(stat -L -c %i "$MIG_STATE_B/pods/p1/netns")"
es_expect_eq "B: one attachment for p1" \
	"$(find "$ES_TMP/cni-b/attachments" -name 'p1-*.json' | wc -l)" 1
es_expect_eq "B: the state moved with it (the counter goes on)" "$(MIG_IP_B=$SVC mig_request b 2)" 2
mig_migrate --stop-source-of "$(jq -r .id "$ES_TMP/mig.json")" --json >"$ES_TMP/stop.json" 2>&1
es_expect_eq "A: DEL after the stop: no pod, no container, no attachment" \
	"$(jq -r .state "$ES_TMP/stop.json") $(left a)" "done 0/0/0"
es_expect_eq "A: the pod's namespace is unmounted" "$(grep -c "$MIG_STATE_A/pods" /proc/self/mountinfo)" 0
es_expect_eq "B: removed: DEL, the namespace goes" \
	"$(mig_api b DELETE /v1/containers/p1 | tail -n 1) $(left b)" "200 0/0/0"
es_expect_eq "B: the pod was made from the prepare on, once, and adopted by the restore" \
	"$(es_agent_log "$MIG_NAME_B" | grep -c 'pod_network_prepared.*name=p1 ') $(
	   es_agent_log "$MIG_NAME_B" | grep -c 'pod_network_added name=p1 ')" "1 1"

# prepare_p3 ID: B prepares migration ID of a container p3, and its pod is made
prepare_p3() {
	mig_api b POST /v1/migrations/incoming "{\"id\":\"$1\",\"container\":\"p3\",
		\"mode\":\"partial\",\"from\":\"t\",\"spec\":$(spec p3 "$SVC/24")}" >/dev/null
	for _ in $(seq 50); do [ -e "$MIG_STATE_B/pods/p3/cni.json" ] && break; sleep 0.1; done
}
# a migration aborted before its restore: the pod made at its prepare goes
prepare_p3 pp1
es_expect_eq "B: a prepare makes the pod (attachment, no container yet)" "$(left b)" "1/0/1"
mig_api b DELETE /v1/migrations/incoming/pp1 >/dev/null
es_expect_eq "B: its abort DELs the pod: no pod, no attachment" "$(left b)" "0/0/0"
# the agent killed after a prepare made its pod: the restarted agent drops
# what was staged, and DELs a pod no container owns
prepare_p3 pp2
kill -9 "$MIG_PID_B"; wait "$MIG_PID_B" 2>/dev/null
mig_agent b
es_expect_eq "B: killed after a prepare, restarted: the pod is DELed, no attachment left" \
	"$(left b)" "0/0/0"

# a network that gives no addresses (no IPAM: L2 only) to a spec asking
# for one: the pod would not hold the address its users reach; the start
# fails, naming it, and nothing is left
kill "$MIG_PID_A" && wait "$MIG_PID_A" 2>/dev/null
jq '.ipam = {}' "$ES_TMP/pods-b.conf" | sed "s/cni-b/cni-a/" >"$ES_TMP/pods-a.conf"
mig_agent a || exit 1
out=$(mig_api a POST /v1/containers "$(spec p2 "$SVC/24")")
es_expect_match "an address asked for and not given: the start fails, naming it" "$out" \
	"gave the pod no address $SVC/24"
es_expect_eq "and leaves nothing: no pod, no container, no attachment" "$(left a)" "0/0/0"
es_done
