#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every scenario of cni_scenarios.json through edgeshift-cni and through the
# reference plugin of the same kind, in the same pod namespace: edgeshift's
# interface must look as expected, and both plugins' interfaces and results
# must be equal field by field, except the fields a scenario ignores.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni scenarios"
cni_require "cni scenarios"
SCEN=$(dirname "$0")/cni_scenarios.json
N=$(jq '.scenarios | length' "$SCEN")
es_plan $((N * 5))
cni_host || exit 1
cni_pod pod || exit 1; POD=$(cni_pod_path pod)
DEV=$(es_ifname hd0)
DEVMAC=02:e5:00:00:00:99

standin() {
	ip -n "$(es_ns host)" link del "$DEV" 2>/dev/null
	cni_standin "$DEV" 1450 192.168.77.1/24 && ip -n "$(es_ns host)" link set "$DEV" address "$DEVMAC"
}

for i in $(seq 0 $((N - 1))); do
	s=$(jq -c ".scenarios[$i]" "$SCEN" | sed "s/@MASTER@/$CNI_MASTER/g; s/@DEVICE@/$DEV/g; s/@MAC@/$DEVMAC/g")
	name=$(jq -r .name <<<"$s"); kind=$(jq -r .kind <<<"$s"); ver=$(jq -r .cniVersion <<<"$s")
	cfg=$(jq -c .config <<<"$s"); ign=$(jq -c .ignore <<<"$s")
	declare -A obs=() res=() rc=() gone=()
	for who in ours ref; do
		[ "$kind" = host-device ] && standin
		before=$(cni_host_link "$DEV")
		conf=$(cni_conf "$who" "$kind" "$ver" "$cfg")
		if [ "$who" = ref ] && [ "$(jq -r '.ipam.type // ""' <<<"$conf")" = host-local ]; then
			conf=$(jq -c --arg d "$ES_TMP/hl-ref" '.ipam.dataDir = $d' <<<"$conf")
		elif [ "$(jq -r '.ipam.type // ""' <<<"$conf")" = host-local ]; then
			conf=$(jq -c --arg d "$ES_TMP/hl-ours" '.ipam.dataDir = $d' <<<"$conf")
		fi
		bin=$ES_BUILD/edgeshift-cni
		[ "$who" = ref ] && bin=$CNI_REF/$kind
		out=$(cni_exec "$bin" ADD "c$i$who" "$POD" eth0 "$conf")
		rc[$who]=$?
		[ "${rc[$who]}" = 0 ] || printf '%s ADD: %s\n' "$who" "$out" | es_diag
		obs[$who]=$(cni_observe pod eth0)
		res[$who]=$(cni_result_view "$out")
		cni_exec "$bin" DEL "c$i$who" "$POD" eth0 "$conf" >/dev/null
		# our macvlan DEL deletes the link in the background (docs/cni.md)
		[ "$who" = ours ] && cni_gone pod
		left=$(es_in pod ip -j link show dev eth0 2>/dev/null)
		if [ "$kind" = host-device ] && [ "$who" = ours ]; then
			[ "$(cni_host_link "$DEV")" = "$before" ] && [ -z "$left" ] && gone[$who]=1
		elif [ "$kind" = host-device ]; then
			# the reference returns the name only: its MTU, addresses and
			# up state are lost (docs/cni.md, differences)
			[ "$(cni_host_link "$DEV" | jq -r .name)" = "$DEV" ] && [ -z "$left" ] && gone[$who]=1
		else
			[ -z "$left" ] && gone[$who]=1
		fi
	done
	es_expect_eq "$name: edgeshift-cni ADD succeeds" "${rc[ours]}" 0
	want=$(jq -c '.expect' <<<"$s")
	got=$(jq -c --argjson w "$want" '. as $o | $w | with_entries(.value = $o[.key])' <<<"${obs[ours]}")
	es_expect_eq "$name: interface as asked (ip -j)" "$got" "$want"
	strip() { jq -c --argjson i "$ign" 'with_entries(select(.key as $k | $i | index($k) | not))' <<<"$1"; }
	es_expect_eq "$name: interface equals the reference plugin's" "$(strip "${obs[ours]}")" "$(strip "${obs[ref]}")"
	es_expect_eq "$name: result equals the reference plugin's" "${res[ours]}" "${res[ref]}"
	es_expect_eq "$name: DEL leaves nothing (and returns the device as it was)" "${gone[ours]:-0}${gone[ref]:-0}" 11
	unset obs res rc gone
done
es_done
