#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Faults that must leave the service running: the target already has the
# container, the checkpoint fails, the target agent is killed mid-transfer,
# the link is cut (100 % loss) mid-transfer, the target dies during
# restore. Each time the source keeps answering, the migration ends as
# failed with the reason on the command line and in the log, nothing
# half-restored stays at the target; then a retry succeeds.
# The link cut is the WAN emulator dropping every frame (es_wan_ctl loss=100).
. "$(dirname "$0")/../lib.sh"
es_require_root migration_faults
# shellcheck source=selftests/migration/migration.inc
. "$(dirname "$0")/migration.inc"
command -v criu >/dev/null || { es_plan 1; es_skip migration_faults "criu missing (tools/setup/install-deps)"; exit 0; }

es_plan 24
MIG_STALL_MS=2000
mig_setup partial || exit 1
# 6 MB of incompressible writable layer over a 2 MB/s link: the transfer
# lasts about 3 s, long enough to break it in the middle.
code=$(mig_run_counter f1 --mem-mb 2 --write-kb 6144)
es_expect_eq "container started on A" "$code" 200
mig_wait_service a

mig_request a 1 >/dev/null
# A slower WAN for the faults that must strike mid-transfer.
shape() { if [ "$1" = add ]; then es_wan_ctl rate=2MB/s; else es_wan_ctl rate=10MB/s; fi >/dev/null; }

# try_migrate NAME: a migration that must fail; checks the CLI and the source.
try_migrate() {
	local name=$1
	mig_migrate --container f1 --to "$MIG_NODE_B" --mode partial --json --wait-s 60 \
		>"$ES_TMP/$name.json" 2>"$ES_TMP/$name.err" &
	MIG_CLI=$!
}

# fault_checks NAME REASON_PATTERN: after a failed migration.
fault_checks() {
	local name=$1 pat=$2 rc want
	wait "$MIG_CLI"
	rc=$?
	if [ "$rc" = 1 ] && grep -q "failed" "$ES_TMP/$name.err" && grep -qiE "$pat" "$ES_TMP/$name.err"; then
		es_ok "$name: migration failed with the reason on the command line"
	else
		es_not_ok "$name: migration failed with the reason on the command line" \
			"exit $rc: $(cat "$ES_TMP/$name.err")"
	fi
	# At least: the checkpoint case keeps a TCP client counting meanwhile.
	want=$(( $(jq .counter <<<"$(mig_check a)") + 1 ))
	es_expect_ge "$name: source keeps answering" "$(mig_request a "$RANDOM")" "$want"
	if grep "\"event\":\"failed\"" "$ES_TMP/events-a.log" | grep -q "$(jq -r .id "$ES_TMP/$name.json")"; then
		es_ok "$name: failure in the source's event log"
	else
		es_not_ok "$name: failure in the source's event log"
	fi
}

no_container_at_b() {
	local left
	left=$(ls "$MIG_STATE_B/containers" 2>/dev/null; runc --root "$MIG_STATE_B/runc" list -q 2>/dev/null)
	es_expect_eq "$1: nothing half-restored at the target" "${left:-none}" "none"
}

# 1. The target already has a container of that name.
mig_api b POST /v1/containers \
	"{\"name\":\"f1\",\"image\":\"$MIG_IMAGE\",\"args\":[\"/bin/sleep\",\"1000\"]}" >/dev/null
try_migrate conflict
fault_checks conflict "already exists"
es_expect_eq "conflict: the target's own container untouched" \
	"$(mig_api b GET /v1/containers/f1 | head -n 1 | jq -r .status)" running
mig_api b DELETE /v1/containers/f1 >/dev/null

# 2. The checkpoint fails: an established TCP connection without tcp_established.
es_bg es_in "$MIG_NS_A" "$COUNTER" client --to "$MIG_IP_A" --port "$MIG_TCP" --tcp --rate 5 --duration 60
tcp_client=$ES_BG_PID
sleep 0.5
try_migrate checkpoint
fault_checks checkpoint "checkpoint"
kill "$tcp_client"; wait "$tcp_client" 2>/dev/null
no_container_at_b checkpoint

# 3. The target agent is killed in the middle of the transfer.
shape add
try_migrate killed
for _ in $(seq 100); do
	[ "$(mig_api a GET /v1/migrations | head -n 1 | jq '[.[] | select(.state == "running" and .bytes_sent > 500000)] | length')" = 1 ] && break
	sleep 0.05
done
kill -9 "$MIG_PID_B"
fault_checks killed "transfer"
mig_agent b
no_container_at_b killed
es_expect_eq "killed: staging removed at restart" "$(find "$MIG_STATE_B/migrations" -mindepth 1 | wc -l)" 0

# 4. The link is cut (100 % loss) in the middle of the transfer.
try_migrate cut
for _ in $(seq 100); do
	[ "$(mig_api a GET /v1/migrations | head -n 1 | jq '[.[] | select(.state == "running" and .bytes_sent > 500000)] | length')" = 1 ] && break
	sleep 0.05
done
es_wan_ctl loss=100 >/dev/null
fault_checks cut "transfer|timeout|timed out"
es_wan_ctl loss=0 >/dev/null
no_container_at_b cut
shape del

# 5. The target dies during the restore and comes back while the source
# waits for the outcome: its restart removes the half-restored container,
# and asked by migration id it answers "absent", so the source fails.
kill "$MIG_PID_B"; wait "$MIG_PID_B" 2>/dev/null
ES_AGENT_BIN=edgeshiftd-faults EDGESHIFTD_FAULT=restore_crash mig_agent b
try_migrate crash
for _ in $(seq 300); do kill -0 "$MIG_PID_B" 2>/dev/null || break; sleep 0.1; done
mig_agent b
fault_checks crash "restore.*lost the migration"
no_container_at_b crash

# The retry succeeds, and the counter continues at B.
before=$(jq .counter <<<"$(mig_check a)")
mig_migrate --container f1 --to "$MIG_NODE_B" --mode partial --stop-source --json --wait-s 60 \
	>"$ES_TMP/retry.json" 2>"$ES_TMP/retry.err"
es_expect_eq "retry succeeds" "$(jq -r .state "$ES_TMP/retry.json")" "done"
es_expect_eq "retry: counter continues at B" "$(mig_request b "$RANDOM")" $((before + 1))
es_done
