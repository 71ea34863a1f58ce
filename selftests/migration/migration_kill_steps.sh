#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# An agent killed (-9) at every step of a plain `edgeshift migrate
# --stop-source`: the source, then the target, at the step after the
# target accepted it (prepared), with the container paused for the
# checkpoint (paused), in the middle of the transfer (transfer), once the
# target runs it (restored), and about to stop the old one (stop). The
# test build's stall_STEP fault holds the source's worker 3 s at the step
# (announced in the event log) so the kill lands there. After the killed
# agent is restarted: no container is left paused on either node, the
# migration is settled in the source agent's list (failed before the
# target ran it, done after), the container runs on exactly one node, the
# client asking the source meanwhile lost nothing, and a retry of a failed
# migration succeeds; every next case migrates the container on from where
# it is, so it is checkpointed again after each kill (an agent restart
# does not keep a container from being checkpointed: its netns is held at
# STATE/netns, not under the dead agent's /proc entry). Last, edgeshiftd
# --cleanup releases that mount and a migration after it still works.
. "$(dirname "$0")/../lib.sh"
es_require_root migration_kill_steps
# shellcheck source=selftests/migration/migration.inc
. "$(dirname "$0")/migration.inc"
command -v criu >/dev/null || { es_plan 1; es_skip migration_kill_steps "criu missing (tools/setup/install-deps)"; exit 0; }

STEPS="prepared paused transfer restored stop"
es_plan $((2 * 5 * 5 + 3))
MIG_STALL_MS=2000
MIG_REQUEST_MS=3000
export ES_AGENT_BIN=edgeshiftd-faults
mig_setup partial || exit 1
code=$(mig_run_counter k1 --mem-mb 1)
es_expect_eq "container started on A" "$code" 200
mig_wait_service a || exit 1
HERE=a

other() { if [ "$1" = a ]; then echo b; else echo a; fi; }
pid_of() { if [ "$1" = a ]; then echo "$MIG_PID_A"; else echo "$MIG_PID_B"; fi; }
ip_of() { if [ "$1" = a ]; then echo "$MIG_IP_A"; else echo "$MIG_IP_B"; fi; }
ns_of() { if [ "$1" = a ]; then echo "$MIG_NS_A"; else echo "$MIG_NS_B"; fi; }
node_of() { if [ "$1" = a ]; then echo "$MIG_NODE_A"; else echo "$MIG_NODE_B"; fi; }
state_of() { if [ "$1" = a ]; then echo "$MIG_STATE_A"; else echo "$MIG_STATE_B"; fi; }
runc_status() { runc --root "$(state_of "$1")/runc" state k1 2>/dev/null | jq -r .status; }

# restart NODE [FAULT]: SIGKILL-free restart (the agent exits on TERM)
restart() {
	local p
	p=$(pid_of "$1")
	kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
	EDGESHIFTD_FAULT=$2 mig_agent "$1"
}

# migrate FROM ARGS...: edgeshift migrate on node FROM
migrate() {
	local from=$1
	shift
	es_in "$(ns_of "$from")" "$EDGESHIFT" --api "http://127.0.0.1:$MIG_PORT" migrate \
		--container k1 --to "$(node_of "$(other "$from")")" --mode partial --stop-source \
		--json --wait-s 40 "$@"
}

# settled NODE ID: the migration's state once it is no longer running (10 s)
settled() {
	local st=""
	for _ in $(seq 100); do
		st=$(mig_api "$1" GET /v1/migrations | head -n 1 |
			jq -r --arg id "$2" '.[] | select(.id == $id) | .state' 2>/dev/null)
		[ -n "$st" ] && [ "$st" != running ] && break
		sleep 0.1
	done
	echo "${st:-absent}"
}

