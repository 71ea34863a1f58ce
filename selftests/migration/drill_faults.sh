#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Fault drills: the target's restore fails (its agent dies in it and comes
# back), the replay buffer fills, the target node's agent dies for good
# (either node's agent killed and restarted at each step: zdm_kill_*.sh); a retry
# after a failed restore; a first exactly-once check that timed out; a
# service that answers with two datagrams. In every
# case nothing is lost or answered twice and the service's counter equals
# the requests sent; a failed migration leaves the old container serving.
. "$(dirname "$0")/../lib.sh"
es_require_root drill_faults
command -v criu >/dev/null || { es_plan 1; es_skip drill_faults "criu missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 41

drill_run restore --rate 20 --count 100 --handoff-at 30 --fault restore_fail
drill_expect_failed_clean "restore fails"
es_expect_eq "restore fails: the target dropped the replay buffer" \
	"$(grep -h '"event":"zdm_aborted"' "$ES_TMP/restore/events-node2.log" | jq -s 'length > 0 and (.[0].records_dropped >= 1)')" true

# 30 records: the hold (about 15 requests) fits, the transfer does not
drill_run full --rate 50 --count 200 --handoff-at 30 --replay-limit 30 --fault buffer_full
drill_expect_failed_clean "replay buffer full"
es_expect_eq "replay buffer full: the data plane aborted the session itself" \
	"$(grep -h '"event":"zdm_dp_abort"' "$ES_TMP/full/events-node2.log" | jq -rs '.[0].reason')" buffer_full
es_expect_eq "replay buffer full: the migration's error says so in words" \
	"$(drill_q '.migration.error | test("replay buffer full: more requests past the cursor than replay_limit")')" true

# The target node's agent dies for good in the checkpoint: its data plane
# keeps forwarding (no hold sits at the target), the source gives up.
drill_run tdies --rate 20 --count 120 --handoff-at 30 --fault target_dies
drill_expect_failed_clean "target node dies"

# A retry after a failed migration (the target's restore failed) goes on
# with the session's numbering on both nodes: nothing answered twice.
drill_run retry --rate 20 --count 200 --handoff-at 30 --fault restore_fail --retry
drill_expect_done "retry after a failed restore"
es_expect_eq "retry: two migrations, the first failed" \
	"$(jq -r '[.[].state] | sort | join(" ")' "$ES_TMP/retry/zdm.json")" "done failed"

# The target's first exactly-once check says it timed out (the test
# build's fault, as a WAN cut at the cut-over makes it: the old
# container's answers still on their way): the source asks again once the
# old container stopped, and the second check passes.
drill_run verify --rate 20 --count 100 --handoff-at 30 --fault verify_timed_out
drill_expect_done "first check timed out"
es_expect_eq "first check timed out: the target checked twice, the first timed out, the second passed" \
	"$(jq -rs '[.[] | select(.event == "zdm_verified") | "\(.timed_out) \(.passed)"] | join(", ")' \
		"$ES_TMP/verify/events-node2.log")" "true false, false true"

# A service answering each request with two datagrams, and every third
# request with none (es-counter's "SEQ n QUIET"): the restored container's
# replies pair with the old one's by their place in each stream (from the
# source's reply count at the freeze), not by request, so each part
# reaches the user once, each quiet request takes effect once (the next
# reply's counter) and the agents' check counts two replies for each
# replayed request that wants one: of any run of replayed requests, a
# third (rounded either way) are quiet.
drill_run parts --rate 20 --count 120 --handoff-at 30 --service-replies 2 --quiet-every 3
drill_expect_done "two datagrams per request, none for every third"
es_expect_eq "0 and 2 datagrams per request: every part once, every request applied once, the check over the parts" \
	"$(drill_q '.requests as $r | .migration.agents_exactly_once | .replayed as $n |
		"\($r.answered) \($r.quiet) \($r.answered_twice) \(.passed) \($n > 2)" +
		" \(.replies == 2 * ($n - ($n / 3 | floor)) or .replies == 2 * ($n - ($n / 3 | ceil)))"')" \
	"81 39 0 true true true"
es_expect_eq "0 and 2 datagrams per request: the catch-up compared without a wait running out" \
	"$(jq -rs '[.[] | select(.event == "zdm_compared") | "\(.wait_timed_out) \(.diverged)"] | join(", ")' \
		"$ES_TMP/parts/events-node2.log")" "null 0"

# A service that answers no request at all (every request "SEQ n
# QUIET"), at 50 requests/s so that more than a replay window (32) is
# replayed: the replay is paced on what the restored service has read
# (its receive queue), not on replies that never come, and the check
# after the cut-over learns where the old container's output ended from
# the source's reply count, sent once the old container stopped. Before
# either, such a migration failed (the replay stalled; then the check
# waited for a reply after the last request).
drill_run silent --rate 50 --count 300 --handoff-at 75 --quiet-every 1
drill_expect_done "no datagram for any request"
es_expect_eq "no datagram for any request: none answered, every request applied once, replayed past a window" \
	"$(drill_q '.requests as $r | .migration.agents_exactly_once |
		"\($r.answered) \($r.quiet) \(.passed) \(.replies) \(.replayed > 32)"')" "0 300 true 0 true"

# A UDP service whose replies carry the time: before the cut-over the
# restored container's replies are compared with the old one's and
# dropped, so the difference gives the migration up with the old
# container serving and nothing of the restored one shown to the user.
drill_run uclock --rate 20 --count 100 --handoff-at 30 --service-clock
drill_expect_failed_clean "UDP replies with the time"
es_expect_eq "UDP replies with the time: found before the cut-over, with the reason" \
	"$(drill_q '.migration.error // "" | test("step catchup .*replies differ from the old one")')" true
es_done
