#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# An agent with the migration data plane restarted on its pins, as an
# upgrade does: the migration program's link stays (no detach) and runs the
# new agent's program; pins of another migration map layout are replaced
# when no migration is under way, and refused, untouched, when one is (the
# old programs keep running). The older layout is made by writing its
# version into the pinned es_mig_config.
. "$(dirname "$0")/../lib.sh"
es_require_root zdm_upgrade
es_plan 11

es_netns_add a && es_netns_add b && es_veth a w 10.251.0.1 b v 10.251.0.2 || exit 1
W=$(es_ifname w)
cat >"$ES_TMP/config.json" <<JSON
{
	"state_dir": "$ES_TMP/state",
	"migration": { "token": "zdm-upgrade-token-0123456789", "peers": { "peer": "http://10.251.0.2:9464" } },
	"zero_downtime": { "tunnel_addr": "10.251.0.1", "wan_interfaces": ["$W"] }
}
JSON
mkdir -p "$ES_TMP/state"
trap 'es_runc_cleanup "$ES_TMP/state"; es_cleanup' EXIT
PIN=$(es_pin_path up)
M=$ES_BUILD/es-migctl
start() { es_agent_start a up --config "$ES_TMP/config.json"; }
stop() { kill -TERM "$ES_AGENT_PID"; wait "$ES_AGENT_PID" 2>/dev/null; }
IFX=$(es_in a ip -j link show dev "$W" | jq '.[0].ifindex')
LINK=$PIN/links/mig_wan_$IFX
link_id() { bpftool link show pinned "$LINK" -j 2>/dev/null | jq .id; }
link_prog() { bpftool link show pinned "$LINK" -j 2>/dev/null | jq .prog_id; }
pinned_prog() { bpftool prog show pinned "$PIN/prog_es_mig_xdp_wan" -j 2>/dev/null | jq .id; }
map_id() { bpftool map show pinned "$PIN/$1" -j 2>/dev/null | jq .id; }
layout() {
	bpftool map lookup pinned "$PIN/es_mig_config" key 0 0 0 0 -j 2>/dev/null |
		jq '.formatted.value.layout_version // (.value[0] | tonumber)'
}
# an older agent's pins: its layout version written into es_mig_config
old_layout() {
	bpftool map update pinned "$PIN/es_mig_config" key 0 0 0 0 value \
		$(printf '0x%02x ' "$1" 0 0 0; printf '0 %.0s' $(seq 32))
}

start || exit 1
l1=$(link_id) p1=$(link_prog)
es_expect_eq "the WAN link runs the pinned program" "$p1" "$(pinned_prog)"
stop
start || exit 1
es_expect_eq "restarted: the same link (never detached)" "$(link_id)" "$l1"
es_expect_eq "... running the new agent's program" "$(link_prog)" "$(pinned_prog)"
es_expect_ne "... not the old one" "$(link_prog)" "$p1"

# another layout, nothing migrating: new maps, the link swapped
stop
v=$(layout)
sessions=$(map_id es_mig_sessions)
es_check "pins made older (layout $((v - 1)))" old_layout $((v - 1))
start || exit 1
es_check "the agent says it replaced them" grep -q "zdm_layout_rebuilt.*old=$((v - 1)) new=$v" \
	"$ES_TMP/agent-up.log"
es_expect_eq "es_mig_config has this agent's layout again" "$(layout)" "$v"
es_expect_ne "es_mig_sessions is a new map" "$(map_id es_mig_sessions)" "$sessions"
es_expect_eq "the same link runs the new program" "$(link_id) $(link_prog)" "$l1 $(pinned_prog)"

# another layout with a migration under way: refused, nothing touched
stop
"$M" start --pin "$PIN" --session "10.251.0.9:4000>10.251.1.1:7002" --source 10.251.0.2 \
	--limit 16 >/dev/null
old_layout $((v - 1))
p2=$(link_prog)
start 2>/dev/null
es_check "refused: the agent names the migration under way" \
	grep -q "layout $((v - 1)), this agent's is $v, and es_mig_sessions holds a migration under way" \
	"$ES_TMP/agent-up.log"
es_expect_eq "the pins untouched: layout, the session, the old program on the link" \
	"$(layout) $(bpftool map dump pinned "$PIN/es_mig_sessions" -j | jq length) $(link_prog)" \
	"$((v - 1)) 1 $p2"
"$M" cleanup --pin "$PIN" 2>/dev/null
es_done
