#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# TCP connections through the faults drill_wan.sh and zdm_kill_*.sh put a
# UDP session through, on an unmodified Redis with three connections: the
# WAN cut for 3 s and for 8 s during the transfer and during the replay,
# the target's agent killed in the replay and the source's agent killed
# with the container paused for the checkpoint, each restarted a second
# later. A first attempt may end done or failed, as the timing gives; a
# failed one is retried by hand, and the retry must be done. Every time:
# no connection reset, nothing lost or applied twice, every key exact, no
# container left paused.
. "$(dirname "$0")/../lib.sh"
es_require_root drill_tcp_kill
command -v criu >/dev/null || { es_plan 1; es_skip drill_tcp_kill "criu missing (tools/setup/install-deps)"; exit 0; }
command -v redis-server >/dev/null || { es_plan 1; es_skip drill_tcp_kill "redis-server missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 30
CONNS=3

# tcp_clean NAME COUNT: every connection of the user's: none lost, twice,
# reset or with a wrong counter, and no container left paused
tcp_clean() {
	drill_expect_clean "$1"
	drill_expect_eq "$1: no connection reset, the others none lost, twice or wrong" \
		"$(drill_q '"\(.requests.resets) \(.other_connections | "\(.sent) \(.lost) \(.answered_twice) \(.resets) \(.replies_with_wrong_counter)")"')" \
		"0 $(((CONNS - 1) * $2)) 0 0 0 0"
	es_expect_eq "$1: no container left paused" "$(drill_q .site.paused)" 0
}

for case in "transfer 3" "transfer 8" "replay 3" "replay 8"; do
	read -r at secs <<<"$case"
	count=$((160 + 20 * secs))
	drill_run "cut-$at-$secs" --service redis --connections $CONNS --mode partial --rate 20 \
		--count $count --handoff-at 30 --fault wan_outage --fault-at "$at" --outage-s "$secs" --retry
	tcp_clean "Redis, WAN cut $secs s in the $at" $count
	# cut at the transfer's start, the WAN holds the migration until it is
	# back; a cut at the replay may come just after the end (fault_within)
	drill_expect_eq "Redis, WAN cut $secs s in the $at: done (the retry's, if the first failed), drill passed$(fault_within "$at" cut label)" \
		"$(drill_q .migration.state) $DRILL_RC$(fault_within "$at" cut got)" "done 0$(fault_within "$at" cut want)"
done

for case in "target replay" "source stall_paused"; do
	read -r victim at <<<"$case"
	# 12 s of requests: the retry must find the connections still open
	# after the killed agent's restart and the first migration's abort
	drill_run "kill-$victim" --service redis --connections $CONNS --mode partial --rate 20 \
		--count 240 --handoff-at 30 --fault "kill_${victim}_agent" --fault-at "$at" --retry
	tcp_clean "Redis, $victim agent killed at ${at#stall_}" 240
	drill_expect_eq "Redis, $victim agent killed at ${at#stall_}: done (the retry's, if the first failed), drill passed" \
		"$(drill_q .migration.state) $DRILL_RC" "done 0"
done
es_done
