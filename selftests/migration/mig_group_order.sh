#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Two TCP connections to one service that share its state (es-counter's
# counter), replayed together in the order the old instance took their
# segments (es_mig_tcp_replay_group). The old instance drops one
# connection's packets for 0.4 s, as CRIU's network lock does during a
# dump: the first copy of that connection's request is in the replay
# buffer, but the old instance took its retransmission, after the other
# connection's requests that came meanwhile. A replay in the order of the
# first copies would hand that request too early: the restored counter
# would differ from the one the old instance answered, and the check of
# the two streams would find it. Same namespaces as mig_late_tcp.sh, both
# connections opened while the service is forwarded to the old instance,
# so both are replayed from their SYN.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=selftests/migration/mig_dp.inc
. "$(dirname "$0")/mig_dp.inc"
es_require_root "mig_group_order"
es_plan 10

C=$ES_BUILD/es-counter
N=80	# requests per client
mig_dp_tcp 10.248 2048 || exit 1
mt service --service $SVC:7000/tcp --node $SRC --forward --mirror --limit 2000

client() {
	es_bg --out "$ES_TMP/$1.err" es_in u "$C" client --to $SVC --port 7000 --tcp --rate 20 \
		--count $N --timeout-ms 3000 --log "$ES_TMP/$1.log"
}

client a
A_PID=$ES_BG_PID
sleep 0.5
A_PORT=$(mig_dp_tcp_port)
client b
B_PID=$ES_BG_PID
sleep 0.5
B_PORT=$(mig_dp_tcp_port "$A_PORT")
es_check "both connections found and forwarded ($A_PORT, $B_PORT)" \
	test -n "$A_PORT" -a -n "$B_PORT"
A="$USER:$A_PORT>$SVC:7000/tcp" B="$USER:$B_PORT>$SVC:7000/tcp"

# the old instance drops the first connection's packets for 0.4 s
es_in c1 nft -f - <<EOF
table inet ${ES_PREFIX}_lock {
	chain in {
		type filter hook input priority 0;
		tcp sport $A_PORT tcp dport 7000 counter drop
	}
}
EOF
sleep 0.4
DROPPED=$(es_in c1 nft -j list table inet "${ES_PREFIX}_lock" |
	jq '[.nftables[].rule.expr[]?.counter.packets // empty] | add')
es_in c1 nft delete table inet "${ES_PREFIX}_lock"
es_expect_ge "the old instance dropped the first connection's request at least once" \
	"${DROPPED:-0}" 1
sleep 1
es_expect_ge "the other connection's requests came meanwhile (answered at > 300 ms)" \
	"$(jq -s '[.[] | select(.rtt_us > 300000)] | length' "$ES_TMP/a.log")" 1

R=$(mt tcp-replay --session "$A" --session "$B" --timeout-ms 15000 --json)
es_diag <<<"$R"
es_expect_eq "replayed together: both streams equal the old instance's, none diverged" \
	"$(jq -r '"\(.passed) \([.sessions[].diverged] | add)"' <<<"$R")" "true 0"
es_expect_eq "both sessions cut over" \
	"$(mt show --session "$A" --json | jq -r .state) $(mt show --session "$B" --json |
		jq -r .state)" "cutover cutover"

wait "$A_PID" "$B_PID"
es_diag <"$ES_TMP/a.err"
es_diag <"$ES_TMP/b.err"
es_expect_eq "each client: every request answered" \
	"$(jq -s '[.[] | select(.counter)] | length' "$ES_TMP/a.log" "$ES_TMP/b.log")" $((2 * N))
es_expect_eq "one connection each throughout: no reset, no reconnect" \
	"$(jq -s '[.[].conn] | unique | join(",")' "$ES_TMP/a.log" "$ES_TMP/b.log")" '"1"'
es_expect_eq "the counters both saw are 1..$((2 * N)), each once: every request applied once" \
	"$(jq -s "[.[].counter] | sort == [range(1; $((2 * N + 1)))]" "$ES_TMP/a.log" \
		"$ES_TMP/b.log")" true
sleep 0.3
es_expect_ge "requests after cut-over served by the restored instance" \
	"$(($(mt show --session "$A" --json | jq .packets.passed_local) +
	    $(mt show --session "$B" --json | jq .packets.passed_local)))" 20
es_done
