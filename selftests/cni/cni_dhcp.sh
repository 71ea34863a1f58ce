#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# dhcp IPAM from Debian's containernetworking-plugins through edgeshift-cni
# and through the reference macvlan plugin: dnsmasq serves the master's
# segment from the "wire" namespace, the CNI dhcp daemon runs in the test
# host namespace with its socket in the test's temporary directory. Leases
# (address and default route) seen in the pods with `ip -j`, CHECK, two
# pods with distinct addresses, DEL releasing the lease at the server, the
# same observations from both plugins, and a clear error when the daemon
# or the server is missing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni dhcp"
cni_require "cni dhcp"
if [ ! -x "$CNI_REF/dhcp" ] || ! command -v dnsmasq >/dev/null; then
	es_plan 1
	es_skip "cni dhcp" "needs containernetworking-plugins' dhcp and dnsmasq"
	exit 0
fi
es_plan 27
cni_host || exit 1
SRV=10.92.0.254
WIRE=$(es_ifname m0p)
LEASES=$ES_TMP/dnsmasq.leases
SOCK=$ES_TMP/dhcp/dhcp.sock
ip -n "$(es_ns wire)" addr add "$SRV/24" dev "$WIRE"

# The server: a small range, the shortest lease dnsmasq allows, no DNS,
# no ping probe before an offer (nothing else is on this segment).
es_bg --log "$ES_TMP/dnsmasq.log" es_in wire dnsmasq --keep-in-foreground --conf-file=/dev/null \
	--port=0 --interface="$WIRE" --bind-interfaces --no-ping --dhcp-authoritative \
	--dhcp-range=10.92.0.50,10.92.0.59,255.255.255.0,2m --dhcp-option=option:router,$SRV \
	--dhcp-leasefile="$LEASES" --pid-file="$ES_TMP/dnsmasq.pid" --log-dhcp --log-facility=-
DNSMASQ_PID=$ES_BG_PID
# The daemon enters the pod namespaces by their /run/netns paths (same
# mount namespace: no -hostprefix). Tries of 1 s and no slow backoff: a
# silent server fails after its 5 fast tries (~ 5 x 1 s + 4 x 2 s + 4 s).
es_bg --log "$ES_TMP/dhcpd.log" es_in host "$CNI_REF/dhcp" daemon -socketpath "$SOCK" \
	-timeout 1s -resendmax 0
# Both must be ready before the first ADD: the daemon's socket exists and
# dnsmasq has bound the DHCP port (a DISCOVER sent before that goes
# unanswered, and the daemon's retry would be blamed on the plugin).
dhcp_bound() { es_in wire ss -H -uln 'sport = :67' 2>/dev/null | grep -q .; }
for _ in $(seq 100); do [ -S "$SOCK" ] && dhcp_bound && break; sleep 0.05; done
if [ ! -S "$SOCK" ] || ! dhcp_bound || ! kill -0 "$DNSMASQ_PID" 2>/dev/null; then
	echo "# dhcp daemon or dnsmasq did not start"
	es_diag <"$ES_TMP/dhcpd.log"; es_diag <"$ES_TMP/dnsmasq.log"
	exit 1
fi

