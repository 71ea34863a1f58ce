#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Interfaces that appear after the agent started are attached by name
# pattern (netlink link notifications); removed ones are detached, their
# pins removed and their sessions dropped long before the idle timeout (a
# new interface may reuse the ifindex); interfaces no rule matches are left
# alone.
. "$(dirname "$0")/../lib.sh"
es_require_root iface_hotplug
es_plan 9

es_netns_add a && es_netns_add b || exit 1
es_agent_start b main -i "${ES_PREFIX}h*" || exit 1
PIN=$(es_pin_path main)
es_expect_eq "nothing attached before the interface exists" \
	"$(es_api b /v1/status | jq '.interfaces | length')" 0

es_veth a ha 10.248.0.1 b hb 10.248.0.2 || exit 1
es_veth a xa 10.247.0.1 b xb 10.247.0.2 || exit 1
HB=$(es_ifname hb)
attached=""
for i in $(seq 30); do
	attached=$(es_api b /v1/status | jq -r ".interfaces[] | select(.name == \"$HB\") | \"\(.rx_hook)/\(.tx_hook)\"")
	[ -n "$attached" ] && break
	sleep 0.1
done
# A veth gets the tcx receive hook under rx_hook auto.
es_expect_eq "new interface matching the pattern attached (rx/tx hooks)" "$attached" "tc/true"
es_expect_eq "non-matching interface left alone" \
	"$(es_api b /v1/status | jq '.interfaces | length')" 1
IFX=$(es_in b ip -j link show dev "$HB" | jq '.[0].ifindex')
es_check "links pinned" test -e "$PIN/links/tci_$IFX" -a -e "$PIN/links/tcx_$IFX"
es_in a ping -q -c 2 -i 0.2 10.248.0.2 >/dev/null
sleep 0.2
es_expect_eq "traffic on the new interface accounted" \
	"$(es_api b "/v1/sessions?interface=$HB&proto=icmp" | jq '.sessions[0].rx.packets')" 2

ip -n "$(es_ns b)" link del "$HB"
gone=""
for i in $(seq 30); do
	gone=$(es_api b /v1/status | jq '.interfaces | length')
	[ "$gone" = 0 ] && break
	sleep 0.1
done
es_expect_eq "removed interface detached" "$gone" 0
es_check "its link pins removed" test ! -e "$PIN/links/tci_$IFX" -a ! -e "$PIN/links/tcx_$IFX"
# The agent's default scan runs each second; the idle timeout is 300 s.
for i in $(seq 40); do
	left=$(es_api b "/v1/sessions?proto=icmp" | jq .matched)
	[ "$left" = 0 ] && break
	sleep 0.1
done
es_expect_eq "the removed interface's session dropped at a scan, not left to idle out" "$left" 0
es_check "agent log names attach and detach" grep -q "event=detached ifname=$HB" "$ES_TMP/agent-main.log"
es_done
