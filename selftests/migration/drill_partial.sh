#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The zero-downtime migration drill in partial mode at 10 and 100 requests
# per second (short runs; 1 request/s is make bench's drill, 200 s): the
# user switches access point at a
# chosen request, node 2's data plane forwards and buffers, the agents
# migrate the service, replay and cut over. Nothing is lost or answered
# twice, the service's counter equals the requests sent, the old container
# stops only after the new one ran and answered; bpftool shows the session
# in its migration state while it migrates.
. "$(dirname "$0")/../lib.sh"
es_require_root drill_partial
command -v criu >/dev/null || { es_plan 1; es_skip drill_partial "criu missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 13

drill_run r10 --mode partial --rate 10 --count 80 --handoff-at 30
drill_expect_done "partial, 10/s"
es_expect_ge "partial, 10/s: requests replayed into the restored container" "$(drill_q .migration.replayed)" 1
# seq_state >> 56 is the session's state: 1 forwarding, 2 hold, 3 replaying, 4 cut-over
es_expect_eq "bpftool map dump during the drill shows the session migrating (state 1-4)" \
	"$(jq '[.[] | .formatted.value.seq_state / 72057594037927936 | floor | select(. >= 1 and . <= 4)] | length' \
		"$ES_TMP/r10/bpftool-sessions.json" 2>/dev/null)" 1
# es_mig_remote.hold >> 56 on the source: 1 while it holds for the checkpoint
es_expect_eq "bpftool map dump on the source shows the session held for the checkpoint" \
	"$(jq '[.[] | .formatted.value.hold / 72057594037927936 | floor | select(. == 1)] | length' \
		"$ES_TMP/r10/bpftool-remote.json" 2>/dev/null)" 1
# the checkpoint's drain read the service's socket where it lives (the
# pod's namespace): none found there would make the wait meaningless
es_expect_eq "the drain before the checkpoint saw the service's socket" \
	"$(grep -o '"event":"zdm_drained".*' "$ES_TMP/r10/events-node1.log" | grep -o '"sockets":[0-9]*')" \
	'"sockets":1'
drill_run r100 --mode partial --rate 100 --count 400 --handoff-at 100
drill_expect_done "partial, 100/s"
es_expect_ge "every phase timed from the merged event logs" \
	"$(drill_q '[.phases[] | select(.ms != null)] | length')" 9
es_done
