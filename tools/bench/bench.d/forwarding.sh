#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Migration forwarding benchmark, two ratios measured side by side:
#  1. per-packet cost of es_mig_xdp_ingress (accounting + forwarding) against
#     the accounting-only es_xdp_ingress (BPF_PROG_TEST_RUN, one CPU);
#  2. UDP response time through the tunnel (target -> router -> source and
#     back) against the same path routed directly, on veth namespaces,
#     in interleaved rounds.
# Prints a table and writes build/bench/forwarding.json.
. "$(dirname "$0")/../../../selftests/lib.sh"
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
ROUNDS=${ES_BENCH_ROUNDS:-7}
SECS=${ES_BENCH_SECS:-3}
M=$ES_BUILD/es-migctl
T=$ES_BUILD/es-traffic
PT=$(es_pin_path fwdt)
PS=$(es_pin_path fwds)
ES_PINS+=("$PT" "$PS")
bench_cleanup() {
	"$M" cleanup --pin "$PT" 2>/dev/null
	"$M" cleanup --pin "$PS" 2>/dev/null
	es_cleanup
}
trap bench_cleanup EXIT
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "1. per-packet cost (BPF_PROG_TEST_RUN, one CPU)" >&2
es_netns_add p || exit 1
es_in p ip link add w0 type veth peer name w1
es_in p ip addr add 10.9.0.1/24 dev w0
es_in p ip link set w0 up
es_in p ip link set w1 up
es_in p ip neigh replace 10.9.0.2 lladdr 02:00:00:00:09:02 nud permanent dev w0
es_in p ip route add 10.9.9.0/24 via 10.9.0.2
es_in p sysctl -q -w net.ipv4.conf.all.forwarding=1 net.ipv4.conf.lo.forwarding=1
es_in p taskset -c 1 "$ES_BUILD/es-bench-fwd" --local 10.9.0.1 --source 10.9.9.9 >&2 || exit 1
es_in p taskset -c 1 "$ES_BUILD/es-bench-fwd" --local 10.9.0.1 --source 10.9.9.9 --json \
	>"$OUT/forwarding_xdp.json" || exit 1

echo "2. response time through the tunnel vs routed directly: $ROUNDS rounds of ${SECS}s each" >&2
N=10.246
for ns in u t r s c; do es_netns_add $ns || exit 1; done
es_no_ipv6 u t r s c
es_veth u uu $N.1.2 t tu $N.1.1 &&
es_veth t tw $N.2.1 r rt $N.2.2 &&
es_veth r rs $N.3.2 s sw $N.3.1 &&
es_veth s sc $N.4.1 c ce $N.4.10 || exit 1
es_in u ip route add default via $N.1.1
es_in c ip route add default via $N.4.1
es_in t ip route add $N.3.0/24 via $N.2.2
es_in t ip route add $N.4.0/24 via $N.2.2
es_in r ip route add $N.4.0/24 via $N.3.1
es_in r ip route add $N.1.0/24 via $N.2.1
es_in s ip route add $N.2.0/24 via $N.3.2
es_in s ip route add $N.1.0/24 via $N.3.2
for ns in t r s; do
	es_in $ns sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
done
es_in r ethtool -K "$(es_ifname rt)" gro on >/dev/null
es_in u ethtool -K "$(es_ifname uu)" tx off >/dev/null
es_in t ping -c1 -W1 $N.2.2 >/dev/null
es_in s ping -c1 -W1 $N.3.2 >/dev/null
es_in t "$M" load --pin "$PT" && es_in t "$M" config --pin "$PT" --local $N.2.1 --port 47000 &&
es_in s "$M" load --pin "$PS" && es_in s "$M" config --pin "$PS" --local $N.3.1 --port 47000 &&
es_in t "$M" attach --pin "$PT" --hook user --dev "$(es_ifname tu)" &&
es_in t "$M" attach --pin "$PT" --hook wan --dev "$(es_ifname tw)" &&
es_in s "$M" attach --pin "$PS" --hook wan --dev "$(es_ifname sw)" &&
es_in s "$M" attach --pin "$PS" --hook ctr --dev "$(es_ifname sc)" || exit 1
# Forwarding only: at rr rates a mirror would fill any buffer (its cost is in part 1).
es_in t "$M" start --pin "$PT" --session "$N.1.2:6000>$N.4.10:7000" --source $N.3.1 --no-mirror || exit 1
es_bg es_in c "$T" udp-server --port 7000 --timeout 3600
sleep 0.3
rr() { es_in u "$T" udp-rr --to $N.4.10 --port 7000 --src-port "$1" --duration "$SECS" --json | jq .mean_rtt_us; }
rm -f "$OUT/fwd_rtt_direct" "$OUT/fwd_rtt_tunnel"
for r in $(seq "$ROUNDS"); do
	rr 6001 >>"$OUT/fwd_rtt_direct"
	rr 6000 >>"$OUT/fwd_rtt_tunnel"
	echo "  round $r done" >&2
done
fwd=$(es_in t "$M" show --pin "$PT" --session "$N.1.2:6000>$N.4.10:7000" --json)
direct=$(median <"$OUT/fwd_rtt_direct")
tunnel=$(median <"$OUT/fwd_rtt_tunnel")
ratio=$(paste "$OUT/fwd_rtt_tunnel" "$OUT/fwd_rtt_direct" | awk '{ print $1 / $2 }' | median)

jq -n --slurpfile xdp "$OUT/forwarding_xdp.json" --argjson d "$direct" --argjson t "$tunnel" \
	--argjson ratio "$ratio" --argjson rounds "$ROUNDS" --argjson secs "$SECS" \
	--argjson fwd "$(echo "$fwd" | jq .packets)" '{
	xdp: $xdp[0],
	response_time_us: { direct: $d, forwarding: $t, ratio: $ratio, rounds: $rounds,
			    seconds_per_round: $secs, session_packets: $fwd }
}' >"$OUT/forwarding.json"
rm -f "$OUT/forwarding_xdp.json" "$OUT/fwd_rtt_direct" "$OUT/fwd_rtt_tunnel"

r=$OUT/forwarding.json
# net: both sides less the empty program's time (the test run's own cost)
printf '\n%-48s %12s %12s %9s %9s\n' "measurement" "reference" "forwarding" "ratio" "net"
jq -r '.xdp.cases[] | [.case + " ns/pkt vs accounting only", .accounting_ns_per_pkt, .ns_per_pkt,
	.ratio, .ratio_net] | @tsv' "$r" |
	awk -F'\t' '{ printf "%-48s %12.1f %12.1f %8.2fx %8.2fx\n", $1, $2, $3, $4, $5 }'
jq -r '["UDP response time us: routed vs tunnel", .response_time_us.direct,
	.response_time_us.forwarding, .response_time_us.ratio] | @tsv' "$r" |
	awk -F'\t' '{ printf "%-48s %12.1f %12.1f %8.2fx\n", $1, $2, $3, $4 }'
echo "JSON: $r"
