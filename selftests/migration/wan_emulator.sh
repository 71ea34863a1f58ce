#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# es-wan, the WAN emulator the migration tests run over: delay (ping RTT,
# mean and min), rate (UDP and TCP goodput from iperf3), per-direction
# settings, loss within a binomial tolerance, a cut (loss 100) and its
# repair mid-transfer, run-time control, and clear errors for bad options.
. "$(dirname "$0")/../lib.sh"
es_require_root wan_emulator
es_plan 25
W=$ES_BUILD/es-wan
A_IP=10.246.0.1
B_IP=10.246.0.2
# payload per Ethernet frame: UDP 1472 of 1514, TCP (timestamps) 1448 of 1514
UDP_SHARE=$(awk 'BEGIN { print 1472 / 1514 }')
TCP_SHARE=$(awk 'BEGIN { print 1448 / 1514 }')

# usage_error NAME WANT_TEXT ARGS...: exit status 2 and a message naming the field
usage_error() {
	local name=$1 want=$2 out rc
	shift 2
	out=$("$W" "$@" 2>&1); rc=$?
	if [ "$rc" = 2 ] && grep -qF -- "$want" <<<"$out"; then es_ok "$name"
	else es_not_ok "$name" "exit $rc: $out"; fi
}
usage_error "bad delay is refused naming --delay-ms" "--delay-ms: '-1'" run --a x --b y --delay-ms -1
usage_error "ambiguous rate unit is refused" "--b2a-rate: '10Mb'" run --a x --b y --b2a-rate 10Mb
usage_error "loss above 100 is refused" "--loss: '101'" run --a x --b y --loss 101
usage_error "ctl refuses an unknown setting" "unknown setting 'jitter'" ctl --control /nonexistent jitter=5

# in_tol GOT WANT PCT: |GOT / WANT - 1| <= PCT %
in_tol() {
	awk -v g="$1" -v w="$2" -v p="$3" 'BEGIN { r = g / w; exit !(g != "" && r >= 1 - p / 100 && r <= 1 + p / 100) }'
}

# within NAME GOT WANT PCT: in_tol, as a check
within() {
	if in_tol "$2" "$3" "$4"
	then es_ok "$1 (measured/configured $(awk -v g="$2" -v w="$3" 'BEGIN { printf "%.4f", g / w }'))"
	else es_not_ok "$1" "measured '$2', configured $3, tolerance $4 %"; fi
}

es_netns_add a && es_netns_add b || exit 1
es_no_ipv6 a b
for ns in a b; do
	# a 200 ms RTT at 10 MB/s needs windows beyond the default 4-6 MB
	es_in $ns sysctl -q -w net.ipv4.tcp_rmem="4096 131072 33554432" \
		net.ipv4.tcp_wmem="4096 131072 33554432"
done
# not in a subshell: es_wan registers the relay for cleanup
if es_wan a "$A_IP" b "$B_IP" --delay-ms 100 --rate 10MB/s --seed 7; then
	es_ok "es_wan starts the relay (100 ms, 10 MB/s)"
else
	es_not_ok "es_wan starts the relay (100 ms, 10 MB/s)"
	exit 1
fi
read -r mean min <<<"$(es_ping_rtt a "$B_IP" 20)"
within "RTT mean at 2x100 ms" "$mean" 200 5
within "RTT min at 2x100 ms" "$min" 200 5
within "UDP goodput at 10 MB/s" "$(es_iperf_goodput a b "$B_IP" 1 -u -b 120M -l 1472 -t 4)" \
	"$(awk -v s="$UDP_SHARE" 'BEGIN { print 10e6 * s }')" 5
# Cubic overflows the 1-BDP queue now and then; data held behind a hole
# reaches iperf3 in one burst, which can lift the mean of a window by 10 %:
# the median second of the 6 s after the slow start. A loss recovery over
# 200 ms of RTT takes seconds, and a CI run once read a median outside 5 %
# (the figure was not kept): a miss is measured once more, its seconds shown.
TCP_WANT=$(awk -v s="$TCP_SHARE" 'BEGIN { print 10e6 * s }')
tcp_got=$(ES_GOODPUT_STAT=median es_iperf_goodput a b "$B_IP" 3 -t 10)
if ! in_tol "$tcp_got" "$TCP_WANT" 5; then
	jq -r '"first run: median \($m) B/s, seconds (B/s): " +
	       ([.intervals[].sum.bits_per_second / 8 | floor] | map(tostring) | join(" "))' \
		--arg m "$tcp_got" "$ES_TMP/iperf3-server.json" | es_diag
	tcp_got=$(ES_GOODPUT_STAT=median es_iperf_goodput a b "$B_IP" 3 -t 10)
fi
within "TCP goodput at 10 MB/s over 200 ms RTT" "$tcp_got" "$TCP_WANT" 5
es_expect_ge "queue drops were counted under UDP overload" \
	"$(es_wan_stats | jq .a2b.dropped_queue)" 1

