#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# CNI SPEC.md sections 2 to 5, one test per MUST and SHOULD that applies
# to a main plugin delegating IPAM (ADD, DEL, CHECK, STATUS, VERSION, GC,
# prevResult, versions 0.3.0 to 1.1.0, error codes), each run against
# edgeshift-cni and against Debian's reference plugin (macvlan, or
# host-device for the host-device rows) with real delegates only:
# host-local, static, dhcp (its daemon) and es-ipamd. Each line gives both
# verdicts; the test passes when edgeshift-cni meets the requirement.
# With ES_CNI_TABLE=FILE the rows are also written there as a Markdown
# table (docs/cni.md, "Conformance").
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cni_lib.bash"
es_require_root "cni conformance"
cni_require "cni conformance"
es_plan 52
cni_host || exit 1
N=0
TABLE=${ES_CNI_TABLE:-$ES_TMP/table.md}
: >"$TABLE"

# row SECTION LEVEL TEXT FUNCTION [REF]: runs FUNCTION ours and FUNCTION
# ref (REF "-": no reference plugin has the feature); each sets V.
row() {
	local sec=$1 lvl=$2 text=$3 fn=$4 ref=${5:-ref} o r
	# pass_if judges its own command only: a row's later conditions (&&) fail it by status
	V=fail; "$fn" ours || V=fail; o=$V
	if [ "$ref" = - ]; then r=n/a; else V=fail; "$fn" ref || V=fail; r=$V; fi
	echo "| $sec | $lvl | $text | $o | $r |" >>"$TABLE"
	if [ "$o" = pass ]; then es_ok "[$sec $lvl] $text: edgeshift $o, reference $r"
	else es_not_ok "[$sec $lvl] $text: edgeshift $o, reference $r"; fi
}
pass_if() { if "$@"; then V=pass; else V=fail; fi; }
# pod: a fresh pod namespace in P (path) and PN (name), a fresh container id in C
pod() { N=$((N + 1)); PN=q$N; C=$1-c$N; cni_pod "$PN" || exit 1; P=$(cni_pod_path "$PN"); }
bin() { if [ "$1" = ours ]; then echo "$CNI_BIN"; else echo "$CNI_REF/${2:-macvlan}"; fi; }
hl() { echo "{\"type\":\"host-local\",\"subnet\":\"$2\",\"gateway\":\"${2%.0/24}.1\",
	\"routes\":[{\"dst\":\"10.250.0.0/16\"}],\"dataDir\":\"$ES_TMP/hl-$1\"}"; }
# net WHO VERSION [IPAM] [EXTRA]: a macvlan network on the test master
net() {
	local ipam=${3:-$(hl "$1" "$( [ "$1" = ours ] && echo 10.61.0.0/24 || echo 10.62.0.0/24)")}
	cni_conf "$1" macvlan "$2" "{\"master\":\"$CNI_MASTER\",\"ipam\":$ipam}" "${4:-{\}}"
}
run() { cni_exec "$(bin "$1" "${7:-}")" "$2" "$3" "$4" "$5" "$6"; }
has_if() { es_in "$1" ip link show dev "$2" >/dev/null 2>&1; }
gone_if() { local _; for _ in $(seq 300); do has_if "$1" "$2" || return 0; sleep 0.01; done; return 1; }
reserved() { grep -rlw "$2" "$ES_TMP/hl-$1" 2>/dev/null | wc -l; }
code_of() { jq -r '.code // empty' <<<"$1" 2>/dev/null; }
with_prev() { jq -c --argjson r "$2" '. + {prevResult: $r}' <<<"$1"; }
nocmd() {	# CMD CONF WHO [CNI_PATH]: STATUS/GC, no attachment parameters
	CNI_COMMAND=$1 CNI_PATH=${4:-$CNI_REF} nsenter --net="/run/netns/$(es_ns host)" \
		"$(bin "$3")" <<<"$2"
}

