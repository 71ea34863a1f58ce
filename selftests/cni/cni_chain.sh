#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift-cni in a chain and with prevResult: second after Debian's
# reference macvlan (its prevResult passed through and merged, its routes
# left on its link), CHECK tolerating a route a later plugin added through
# another link and failing (111) on our own missing address; CHECK of a
# 1.1.0 network whose IPAM (static, host-local) speaks 1.0.0 only, the
# prevResult converted for it; a prevResult's addresses without
# "interface", or with another plugin's, passed through, neither applied,
# routed through nor checked on our link; CHECK of a route the IPAM put
# in another table, in that table; the result's dns (IPAM's, the network
# configuration's key by key over it).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni chain"
cni_require "cni chain"
es_plan 21
cni_host || exit 1
cni_pod pa || exit 1; P=$(cni_pod_path pa)
code() { if [ -z "$1" ]; then echo 0; else jq -r ".code // 0" <<<"$1"; fi; }

first=$(cni_conf ref macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"host-local\",
	\"subnet\":\"10.77.0.0/24\",\"gateway\":\"10.77.0.1\",
	\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.77.0.1\"}],
	\"dataDir\":\"$ES_TMP/hl\"}}")
prev=$(cni_exec "$CNI_REF/macvlan" ADD c1 "$P" eth0 "$first")
second=$(cni_conf ours macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"static\",
	\"addresses\":[{\"address\":\"10.78.0.5/24\"}]}}" "{\"prevResult\":$prev}")
out=$(cni_exec "$CNI_BIN" ADD c1 "$P" net1 "$second")
es_expect_eq "chained ADD after the reference macvlan succeeds" "$(code "$out")" 0
es_expect_eq "... the result holds both interfaces, in order" \
	"$(jq -c '[.interfaces[].name]' <<<"$out")" '["eth0","net1"]'
es_expect_eq "... both addresses, each pointing at its interface" \
	"$(jq -c '[.ips[] | "\(.address)@\(.interface)"]' <<<"$out")" \
	"$(jq -c '[.ips[] | "\(.address)@\(.interface)"] + ["10.78.0.5/24@1"]' <<<"$prev")"
es_expect_eq "... the previous plugin's routes passed through" \
	"$(jq -c '.routes' <<<"$out")" "$(jq -c '.routes' <<<"$prev")"
es_expect_eq "... the default route stays on eth0, none on net1" \
	"$(es_in pa ip -j route show default | jq -r '[.[].dev] | join(",")')" eth0
es_expect_eq "... net1 has its own address" \
	"$(es_in pa ip -j addr show dev net1 | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"')" \
	10.78.0.5/24

chk=$(cni_conf ours macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"static\",
	\"addresses\":[{\"address\":\"10.78.0.5/24\"}]}}" "{\"prevResult\":$out}")
es_check "CHECK with the chain's final result" cni_exec "$CNI_BIN" CHECK c1 "$P" net1 "$chk"
# a later plugin adds a route through eth0 and lists it
es_in pa ip route add 10.200.0.0/16 via 10.77.0.1 dev eth0
later=$(jq -c '.prevResult.routes += [{"dst": "10.200.0.0/16", "gw": "10.77.0.1"}]' <<<"$chk")
es_check "CHECK tolerates a later plugin's route through another link" \
	cni_exec "$CNI_BIN" CHECK c1 "$P" net1 "$later"
es_in pa ip addr del 10.78.0.5/24 dev net1
res=$(cni_exec "$CNI_BIN" CHECK c1 "$P" net1 "$later")
es_expect_eq "CHECK fails with 111 when our own address is missing" \
	"$(jq -r '"\(.code) \(.msg | contains("10.78.0.5"))"' <<<"$res")" "111 true"
cni_exec "$CNI_BIN" DEL c1 "$P" net1 "$chk" >/dev/null
cni_exec "$CNI_REF/macvlan" DEL c1 "$P" eth0 "$first" >/dev/null