conf() {	# WHO MAC [SOCKET]: a macvlan network with dhcp IPAM
	cni_conf "$1" macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"mode\":\"bridge\",\"mac\":\"$2\",
		\"ipam\":{\"type\":\"dhcp\",\"daemonSocketPath\":\"${3:-$SOCK}\"}}"
}
plugin() { if [ "$1" = ours ]; then echo "$CNI_BIN"; else echo "$CNI_REF/macvlan"; fi; }
ping1() { es_in "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1 && echo yes || echo no; }
leased() { awk -v ip="$1" '$3 == ip { n++ } END { print n + 0 }' "$LEASES" 2>/dev/null; }
# leases WANT IP...: the lease file's count per IP, once it shows WANT (2 s
# at most: a RELEASE has no answer, DEL returns once it is sent)
leases() {
	local want=$1 got _ ip
	shift
	for _ in $(seq 40); do
		got=; for ip in "$@"; do got=$got$(leased "${ip%/*}"); done
		[ "$got" = "$want" ] && break
		sleep 0.05
	done
	echo "$got"
}
in_range() { [[ $1 =~ ^10\.92\.0\.5[0-9]/24$ ]] && echo yes || echo no; }
pod_view() {	# POD: the address and the default route of eth0, from ip -j
	{
		es_in "$1" ip -j addr show dev eth0 scope global 2>/dev/null || echo '[]'
		es_in "$1" ip -j route show default 2>/dev/null || echo '[]'
	} | jq -s -r '[(.[0][0].addr_info // [])[] | "\(.local)/\(.prefixlen)"] as $a |
		[.[1][] | "via \(.gateway) dev \(.dev)"] as $r | "\($a | join(",")) \($r | join(","))"'
}

declare -A obs res
for who in ours ref; do
	bin=$(plugin $who)
	cni_pod "a$who" && cni_pod "b$who" || exit 1
	A=$(cni_pod_path "a$who"); B=$(cni_pod_path "b$who")
	ca=$(conf $who 02:e5:00:00:92:0a); cb=$(conf $who 02:e5:00:00:92:0b)
	n0=$(wc -l <"$ES_TMP/dhcpd.log")
	t0=$(date +%s%N)
	ra=$(cni_exec "$bin" ADD "da$who" "$A" eth0 "$ca")
	ms=$((($(date +%s%N) - t0) / 1000000))
	retries=$(tail -n +$((n0 + 1)) "$ES_TMP/dhcpd.log" | grep -c 'retrying')
	ipa=$(jq -r '.ips[0].address // empty' <<<"$ra" 2>/dev/null)
	es_expect_eq "$who: ADD gets a lease in the range, gateway $SRV (${ms} ms)" \
		"$(in_range "$ipa") $(jq -r '.ips[0].gateway' <<<"$ra" 2>/dev/null)" "yes $SRV"
	[ -n "$ipa" ] || printf '%s\n' "$ra" | es_diag
	es_expect_eq "$who: the pod's eth0 has the lease and the default route (ip -j)" \
		"$(pod_view "a$who")" "$ipa via $SRV dev eth0"
	# the reference daemon binds its socket before it brings a down link
	# up, and its first try fails (docs/cni.md, IPAM)
	[ $who = ours ] && es_expect_eq "ours: the link is up before IPAM, the daemon's first try succeeds" \
		"$retries" 0
	obs[$who]=$(cni_observe "a$who" eth0)
	res[$who]=$(cni_result_view "$ra" | sed "s|$A|POD|")
	chk=$(jq -c --argjson r "$ra" '. + {prevResult: $r}' <<<"$ca")
	es_check "$who: CHECK passes" cni_exec "$bin" CHECK "da$who" "$A" eth0 "$chk"
	rb=$(cni_exec "$bin" ADD "db$who" "$B" eth0 "$cb")
	ipb=$(jq -r '.ips[0].address // empty' <<<"$rb" 2>/dev/null)
	es_expect_eq "$who: a second pod gets a distinct lease ($ipa, $ipb)" \
		"$(in_range "$ipb") $([ "$ipa" != "$ipb" ] && echo distinct)" "yes distinct"
	es_expect_eq "$who: the pods reach each other and the server" \
		"$(ping1 "a$who" "${ipb%/*}") $(ping1 "b$who" "${ipa%/*}") $(ping1 "a$who" $SRV)" "yes yes yes"
	es_expect_eq "$who: dnsmasq holds both leases" "$(leases 11 "$ipa" "$ipb")" 11
	es_check "$who: DEL" cni_exec "$bin" DEL "da$who" "$A" eth0 "$ca"
	cni_exec "$bin" DEL "db$who" "$B" eth0 "$cb" >/dev/null
	es_expect_eq "$who: DEL released the leases at the server" "$(leases 00 "$ipa" "$ipb")" 00
done
es_expect_eq "the pods' interfaces are equal (ip -j)" "${obs[ours]}" "${obs[ref]}"
es_expect_eq "the results are equal" "${res[ours]}" "${res[ref]}"

# edgeshift-cni only: DEL twice, a 1.1.0 network (the dhcp plugin stops at
# 1.0.0), and the faults.
P=$(cni_pod_path aours)
es_check "DEL again (idempotent, the daemon has no lease)" \
	cni_exec "$CNI_BIN" DEL daours "$P" eth0 "$(conf ours 02:e5:00:00:92:0a)"
c11=$(jq -c '.cniVersion = "1.1.0"' <<<"$(conf ours 02:e5:00:00:92:0c)")
r11=$(cni_exec "$CNI_BIN" ADD dv11 "$P" eth0 "$c11")
es_expect_eq "1.1.0 network: the dhcp plugin is run at 1.0.0, the result is 1.1.0" \
	"$(jq -r '"\(.cniVersion) \(.ips[0].address | test("^10[.]92[.]0[.]5"))"' <<<"$r11" 2>/dev/null)" "1.1.0 true"
cni_exec "$CNI_BIN" DEL dv11 "$P" eth0 "$c11" >/dev/null
cni_gone aours

nolink() { es_in aours ip link show dev eth0 >/dev/null 2>&1 && echo left || echo none; }
out=$(cni_exec "$CNI_BIN" ADD dnd "$P" eth0 "$(conf ours 02:e5:00:00:92:0d "$ES_TMP/nodaemon.sock")")
es_expect_eq "no daemon: the dhcp plugin's error is passed on, naming the daemon" \
	"$(jq -r '"\(.code > 0) \(.msg | test("ipam dhcp") and test("daemon"; "i"))"' <<<"$out" 2>/dev/null)" "true true"
[ "$(jq -r .msg <<<"$out" 2>/dev/null)" != null ] && jq -r .msg <<<"$out" | es_diag
cni_gone aours
es_expect_eq "no daemon: nothing left in the pod" "$(nolink)" none

kill "$DNSMASQ_PID"; wait "$DNSMASQ_PID" 2>/dev/null
t0=$(date +%s)
out=$(cni_exec "$CNI_BIN" ADD dsd "$P" eth0 "$(conf ours 02:e5:00:00:92:0e)")
dt=$(($(date +%s) - t0))
es_expect_eq "server down: ADD fails with the dhcp plugin's error" \
	"$(jq -r '"\(.code > 0) \(.msg | test("ipam dhcp"))"' <<<"$out" 2>/dev/null)" "true true"
jq -r .msg <<<"$out" 2>/dev/null | es_diag
es_expect_le "server down: when the daemon gives up (5 tries, ${dt} s), no later" "$dt" 30
cni_gone aours
es_expect_eq "server down: nothing left in the pod" "$(nolink)" none
es_expect_eq "server down: no macvlan left in the host" \
	"$(ip -n "$(es_ns host)" -j -d link show type macvlan | jq length)" 0
es_done
