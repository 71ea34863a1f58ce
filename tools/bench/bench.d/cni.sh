#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift-cni against the reference plugins, same configs, one run:
# ADD+DEL time per pod (median of per-pod ratios; without and with the
# agent's pins, i.e. with the accounting attached by ADD) and iperf3
# between two macvlan pods and between two host-device pods (veth
# stand-ins), in interleaved rounds, accounting off and on.
# ADD+DEL is timed to the same end point for both plugins, two ways: from
# before ADD until the pod's link is gone as the kernel reports it (the
# RTM_DELLINK event, `ip -ts monitor link` in the pod namespace; the
# figure the goal is about), and until both that and DEL's return (the
# reference's DEL goes on ~20 ms after the event, waiting for the kernel
# to free the device; edgeshift-cni deletes in a child after DEL returns).
# ES_BENCH_CNI_ADDDEL_ONLY=1 stops after the ADD+DEL figures.
. "$(dirname "$0")/../../../selftests/lib.sh"
. "$(dirname "$0")/../../../selftests/cni/cni_lib.bash"
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
PODS=${ES_BENCH_CNI_PODS:-30}
SECS=${ES_BENCH_SECS:-3}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
now_ns() { date +%s%N; }
cni_host || exit 1
for i in a b; do cni_pod "$i" >/dev/null; done
cfg="{\"master\":\"$CNI_MASTER\",\"mode\":\"bridge\",\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"10.99.0.@N@/24\"}]}}"
conf() { cni_conf "$1" macvlan 1.0.0 "${cfg//@N@/$2}" "{\"dataplane\": ${3:-false}}"; }
# ES_BENCH_CNI_BEFORE=PATH: an older edgeshift-cni timed in the same ADD+DEL loop
BEFORE=${ES_BENCH_CNI_BEFORE:-}
bin() {
	case $1 in
	ours) echo "$CNI_BIN" ;;
	before) echo "$BEFORE" ;;
	*) echo "$CNI_REF/$2" ;;
	esac
}

# gone NS: waits (untimed) until edgeshift-cni's background delete is
# done, which must not overlap the next run
gone() { cni_gone "$1"; }

# The pod namespace's link events with their time (wall clock, UTC, the
# clock of now_ns), read after each run, outside the timed span.
MON=$OUT/cni_link_events
: >"$MON"
es_bg --out "$MON" es_in a env TZ=UTC ip -ts -o monitor link
for _ in $(seq 50); do
	es_in a ip link add "$(es_ifname mon)" type veth peer name "$(es_ifname monp)"
	es_in a ip link del "$(es_ifname mon)"
	grep -q Deleted "$MON" && break
	sleep 0.05
done
# deleted_ns LINES: when eth0's deletion was reported after the first LINES
# lines of the log (the monitor may lag the event by a few ms: wait)
deleted_ns() {
	local _ l
	for _ in $(seq 300); do
		l=$(tail -n +"$(($1 + 1))" "$MON" | grep -m1 -E 'Deleted [0-9]+: eth0[@:]')
		if [ -n "$l" ]; then
			TZ=UTC date -d "$(sed 's/^\[\([^]]*\)\].*/\1/' <<<"$l")" +%s%N
			return
		fi
		sleep 0.01
	done
	echo 0
}