# A prevResult's addresses that are not ours: the reference's on its eth0
# (interface 0), one without "interface" (optional in the spec), one whose
# index names no interface of the prevResult (it would name ours).
cni_pod pc || exit 1; PC=$(cni_pod_path pc)
prev=$(cni_exec "$CNI_REF/macvlan" ADD c2 "$PC" eth0 "$first" |
	jq -c '.ips += [{address: "10.80.0.7/24", gateway: "10.80.0.1"},
			{address: "10.82.0.7/24", interface: 1}]')
own=$(cni_conf ours macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"static\",
	\"addresses\":[{\"address\":\"10.81.0.5/24\",\"gateway\":\"10.81.0.1\"}],
	\"routes\":[{\"dst\":\"10.203.0.0/16\"}]}}")
out=$(cni_exec "$CNI_BIN" ADD c2 "$PC" net1 "$(jq -c --argjson p "$prev" '.prevResult = $p' <<<"$own")")
es_expect_eq "prevResult ips without or with another interface: net1 has only its IPAM's address" \
	"$(es_in pc ip -j addr show dev net1 | jq -c '[.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"]')" \
	'["10.81.0.5/24"]'
es_expect_eq "... its route without gw goes through its IPAM's gateway" \
	"$(es_in pc ip -j route show 10.203.0.0/16 | jq -r '.[] | "\(.gateway) \(.dev)"')" "10.81.0.1 net1"
es_expect_eq "... the result passes them through, each index naming its interface or none" \
	"$(jq -c '{i: [.interfaces[].name], ips: [.ips[] | "\(.address)@\(.interface)"]}' <<<"$out")" \
	"$(jq -c '{i: ["eth0", "net1"], ips: ([.ips[0] | "\(.address)@0"] +
		["10.80.0.7/24@null", "10.82.0.7/24@null", "10.81.0.5/24@1"])}' <<<"$prev")"
# later plugins' addresses, one without interface, one naming net1: on no link
chk=$(jq -c --argjson p "$out" '.prevResult = ($p | .ips += [{address: "10.84.0.9/24"},
	{address: "10.85.0.9/24", interface: 1}])' <<<"$own")
es_check "CHECK verifies only its own IPAM's addresses" \
	cni_exec "$CNI_BIN" CHECK c2 "$PC" net1 "$chk"
cni_exec "$CNI_BIN" DEL c2 "$PC" net1 "$chk" >/dev/null
cni_exec "$CNI_REF/macvlan" DEL c2 "$PC" eth0 "$first" >/dev/null

# CHECK of a 1.1.0 network: the IPAM plugins speak 1.0.0 and parse the prevResult
cni_pod pb || exit 1; PB=$(cni_pod_path pb)
for ipam in "{\"type\":\"static\",\"addresses\":[{\"address\":\"10.79.0.5/24\",\"gateway\":\"10.79.0.1\"}],
		\"routes\":[{\"dst\":\"10.201.0.0/16\"}]}" \
	    "{\"type\":\"host-local\",\"subnet\":\"10.79.1.0/24\",\"dataDir\":\"$ES_TMP/hl11\"}"; do
	t=$(jq -r .type <<<"$ipam")
	c=$(cni_conf ours macvlan 1.1.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":$ipam}")
	r=$(cni_exec "$CNI_BIN" ADD "v$t" "$PB" eth0 "$c")
	out=$(cni_exec "$CNI_BIN" CHECK "v$t" "$PB" eth0 "$(jq -c --argjson r "$r" '. + {prevResult: $r}' <<<"$c")")
	es_expect_eq "CHECK at 1.1.0 with $t IPAM (1.0.0): success" "$?:$(code "$out")" "0:0"
	cni_exec "$CNI_BIN" DEL "v$t" "$PB" eth0 "$c" >/dev/null
	cni_gone pb
done

