#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The XDP receive hook is used here; the tcx one is adopted the same way.
# kill -9 of the agent under traffic: packets keep flowing, counting goes
# on while no agent runs, the restarted agent adopts the pinned maps and
# links (same link, new program) and nothing is reset. Then pins of another
# layout version are refused or rebuilt as configured, never misread.
. "$(dirname "$0")/../lib.sh"
es_require_root agent_restart
es_plan 17

es_netns_add a && es_netns_add b || exit 1
es_veth a va 10.254.0.1 b vb 10.254.0.2 || exit 1
VB=$(es_ifname vb)
PIN=$(es_pin_path main)
T=$ES_BUILD/es-traffic
es_agent_start b main --rx-hook xdp -i "$VB" || exit 1
IFX=$(es_in b cat "/sys/class/net/$VB/ifindex" 2>/dev/null || es_in b ip -j link show dev "$VB" | jq '.[0].ifindex')
link_id() { bpftool link show pinned "$PIN/links/$1_$IFX" -j 2>/dev/null | jq .id; }
xdp_id=$(link_id xdp); tcx_id=$(link_id tcx)

es_bg es_in b "$T" udp-server --port 7200 --timeout 60
es_wait_listen b u 7200
es_bg --out "$ES_TMP/client.json" es_in a "$T" udp-client --to 10.254.0.2 --port 7200 \
	--count 800 --size 64 --rate 200 --timeout 30 --json
client=$ES_BG_PID
sleep 1
rx_pkts() { jq '[.sessions[] | select(.endpoint_hi | endswith(":7200")) | .rx.packets] | add // 0'; }
before=$(es_api b "/v1/sessions?proto=udp" | rx_pkts)
kill -9 "$ES_AGENT_PID"
wait "$ES_AGENT_PID" 2>/dev/null
sleep 0.5
dead=$("$ES_BUILD/edgeshift" --api http://127.0.0.1:1 --pin-path "$PIN" sessions --proto udp --json 2>/dev/null | rx_pkts)
es_expect_ge "counting goes on with the agent dead (CLI reads the pins)" "$dead" $((before + 50))
sleep 0.5
dead2=$("$ES_BUILD/edgeshift" --api http://127.0.0.1:1 --pin-path "$PIN" sessions --proto udp --json 2>/dev/null | rx_pkts)
es_expect_ge "still counting" "$dead2" $((dead + 50))

es_agent_start b main --rx-hook xdp -i "$VB" || exit 1
es_check "restarted agent adopted both links" grep -q "adopted_links=2" "$ES_TMP/agent-main.log"
es_expect_eq "status reports the interface as adopted" \
	"$(es_api b /v1/status | jq ".interfaces[] | select(.ifindex == $IFX) | .adopted")" true
# ids read before the kill: none read is not the same link kept
es_expect_eq "same XDP and tcx links kept (no detach)" \
	"$(link_id xdp) $(link_id tcx) ${xdp_id:-none} ${tcx_id:-none}" \
	"$xdp_id $tcx_id $xdp_id $tcx_id"
# The newest es_xdp_ingress that uses this agent's pinned maps: other test
# runs on the machine load programs of that name too.
map_id=$(bpftool map show pinned "$PIN/es_sessions4" -j | jq .id)
es_expect_eq "XDP link runs the new agent's program" \
	"$(bpftool link show pinned "$PIN/links/xdp_$IFX" -j | jq .prog_id)" \
	"$(bpftool prog show -j | jq "[.[] | select(.name == \"es_xdp_ingress\" and
		((.map_ids // []) | index($map_id)))] | max_by(.id) | .id")"
wait "$client"
es_expect_eq "no request lost across kill -9 and restart" "$(jq .received "$ES_TMP/client.json")" 800
sleep 0.3
s=$(es_api b "/v1/sessions?proto=udp")
es_expect_eq "session counters continued: rx 800, tx 800" \
	"$(echo "$s" | jq -r '[.sessions[] | select(.endpoint_hi | endswith(":7200"))][0] | "\(.rx.packets) \(.tx.packets)"')" "800 800"

# SIGTERM leaves the data plane attached too.
kill -TERM "$ES_AGENT_PID"
wait "$ES_AGENT_PID"
es_expect_eq "SIGTERM exits 0" "$?" 0
es_check "links still pinned after SIGTERM" test -e "$PIN/links/xdp_$IFX"

# Pins of another layout: refused with a message, or rebuilt with a warning.
bpftool map update pinned "$PIN/es_meta" key 0 0 0 0 \
	value 0x63 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 || es_diag <<<"bpftool update failed"
cfg=$ES_TMP/refuse.json
echo '{"on_layout_mismatch": "refuse"}' >"$cfg"
out=$(es_in b "$ES_BUILD/edgeshiftd" --config "$cfg" --rx-hook xdp -p "$PIN" -i "$VB" -l 127.0.0.1:9464 \
	--state-dir "$ES_TMP/state" --cni-state-dir "$ES_TMP/cni" 2>&1)
rc=$?
if [ $rc != 0 ] && grep -q "layout version 99" <<<"$out"; then
	es_ok "other layout refused with a clear message"
else
	es_not_ok "other layout refused with a clear message" "exit $rc: $out"
fi
es_expect_eq "refusal left the pinned maps alone" \
	"$(bpftool map dump pinned "$PIN/es_meta" -j | jq '.[0].formatted.value.layout_version')" 99
es_agent_start b main --rx-hook xdp -i "$VB" || exit 1
es_check "rebuild warns" grep -q "layout_mismatch_rebuild" "$ES_TMP/agent-main.log"
es_expect_eq "rebuilt maps carry this layout version" \
	"$(bpftool map dump pinned "$PIN/es_meta" -j | jq '.[0].formatted.value.layout_version')" \
	"$("$ES_BUILD/edgeshiftd" --version | sed 's/.*map layout \([0-9]*\).*/\1/')"
es_in a ping -q -c 3 -i 0.2 10.254.0.2 >/dev/null
sleep 0.2
es_expect_eq "accounting works on the rebuilt maps" \
	"$(es_api b '/v1/sessions?proto=icmp' | jq '.sessions[0].rx.packets')" 3

# A pinned map whose definition differs although es_meta matches (a build
# that changed a struct without bumping the version) is rebuilt too.
kill -TERM "$ES_AGENT_PID"
wait "$ES_AGENT_PID"
rm -f "$PIN/es_iface_stats"
bpftool map create "$PIN/es_iface_stats" type percpu_hash key 4 value 8 entries 16 \
	name es_iface_stats || es_diag <<<"bpftool map create failed"
es_agent_start b main --rx-hook xdp -i "$VB" || exit 1
es_check "incompatible pinned map rebuilt with a warning" \
	grep -q "pinned_maps_incompatible_rebuild" "$ES_TMP/agent-main.log"
es_in a ping -q -c 2 -i 0.2 10.254.0.2 >/dev/null
sleep 0.2
es_expect_eq "and accounting works" \
	"$(es_api b '/v1/sessions?proto=icmp' | jq '.sessions[0].rx.packets')" 2
es_done
