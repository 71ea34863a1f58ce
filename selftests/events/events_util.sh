#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# utilisation.crossed on a node whose pods come and go: the Detector
# tracks 64 interfaces at once and forgets the ones that are gone, so an
# interface made after more than 64 others came and went still gets its
# event; 64 live ones tracked, one more is counted
# (edgeshift_events_util_untracked_total) and logged once, and a table
# full of gone ones counts nothing.
#
# The smallest real path: the agent attaches every interface of its
# namespace with the run's prefix, each with a configured capacity, and
# every round (gc_interval_ms 100) gives each one's utilisation to the
# Detector, which keeps a place for it, traffic or not. So the churned
# interfaces need no traffic: veth pairs with both ends in the agent's
# namespace (two names a pair), created and deleted in batches of 8
# pairs, 96 names with never more than 16 alive; without an address or
# IPv6 they send nothing and stay below the threshold. Only the
# interfaces that must cross carry traffic: the agent's end of a pair
# whose peer is in a second namespace, at 10 kbit/s of capacity and a
# threshold of 0.01 (100 bit/s over the 1 s window), which a few pings
# cross. 65 real crossings would only be slower: a quiet interface takes
# its place in the table the same way. Renaming an interface makes its
# old name gone and its new one new within one netlink message, so a
# full table of 64 can hold gone names while no more than 64 live.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/events_lib.sh"
es_require_root events_util
ev_sdk_or_skip events_util
es_plan 13

es_netns_add a && es_netns_add b || exit 1
es_no_ipv6 a b
cat >"$ES_TMP/agent.json" <<JSON
{"state_dir": "$ES_TMP/state", "gc_interval_ms": 100,
 "signals": {"window_ms": 1000, "link_capacity_mbps": {"$ES_PREFIX*": 0.01}},
 "events": {"sink": "http://127.0.0.1:8080/ce", "types": ["utilisation.crossed"],
	    "utilisation_threshold": 0.01}}
JSON
ev_receiver b sink 8080 --mode binary || exit 1
es_agent_start b main -c "$ES_TMP/agent.json" -i "$ES_PREFIX*" || exit 1
log() { es_agent_log main; }
logged() {	# EVENT NAME-PATTERN: agent log lines of EVENT (attached, ...) for those names
	log | grep -c "event=$1 .*ifname=$ES_PREFIX$2"
}
# the waits say when they gave up, so a check after one on a loaded
# machine fails with the reason, not only the figure
wait_logged() {	# WANT EVENT NAME-PATTERN
	for _ in $(seq 200); do [ "$(logged "$2" "$3")" -ge "$1" ] && return; sleep 0.05; done
	es_diag <<<"waited 10 s for $1 $2 of $3: $(logged "$2" "$3")"
	return 1
}
pairs() {	# add|del|rename FIRST LAST: veth pairs cNNN-dNNN in b (renamed: eNNN-fNNN)
	local i p=$ES_PREFIX
	for i in $(seq -f %03g "$2" "$3"); do
		case $1 in
		add) echo "link add ${p}c$i type veth peer name ${p}d$i"
		     echo "link set ${p}c$i up"; echo "link set ${p}d$i up" ;;
		del) echo "link del ${p}c$i" ;;
		rename) echo "link set ${p}c$i down"; echo "link set ${p}d$i down"
			echo "link set ${p}c$i name ${p}e$i"; echo "link set ${p}d$i name ${p}f$i"
			echo "link set ${p}e$i up"; echo "link set ${p}f$i up" ;;
		esac
	done | ip -n "$(es_ns b)" -batch -
}
# NAME-PATTERN: interfaces of those names the agent reports; nothing and
# status 1 when the agent does not answer, which a count of 0 would hide
listed() {
	local m=edgeshift_interface_link_capacity_bits_per_second page
	if ! page=$(es_api b /metrics); then
		echo "listed: the agent did not answer GET /metrics" >&2
		return 1
	fi
	grep -c "^$m{.*interface=\"$ES_PREFIX$1" <<<"$page" || true
}
crossed() {	# IFNAME [N]: the first N directions of its utilisation.crossed events, valid
	ev_jq sink "[.[] | select(.status == 200 and (.invalid | not) and
		.type == \"io.edgeshift.utilisation.crossed\" and
		.subject == \"interfaces/$1\") | .data.direction] | .[:${2:-99}] | join(\" \")"
}
wait_crossed() {	# IFNAME WANT: until its first events are WANT (later ones may follow)
	local n
	n=$(wc -w <<<"$2")
	for _ in $(seq 100); do [ "$(crossed "$1" "$n")" = "$2" ] && return; sleep 0.1; done
	es_diag <<<"waited 10 s for $1 to cross $2: $(crossed "$1")"
	return 1
}
wait_unlisted() {	# NAME-PATTERN: until the agent, answering, reports none of those names
	local n
	for _ in $(seq 200); do
		n=$(listed "$1") || return 1
		[ "$n" = 0 ] && return
		sleep 0.05
	done
	es_diag <<<"waited 10 s for $1 to leave the agent's interfaces: $n left"
	return 1
}
untracked() { es_metric b 'edgeshift_events_util_untracked_total{'; }