# both NAME: per pod "ours_ms ref_ms" until DEL returned and the link is gone
both() {
	awk '$1 == "ours" { o[$2] = $8 } $1 == "ref" { r[$2] = $8 }
	     END { for (n in o) if (n in r) print o[n] + 0, r[n] + 0 }' "$OUT/cni_adddel_$1.detail"
}
# adddel NAME CFG DATAPLANE: ADD+DEL of $PODS pods, alternating edgeshift-cni
# and the reference; prints "ratio ours_ms ref_ms" to the link-gone event,
# then the same until DEL returned and the link is gone (medians, per-pod
# ratios)
adddel() {
	local n who c t0 t1 te l0 t_ours t_ref t_before
	echo "ADD+DEL of $PODS macvlan pods ($1), alternating edgeshift-cni and the reference" >&2
	: >"$OUT/cni_adddel_$1"
	: >"$OUT/cni_adddel_$1.detail"
	for n in $(seq "$PODS"); do
		t_ours=0; t_ref=0; t_before=0
		for who in ours ref ${BEFORE:+before}; do
			c=$(cni_conf "${who/before/ours}" macvlan 1.0.0 "${2//@N@/10}" "{\"dataplane\": $3}")
			l0=$(wc -l <"$MON")
			t0=$(now_ns)
			cni_exec "$(bin "$who" macvlan)" ADD "b$n" /run/netns/"$(es_ns a)" eth0 "$c" >/dev/null ||
				echo "ADD failed ($who)" >&2
			cni_exec "$(bin "$who" macvlan)" DEL "b$n" /run/netns/"$(es_ns a)" eth0 "$c" >/dev/null
			t1=$(now_ns)
			te=$(deleted_ns "$l0")
			[ "$te" = 0 ] && echo "no deletion event for eth0 ($who)" >&2
			eval "t_$who=$(( te - t0 ))"
			echo "$who $n returned_ms $(( (t1 - t0) / 1000 ))e-3 gone_ms $(( (te - t0) / 1000 ))e-3" \
				"both_ms $(( ((te > t1 ? te : t1) - t0) / 1000 ))e-3" >>"$OUT/cni_adddel_$1.detail"
			gone a
		done
		echo "$t_ours $t_ref $t_before" >>"$OUT/cni_adddel_$1"
	done
	[ -n "$BEFORE" ] && echo "$1: before/reference median ratio" \
		"$(awk '{ print $3 / $2 }' "$OUT/cni_adddel_$1" | median)," \
		"before $(awk '{ print $3 / 1e6 }' "$OUT/cni_adddel_$1" | median) ms" >&2
	echo "$(awk '{ print $1 / $2 }' "$OUT/cni_adddel_$1" | median)" \
		"$(awk '{ print $1 / 1e6 }' "$OUT/cni_adddel_$1" | median)" \
		"$(awk '{ print $2 / 1e6 }' "$OUT/cni_adddel_$1" | median)" \
		"$(both "$1" | awk '{ print $1 / $2 }' | median)" \
		"$(both "$1" | awk '{ print $1 }' | median)" \
		"$(both "$1" | awk '{ print $2 }' | median)"
}
read -r add_ratio ours_ms ref_ms add_bratio add_bours add_bref <<<"$(adddel static "$cfg" false)"
read -r l2_ratio l2_ours_ms l2_ref_ms l2_bratio l2_bours l2_bref <<<"$(adddel l2 "{\"master\":\"$CNI_MASTER\",\"mode\":\"bridge\",\"ipam\":{}}" false)"
# with the agent's pins: ADD attaches the accounting programs, DEL unpins them
# shellcheck disable=SC2034 # read by cni_conf
CNI_PINS=$(es_pin_path agent)
ES_AGENT_PORT=${ES_BENCH_CNI_AGENT_PORT:-9474}
es_agent_start host agent --cni-state-dir "$CNI_STATE" >&2 || exit 1
read -r dp_ratio dp_ours_ms dp_ref_ms dp_bratio dp_bours dp_bref <<<"$(adddel pins "$cfg" true)"
# adddel_table: the ADD+DEL rows, both end points
adddel_table() {
	printf '%-52s %10.1f %10.1f %8.3f %8s\n' \
		"ADD+DEL per pod, static IPAM, to link gone (ms)" "$ours_ms" "$ref_ms" "$add_ratio" "<=0.5" \
		"ADD+DEL per pod, no IPAM, to link gone (ms)" "$l2_ours_ms" "$l2_ref_ms" "$l2_ratio" "<=0.5" \
		"ADD+DEL, static IPAM, agent pins, to link gone (ms)" "$dp_ours_ms" "$dp_ref_ms" "$dp_ratio" "<=0.5" \
		"  same, static IPAM, to DEL returned + gone (ms)" "$add_bours" "$add_bref" "$add_bratio" "-" \
		"  same, no IPAM, to DEL returned + gone (ms)" "$l2_bours" "$l2_bref" "$l2_bratio" "-" \
		"  same, agent pins, to DEL returned + gone (ms)" "$dp_bours" "$dp_bref" "$dp_bratio" "-"
}
if [ "${ES_BENCH_CNI_ADDDEL_ONLY:-0}" = 1 ]; then
	printf '\n%-52s %10s %10s %8s %8s\n' figure edgeshift reference ratio goal
	adddel_table
	exit 0
fi

