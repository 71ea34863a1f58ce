#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift session-test on an emulated 100 Mbit/s link: a tbf
# qdisc on the client's veth, `es-session sink` in the destination
# namespace, sessions of 7 Mbit/s added every 1.5 s. The knee must be where
# the link saturates (13 x 7 Mbit/s of payload is 94 Mbit/s on the wire,
# 14 is 101), each session must get its rate within 2 % until then, and
# past it the queue (about 12 ms) must show in the latency.
. "$(dirname "$0")/../lib.sh"
es_require_root "session test on namespaces"
ES=$ES_BUILD/edgeshift
RATE=7
SLO=1000

es_plan 23

es_netns_add c && es_netns_add d || exit 1
es_no_ipv6 c d
es_veth c vc 10.251.0.1 d vd 10.251.0.2 || exit 1
VC=$(es_ifname vc)
# 150000 bytes of queue: about 100 datagrams, 12 ms at 100 Mbit/s.
tc -n "$(es_ns c)" qdisc add dev "$VC" root tbf rate 100mbit burst 16kb limit 150000
# Real-time priority keeps the concurrent tests' load out of the probes'
# round trips; every thread of both sleeps between datagrams. The sink is
# given it here; the client takes it itself (its default, --rt-priority 10).
RT=()
command -v chrt >/dev/null && RT=(chrt -f 10)
es_bg --log "$ES_TMP/sink.log" es_in d "${RT[@]}" "$ES_BUILD/es-session" sink --port 7700

# session_run: the stepped run into run.json, its exit status in RUN_RC.
# This VM itself stops for 10 to 30 ms every few seconds (a real-time
# thread sleeping 1 ms at a time, alone on the idle machine: 5 overshoots
# over 10 ms in 20 s, the longest 29 ms), so up to half the windows of a
# run are thrown away; the tool tries a step four more times (its default).
session_run() {
	es_in c "$ES" session-test --to 10.251.0.2 --rate "$RATE" --step 1.5 --settle 0.3 \
		--max-sessions 17 --slo-us "$SLO" --plot "$ES_TMP/plot.svg" --json \
		>"$ES_TMP/run.json" 2>"$ES_TMP/progress.txt"
	RUN_RC=$?
}
R=$ES_TMP/run.json
session_run
# The tool flags a step whose client stayed late after its tries (below):
# a run with more than two says the VM stalled (a CI run had seven, steps
# 10 to 17, at two tries), not where the path saturates; it is run once
# more, and the checks read that run.
if [ "$(jq '[.steps[] | select(.client_stalled)] | length' "$R" 2>/dev/null)" -gt 2 ] 2>/dev/null
then
	jq -c '[.steps[] | select(.client_stalled) | .sessions]' "$R" |
		sed 's/^/stalled steps, the run once more: /' | es_diag
	session_run
fi
es_expect_eq "the run ends with exit status 0" "$RUN_RC" 0
es_diag <"$ES_TMP/progress.txt"
es_expect_eq "the client ran at real-time priority of its own accord" \
	"$(jq -c .client_scheduling "$R")" '{"policy":"fifo","priority":10}'
knee=$(jq .max_sessions_meeting_slo "$R")
es_expect_ge "knee: at least 10 sessions of 7 Mbit/s meet 1 ms on 100 Mbit/s" "$knee" 10
es_expect_le "knee: at most 13 (14 exceed the link with headers)" "$knee" 13
# A stalled step says nothing of the path: the tool skips it, and so do these.
es_expect_eq "knee: the step after it misses the SLO (stalled ones skipped)" \
	"$(jq --argjson n "$knee" '[.steps[] | select(.sessions > $n and (.client_stalled | not))] |
		.[0].slo_met' "$R")" false
es_expect_eq "the run stopped after two steps missed the SLO (stalled ones skipped)" \
	"$(jq -r --argjson n "$knee" '[.steps[] | select(.sessions > $n and (.client_stalled | not))] as $a |
		[.stop_reason, ($a | length), ($a | map(.slo_met) | any),
		 (.steps[-1].client_stalled)] | join(" ")' "$R")" "slo_missed 2 false false"