# one_case STEP VICTIM(source|target)
one_case() {
	local step=$1 victim=$2 src=$HERE tgt ev id st want where lost
	local name="$victim killed at $step"
	tgt=$(other "$src")
	ev=$ES_TMP/events-$src.log
	restart "$src" "stall_$step"
	# the client asks the source all along; a paused service answers late,
	# not never. It is stopped with SIGKILL: on SIGTERM it would log the
	# request in flight as lost, which says nothing of the service.
	es_bg es_in "$(ns_of "$src")" "$COUNTER" client --to "$(ip_of "$src")" --port "$MIG_UDP" \
		--rate 20 --duration 60 --timeout-ms 8000 --start-seq $((RANDOM * 100)) \
		--log "$ES_TMP/client-$step-$victim.jsonl"
	local client=$ES_BG_PID
	local before
	before=$(grep -c '"event":"fault_stall"' "$ev" 2>/dev/null)
	migrate "$src" >"$ES_TMP/mig.json" 2>"$ES_TMP/mig.err" &
	local cli=$!
	for _ in $(seq 200); do
		[ "$(grep -c '"event":"fault_stall"' "$ev" 2>/dev/null)" -gt "${before:-0}" ] && break
		sleep 0.05
	done
	id=$(grep '"event":"fault_stall"' "$ev" | tail -n 1 | jq -r .migration)
	# from the restore on the container leaves the source with a done
	# migration: the client stops before that (plain migrate moves no traffic)
	case $step in restored|stop) kill -KILL "$client"; wait "$client" 2>/dev/null ;; esac
	if [ "$victim" = source ]; then
		kill -9 "$(pid_of "$src")"; wait "$(pid_of "$src")" 2>/dev/null
		mig_agent "$src"
	else
		kill -9 "$(pid_of "$tgt")"; wait "$(pid_of "$tgt")" 2>/dev/null
		mig_agent "$tgt"
	fi
	wait "$cli" 2>/dev/null
	st=$(settled "$src" "$id")
	want=failed
	case "$victim/$step" in source/stop|target/restored|target/stop) want="done" ;; esac
	es_expect_eq "$name: the source's agent lists the migration $want" "$st" "$want"
	es_expect_eq "$name: no container left paused" \
		"$(runc_status "$src")/$(runc_status "$tgt")" \
		"$([ "$want" = "done" ] && echo "/running" || echo "running/")"
	where=$src
	[ "$want" = "done" ] && where=$tgt
	mig_wait_service "$where"
	es_expect_eq "$name: the service answers where it runs" \
		"$(mig_request "$where" "$RANDOM" | grep -c '^[0-9]')" 1
	kill -KILL "$client" 2>/dev/null; wait "$client" 2>/dev/null
	lost=$(grep -c '"lost":true' "$ES_TMP/client-$step-$victim.jsonl")
	es_expect_eq "$name: 0 requests lost ($(grep -c . "$ES_TMP/client-$step-$victim.jsonl") sent)" "$lost" 0
	if [ "$want" = failed ]; then
		migrate "$src" >"$ES_TMP/retry.json" 2>"$ES_TMP/retry.err"
		es_expect_eq "$name: a retry succeeds" "$(jq -r .state "$ES_TMP/retry.json")" "done"
		[ "$(jq -r .state "$ES_TMP/retry.json")" = "done" ] || es_diag <"$ES_TMP/retry.err"
	else
		es_ok "$name: nothing to retry, the next case checkpoints it at $tgt"
	fi
	HERE=$tgt
}

for victim in source target; do
	for step in $STEPS; do
		one_case "$step" "$victim"
	done
done

# --cleanup releases the held netns; the next checkpoint holds it again
"$ES_BUILD/edgeshiftd" --cleanup -p "$ES_TMP/no-pins" -c "$ES_TMP/config-$HERE.json" 2>/dev/null
es_expect_eq "edgeshiftd --cleanup releases STATE/netns" \
	"$(mountpoint -q "$(state_of "$HERE")/netns" && echo held || echo released)" released
restart "$HERE" ""
migrate "$HERE" >"$ES_TMP/last.json" 2>"$ES_TMP/last.err"
es_expect_eq "a container migrates after the release (the netns held again)" \
	"$(jq -r .state "$ES_TMP/last.json")" "done"
es_done
