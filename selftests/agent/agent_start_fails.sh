#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A start that fails after the data plane is up (the HTTP port already in
# use): a first start that never served removes what it attached and
# pinned (no second pair of programs left on the interface, no pins); a
# start over pins an earlier agent served with adopts them and, failing,
# leaves them (and the one pair of programs) as they were.
. "$(dirname "$0")/../lib.sh"
es_require_root agent_start_fails
es_plan 8

PIN=$(es_pin_path busy)
ES_PINS+=("$PIN")
# hold_port: the agent's HTTP port in b, taken by another listener
hold_port() {
	es_bg es_in b python3 -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9464)); s.listen(); time.sleep(120)'
	sleep 0.3
}
es_netns_add a && es_netns_add b && es_veth a va 10.253.0.1 b vb 10.253.0.2 || exit 1
VB=$(es_ifname vb)
hold_port
# start: the agent on VB with the port taken; its exit status
start() {
	es_in b "$ES_BUILD/edgeshiftd" -p "$PIN" -l 127.0.0.1:9464 -i "$VB" --rx-hook tc \
		--state-dir "$ES_TMP/state" --cni-state-dir "$ES_TMP/cni" \
		--log-level debug >"$ES_TMP/start.log" 2>&1
	echo $?
}
tcx_progs() { es_in b bpftool net show dev "$VB" -j | jq '[.[0].tc[]? | select(.name | startswith("es_tc_"))] | length'; }

es_expect_eq "first start, port in use: exit 1" "$(start)" 1
es_expect_eq "first start that never served: the data plane is removed (logged)" \
	"$(grep -c 'data_plane=removed reason=never_served' "$ES_TMP/start.log")" 1
es_expect_eq "first start that never served: no pins left" "$(ls -A "$PIN" 2>/dev/null | wc -l)" 0
es_expect_eq "first start that never served: no program left on the interface" "$(tcx_progs)" 0

# An agent that served leaves its pins; a failing start adopts and keeps them.
kill "$ES_BG_PID"; wait "$ES_BG_PID" 2>/dev/null
es_agent_start b busy --rx-hook tc -i "$VB" || exit 1
kill "$ES_AGENT_PID"; wait "$ES_AGENT_PID" 2>/dev/null
before=$(ls "$PIN" "$PIN/links" | sort | tr '\n' ' ')
hold_port
es_expect_eq "start over served pins, port in use: exit 1, data plane left attached" \
	"$(start)/$(grep -c 'data_plane=left_attached' "$ES_TMP/start.log")" "1/1"
es_expect_eq "start over served pins: the pins are as they were" \
	"$(ls "$PIN" "$PIN/links" | sort | tr '\n' ' ')" "$before"
es_expect_eq "start over served pins: one pair of programs on the interface" "$(tcx_progs)" 2
es_expect_eq "start over served pins: adopted, not attached again" \
	"$(grep -c 'adopted_links=2' "$ES_TMP/start.log")" 1
es_done
