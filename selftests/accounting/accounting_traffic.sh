#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Real traffic through a veth pair into the agent's interface: the session
# counters must equal what was sent, per direction, for UDP, ICMP and TCP
# over IPv4 and IPv6, and the interface totals must equal the kernel's own.
. "$(dirname "$0")/../lib.sh"
es_require_root "accounting_traffic (${ES_RX_HOOK:-auto})"
es_plan 29

es_netns_add a && es_netns_add b || exit 1
es_veth a va 10.253.0.1 b vb 10.253.0.2 fd00:253::1 fd00:253::2 || exit 1
VB=$(es_ifname vb)
for ns in a b; do
	# Fixed TCP header sizes make the expected byte counts exact.
	es_in $ns sysctl -q -w net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=0 \
		net.ipv4.tcp_window_scaling=0
done
# What the peer transmitted is what reached our interface: a veth pair drops nothing.
VA=$(es_ifname va)
link_stat() { es_in a ip -s -j link show dev "$VA" | jq ".[0].stats64.tx.$2"; }
# A long linger: closed TCP sessions are read back after they close.
echo '{"closed_linger_ms": 10000}' >"$ES_TMP/cfg.json"
es_agent_start b main --config "$ES_TMP/cfg.json" --rx-hook "${ES_RX_HOOK:-auto}" \
	-i "$VB=test/server" || exit 1
es_ok "agent attached to $VB (receive hook ${ES_RX_HOOK:-auto})"
LBL="node=\"$ES_PREFIX-b\",interface=\"$VB\",namespace=\"test\",pod=\"server\""
# Baselines once the link is quiet, so both sides cover the same packets.
# counters_snapshot: "ours_pkts ours_bytes link_pkts link_bytes" at a quiet
# moment: the link's counters did not move while ours were read, so no
# packet was in flight between the two (IPv6 MLD reports come at random).
counters_snapshot() {
	local l1 l2 m i
	for i in $(seq 50); do
		l1="$(link_stat rx packets) $(link_stat rx bytes)"
		sleep 0.05
		m="$(es_metric b "edgeshift_interface_packets_total{$LBL,direction=\"rx\"}") $(es_metric b "edgeshift_interface_bytes_total{$LBL,direction=\"rx\"}")"
		l2="$(link_stat rx packets) $(link_stat rx bytes)"
		[ "$l1" = "$l2" ] && break
	done
	echo "$m $l2"
}
read -r m0_rx m0_rxb rx0_pkts rx0_bytes <<<"$(counters_snapshot)"

T=$ES_BUILD/es-traffic
# sessions PROTO PORT: the JSON of the sessions with that port.
sessions() { es_api b "/v1/sessions?proto=$1&port=$2&limit=10"; }
field() { jq -r ".sessions[0].$1"; }

udp_case() {
	local fam=$1 dst=$2 port=$3 per_pkt=$4 out s
	es_bg es_in b "$T" udp-server --port "$port" --timeout 20
	es_wait_listen b u "$port"
	out=$(es_in a "$T" udp-client --to "$dst" --port "$port" --count 200 --size 100 --json)
	es_expect_eq "udp $fam: client got every echo" "$(echo "$out" | jq .received)" 200
	sleep 0.2
	s=$(sessions udp "$port")
	# A reader that reads a flow cache slot, then the session entry the
	# sweep folded it into meanwhile, counts those packets twice: a known
	# race (docs/maps.md, "What stays approximate"), seen once in a
	# fresh-clone run (398 of 200). Said, then read once more after a sweep.
	if [ "$(echo "$s" | field rx.packets)" != 200 ]; then
		es_diag <<<"udp $fam: first read $(echo "$s" | field rx.packets) packets; read again"
		sleep 0.3
		s=$(sessions udp "$port")
	fi
	es_expect_eq "udp $fam: one session" "$(echo "$s" | jq .matched)" 1
	es_expect_eq "udp $fam: rx packets/bytes" \
		"$(echo "$s" | field rx.packets)/$(echo "$s" | field rx.bytes)" "200/$((200 * per_pkt))"
	es_expect_eq "udp $fam: tx packets/bytes" \
		"$(echo "$s" | field tx.packets)/$(echo "$s" | field tx.bytes)" "200/$((200 * per_pkt))"
	es_expect_eq "udp $fam: service latency samples, pod named" \
		"$(echo "$s" | field latency.kind)/$(echo "$s" | field latency.samples)/$(echo "$s" | field pod)" \
		"service/200/test/server"
}
udp_case ipv4 10.253.0.2 7000 $((100 + 8 + 20 + 14))
udp_case ipv6 fd00:253::2 7001 $((100 + 8 + 40 + 14))