# ---- Section 2: execution protocol ----
t_exit() {
	pod "$1"; local c; c=$(net "$1" 1.0.0)
	run "$1" ADD "$C" "$P" eth0 "$c" >/dev/null; local a=$?
	run "$1" ADD "$C-x" "$P" eth1 "$(jq -c '.master = "nosuchnic0"' <<<"$c")" >/dev/null; local b=$?
	pass_if [ "$a" = 0 ] && [ "$b" != 0 ]
}
t_errjson() {
	pod "$1"; local o
	o=$(run "$1" ADD "$C" "$P" eth0 "$(jq -c '.master = "nosuchnic0"' <<<"$(net "$1" 1.0.0)")")
	pass_if jq -e '(.cniVersion | type == "string") and (.code | type == "number") and (.msg | type == "string")' <<<"$o" >/dev/null
}
t_add_iface() {
	pod "$1"; run "$1" ADD "$C" "$P" net3 "$(net "$1" 1.0.0)" >/dev/null
	pass_if has_if "$PN" net3
}
t_add_result() {
	pod "$1"; local o; o=$(run "$1" ADD "$C" "$P" eth0 "$(net "$1" 1.0.0)")
	pass_if jq -e --arg p "$P" '.interfaces | any(.name == "eth0" and .sandbox == $p and (.mac | test("^([0-9a-f]{2}:){5}[0-9a-f]{2}$")))' <<<"$o" >/dev/null
}
t_clash() {
	pod "$1"; es_in "$PN" ip link add eth0 type veth peer name eth0p
	run "$1" ADD "$C" "$P" eth0 "$(net "$1" 1.0.0)" >/dev/null
	pass_if [ $? != 0 ] && [ "$(reserved "$1" "$C")" = 0 ]
}
t_ifname_bad() {
	pod "$1"; local o; o=$(run "$1" ADD "$C" "$P" "a-name-far-too-long" "$(net "$1" 1.0.0)")
	pass_if [ -n "$(code_of "$o")" ] && [ "$(reserved "$1" "$C")" = 0 ]
}
# chained after the reference macvlan (eth0, default route via its gateway);
# JQ, when given, edits its result before it becomes our prevResult
chain() {
	pod "$1"
	FIRST=$(cni_conf ref macvlan 1.0.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"host-local\",
		\"subnet\":\"10.63.$N.0/24\",\"gateway\":\"10.63.$N.1\",
		\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.63.$N.1\"}],
		\"dataDir\":\"$ES_TMP/hl-first\"}}")
	PREV=$(run ref ADD "$C" "$P" eth0 "$FIRST" | jq -c "${2:-.}")
	OUT=$(run "$1" ADD "$C" "$P" net1 "$(net "$1" 1.0.0 "" "{\"prevResult\":$PREV}")")
}
t_prev_pass() {
	chain "$1"
	pass_if jq -e --argjson p "$PREV" '(.interfaces[0] == $p.interfaces[0]) and
		([$p.ips[].address] - [.ips[].address] == []) and ($p.routes - .routes == [])' <<<"$OUT" >/dev/null
}
t_prev_not_applied() {
	chain "$1"
	pass_if [ -z "$(code_of "$OUT")" ] && has_if "$PN" net1 &&
		[ "$(es_in "$PN" ip -j route show default | jq -r '[.[].dev] | join(",")')" = eth0 ]
}
# the spec makes ips[].interface optional: one without it is not this plugin's
t_prev_ips() {
	chain "$1" '.ips += [{address: "10.68.0.7/24"}]'
	local have
	have=$(es_in "$PN" ip -j addr show dev net1 | jq -c '[.[0].addr_info[] | select(.family == "inet")]')
	pass_if [ -z "$(code_of "$OUT")" ] && [ "$(jq length <<<"$have")" = 1 ] &&
		! grep -q 10.68.0.7 <<<"$have" &&
		jq -e '.ips | any(.address == "10.68.0.7/24" and (has("interface") | not))' <<<"$OUT" >/dev/null
}
t_del() {
	pod "$1"; local c; c=$(net "$1" 1.0.0)
	run "$1" ADD "$C" "$P" eth0 "$c" >/dev/null
	run "$1" DEL "$C" "$P" eth0 "$c" >/dev/null
	pass_if [ $? = 0 ] && gone_if "$PN" eth0 && [ "$(reserved "$1" "$C")" = 0 ]
}
t_del_twice() {
	pod "$1"; local c a b; c=$(net "$1" 1.0.0)
	run "$1" ADD "$C" "$P" eth0 "$c" >/dev/null
	run "$1" DEL "$C" "$P" eth0 "$c" >/dev/null; a=$?
	run "$1" DEL "$C" "$P" eth0 "$c" >/dev/null; b=$?
	pass_if [ "$a$b" = 00 ]
}
t_del_prev() {
	pod "$1"; local c o; c=$(net "$1" 1.0.0)
	o=$(run "$1" ADD "$C" "$P" eth0 "$c")
	run "$1" DEL "$C" "$P" eth0 "$(with_prev "$c" "$o")" >/dev/null
	pass_if [ $? = 0 ] && [ "$(reserved "$1" "$C")" = 0 ]
}
t_del_nsgone() {
	pod "$1"; local c; c=$(net "$1" 1.0.0)
	run "$1" ADD "$C" "$P" eth0 "$c" >/dev/null
	ip netns del "$(es_ns "$PN")"
	run "$1" DEL "$C" "$P" eth0 "$c" >/dev/null
	pass_if [ $? = 0 ] && [ "$(reserved "$1" "$C")" = 0 ]
}
t_del_nonetns() {
	pod "$1"; local c; c=$(net "$1" 1.0.0)
	run "$1" ADD "$C" "$P" eth0 "$c" >/dev/null
	run "$1" DEL "$C" "" eth0 "$c" >/dev/null
	pass_if [ $? = 0 ] && [ "$(reserved "$1" "$C")" = 0 ] && gone_if "$PN" eth0
}
t_del_nonetns_hd() {
	pod "$1"; local d c before; d=$(es_ifname "h${1:0:1}")
	c=$(cni_conf "$1" host-device 1.0.0 "{\"device\":\"$d\"}")
	before=$(cni_host_link "$d")
	run "$1" ADD "$C" "$P" net0 "$c" host-device >/dev/null
	run "$1" DEL "$C" "" net0 "$c" host-device >/dev/null
	pass_if [ $? = 0 ] && [ "$(cni_host_link "$d")" = "$before" ]
	local st=$?
	# put it back for the next row whatever happened
	es_in "$PN" ip link set net0 netns "$(es_ns host)" 2>/dev/null
	ip -n "$(es_ns host)" link set net0 name "$d" 2>/dev/null
	ip -n "$(es_ns host)" link set "$d" up 2>/dev/null
	return $st
}
# an IPAM result whose route cannot be added: the plugin fails after IPAM
bad_route_net() {
	net "$1" 1.0.0 "{\"type\":\"host-local\",\"subnet\":\"10.64.$N.0/24\",
		\"routes\":[{\"dst\":\"10.251.0.0/16\",\"gw\":\"192.0.2.1\"}],\"dataDir\":\"$ES_TMP/hl-$1\"}"
}
t_add_fail_undo() {
	pod "$1"; local c; c=$(bad_route_net "$1")
	run "$1" ADD "$C" "$P" eth0 "$c" >/dev/null
	pass_if [ $? != 0 ] && [ "$(reserved "$1" "$C")" = 0 ] && gone_if "$PN" eth0
}
t_del_after_fail() {
	pod "$1"; local c; c=$(bad_route_net "$1")
	run "$1" ADD "$C" "$P" eth0 "$c" >/dev/null
	run "$1" DEL "$C" "$P" eth0 "$c" >/dev/null
	pass_if [ $? = 0 ]
}
added() { pod "$1"; CONF=$(net "$1" 1.0.0); OUT=$(run "$1" ADD "$C" "$P" eth0 "$CONF"); }
t_check_ok() { added "$1"; run "$1" CHECK "$C" "$P" eth0 "$(with_prev "$CONF" "$OUT")" >/dev/null; pass_if [ $? = 0 ]; }
t_check_noprev() { added "$1"; run "$1" CHECK "$C" "$P" eth0 "$CONF" >/dev/null; pass_if [ $? != 0 ]; }
t_check_addr() {
	added "$1"; es_in "$PN" ip addr del "$(jq -r '.ips[0].address' <<<"$OUT")" dev eth0
	run "$1" CHECK "$C" "$P" eth0 "$(with_prev "$CONF" "$OUT")" >/dev/null; pass_if [ $? != 0 ]
}
t_check_iface() {
	added "$1"; es_in "$PN" ip link del eth0
	run "$1" CHECK "$C" "$P" eth0 "$(with_prev "$CONF" "$OUT")" >/dev/null; pass_if [ $? != 0 ]
}
t_check_route() {
	added "$1"; es_in "$PN" ip link add x0 type veth peer name x1
	es_in "$PN" ip link set x1 up; es_in "$PN" ip link set x0 up
	es_in "$PN" ip route del 10.250.0.0/16
	es_in "$PN" ip route add 10.250.0.0/16 dev x0
	es_in "$PN" ip route add 10.252.0.0/16 dev x0
	run "$1" CHECK "$C" "$P" eth0 "$(with_prev "$CONF" "$(jq -c '.routes += [{"dst": "10.252.0.0/16"}]' <<<"$OUT")")" >/dev/null
	pass_if [ $? = 0 ]
}
t_check11() {
	pod "$1"; local c o
	c=$(net "$1" 1.1.0 '{"type":"static","addresses":[{"address":"10.66.0.5/24"}]}')
	o=$(run "$1" ADD "$C" "$P" eth0 "$c")
	run "$1" CHECK "$C" "$P" eth0 "$(with_prev "$c" "$o")" >/dev/null; pass_if [ $? = 0 ]
}
t_check_ipam() {
	added "$1"; rm -f "$(grep -rlw "$C" "$ES_TMP/hl-$1")"
	run "$1" CHECK "$C" "$P" eth0 "$(with_prev "$CONF" "$OUT")" >/dev/null; pass_if [ $? != 0 ]
}
dhcp_net() {
	cni_conf "$1" macvlan 1.1.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"dhcp\",
		\"daemonSocketPath\":\"$ES_TMP/dhcp-$2.sock\"}}"
}
t_status_ready() { nocmd STATUS "$(net "$1" 1.1.0)" "$1" >/dev/null; pass_if [ $? = 0 ]; }
t_status_dhcp() {
	local a b
	es_bg --log "$ES_TMP/dhcpd-$1.log" es_in host "$CNI_REF/dhcp" daemon -socketpath "$ES_TMP/dhcp-$1.sock"
	for _ in $(seq 100); do [ -S "$ES_TMP/dhcp-$1.sock" ] && break; sleep 0.05; done
	nocmd STATUS "$(dhcp_net "$1" "$1")" "$1" >/dev/null; a=$?
	b=$(code_of "$(nocmd STATUS "$(dhcp_net "$1" none)" "$1")")
	pass_if [ "$a" = 0 ] && [ "$b" = 50 ]
}
t_status_ipamd() {
	local c a b
	c=$(cni_conf "$1" macvlan 1.1.0 "{\"master\":\"$CNI_MASTER\",\"ipam\":{\"type\":\"vdhcp\",
		\"network\":\"vnet\",\"timeoutMs\":1000,\"servers\":[{\"url\":\"http://127.0.0.1:18480/ipam/\",
		\"user\":\"cni\",\"password\":\"pw\"}]}}")
	nocmd STATUS "$c" "$1" >/dev/null; a=$?
	b=$(code_of "$(nocmd STATUS "$(sed 's/18480/18489/' <<<"$c")" "$1")")
	pass_if [ "$a" = 0 ] && [ "$b" = 50 ]
}
t_status_pool() {
	local d c a b; d=$(es_ifname "h${1:0:1}"); pod "$1"
	c=$(cni_conf "$1" host-device 1.1.0 "{\"devices\":[\"$d\"]}")
	nocmd STATUS "$c" "$1" >/dev/null; a=$?
	run "$1" ADD "$C" "$P" net0 "$c" >/dev/null
	b=$(code_of "$(nocmd STATUS "$c" "$1")")
	run "$1" DEL "$C" "$P" net0 "$c" >/dev/null
	pass_if [ "$a" = 0 ] && [ "$b" = 50 ]
}
t_version() {
	local o; o=$(CNI_COMMAND=VERSION "$(bin "$1")" <<<'{"cniVersion":"0.4.0"}')
	pass_if jq -e '.cniVersion == "0.4.0" and (.supportedVersions | index("0.4.0") != null)' <<<"$o" >/dev/null
}
gc_setup() {
	GCONF=$(net "$1" 1.1.0); pod "$1"; C1=$C; P1=$P
	run "$1" ADD "$C1" "$P1" eth0 "$GCONF" >/dev/null
	pod "$1"; C2=$C; P2=$P
	run "$1" ADD "$C2" "$P2" eth0 "$GCONF" >/dev/null
	GVALID=$(jq -c --arg c "$C2" '. + {"cni.dev/valid-attachments": [{containerID: $c, ifname: "eth0"}]}' <<<"$GCONF")
}
t_gc() {
	local o; gc_setup "$1"; o=$(nocmd GC "$GVALID" "$1")
	pass_if [ $? = 0 ] && [ -z "$o" ] && [ "$(reserved "$1" "$C1")" = 0 ] && [ "$(reserved "$1" "$C2")" = 1 ]
}
t_gc_keep() {
	gc_setup "$1"; nocmd GC "$GVALID" "$1" >/dev/null
	pass_if has_if "q$N" eth0 && [ "$(reserved "$1" "$C2")" = 1 ]
}
# meta form: delegate "a" on host-local, "b" on es-ipamd, which then stops
t_gc_continue() {
	local m o ca cb
	m=$(jq -c -n --arg m "$CNI_MASTER" --arg s "$CNI_STATE" --arg p "$CNI_PINS" \
		--argjson hl "$(hl ours 10.67.0.0/24)" '{cniVersion: "1.1.0", name: "gcmeta",
		type: "multicni", stateDir: $s, pinPath: $p, default: "a", plugins: [
		{name: "a", type: "macvlan", master: $m, ipam: $hl},
		{name: "b", type: "macvlan", master: $m, ipam: {type: "vdhcp", network: "vnet",
		 timeoutMs: 1000, servers: [{url: "http://127.0.0.1:18480/ipam/", user: "cni",
		 password: "pw"}]}}]}')
	pod "$1"; ca=$C; cni_exec "$CNI_BIN" ADD "$ca" "$P" eth0 "$m" "EDGESHIFT_NETWORK=a" >/dev/null
	pod "$1"; cb=$C; cni_exec "$CNI_BIN" ADD "$cb" "$P" eth0 "$m" "EDGESHIFT_NETWORK=b" >/dev/null
	kill "$IPAMD_PID"; wait "$IPAMD_PID" 2>/dev/null
	o=$(nocmd GC "$(jq -c '. + {"cni.dev/valid-attachments": []}' <<<"$m")" "$1")
	pass_if [ "$(code_of "$o")" = 100 ] && [ "$(reserved "$1" "$ca")" = 0 ] &&
		[ ! -e "$CNI_STATE/attachments/gcmeta/$ca-eth0.json" ] &&
		[ -e "$CNI_STATE/attachments/gcmeta/$cb-eth0.json" ]
}
t_gc_err() { local o; o=$(nocmd GC "$(net "$1" 1.1.0)" "$1"); pass_if [ -n "$(code_of "$o")" ]; }
t_ifargs() {
	local o; pod "$1"
	o=$(CNI_COMMAND=ADD CNI_NETNS=$P CNI_IFNAME=eth0 CNI_PATH=$CNI_REF \
		nsenter --net="/run/netns/$(es_ns host)" "$(bin "$1")" <<<"$(net "$1" 1.0.0)")
	pass_if [ "$(code_of "$o")" = 4 ] && grep -q CNI_CONTAINERID <<<"$o"
}
t_concurrent() {
	local i c pids=() ok=0; c=$(net "$1" 1.0.0)
	for i in 1 2 3 4 5 6 7 8; do pod "$1"; eval "CP$i=$P CC$i=$C"; done
	for i in 1 2 3 4 5 6 7 8; do
		eval "run \"$1\" ADD \"\$CC$i\" \"\$CP$i\" eth0 \"\$c\"" >"$ES_TMP/par-$1-$i.json" &
		pids+=($!)
	done
	wait "${pids[@]}"
	ok=$(cat "$ES_TMP"/par-"$1"-*.json | jq -r '.ips[0].address // empty' | sort -u | wc -l)
	pass_if [ "$ok" = 8 ]
}
t_multi() {
	pod "$1"; local c a b; c=$(net "$1" 1.0.0)
	run "$1" ADD "$C" "$P" eth0 "$c" >/dev/null; a=$?
	run "$1" ADD "$C" "$P" eth1 "$c" >/dev/null; b=$?
	run "$1" DEL "$C" "$P" eth1 "$c" >/dev/null
	pass_if [ "$a$b" = 00 ] && has_if "$PN" eth0 && gone_if "$PN" eth1
}

# ---- Section 4: delegation ----
t_deleg_path() {
	pod "$1"; local o; o=$(run "$1" ADD "$C" "$P" eth0 "$(net "$1" 1.0.0 '{"type":"nosuchipam"}')")
	pass_if [ -n "$(code_of "$o")" ] && gone_if "$PN" eth0
}
t_deleg_conf() {
	pod "$1"; run "$1" ADD "$C" "$P" eth0 "$(net "$1" 1.0.0)" >/dev/null
	# host-local keys its store by the network's name: it saw the whole configuration
	pass_if [ -n "$(grep -rlw "$C" "$ES_TMP/hl-$1/esnet" 2>/dev/null)" ]
}
t_deleg_env() {
	pod "$1"; run "$1" ADD "$C" "$P" net7 "$(net "$1" 1.0.0)" >/dev/null
	pass_if grep -rqw net7 "$ES_TMP/hl-$1"
}

# ---- Section 5: results ----
t_version_n() {	# WHO VERSION
	pod "$1"; local c o; c=$(net "$1" "$2")
	o=$(run "$1" ADD "$C" "$P" eth0 "$c")
	run "$1" DEL "$C" "$P" eth0 "$c" >/dev/null
	if [[ $2 = 0.* ]]; then
		pass_if jq -e --arg v "$2" '.cniVersion == $v and (.ips | all(.version == "4"))' <<<"$o" >/dev/null
	else
		pass_if jq -e --arg v "$2" '.cniVersion == $v and (.ips | all(has("version") | not))' <<<"$o" >/dev/null
	fi
}
for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do eval "t_v${v//./_}() { t_version_n \"\$1\" $v; }"; done
t_ips() {
	added "$1"
	pass_if jq -e '(.ips | length > 0) and (.ips | all(.address | test("/[0-9]+$"))) and
		(.ips | all(.interface < ($r.interfaces | length)))' --argjson r "$OUT" <<<"$OUT" >/dev/null
}
t_routes() { added "$1"; pass_if jq -e '.routes | any(.dst == "10.250.0.0/16")' <<<"$OUT" >/dev/null; }
t_dns() { added "$1"; pass_if jq -e '.dns | type == "object"' <<<"$OUT" >/dev/null; }
t_err_code() {	# WHO WANT CONF-EDIT
	pod "$1"; local o; o=$(run "$1" ADD "$C" "$P" eth0 "$3")
	pass_if [ "$(code_of "$o")" = "$2" ]
}
t_err1() { t_err_code "$1" 1 "$(jq -c '.cniVersion = "9.9.9"' <<<"$(net "$1" 1.0.0)")"; }
t_err6() { t_err_code "$1" 6 '{"cniVersion": "1.0.0", "name": '; }
t_err7() { t_err_code "$1" 7 "$(jq -c '.mode = "bridged"' <<<"$(net "$1" 1.0.0)")"; }
t_err2() {
	local o; pod "$1"
	o=$(run "$1" ADD "$C" "$P" net0 "$(cni_conf "$1" host-device 1.0.0 '{"kernelpath":"/sys/x"}')")
	pass_if [ "$(code_of "$o")" = 2 ] && grep -q kernelpath <<<"$o" && grep -q /sys/x <<<"$o"
}
t_err3() {
	local o; o=$(run "$1" CHECK c3 "/run/netns/nonexistent-$ES_PREFIX" eth0 \
		"$(with_prev "$(net "$1" 1.0.0)" '{"cniVersion":"1.0.0","interfaces":[]}')")
	pass_if [ "$(code_of "$o")" = 3 ]
}

# es-ipamd for the STATUS row; host-device stand-in NICs for both plugins
cat >"$ES_TMP/ipamd.json" <<EOF
{"users": [{"user": "cni", "password": "pw"}], "basePath": "/ipam/",
 "networks": [{"name": "vnet", "subnet": "10.65.0.0/24", "gateway": "10.65.0.1"}]}
EOF
es_bg --log "$ES_TMP/ipamd.log" es_in host "$ES_BUILD/es-ipamd" --config "$ES_TMP/ipamd.json" \
	--state "$ES_TMP/ipamd.state" --listen 127.0.0.1:18480
IPAMD_PID=$ES_BG_PID
cni_standin "$(es_ifname ho)" 1500 192.168.75.1/24 && cni_standin "$(es_ifname hr)" 1500 192.168.76.1/24 || exit 1
for _ in $(seq 50); do es_in host curl -sf -m 1 http://127.0.0.1:18480/ipam/healthz >/dev/null && break; sleep 0.1; done

row "2 exit" MUST "exit 0 on success, non-zero on failure" t_exit
row "2 errors" SHOULD "a failure prints the error result (cniVersion, code, msg)" t_errjson
row "2 ADD" SHOULD "creates CNI_IFNAME in CNI_NETNS" t_add_iface
row "2 ADD" MUST "prints a result on success" t_add_result
row "2 ADD" MUST "errors when CNI_IFNAME exists in the container (and leaks nothing)" t_clash
row "2 params" MUST "errors when it cannot use CNI_IFNAME (and leaks nothing)" t_ifname_bad
row "2 ADD" MUST "prevResult passed through (chained after macvlan)" t_prev_pass
row "2 ADD" MUST "prevResult not re-applied on its own link" t_prev_not_applied
row "2 ADD" MUST "prevResult's ips without interface passed through, not applied" t_prev_ips
row "2 DEL" SHOULD "deletes the interface, releases IPAM" t_del
row "2 DEL" MUST "accepts DEL twice, both succeed" t_del_twice
row "2 DEL" SHOULD "DEL with the ADD's prevResult succeeds and releases" t_del_prev
row "2 DEL" SHOULD "best effort: netns gone, IPAM still released" t_del_nsgone
row "2 DEL" SHOULD "CNI_NETNS optional: DEL without it cleans up the pod" t_del_nonetns
row "2 DEL" SHOULD "CNI_NETNS optional: host-device NIC back as it was" t_del_nonetns_hd
row "2 CHECK" MUST "handles CHECK right after ADD" t_check_ok
row "2 CHECK" MUST "consults prevResult (none: error)" t_check_noprev
row "2 CHECK" SHOULD "errors when an address it created is missing" t_check_addr
row "2 CHECK" SHOULD "errors when the interface is missing" t_check_iface
row "2 CHECK" MUST "tolerates a later plugin's routes on another link" t_check_route
row "2 CHECK" SHOULD "runs CHECK on the IPAM delegate, passes its error on" t_check_ipam
row "2 CHECK" MUST "1.1.0 network, IPAM (static) at 1.0.0: prevResult converted" t_check11
row "2 STATUS" MUST "exit 0 when ready (1.1.0)" t_status_ready
row "2 STATUS" SHOULD "error (50) while the dhcp daemon it relies on is down" t_status_dhcp
row "2 STATUS" MUST "error (50) while its IPAM service (es-ipamd) is down" t_status_ipamd -
row "2 STATUS" SHOULD "error (50) when its resources (device pool) are used up" t_status_pool -
row "2 VERSION" MUST "cniVersion of the input and supportedVersions" t_version
row "2 GC" SHOULD "releases the IPAM reservations of stale attachments, no output" t_gc
row "2 GC" MUST "forwarded to the IPAM delegate; valid attachments kept" t_gc_keep
row "2 GC" MUST "error result on error (no valid-attachments)" t_gc_err
row "2 errors" MUST "code 4 names the missing variable" t_ifargs
row "3 lifecycle" MUST "concurrent ADDs of different containers (8 at once)" t_concurrent
row "3 params" MUST "one container, two attachments (ifnames)" t_multi
row "3 ADD" SHOULD "a failure after IPAM undoes IPAM and the link" t_add_fail_undo
row "3 lifecycle" MUST "DEL after a failed ADD succeeds" t_del_after_fail
row "4 delegation" MUST "delegate looked up in CNI_PATH (missing: error, nothing left)" t_deleg_path
row "4 delegation" MUST "delegate gets the complete network configuration" t_deleg_conf
row "4 delegation" MUST "delegate gets the same environment (CNI_IFNAME)" t_deleg_env
row "5 ADD" MUST "0.3.0: cniVersion echoed, ips carry version" t_v0_3_0
row "5 ADD" MUST "0.3.1: cniVersion echoed, ips carry version" t_v0_3_1
row "5 ADD" MUST "0.4.0: cniVersion echoed, ips carry version" t_v0_4_0
row "5 ADD" MUST "1.0.0: cniVersion echoed, no ips version" t_v1_0_0
row "5 ADD" MUST "1.1.0: cniVersion echoed, no ips version" t_v1_1_0
row "5 ADD" MUST "ips: CIDR addresses, interface indexes into interfaces" t_ips
row "5 ADD" MUST "routes of the IPAM result" t_routes
row "5 ADD" MUST "dns is a dictionary" t_dns
row "5 errors" MUST "code 1: incompatible version" t_err1
row "5 errors" MUST "code 6: cannot decode the configuration" t_err6
row "5 errors" MUST "code 7: invalid network configuration" t_err7
row "5 errors" MUST "code 2 names the unsupported key and value" t_err2 -
row "5 errors" MUST "code 3: CHECK of a container that does not exist" t_err3
# last: it stops es-ipamd
row "2 GC" SHOULD "continues past an error (IPAM server down), reports it" t_gc_continue -
es_done