# A step where the client itself fell behind its schedule by over 10 ms (a
# stall of this 2-CPU VM even at real-time priority) is measured again by
# the tool, here at most four times; the pacer does not burst after a
# stall (bursts overflowed the 12 ms queue in CI runs: 3.5 % lost at 12
# sessions, 15 % at 11). A step still late after that is flagged and says
# nothing of the path: at most two are allowed, and they are left out of
# the path's checks below.
jq -c '[.steps[] | {sessions, late_ms: (.client_late_us / 1000 | . * 10 | round / 10), remeasured}]' "$R" | es_diag
stalled=$(jq -c '[.steps[] | select(.client_stalled) | .sessions]' "$R")
es_expect_le "at most two steps where the client stayed late after four more tries (steps $stalled)" \
	"$(jq length <<<"$stalled")" 2
# Below saturation (12 x 7 = 84 Mbit/s, 86.5 on the wire) every session gets its rate.
worst=$(jq --argjson st "$stalled" '[.steps[] | select(.sessions <= 12 and (.sessions as $n | $st | index($n) | not)) |
	.session_mbit[] | (. - 7) / 7 | if . < 0 then -. else . end] | max * 10000 | round' "$R")
es_expect_le "each session's received rate within 2 % of 7 Mbit/s up to 12 sessions (worst, in 1e-4)" \
	"$worst" 200
# At 12 sessions the wire runs at 87 % of the tbf rate: one scheduling
# hiccup of a dozen ms on this 2-CPU VM overflows the 12 ms queue (seen
# once in a clean CI run, 1 step over 0.5 %); 11 sessions leave 20 % spare.
es_expect_eq "no loss up to 11 sessions beyond 0.5 %, at 12 beyond 2 %" \
	"$(jq --argjson st "$stalled" '[.steps[] | select(.sessions as $n | $st | index($n) | not) |
		select((.sessions <= 11 and .loss > 0.005) or (.sessions == 12 and .loss > 0.02))] | length' "$R")" 0
jq -c '[.steps[] | {sessions, loss}]' "$R" | es_diag
# Past the link (14 sessions and more: over 100 Mbit/s on the wire) the
# queue is full and datagrams are lost. A run whose knee is under 12 stops
# (two steps missed) before it gets there: nothing saturated to look at.
sat=$(jq -c '[.steps[] | select(.sessions >= 14)] | last' "$R")
if [ "$sat" = null ]; then
	last=$(jq '.steps[-1].sessions' "$R")
	es_skip "saturated: the p50 shows the full queue" "the run stopped at $last sessions, under the link's rate"
	es_skip "saturated: datagrams lost" "the run stopped at $last sessions, under the link's rate"
else
	es_expect_ge "saturated: the p50 at $(jq .sessions <<<"$sat") sessions shows the full queue (us)" \
		"$(jq '.latency_us.p50 | round' <<<"$sat")" 3000
	es_expect_ge "saturated: datagrams lost at $(jq .sessions <<<"$sat") sessions (in 1e-4)" \
		"$(jq '.loss * 10000 | round' <<<"$sat")" 1
fi
first_p50=$(jq '.steps[0].latency_us | [.p50, .probes_answered] | map(round) | join(" ")' -r "$R")
if awk -v a="${first_p50% *}" -v n="${first_p50#* }" 'BEGIN { exit !(a > 0 && a < 500 && n >= 200) }'
then es_ok "one session: p50 under 500 us from at least 200 probes ($first_p50)"
else es_not_ok "one session: p50 under 500 us from at least 200 probes" "$first_p50"; fi
es_expect_eq "plot: an SVG with a point per step and the SLO line" \
	"$(grep -c '<circle' "$ES_TMP/plot.svg") $(grep -c 'SLO: mean 1000 us' "$ES_TMP/plot.svg") $(tail -1 "$ES_TMP/plot.svg")" \
	"$(jq '.steps | length' "$R") 1 </svg>"
# As a browser draws it: no label runs off the picture (the knee's, right
# of its line, did, "13 sessions (91 Mbit/s) meet t").
if command -v chromium >/dev/null; then
	bounds=$(bash "$ES_ROOT/selftests/sched/svg_bounds.sh" "$ES_TMP/plot.svg")
	es_diag <<<"$bounds"
	es_check "plot: every label inside the picture as Chromium draws it, the knee's too" \
		awk '/^OUT/ { bad = 1 } /^IN .* meet the SLO$/ { knee = 1 }
			END { exit !(NR >= 5 && knee && !bad) }' <<<"$bounds"
