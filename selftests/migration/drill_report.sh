#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The drill report says what happened and nothing that did not: for a
# migration that failed before any cut-over (the target's restore failed)
# the "old stopped after the new one" check does not apply (passed null,
# with the reason) and there is no "after cut-over" figure; for one that
# cut over, both are there. A fault that waited for its phase's event
# and never saw it fails the drill, whatever else held. Minimal recorded
# inputs: four requests, the events of each outcome.
. "$(dirname "$0")/../lib.sh"
es_plan 11

T0=1796178870000000000
ms() { echo $((T0 + $1 * 1000000)); }
# inputs NAME STATE EVENTS...: one drill's files (each event "ms:role:name")
inputs() {
	local d=$ES_TMP/$1 state=$2 e
	shift 2
	mkdir -p "$d"
	for i in 1 2 3 4; do
		printf '{"seq":%d,"sent_ns":%s,"recv_ns":%s,"counter":%d}\n' "$i" \
			"$(ms $((i * 100)))" "$(ms $((i * 100 + 2)))" "$i"
	done >"$d/client.jsonl"
	printf '{"sent":4,"answered":4,"lost":0,"answered_twice":0,"out_of_order":0,"handoff_ns":%s}\n' \
		"$(ms 150)" >"$d/summary.json"
	echo '{"counter":4,"memory_intact":true}' >"$d/check.json"
	printf '{"migration_state":"%s","old_running":%d,"new_running":%d,"fault":"%s","handoff_at":2,"retry":false,"udp_replies":1,"rate":10}\n' \
		"$state" "$([ "$state" = done ] && echo 0 || echo 1)" "$([ "$state" = done ] && echo 1 || echo 0)" \
		"$([ "$state" = done ] && echo none || echo restore_fail)" >"$d/site.json"
	# FAULT_KIND and LANDING (the drill's fault.json) replace the fault
	if [ -n "${FAULT_KIND:-}" ]; then
		jq -c --arg f "$FAULT_KIND" --argjson l "$LANDING" '.fault = $f | .fault_landing = $l' \
			"$d/site.json" >"$d/site.tmp" && mv "$d/site.tmp" "$d/site.json"
	fi
	printf '[{"id":"m1","state":"%s","mode":"partial","hold_seq":2,"cut_seq":%d,"held_sent":1,"replayed":0}]\n' \
		"$state" "$([ "$state" = done ] && echo 3 || echo 0)" >"$d/zdm.json"
	for e in "$@"; do
		IFS=: read -r t role name <<<"$e"
		printf '{"ts_ns":%s,"role":"%s","migration":"m1","event":"%s"}\n' "$(ms "$t")" "$role" "$name"
	done >"$d/events.log"
	"$ES_BUILD/es-drill-report" --client "$d/client.jsonl" --summary "$d/summary.json" \
		--events "$d/events.log" --check "$d/check.json" --site "$d/site.json" --zdm "$d/zdm.json" \
		--json-out "$d/report.json" >"$d/out.txt" 2>&1
	echo $? >"$d/rc"
}

inputs failed failed 160:source:zdm_requested 170:target:zdm_forwarding 180:source:zdm_hold \
	190:source:zdm_resumed 250:target:restore_start 330:source:zdm_failed
q() { jq -c "$2" "$ES_TMP/$1/report.json"; }
es_expect_eq "failed drill: report written, drill passed (restore_fail expects a failure)" \
	"$(cat "$ES_TMP/failed/rc")" 0
es_expect_eq "failed drill: the old-stopped check does not apply (passed null, with a reason)" \
	"$(q failed '[.old_stopped_after_new.applicable, .old_stopped_after_new.passed, (.old_stopped_after_new.reason | length > 0)]')" \
	'[false,null,true]'
es_expect_eq "failed drill: the summary says not applicable" \
	"$(grep -c 'old stopped after the new one answered: not applicable' "$ES_TMP/failed/out.txt")" 1
es_expect_eq "failed drill: no after-cut-over figure (printed or in report.json)" \
	"$(grep -c 'after cut-over' "$ES_TMP/failed/out.txt")/$(q failed .response_time_ms.after_cutover)" "0/null"
es_expect_eq "failed drill: the last line names the outcome and the expected one" \
	"$(grep -c 'drill PASSED (migration failed, expected failed)' "$ES_TMP/failed/out.txt")" 1

inputs done done 160:source:zdm_requested 170:target:zdm_forwarding 180:source:zdm_hold \
	190:source:zdm_resumed 250:target:restore_start 260:target:restore_end \
	270:target:zdm_replay_start 280:target:zdm_cutover 290:target:zdm_old_answered \
	300:source:zdm_source_stopped 310:source:zdm_done
es_expect_eq "done drill: passed, old stopped after the new one: yes" \
	"$(cat "$ES_TMP/done/rc")/$(q done .old_stopped_after_new.passed)/$(grep -c 'answered: yes' "$ES_TMP/done/out.txt")" \
	"0/true/1"
es_expect_eq "done drill: the after-cut-over figure is there" \
	"$(grep -c 'after cut-over 2.0' "$ES_TMP/done/out.txt")/$(q done .response_time_ms.after_cutover)" "1/2"

# A failed migration whose old container stopped all the same fails the check.
inputs stopped failed 160:source:zdm_requested 250:target:restore_start \
	300:source:zdm_source_stopped 330:source:zdm_failed
es_expect_eq "failed migration with the old container stopped: check failed" \
	"$(q stopped '[.old_stopped_after_new.passed, .passed]')" '[false,false]'
es_expect_eq "failed migration with the old container stopped: exit 1, summary says NO" \
	"$(cat "$ES_TMP/stopped/rc")/$(grep -c 'answered: NO' "$ES_TMP/stopped/out.txt")" "1/1"

# The target's agent killed at the replay: passes when the replay's event
# was seen before the kill, fails when it never came (the kill struck at
# no known step), though the migration is done either way.
DONE_EVENTS=(160:source:zdm_requested 170:target:zdm_forwarding 180:source:zdm_hold
	190:source:zdm_resumed 250:target:restore_start 260:target:restore_end
	270:target:zdm_replay_start 280:target:zdm_cutover 290:target:zdm_old_answered
	300:source:zdm_source_stopped 310:source:zdm_done)
landing() { printf '{"phase_event":"zdm_replay_start","phase_seen":%s,"migration_ended_first":false}' "$1"; }
FAULT_KIND=kill_target_agent LANDING=$(landing true) inputs landed done "${DONE_EVENTS[@]}"
FAULT_KIND=kill_target_agent LANDING=$(landing false) inputs astray done "${DONE_EVENTS[@]}"
es_expect_eq "agent killed after the replay's event: drill passed, report says where" \
	"$(cat "$ES_TMP/landed/rc")/$(q landed '[.passed, .fault_landing.phase_seen]')/$(grep -c 'struck after zdm_replay_start: seen' "$ES_TMP/landed/out.txt")" \
	"0/[true,true]/1"
es_expect_eq "agent killed without the replay's event seen: drill failed, summary says NOT SEEN" \
	"$(cat "$ES_TMP/astray/rc")/$(q astray '[.passed, .fault_landing.phase_seen]')/$(grep -c 'NOT SEEN' "$ES_TMP/astray/out.txt")" \
	"1/[false,false]/1"
es_done