icmp_case() {
	local fam=$1 proto=$2 dst=$3 frame=$4 s
	es_in a ping -q -c 5 -i 0.2 "$dst" >/dev/null
	sleep 0.2
	# The echo session has the identifier as both ports; NDP ones do not.
	s=$(es_api b "/v1/sessions?proto=$proto&limit=50" | jq '[.sessions[] |
		select((.endpoint_lo | split(":") | last) == (.endpoint_hi | split(":") | last)
		       and (.endpoint_lo | split(":") | last) != "0")]')
	es_expect_eq "$proto: one echo session" "$(echo "$s" | jq length)" 1
	es_expect_eq "$proto: rx and tx packets/bytes" \
		"$(echo "$s" | jq -r '.[0] | "\(.rx.packets)/\(.rx.bytes) \(.tx.packets)/\(.tx.bytes)"')" \
		"5/$((5 * frame)) 5/$((5 * frame))"
}
icmp_case ipv4 icmp 10.253.0.2 98
icmp_case ipv6 icmpv6 fd00:253::2 118

tcp_segs() { es_in b awk '/^Tcp:/ { if (h) { print $11, $12; exit } h = 1 }' /proc/net/snmp; }
tcp_case() {
	local fam=$1 dst=$2 port=$3 hdr=$4 bytes=3000000 before after in out s
	es_bg es_in a "$T" tcp-server --port "$port" --once --timeout 20
	es_wait_listen a t "$port"
	before=$(tcp_segs)
	es_check "tcp $fam: 3 MB sent and acknowledged" \
		es_in b "$T" tcp-client --to "$dst" --port "$port" --bytes $bytes --timeout 20
	sleep 0.5
	after=$(tcp_segs)
	in=$(( ${after% *} - ${before% *} )); out=$(( ${after#* } - ${before#* } ))
	s=$(sessions tcp "$port")
	# The kernel's InSegs/OutSegs count segments, as the data plane does
	# for GSO packets; SYN and SYN-ACK carry a 4-byte MSS option.
	es_expect_eq "tcp $fam: tx segments and bytes" \
		"$(echo "$s" | field tx.packets)/$(echo "$s" | field tx.bytes)" \
		"$out/$((bytes + out * hdr + 4))"
	es_expect_eq "tcp $fam: rx segments and bytes" \
		"$(echo "$s" | field rx.packets)/$(echo "$s" | field rx.bytes)" \
		"$in/$((8 + in * hdr + 4))"
	es_expect_eq "tcp $fam: flags both ways, opened locally, state" \
		"$(echo "$s" | jq -r '.sessions[0] | "\(.tx.tcp_flags | test("S") and test("F"))/\(.rx.tcp_flags | test("S") and test("F"))/\(.opened_by)/\(.state)"')" \
		"true/true/local/closed"
	es_expect_ge "tcp $fam: handshake RTT measured (ns)" \
		"$(echo "$s" | jq '.sessions[0].latency.tcp_handshake_us * 1000 | floor')" 1
}
tcp_case ipv4 10.253.0.1 7100 $((14 + 20 + 20))
tcp_case ipv6 fd00:253::1 7101 $((14 + 40 + 20))

# Interface totals against the kernel's link counters, over the same span.
sleep 0.2
read -r m_rx m_rxb rx_pkts_now rx_bytes_now <<<"$(counters_snapshot)"
es_expect_eq "interface rx packets equal the packets the peer sent" \
	"$((m_rx - m0_rx))" "$((rx_pkts_now - rx0_pkts))"
# veth's own counters, once XDP runs on the pair, count bytes after the
# Ethernet header is pulled; ours always count the whole frame.
l2=0
[ "${ES_RX_HOOK:-auto}" = xdp ] && l2=14
es_expect_eq "interface rx bytes equal the bytes the peer sent" \
	"$((m_rxb - m0_rxb))" "$((rx_bytes_now - rx0_bytes + l2 * (rx_pkts_now - rx0_pkts)))"
es_expect_ge "ARP counted as skipped non_ip" \
	"$(es_metric b "edgeshift_skipped_packets_total{$LBL,direction=\"rx\",reason=\"non_ip\"}")" 1
es_expect_eq "no well-formed packet counted as malformed" \
	"$(es_api b /metrics | grep -E 'edgeshift_skipped_packets_total.*reason="(truncated|bad_header|fragment)"' | awk '{ s += $NF } END { print s + 0 }')" 0
es_done
