#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The restore runs asynchronously at the target and the source asks for its
# outcome by migration id (docs/migration.md, "Lost answers"):
#  1. a restore lasting longer than the listener's 10 s idle timeout succeeds;
#  2. the answer to the restore request is lost: the source still learns the
#     container runs at the target, and only the target runs it after stop;
#  3. no outcome reaches the source at all although the target restored it:
#     the source gives up, has the target remove its copy, and the container
#     runs on exactly one node (the source) with the failure in both logs.
. "$(dirname "$0")/../lib.sh"
es_require_root migration_restore
# shellcheck source=selftests/migration/migration.inc
. "$(dirname "$0")/migration.inc"
command -v criu >/dev/null || { es_plan 1; es_skip migration_restore "criu missing (tools/setup/install-deps)"; exit 0; }

es_plan 15
mig_setup partial || exit 1

# restart_b FAULT: B's agent again, the test build with EDGESHIFTD_FAULT=FAULT.
restart_b() {
	kill "$MIG_PID_B"; wait "$MIG_PID_B" 2>/dev/null
	ES_AGENT_BIN=edgeshiftd-faults EDGESHIFTD_FAULT=$1 mig_agent b
}

# start NAME: a fresh service on A that has answered 3 requests.
start() {
	es_expect_eq "$1: container started on A" "$(mig_run_counter "$1" --mem-mb 2 --write-kb 64)" 200
	mig_wait_service a
	for seq in 1 2 3; do mig_request a "$seq" >/dev/null; done
}

runs_on() {
	runc --root "$1/runc" state "$2" 2>/dev/null | jq -r .status
}

# 1. A restore of more than 10 s (fault restore_slow: 12 s at the target).
restart_b restore_slow
start slow
mig_migrate --container slow --to "$MIG_NODE_B" --mode partial --stop-source --json --wait-s 90 \
	>"$ES_TMP/slow.json" 2>"$ES_TMP/slow.err"
es_expect_eq "slow restore: migration done" "$(jq -r .state "$ES_TMP/slow.json")" "done"
es_expect_ge "slow restore: restore phase lasted over 10 s (ms)" \
	"$(jq '[.phases[] | select(.name == "restore") | .ms] | first | floor' "$ES_TMP/slow.json")" 10000
es_expect_eq "slow restore: counter continues at B" "$(mig_request b 4)" 4
mig_api b DELETE /v1/containers/slow >/dev/null

# 2. The answer to the restore request is lost.
restart_b restore_reply_lost
start lost
mig_migrate --container lost --to "$MIG_NODE_B" --mode partial --json --wait-s 60 \
	>"$ES_TMP/lost.json" 2>"$ES_TMP/lost.err"
es_expect_eq "reply lost: the source found the container running at B" \
	"$(jq -r '.state + " " + .target_state' "$ES_TMP/lost.json")" "restored running"
es_expect_eq "reply lost: counter continues at B" "$(mig_request b 4)" 4
mig_migrate --stop-source-of "$(jq -r .id "$ES_TMP/lost.json")" --json >/dev/null 2>&1
es_expect_eq "reply lost: after stop-source only B runs it" \
	"$(runs_on "$MIG_STATE_A" lost)/$(runs_on "$MIG_STATE_B" lost)" "/running"
mig_api b DELETE /v1/containers/lost >/dev/null

# 3. Neither the answer nor any status query reaches the source.
restart_b restore_outcome_lost
kill "$MIG_PID_A"; wait "$MIG_PID_A" 2>/dev/null
MIG_RESTORE_MS=3000 MIG_REQUEST_MS=2000 mig_agent a
start gone
mig_migrate --container gone --to "$MIG_NODE_B" --mode partial --json --wait-s 60 \
	>"$ES_TMP/gone.json" 2>"$ES_TMP/gone.err"
id=$(jq -r .id "$ES_TMP/gone.json")
es_expect_eq "outcome lost: migration failed, the target confirmed removal" \
	"$(jq -r '.state + " " + .target_state' "$ES_TMP/gone.json")" "failed absent"
es_check "outcome lost: reason on the command line" grep -q "no outcome within" "$ES_TMP/gone.err"
if grep "\"migration\":\"$id\"" "$ES_TMP/events-b.log" | grep -q '"event":"restore_start"'; then
	es_ok "outcome lost: the target had restored it"
else
	es_not_ok "outcome lost: the target had restored it"
fi
es_expect_eq "outcome lost: runs on the source only" \
	"$(runs_on "$MIG_STATE_A" gone)/$(runs_on "$MIG_STATE_B" gone)" "running/"
es_expect_eq "outcome lost: source keeps counting" "$(mig_request a 4)" 4
grep "\"migration\":\"$id\"" "$ES_TMP/events-b.log" | grep '"event":"failed"' | grep -q "aborted by the source"
es_expect_eq "outcome lost: the removal in the target's log" "$?" 0
es_done