else
	es_skip "plot: every label inside the picture" "no chromium"
fi

# The tool's own stall check, on a short run: the client stopped for 100 ms
# inside step 1's window is caught and the step measured again.
stall_run() {
	es_bg --out "$ES_TMP/stall$1.jsonl" es_in c "$ES" session-test --to 10.251.0.2 --rate 2 \
		--step 1 --settle 0.2 --max-sessions 1 --remeasure "$1" --progress-json
	local pid=$ES_BG_PID i
	for i in $(seq 300); do
		grep -q '"event":"measuring"' "$ES_TMP/stall$1.jsonl" && break
		sleep 0.01
	done
	kill -STOP "$pid"; sleep 0.1; kill -CONT "$pid"
	wait "$pid"
}
stall_run 2
es_expect_eq "stall: the step is measured again, the kept window on time (or flagged)" \
	"$(jq -r 'select(.event == "step") | .step | [.remeasured >= 1, .client_stalled or .client_late_us < 10000] | join(" ")' \
		"$ES_TMP/stall2.jsonl")" "true true"
# the first one: a stall of the VM itself may throw away the second window
es_expect_eq "stall: the thrown-away window said how late (over 80 ms)" \
	"$(jq -rs '[.[] | select(.event == "remeasuring")][0].client_late_us > 80000' \
		"$ES_TMP/stall2.jsonl")" true
stall_run 0
es_expect_eq "stall, no second try: the step is flagged and sets no knee" \
	"$(jq -r 'select(.event == "result") | .result | [.steps[0].client_stalled, .max_sessions_meeting_slo] | join(" ")' \
		"$ES_TMP/stall0.jsonl")" "true 0"

# The table, on a short run.
out=$(es_in c "$ES" session-test --to 10.251.0.2 --rate 2 --step 0.3 --settle 0.1 \
	--max-sessions 2 2>/dev/null)
es_expect_eq "table: two steps and the conclusion" \
	"$(awk '$1 ~ /^[12]$/ { n++ } /^largest session count meeting the SLO: 2 / { ok = 1 }
		END { print n, ok }' <<<"$out")" "2 1"

# No sink: a clear message, exit status 1, within the 3 s of retries.
start=$SECONDS
err=$(es_in c "$ES" session-test --to 10.251.0.2 --port 7799 --rate 1 --step 0.2 2>&1 >/dev/null)
rc=$?
if [ "$rc" = 1 ] && [[ "$err" == *"no answer from the sink at 10.251.0.2 port 7799"* ]] &&
	[ $((SECONDS - start)) -le 8 ]; then es_ok "no sink: exit status 1 and the reason"
else es_not_ok "no sink: exit status 1 and the reason" "exit $rc after $((SECONDS - start)) s: $err"; fi
"$ES" session-test --to 10.251.0.2 >/dev/null 2>&1
es_expect_eq "usage: --rate missing is exit status 2" "$?" 2

# Kubernetes mode: the sink (pod and service) and one pod per session.
"$ES" session-test --emit-manifests "$ES_TMP/k8s" --to node-2 --rate 7 --max-sessions 13 \
	--namespace mec 2>/dev/null
es_expect_eq "manifests: sink and 13 session pods of es-session send" \
	"$(find "$ES_TMP/k8s" -type f | wc -l) $(cat "$ES_TMP"/k8s/01-session-*.yaml | grep -c '"es-session", "send"') $(grep -c 'nodeName: node-2' "$ES_TMP/k8s/00-sink.yaml")" \
	"14 13 1"
"$ES" session-test --emit-manifests "$ES_TMP/k8s-iperf" --to node-2 --rate 7 --max-sessions 3 \
	--generator iperf3 2>/dev/null
es_expect_eq "manifests: iperf3 clients each on their own server port" \
	"$(grep -ho '"-p", "[0-9]*"' "$ES_TMP"/k8s-iperf/01-session-*.yaml | tr '\n' ' ')" \
	'"-p", "5201" "-p", "5202" "-p", "5203" '
if command -v yamllint >/dev/null; then
	es_check "manifests: valid YAML" yamllint -d relaxed "$ES_TMP/k8s" "$ES_TMP/k8s-iperf"
else
	es_skip "manifests: valid YAML" "no yamllint"
fi
es_done
