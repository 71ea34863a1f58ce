# SPDX-License-Identifier: GPL-2.0-only
# shellcheck disable=SC2034 # variables for the tests that source this
# Helpers of the CNI selftests (sourced after lib.sh): a test "host"
# namespace the plugins run in, stand-in NICs, and observations of a pod's
# interface through `ip -j`.
CNI_BIN=${ES_CNI_BIN:-$ES_BUILD/edgeshift-cni}
CNI_REF=/usr/lib/cni
CNI_STATE=$ES_TMP/cni-state
CNI_PINS=$ES_PIN_ROOT/$ES_PREFIX-cnipins

cni_require() {
	if [ ! -x "$CNI_REF/macvlan" ] || ! command -v jq >/dev/null; then
		es_plan 1
		es_skip "$1" "needs containernetworking-plugins and jq"
		exit 0
	fi
}

# cni_host: the test host namespace, with MASTER (a veth whose peer sits
# in the "wire" namespace, a stand-in for a NIC) up.
cni_host() {
	es_netns_add host && es_netns_add wire || return 1
	es_no_ipv6 host wire
	CNI_MASTER=$(es_ifname m0)
	ip -n "$(es_ns host)" link add "$CNI_MASTER" type veth peer name "$(es_ifname m0p)" \
		netns "$(es_ns wire)" || return 1
	ip -n "$(es_ns host)" link set "$CNI_MASTER" up
	ip -n "$(es_ns wire)" link set "$(es_ifname m0p)" up
}

# cni_macvlan_net N: cni_host, with "wire" holding 10.N.0.254, CNI_PINS
# the pins of the agent es_agent_start names "agent", and CNI_NET_CONF
# edgeshift-cni's macvlan network over 10.N.0.0/24 (host-local IPAM).
cni_macvlan_net() {
	cni_host || return 1
	ip -n "$(es_ns wire)" addr add "10.$1.0.254/24" dev "$(es_ifname m0p)"
	CNI_PINS=$(es_pin_path agent)
	CNI_NET_CONF=$(cni_conf ours macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",
		\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.$1.0.0/24\",\"dataDir\":\"$ES_TMP/hl\"}}")
}

# cni_pod_args NAME: the kubelet's CNI_ARGS for pod shop/NAME.
cni_pod_args() { echo "K8S_POD_NAMESPACE=shop;K8S_POD_NAME=$1;K8S_POD_INFRA_CONTAINER_ID=x"; }

# cni_standin NAME MTU ADDR: a veth stand-in NIC in the host, peer in "wire".
cni_standin() {
	ip -n "$(es_ns host)" link add "$1" type veth peer name "${1}p" netns "$(es_ns wire)" || return 1
	ip -n "$(es_ns host)" link set "$1" mtu "$2"
	ip -n "$(es_ns host)" addr add "$3" dev "$1"
	ip -n "$(es_ns host)" link set "$1" up
	ip -n "$(es_ns wire)" link set "${1}p" up
}

# cni_pod NAME: a pod namespace (not in a subshell: it must be registered
# for cleanup); cni_pod_path NAME prints its path.
cni_pod() {
	es_netns_add "$1" >/dev/null || return 1
	es_no_ipv6 "$1"
}
cni_pod_path() { echo "/run/netns/$(es_ns "$1")"; }

# cni_gone NAME: waits (3 s at most) until the pod's eth0 is gone:
# edgeshift-cni's DEL deletes the macvlan in the background.
cni_gone() {
	local _
	for _ in $(seq 300); do
		es_in "$1" ip link show dev eth0 >/dev/null 2>&1 || return 0
		sleep 0.01
	done
}

# cni_conf PLUGIN KIND VERSION CONFIG_JSON [EXTRA_JSON]: the network config
# for edgeshift-cni ("ours") or the reference plugin ("ref").
cni_conf() {
	local who=$1 kind=$2 ver=$3 cfg=$4 extra=${5:-{\}}
	if [ "$who" = ours ]; then
		jq -c --arg k "$kind" --arg v "$ver" --arg s "$CNI_STATE" --arg p "$CNI_PINS" \
			--argjson x "$extra" \
			'. + {cniVersion: $v, name: "esnet", type: "edgeshift-cni", kind: $k,
			      stateDir: $s, pinPath: $p} + $x' <<<"$cfg"
	else
		jq -c --arg k "$kind" --arg v "$ver" --argjson x "$extra" \
			'. + {cniVersion: $v, name: "esnet", type: $k} + $x' <<<"$cfg"
	fi
}

# cni_exec BIN CMD CID NETNS IFNAME CONF [CNI_ARGS]: runs a plugin in the
# host namespace; stdout is the plugin's, the exit code its own.
cni_exec() {
	CNI_COMMAND=$2 CNI_CONTAINERID=$3 CNI_NETNS=$4 CNI_IFNAME=$5 CNI_PATH=$CNI_REF \
		CNI_ARGS=${7:-} nsenter --net="/run/netns/$(es_ns host)" "$1" <<<"$6"
}

# cni_observe NS IFNAME: what the pod's interface looks like, as JSON.
cni_observe() {
	local ns=$1 ifn=$2
	{
		es_in "$ns" ip -j -d link show dev "$ifn" 2>/dev/null || echo '[]'
		es_in "$ns" ip -j addr show dev "$ifn" scope global 2>/dev/null || echo '[]'
		es_in "$ns" ip -j route show dev "$ifn" 2>/dev/null || echo '[]'
	} | jq -s -c '
		(.[0][0] // {}) as $l | (.[1][0] // {}) as $a | .[2] as $r |
		{ kind: $l.linkinfo.info_kind, mode: $l.linkinfo.info_data.mode, mtu: $l.mtu,
		  mac: $l.address, up: (($l.flags // []) | index("UP") != null),
		  addresses: [($a.addr_info // [])[] | "\(.local)/\(.prefixlen)"] | sort,
		  routes: [$r[] | select(.protocol != "kernel") |
			   "\(if .dst == "default" then "0.0.0.0/0" else .dst end)\(if .gateway then " via " + .gateway else "" end)"] | sort }
		| with_entries(select(.value != null))'
}

# cni_host_link NAME: a host link's name, MTU, up state and addresses.
cni_host_link() {
	{
		ip -n "$(es_ns host)" -j link show dev "$1" 2>/dev/null || echo '[]'
		ip -n "$(es_ns host)" -j addr show dev "$1" scope global 2>/dev/null || echo '[]'
	} | jq -s -c '(.[0][0] // {}) as $l | (.[1][0] // {}) as $a |
		{ name: $l.ifname, mtu: $l.mtu, up: (($l.flags // []) | index("UP") != null),
		  addresses: [($a.addr_info // [])[] | "\(.local)/\(.prefixlen)"] | sort }'
}

# cni_result_view RESULT: the result's fields both plugins must agree on.
cni_result_view() {
	jq -S -c '{ cniVersion, interfaces: [(.interfaces // [])[] | {name, sandbox}],
		 ips: [(.ips // [])[] | del(.interface)], routes: (.routes // []),
		 dns: (.dns // {}) }' <<<"$1"
}