# iperf_pair KIND WHO DATAPLANE: Gbit/s from pod a to pod b
iperf_pair() {
	local who=$2 kind=$1 dp=$3 ca cb r
	if [ "$kind" = macvlan ]; then
		ca=$(conf "$who" 1 "$dp"); cb=$(conf "$who" 2 "$dp")
	else
		ca=$(cni_conf "$who" host-device 1.0.0 "{\"device\":\"$HDA\",\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"10.99.0.1/24\"}]}}" "{\"dataplane\": $dp}")
		cb=$(cni_conf "$who" host-device 1.0.0 "{\"device\":\"$HDB\",\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"10.99.0.2/24\"}]}}" "{\"dataplane\": $dp}")
	fi
	cni_exec "$(bin "$who" "$kind")" ADD pa /run/netns/"$(es_ns a)" eth0 "$ca" >/dev/null
	cni_exec "$(bin "$who" "$kind")" ADD pb /run/netns/"$(es_ns b)" eth0 "$cb" >/dev/null
	es_bg es_in b iperf3 -s -1 -p 5299
	es_wait_listen b t 5299 || echo "cni bench: iperf3 server not listening" >&2
	r=$(es_in a iperf3 -c 10.99.0.2 -p 5299 -t "$SECS" -J | jq '.end.sum_received.bits_per_second / 1e9')
	wait "$ES_BG_PID" 2>/dev/null
	cni_exec "$(bin "$who" "$kind")" DEL pa /run/netns/"$(es_ns a)" eth0 "$ca" >/dev/null
	cni_exec "$(bin "$who" "$kind")" DEL pb /run/netns/"$(es_ns b)" eth0 "$cb" >/dev/null
	gone a; gone b
	echo "${r:-0}"
}
HDA=$(es_ifname hda); HDB=$(es_ifname hdb)
cni_standin "$HDA" 1500 192.168.98.1/24 && cni_standin "$HDB" 1500 192.168.98.2/24
ip -n "$(es_ns wire)" link add "$(es_ifname br)" type bridge
for p in "${HDA}p" "${HDB}p"; do ip -n "$(es_ns wire)" link set "$p" master "$(es_ifname br)"; done
ip -n "$(es_ns wire)" link set "$(es_ifname br)" up
# rounds interleaved (ours, reference, ours, ...) so drift and noise hit
# both alike; the figure is the median of the per-round ratios.
ROUNDS=${ES_BENCH_CNI_ROUNDS:-5}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
# rounds KIND DATAPLANE: prints "median_ratio ours_gbps ref_gbps" (medians)
rounds() {
	local r o f
	: >"$OUT/cni_iperf_$1_$2"
	for r in $(seq "$ROUNDS"); do
		echo "iperf3 $1 accounting=$2 round $r/$ROUNDS" >&2
		o=$(iperf_pair "$1" ours "$2"); f=$(iperf_pair "$1" ref false)
		echo "$o $f $(ratio "$o" "$f")" >>"$OUT/cni_iperf_$1_$2"
	done
	echo "$(awk '{ print $3 }' "$OUT/cni_iperf_$1_$2" | median)" \
		"$(awk '{ print $1 }' "$OUT/cni_iperf_$1_$2" | median)" \
		"$(awk '{ print $2 }' "$OUT/cni_iperf_$1_$2" | median)"
}
declare -A tp
for kind in macvlan host-device; do
	for dp in false true; do
		read -r "tp[$kind-$dp-r]" "tp[$kind-$dp-o]" "tp[$kind-$dp-f]" <<<"$(rounds "$kind" "$dp")"
	done
done
printf '\n%-52s %10s %10s %8s %8s\n' figure edgeshift reference ratio goal
adddel_table
for kind in macvlan host-device; do
	for dp in false true; do
		printf '%-52s %10.2f %10.2f %8.3f %8s\n' "iperf3 $kind pods, accounting $([ $dp = true ] && echo on || echo off) (Gbit/s)" \
			"${tp[$kind-$dp-o]}" "${tp[$kind-$dp-f]}" "${tp[$kind-$dp-r]}" ">=0.98"
	done
done
jq -n --argjson ar "$add_ratio" --argjson om "$ours_ms" --argjson rm "$ref_ms" --argjson pods "$PODS" \
	--argjson lr "$l2_ratio" --argjson lo "$l2_ours_ms" --argjson lf "$l2_ref_ms" \
	--argjson dr "$dp_ratio" --argjson do "$dp_ours_ms" --argjson df "$dp_ref_ms" \
	--argjson rounds "$ROUNDS" --argjson secs "$SECS" \
	--argjson mv0 "${tp[macvlan-false-r]}" --argjson mv1 "${tp[macvlan-true-r]}" \
	--argjson hd0 "${tp[host-device-false-r]}" --argjson hd1 "${tp[host-device-true-r]}" \
	--argjson abr "$add_bratio" --argjson lbr "$l2_bratio" --argjson dbr "$dp_bratio" \
	'{end_point: "link gone (RTM_DELLINK seen in the pod namespace); *_returned_and_gone: also DEL returned",
	  add_del: {pods: $pods, ours_ms_median: $om, ref_ms_median: $rm, ratio_median: $ar,
		    ratio_returned_and_gone: $abr},
	  add_del_no_ipam: {ours_ms_median: $lo, ref_ms_median: $lf, ratio_median: $lr,
			   ratio_returned_and_gone: $lbr},
	  add_del_agent_pins: {ours_ms_median: $do, ref_ms_median: $df, ratio_median: $dr,
			      ratio_returned_and_gone: $dbr},
	  iperf3: {rounds: $rounds, seconds: $secs, ratio: "median of per-round ratios",
		   macvlan_ratio_accounting_off: $mv0, macvlan_ratio_accounting_on: $mv1,
		   host_device_ratio_accounting_off: $hd0, host_device_ratio_accounting_on: $hd1}}' >"$OUT/cni.json"
