#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# bpftool prints every pinned map with named fields (BTF), as docs/maps.md
# promises, with either session table (the slot table, the default, then
# the LRU maps), and the pinned links are real XDP and tcx links.
. "$(dirname "$0")/../lib.sh"
es_require_root bpftool_btf
common=(es_iface_traffic es_iface_stats es_ifaces es_meta es_flow_cache4 es_flow_cache6)
slots_maps=(es_tbl_tags es_tbl_entries)
maps_maps=(es_sessions4 es_session_state4 es_sessions6 es_session_state6)
es_plan $(( 2 * (${#common[@]} + 7) + ${#slots_maps[@]} + 1 + ${#maps_maps[@]} ))

es_netns_add a && es_netns_add b || exit 1
es_veth a va 10.246.0.1 b vb 10.246.0.2 fd00:246::1 fd00:246::2 || exit 1
VB=$(es_ifname vb)
IFX=$(es_in b ip -j link show dev "$VB" | jq '.[0].ifindex')

# dumps KIND MAP...: each map dumps with BTF-formatted values and is not empty.
dumps() {
	local kind=$1 m out
	shift
	for m in "$@"; do
		out=$(bpftool map dump pinned "$PIN/$m" -j 2>&1)
		if echo "$out" | jq -e '.[0].formatted // .[0].values' >/dev/null 2>&1 &&
		   echo "$out" | jq -e 'length > 0' >/dev/null; then
			es_ok "$kind: $m dumps with BTF-formatted values"
		else
			es_not_ok "$kind: $m dumps with BTF-formatted values" "$(echo "$out" | head -c 400)"
		fi
	done
}

# run KIND: an agent with session_table KIND (a small table: 1,920 slots
# to dump), a ping of each family and a reset TCP connection, the maps
# dumped; then the agent stopped and its pins removed.
run() {
	local kind=$1 flags4 dump closed i
	echo "{\"closed_linger_ms\": 2500, \"gc_interval_ms\": 100, \"session_map_size\": 1024," \
	     "\"session_table\": \"$kind\"}" >"$ES_TMP/cfg-$kind.json"
	es_agent_start b "$kind" --config "$ES_TMP/cfg-$kind.json" -i "$VB=ns1/pod1" || return 1
	PIN=$(es_pin_path "$kind")
	es_in a ping -q -c 2 -i 0.2 10.246.0.2 >/dev/null
	es_in a ping -q -c 2 -i 0.2 fd00:246::2 >/dev/null
	es_in a timeout 2 bash -c 'exec 3<>/dev/tcp/10.246.0.2/7400' 2>/dev/null
	sleep 0.2
	# Before the linger ends, the reset session is still there, marked closed.
	if [ "$kind" = slots ]; then
		flags4='bpftool map dump pinned "$PIN/es_tbl_entries" -j |
			jq "[.[] | .formatted.value.st.flags | select(. >= 16)] | length"'
	else
		flags4='bpftool map dump pinned "$PIN/es_session_state4" -j |
			jq "[.[] | .formatted.value.flags | select(. >= 16)] | length"'
	fi
	es_expect_eq "$kind: state flags visible for the reset session" "$(eval "$flags4")" 1
	dumps "$kind" "${common[@]}"
	if [ "$kind" = slots ]; then
		dumps "$kind" "${slots_maps[@]}"
		dump=$(bpftool map dump pinned "$PIN/es_tbl_entries")
		es_expect_eq "$kind: the IPv6 ping's session in the table, its key's union named" \
			"$(bpftool map dump pinned "$PIN/es_tbl_entries" -j | jq -r '[.[] |
			   .formatted.value | select(.v6 == 1 and .key.k6.proto == 58 and
			   .key.k6.port_lo == .key.k6.port_hi)] |
			   "\(length) \(.[0].c.pkts[0]) \(.[0].c.pkts[1])"')" "1 2 2"
	else
		dumps "$kind" "${maps_maps[@]}"
		dump=$(bpftool map dump pinned "$PIN/es_sessions4")
	fi
	es_check "$kind: session key fields are named" grep -q '"addr_lo":' <<<"$dump"
	es_check "$kind: counter fields are named" grep -q '"pkts":' <<<"$dump"
	es_expect_eq "$kind: es_ifaces names the pod" \
		"$(bpftool map dump pinned "$PIN/es_ifaces" -j | jq -r '.[0].formatted.value.pod_name')" pod1
	es_expect_eq "$kind: pinned receive link: tcx ingress (veth, rx_hook auto)" \
		"$(bpftool link show pinned "$PIN/links/tci_$IFX" -j |
		   jq -r '"\(.type) \(.attach_type)"')" "tcx tcx_ingress"
	es_expect_eq "$kind: pinned tcx link type and direction" \
		"$(bpftool link show pinned "$PIN/links/tcx_$IFX" -j |
		   jq -r '"\(.type) \(.attach_type)"')" "tcx tcx_egress"
	# The reset session is collected after the linger: its totals go to es_iface_closed.
	for i in $(seq 60); do
		closed=$(bpftool map dump pinned "$PIN/es_iface_closed" -j |
			 jq '.[0].formatted.value.sessions[1] // 0')
		[ "$closed" = 1 ] && break
		sleep 0.1
	done
	es_expect_eq "$kind: es_iface_closed dumps named fields: sessions[rst]" "$closed" 1
	kill -TERM "$ES_AGENT_PID"
	wait "$ES_AGENT_PID"
	"$ES_BUILD/edgeshiftd" --cleanup -p "$PIN" --state-dir "$ES_TMP" >/dev/null 2>&1
}

run slots
run maps
es_done