es_check "ctl sets 10 ms and 100 Mbit/s while running" es_wan_ctl delay-ms=10 rate=100Mbit/s
read -r mean min <<<"$(es_ping_rtt a "$B_IP" 40)"
# the relay's own scheduling adds to the mean: 1.5 ms (7 %) once while two
# test lanes shared the 2 CPUs; the minimum above stays within 5 %
within "RTT mean at 2x10 ms" "$mean" 20 10
within "RTT min at 2x10 ms" "$min" 20 5
within "UDP goodput at 100 Mbit/s" "$(es_iperf_goodput a b "$B_IP" 1 -u -b 150M -l 1472 -t 3)" \
	"$(awk -v s="$UDP_SHARE" 'BEGIN { print 12.5e6 * s }')" 5

es_check "ctl sets each direction apart" \
	es_wan_ctl a2b.delay-ms=5 b2a.delay-ms=20 a2b.rate=100Mbit/s b2a.rate=4MB/s
read -r mean min <<<"$(es_ping_rtt a "$B_IP" 40)"
within "RTT min with 5 ms a2b + 20 ms b2a" "$min" 25 5
within "UDP goodput a2b at 100 Mbit/s" "$(es_iperf_goodput a b "$B_IP" 1 -u -b 150M -l 1472 -t 3)" \
	"$(awk -v s="$UDP_SHARE" 'BEGIN { print 12.5e6 * s }')" 5
within "UDP goodput b2a at 4 MB/s" "$(es_iperf_goodput b a "$A_IP" 1 -u -b 50M -l 1472 -t 3)" \
	"$(awk -v s="$UDP_SHARE" 'BEGIN { print 4e6 * s }')" 5

es_wan_ctl delay-ms=2 rate=100Mbit/s a2b.loss=10
before=$(es_wan_stats | jq .a2b.received)
es_iperf_goodput a b "$B_IP" 0 -u -b 8M -l 1000 -t 3 >/dev/null
lost=$(jq '.end.sum.lost_packets' "$ES_TMP/iperf3-server.json")
sent=$(jq '.end.sum.packets' "$ES_TMP/iperf3-server.json")
# 10 % of n datagrams: mean 0.1 n, standard deviation sqrt(0.09 n); allow 4.5
if awk -v l="$lost" -v n="$sent" 'BEGIN { d = l - 0.1 * n; exit !(n > 1000 && d * d <= 4.5 * 4.5 * 0.09 * n) }'
then es_ok "10 % loss: $lost of $sent datagrams lost"
else es_not_ok "10 % loss" "$lost of $sent datagrams lost"; fi
read -r rx lost_ctr <<<"$(es_wan_stats | jq -r '"\(.a2b.received) \(.a2b.dropped_loss)"')"
es_expect_ge "the relay counted its loss drops" "$lost_ctr" $(((rx - before) / 20))

es_wan_ctl loss=0
rm -f "$ES_TMP/iperf3-server.json"
es_bg --out "$ES_TMP/iperf3-server.json" es_in b iperf3 -s -1 -J -p 5201
SRV=$ES_BG_PID
for _ in $(seq 50); do es_in b ss -ltn | grep -q ':5201 ' && break; sleep 0.05; done
es_in a iperf3 -c "$B_IP" -p 5201 -t 5 >"$ES_TMP/cli.txt" 2>&1 &
CLI=$!
sleep 1.5
es_wan_ctl loss=100
cut_ping=$(es_in a ping -c 3 -i 0.3 -W 0.5 "$B_IP" | awk '/received/ { print $4 }')
es_wan_ctl loss=0
if wait "$CLI"; then es_ok "a transfer survives a 1.5 s cut (loss 100) and completes"
else es_not_ok "a transfer survives a 1.5 s cut (loss 100) and completes" "$(cat "$ES_TMP/cli.txt")"; fi
wait "$SRV"
es_expect_eq "no ping crosses the cut" "$cut_ping" 0
rates=$(jq -r '[.intervals[].sum.bits_per_second / 8e6 | floor] | @tsv' "$ES_TMP/iperf3-server.json")
# after the cut TCP's retransmission timer backs off: the rate is back some
# second after it (a CI run read 9 2 0 2 5 10, full only in the last)
if awk -v r="$rates" 'BEGIN { n = split(r, v, "\t"); for (i = 1; i <= n; i++) { if (v[i] == 0) z = 1; if (z && v[i] >= 6) up = 1 }; exit !(z && up) }'
then es_ok "the cut stops the transfer and the repair resumes it (MB/s per second: $rates)"
else es_not_ok "the cut stops the transfer and the repair resumes it" "MB/s per second: $rates"; fi

kill -USR1 "$ES_WAN_PID"
sleep 0.2
es_check "SIGUSR1 prints the counters as JSON" \
	bash -c "grep '^{' '$ES_TMP/wan.log' | tail -1 | jq -e '.a2b.forwarded > 0 and .b2a.forwarded > 0'"
kill "$ES_WAN_PID"
wait "$ES_WAN_PID"
es_check "the summary is printed at exit" grep -q "es-wan summary" "$ES_TMP/wan.log"
es_done