# A route with a "table" (CNI 1.1): ADD adds it there, CHECK looks for it
# there. A stand-in IPAM gives it (Debian 12's plugins know no "table").
mkdir -p "$ES_TMP/bin"
cat >"$ES_TMP/bin/ipamtable" <<'EOF'
#!/bin/bash
cat >/dev/null
case $CNI_COMMAND in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}' ;;
ADD) echo '{"cniVersion":"1.1.0","ips":[{"address":"10.86.0.5/24","gateway":"10.86.0.1"}],
	"routes":[{"dst":"10.204.0.0/16","gw":"10.86.0.1","table":100}]}' ;;
esac
exit 0
EOF
chmod +x "$ES_TMP/bin/ipamtable"
tc=$(cni_conf ours macvlan 1.1.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"ipamtable\"}}")
# tab CMD CONF: the plugin with the stand-in in CNI_PATH
tab() {
	CNI_COMMAND=$1 CNI_CONTAINERID=tab CNI_NETNS=$PB CNI_IFNAME=eth0 \
		CNI_PATH=$ES_TMP/bin:$CNI_REF nsenter --net="/run/netns/$(es_ns host)" "$CNI_BIN" <<<"$2"
}
r=$(tab ADD "$tc")
es_expect_eq "a route with table 100: ADD adds it to table 100, not to the main one" \
	"$(es_in pb ip -j route show table 100 10.204.0.0/16 |
		jq -r '.[] | "\(.gateway) \(.dev)"')/$(es_in pb ip -br route show 10.204.0.0/16)" \
	"10.86.0.1 eth0/"
tc=$(jq -c --argjson r "$r" '. + {prevResult: $r}' <<<"$tc")
out=$(tab CHECK "$tc")
es_expect_eq "... CHECK finds it there" "$?:$(code "$out")" "0:0"
# the same route in the main table is not the one the result names
es_in pb ip route del 10.204.0.0/16 table 100
es_in pb ip route add 10.204.0.0/16 via 10.86.0.1 dev eth0
out=$(tab CHECK "$tc")
es_expect_eq "... CHECK fails with 111 once it left table 100 (even for the main one)" \
	"$(jq -r '"\(.code) \(.msg | contains("10.204.0.0/16") and contains("table 100"))"' <<<"$out")" \
	"111 true"
tab DEL "$tc" >/dev/null
cni_gone pb

# dns: the IPAM's, with the network configuration's keys over it
c=$(cni_conf ours macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"dns\":{\"nameservers\":[\"10.0.0.53\"]},
	\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"10.79.2.5/24\"}],
	\"dns\":{\"nameservers\":[\"10.0.0.1\"],\"search\":[\"a.local\"]}}}")
r=$(cni_exec "$CNI_BIN" ADD dns1 "$PB" eth0 "$c")
es_expect_eq "dns: the configuration's nameservers over the IPAM's search" \
	"$(jq -S -c .dns <<<"$r")" '{"nameservers":["10.0.0.53"],"search":["a.local"]}'
cni_exec "$CNI_BIN" DEL dns1 "$PB" eth0 "$c" >/dev/null
cni_gone pb
r=$(cni_exec "$CNI_BIN" ADD dns2 "$PB" eth0 "$(cni_conf ours macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{}}")")
es_expect_eq "dns: an empty dns is given as {} (as the reference does)" "$(jq -c .dns <<<"$r")" '{}'
cni_exec "$CNI_BIN" DEL dns2 "$PB" eth0 "$(cni_conf ours macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{}}")" >/dev/null
r=$(cni_exec "$CNI_BIN" ADD dns3 "$PB" eth0 "$(jq -c '.dns = {nameservers: ["not-an-ip"]}' <<<"$c")")
es_expect_eq "dns: a malformed one is code 7 naming dns.nameservers" \
	"$(jq -r '"\(.code) \(.msg | contains("dns.nameservers"))"' <<<"$r")" "7 true"
es_done
