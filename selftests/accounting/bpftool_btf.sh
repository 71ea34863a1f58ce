#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# bpftool prints every pinned map with named fields (BTF), as docs/maps.md
# promises, and the pinned links are real XDP and tcx links.
. "$(dirname "$0")/../lib.sh"
es_require_root bpftool_btf
maps=(es_sessions4 es_sessions6 es_session_state4 es_session_state6 es_iface_traffic
      es_iface_stats es_ifaces es_meta es_flow_cache4 es_flow_cache6)
es_plan $(( ${#maps[@]} + 7 ))

es_netns_add a && es_netns_add b || exit 1
es_veth a va 10.246.0.1 b vb 10.246.0.2 fd00:246::1 fd00:246::2 || exit 1
VB=$(es_ifname vb)
echo '{"closed_linger_ms": 2500, "gc_interval_ms": 100}' >"$ES_TMP/cfg.json"
es_agent_start b main --config "$ES_TMP/cfg.json" -i "$VB=ns1/pod1" || exit 1
PIN=$(es_pin_path main)
es_in a ping -q -c 2 -i 0.2 10.246.0.2 >/dev/null
es_in a ping -q -c 2 -i 0.2 fd00:246::2 >/dev/null
es_in a timeout 2 bash -c 'exec 3<>/dev/tcp/10.246.0.2/7400' 2>/dev/null
sleep 0.2
# Before the linger ends, the reset session is still there, marked closed.
es_expect_eq "state flags visible for the reset session" \
	"$(bpftool map dump pinned "$PIN/es_session_state4" -j |
	   jq '[.[] | .formatted.value.flags | select(. >= 16)] | length')" 1

for m in "${maps[@]}"; do
	out=$(bpftool map dump pinned "$PIN/$m" -j 2>&1)
	if echo "$out" | jq -e '.[0].formatted // .[0].values' >/dev/null 2>&1 &&
	   echo "$out" | jq -e 'length > 0' >/dev/null; then
		es_ok "$m dumps with BTF-formatted values"
	else
		es_not_ok "$m dumps with BTF-formatted values" "$(echo "$out" | head -c 400)"
	fi
done
dump=$(bpftool map dump pinned "$PIN/es_sessions4")
es_check "session key fields are named" grep -q '"addr_lo":' <<<"$dump"
es_check "counter fields are named" grep -q '"pkts":' <<<"$dump"
es_expect_eq "es_ifaces names the pod" \
	"$(bpftool map dump pinned "$PIN/es_ifaces" -j | jq -r '.[0].formatted.value.pod_name')" pod1
IFX=$(es_in b ip -j link show dev "$VB" | jq '.[0].ifindex')
es_expect_eq "pinned receive link: tcx ingress (veth, rx_hook auto)" \
	"$(bpftool link show pinned "$PIN/links/tci_$IFX" -j | jq -r '"\(.type) \(.attach_type)"')" "tcx tcx_ingress"
es_expect_eq "pinned tcx link type and direction" \
	"$(bpftool link show pinned "$PIN/links/tcx_$IFX" -j | jq -r '"\(.type) \(.attach_type)"')" "tcx tcx_egress"
# The reset session is collected after the linger: its totals go to es_iface_closed.
for i in $(seq 60); do
	closed=$(bpftool map dump pinned "$PIN/es_iface_closed" -j | jq '.[0].formatted.value.sessions[1] // 0')
	[ "$closed" = 1 ] && break
	sleep 0.1
done
es_expect_eq "es_iface_closed dumps named fields: sessions[rst]" "$closed" 1
es_done
