#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# edgeshift-cni against the reference plugins, same configs, one run:
# ADD+DEL time per pod (median of per-pod ratios) and iperf3 between two
# macvlan pods and between two host-device pods (veth stand-ins).
. "$(dirname "$0")/../../selftests/lib.sh"
. "$(dirname "$0")/../../selftests/cni_lib.bash"
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
PODS=${ES_BENCH_CNI_PODS:-30}
SECS=${ES_BENCH_SECS:-3}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
now_ns() { date +%s%N; }
cni_host || exit 1
for i in a b; do cni_pod "$i" >/dev/null; done
cfg="{\"master\":\"$CNI_MASTER\",\"mode\":\"bridge\",\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"10.99.0.@N@/24\"}]}}"
conf() { cni_conf "$1" macvlan 1.0.0 "${cfg//@N@/$2}" '{"dataplane": false}'; }
bin() { if [ "$1" = ours ]; then echo "$CNI_BIN"; else echo "$CNI_REF/$2"; fi; }

# adddel NAME CFG: ADD+DEL of $PODS pods, alternating edgeshift-cni and the
# reference; prints "ratio ours_ms ref_ms" (medians, ratio of per-pod pairs)
adddel() {
	local n who c t0 t_ours t_ref
	echo "ADD+DEL of $PODS macvlan pods ($1), alternating edgeshift-cni and the reference" >&2
	: >"$OUT/cni_adddel_$1"
	for n in $(seq "$PODS"); do
		t_ours=0; t_ref=0
		for who in ours ref; do
			c=$(cni_conf "$who" macvlan 1.0.0 "${2//@N@/10}" '{"dataplane": false}')
			t0=$(now_ns)
			cni_exec "$(bin "$who" macvlan)" ADD "b$n" /run/netns/"$(es_ns a)" eth0 "$c" >/dev/null ||
				echo "ADD failed ($who)" >&2
			cni_exec "$(bin "$who" macvlan)" DEL "b$n" /run/netns/"$(es_ns a)" eth0 "$c" >/dev/null
			eval "t_$who=$(( $(now_ns) - t0 ))"
		done
		echo "$t_ours $t_ref" >>"$OUT/cni_adddel_$1"
	done
	echo "$(awk '{ print $1 / $2 }' "$OUT/cni_adddel_$1" | median)" \
		"$(awk '{ print $1 / 1e6 }' "$OUT/cni_adddel_$1" | median)" \
		"$(awk '{ print $2 / 1e6 }' "$OUT/cni_adddel_$1" | median)"
}
read -r add_ratio ours_ms ref_ms <<<"$(adddel static "$cfg")"
read -r l2_ratio l2_ours_ms l2_ref_ms <<<"$(adddel l2 "{\"master\":\"$CNI_MASTER\",\"mode\":\"bridge\",\"ipam\":{}}")"

iperf_pair() {	# KIND WHO: Gbit/s between pods a and b
	local who=$2 kind=$1 ca cb r
	if [ "$kind" = macvlan ]; then
		ca=$(conf "$who" 1); cb=$(conf "$who" 2)
	else
		ca=$(cni_conf "$who" host-device 1.0.0 "{\"device\":\"$HDA\",\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"10.99.0.1/24\"}]}}" '{"dataplane": false}')
		cb=$(cni_conf "$who" host-device 1.0.0 "{\"device\":\"$HDB\",\"ipam\":{\"type\":\"static\",\"addresses\":[{\"address\":\"10.99.0.2/24\"}]}}" '{"dataplane": false}')
	fi
	cni_exec "$(bin "$who" "$kind")" ADD pa /run/netns/"$(es_ns a)" eth0 "$ca" >/dev/null
	cni_exec "$(bin "$who" "$kind")" ADD pb /run/netns/"$(es_ns b)" eth0 "$cb" >/dev/null
	es_bg es_in b iperf3 -s -1 -p 5299
	sleep 0.3
	r=$(es_in a iperf3 -c 10.99.0.2 -p 5299 -t "$SECS" -J | jq '.end.sum_received.bits_per_second / 1e9')
	wait "$ES_BG_PID" 2>/dev/null
	cni_exec "$(bin "$who" "$kind")" DEL pa /run/netns/"$(es_ns a)" eth0 "$ca" >/dev/null
	cni_exec "$(bin "$who" "$kind")" DEL pb /run/netns/"$(es_ns b)" eth0 "$cb" >/dev/null
	echo "$r"
}
HDA=$(es_ifname hda); HDB=$(es_ifname hdb)
cni_standin "$HDA" 1500 192.168.98.1/24 && cni_standin "$HDB" 1500 192.168.98.2/24
ip -n "$(es_ns wire)" link add "$(es_ifname br)" type bridge
for p in "${HDA}p" "${HDB}p"; do ip -n "$(es_ns wire)" link set "$p" master "$(es_ifname br)"; done
ip -n "$(es_ns wire)" link set "$(es_ifname br)" up
declare -A tp
for kind in macvlan host-device; do
	for who in ours ref; do
		echo "iperf3 $kind $who" >&2
		tp[$kind-$who]=$(iperf_pair "$kind" "$who")
	done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
mv_ratio=$(ratio "${tp[macvlan-ours]}" "${tp[macvlan-ref]}")
hd_ratio=$(ratio "${tp[host-device-ours]}" "${tp[host-device-ref]}")
printf '\n%-40s %12s %12s %8s %8s\n' figure edgeshift reference ratio goal
printf '%-40s %12.1f %12.1f %8.3f %8s\n' "ADD+DEL per pod, static IPAM (ms)" "$ours_ms" "$ref_ms" "$add_ratio" "<=0.5"
printf '%-40s %12.1f %12.1f %8.3f %8s\n' "ADD+DEL per pod, no IPAM (ms)" "$l2_ours_ms" "$l2_ref_ms" "$l2_ratio" "<=0.5"
printf '%-40s %12.2f %12.2f %8s %8s\n' "iperf3 macvlan pods (Gbit/s)" "${tp[macvlan-ours]}" "${tp[macvlan-ref]}" "$mv_ratio" ">=0.98"
printf '%-40s %12.2f %12.2f %8s %8s\n' "iperf3 host-device pods (Gbit/s)" "${tp[host-device-ours]}" "${tp[host-device-ref]}" "$hd_ratio" ">=0.98"
jq -n --argjson ar "$add_ratio" --argjson om "$ours_ms" --argjson rm "$ref_ms" --argjson pods "$PODS" \
	--argjson mv "$mv_ratio" --argjson hd "$hd_ratio" --argjson lr "$l2_ratio" \
	--argjson lo "$l2_ours_ms" --argjson lf "$l2_ref_ms" \
	'{add_del: {pods: $pods, ours_ms_median: $om, ref_ms_median: $rm, ratio_median: $ar},
	  add_del_no_ipam: {ours_ms_median: $lo, ref_ms_median: $lf, ratio_median: $lr},
	  iperf3: {macvlan_ratio: $mv, host_device_ratio: $hd}}' >"$OUT/cni.json"
