#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The migration drill (docs/drills.md) with the Detector on: each node's
# agent posts to a receiver on the official CloudEvents JavaScript SDK in
# its namespace. The handoff and every migration phase arrive, valid, in
# the order of the drill's timeline (the nodes' event logs): handoff seen
# on the target, started, checkpointed, restored, cut over.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/events_lib.sh"
es_require_root events_drill
command -v criu >/dev/null || { es_plan 1; es_skip events_drill "criu missing (tools/setup/install-deps)"; exit 0; }
ev_sdk_or_skip events_drill
# shellcheck source=selftests/migration/drill.inc
. "$ES_ROOT/selftests/migration/drill.inc"
es_plan 11

ES_DRILL_CE_RECEIVER="bash $ES_ROOT/selftests/events/ce_receiver.sh" \
	drill_run ev --mode partial --rate 10 --count 80 --handoff-at 30
drill_expect_done "drill with events"
ID=$(drill_q .migration.id)
n1=$DRILL_DIR/ce-node1.jsonl n2=$DRILL_DIR/ce-node2.jsonl
q() { jq -r -s "$2" "$1"; }	# FILE FILTER
short() { sed 's/io\.edgeshift\.//g'; }
# pipefail: a node's file missing must not pass as 0 invalid events of the other
es_expect_eq "every event valid for the SDK and the schema (both nodes)" \
	"$(set -o pipefail; cat "$n1" "$n2" | jq -s '[.[] | select(.invalid or .status != 200)] | length' ||
		echo "cat or jq failed")" 0
es_expect_eq "source node: the migration's phases in order" \
	"$(q "$n1" "[.[] | select(.subject == \"migrations/$ID\") | .type] | join(\" \")" | short)" \
	"migration.started migration.checkpointed migration.restored"
es_expect_eq "target node: handoff seen, restored, cut over, in order" \
	"$(q "$n2" '[.[] | .type] | join(" ")' | short)" \
	"handoff.seen migration.restored migration.cutover"
es_expect_eq "the cut-over is this migration's" \
	"$(q "$n2" '.[] | select(.type == "io.edgeshift.migration.cutover") | .subject')" "migrations/$ID"
# One timeline over both nodes, by the time each phase was logged.
timeline=$( (jq -c "select(.subject == \"migrations/$ID\" and .type != \"io.edgeshift.migration.restored\")" "$n1"
	cat "$n2") | jq -r -s 'sort_by(.data.ts_ns) | map(.type) | join(" ")' | short)
es_expect_eq "across nodes: handoff < started < checkpointed (source) < restored < cut over (target)" \
	"$timeline" "handoff.seen migration.started migration.checkpointed migration.restored migration.cutover"
# Each event is a line of its node's event log: same event, same time (ms).
matched() {	# CE-FILE EVENT-LOG
	local want got
	want=$(jq -r '"\(.data.event) \(.data.ts_ns / 1e6 | floor)"' "$1" | sort)
	got=$(jq -r '"\(.event) \(.ts_ns / 1e6 | floor)"' "$2" | sort)
	comm -23 <(echo "$want") <(echo "$got") | wc -l
}
es_expect_eq "every event of node 1 is a phase of its event log" "$(matched "$n1" "$DRILL_DIR/events-node1.log")" 0
es_expect_eq "every event of node 2 is a phase of its event log" "$(matched "$n2" "$DRILL_DIR/events-node2.log")" 0
es_done