t0=$(date +%s%N)
for b in 0 8 16 24 32 40; do
	pairs add $((b + 1)) $((b + 8))
	wait_logged $(((b + 8) * 2)) attached "[cd]0"
	sleep 0.4	# a few rounds: each interface has its place in the table
	pairs del $((b + 1)) $((b + 8))
	wait_logged $(((b + 8) * 2)) detached "[cd]0"
done
sleep 0.3
es_diag <<<"96 interfaces came and went in $((($(date +%s%N) - t0) / 1000000)) ms"
es_expect_eq "96 interfaces attached and detached" \
	"$(logged attached "[cd]0") $(logged detached "[cd]0")" "96 96"

# One leaves above the threshold: its place, taken again, starts below.
es_veth a ga 10.247.1.1 b gb 10.247.1.2 || exit 1
GB=$(es_ifname gb)
wait_logged 1 attached gb
# pings until it is gone (at most 30 s): no quiet round before the delete
es_bg es_in a ping -q -c 300 -i 0.1 10.247.1.2
ping_pid=$ES_BG_PID ping_start=$ES_BG_START
wait_crossed "$GB" up
ip -n "$(es_ns b)" link del "$GB"
wait_logged 1 detached gb
es_kill_tree "$ping_pid" "$ping_start"
sleep 0.3
es_expect_eq "an interface that went while above: up (gone before its down)" "$(crossed "$GB")" up

# The new pod's interface, after 97 gone: its first traffic crosses.
es_veth a fa 10.247.0.1 b fb 10.247.0.2 || exit 1
FB=$(es_ifname fb)
wait_logged 1 attached fb
es_in a ping -q -c 5 -i 0.1 10.247.0.2 >/dev/null
wait_crossed "$FB" up
es_expect_eq "after 97 gone: a new interface's utilisation.crossed up" "$(crossed "$FB" 1)" up
es_expect_eq "nothing untracked while at most 16 interfaces lived" "$(untracked)" 0
wait_crossed "$FB" "up down"
es_expect_eq "and down once quiet" "$(crossed "$FB" 2)" "up down"

# 69 live: the 5 without a place are counted every round, logged once.
pairs add 101 134
wait_logged 68 attached "[cd]1"
sleep 1
es_expect_ge "69 live interfaces: the ones without a place counted" "$(untracked)" 5
es_expect_eq "logged once" "$(log | grep -c 'event=utilisation_untracked')" 1
log | grep 'event=utilisation_untracked' | es_diag
es_in a ping -q -c 5 -i 0.1 10.247.0.2 >/dev/null
wait_crossed "$FB" "up down up"
es_expect_eq "a tracked interface keeps its events" "$(crossed "$FB" 3)" "up down up"
pairs del 101 134
wait_logged 68 detached "[cd]1"
# the agent's rounds over 69 interfaces have ended: untracked stays put
es_check "the 68 left the agent's interfaces" wait_unlisted "[cd]1"
sleep 0.3
n=$(untracked)
sleep 0.5
es_expect_match "64 or fewer live: nothing more untracked" "$n $(untracked)" '^([0-9]+) \1$'

# 64 live, then 62 renamed: the old names fill the table for a round,
# the new names find no place in it, and that is not counted.
es_veth a ha 10.247.2.1 b hb 10.247.2.2 || exit 1
pairs add 201 231
wait_logged 62 attached "[cd]2"
wait_logged 1 attached hb
sleep 0.5
n=$(untracked)
pairs rename 201 231
for _ in $(seq 100); do
	k=$(listed "[ef]2") || break
	[ "$k" -ge 62 ] && break
	sleep 0.05
done
sleep 0.5
es_expect_eq "62 of 64 renamed: all seen under their new names" "$(listed "[ef]2")" 62
es_expect_match "a table full of gone names: nothing untracked" "$n $(untracked)" '^([0-9]+) \1$'
quiet='[.[] | select(.subject | test("/'"$ES_PREFIX"'[cdef][0-9]"))]'
ev_jq sink "$quiet | .[] | \"\\(.subject) \\(.data)\"" | es_diag
es_expect_eq "no event for an interface without traffic" "$(ev_jq sink "$quiet | length")" 0
es_done
