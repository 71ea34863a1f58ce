#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The session test of docs/session-test.md on the emulator: a 100 Mbit/s link (tbf
# on a veth between two namespaces), sessions of 7 Mbit/s added one at a
# time, ES_ST_STEP seconds each (default 10; the reference used 60). Prints the
# latency-against-sessions table beside the reference figures
# (docs/benchmarks.md) and writes
# build/bench/session_test.json and build/bench/session_test.svg.
. "$(dirname "$0")/../../../selftests/lib.sh"
OUT=$ES_BUILD/bench
STEP=${ES_ST_STEP:-10}
mkdir -p "$OUT"
es_netns_add c && es_netns_add d || exit 1
es_no_ipv6 c d
es_veth c vc 10.252.0.1 d vd 10.252.0.2 || exit 1
tc -n "$(es_ns c)" qdisc add dev "$(es_ifname vc)" root tbf rate 100mbit burst 16kb limit 150000
es_bg es_in d "$ES_BUILD/es-session" sink --port 7700
es_in c "$ES_BUILD/edgeshift" session-test --to 10.252.0.2 --rate 7 --step "$STEP" \
	--settle 1 --max-sessions 18 --slo-us 1000 --plot "$OUT/session_test.svg" --json \
	>"$OUT/session_test.run.json" || exit 1
R=$OUT/session_test.run.json
# "Held": the sink received at least 98 % of what the sessions sent.
jq '{ step_s: .step_s,
      knee_sessions: .max_sessions_meeting_slo,
      held_sessions: ([.steps[] | select(.achieved_mbit >= 0.98 * .offered_mbit) | .sessions] | max),
      paper_a: { knee_sessions: 10, held_sessions: 13 },
      knee_ratio_to_paper_a: (.max_sessions_meeting_slo / 10),
      steps: [.steps[] | { sessions, offered_mbit, achieved_mbit, loss,
                           mean_us: .latency_us.mean, p50_us: .latency_us.p50,
                           p99_us: .latency_us.p99 }] }
    | .steps |= (.[0].mean_us as $base | map(. + { mean_vs_one_session: (.mean_us / $base) }))' \
	"$R" >"$OUT/session_test.json"
printf '\nPaper A on the emulator: 100 Mbit/s, 7 Mbit/s sessions, %s s per step, SLO mean RTT <= 1 ms\n' "$STEP"
jq -r '(["sessions", "offered", "achieved", "loss%", "mean_us", "p50_us", "p99_us", "mean/1-session"] | @tsv),
	(.steps[] | [.sessions, (.offered_mbit * 100 | round / 100), (.achieved_mbit * 100 | round / 100),
		(.loss * 10000 | round / 100), (.mean_us | round), (.p50_us | round), (.p99_us | round),
		(.mean_vs_one_session * 100 | round / 100)] | @tsv)' "$OUT/session_test.json" | column -t
jq -r '"\nwithin 1 ms: \(.knee_sessions) sessions here, 10 in Paper A (ratio \(.knee_ratio_to_paper_a));" +
	" held (>= 98 % delivered): \(.held_sessions) here, 13 in Paper A"' "$OUT/session_test.json"
echo "plot: $OUT/session_test.svg"
