#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Migration benchmark on the reference path (10 MB/s, 200 ms RTT):
# partial and complete migration of a small container and of one of the
# reference's size (image about 900 MB, memory 33 MB, writable layer 20 MB). Each
# time is set against its lower bound measured in the same run: bytes sent
# as Ethernet frames / link rate + 3 RTTs (prepare, transfer, restore
# requests; the RTT measured after ARP), against the floor under any
# protocol on a new connection (the frames + 2 RTTs: the handshake, and the
# last byte's way there with the answer's way back), and against
# the reference times of docs/benchmarks.md (partial 6.91 s, complete
# 124.90 s). Writes build/bench/migration.json.
#
# The link is the WAN emulator (es_wan, docs/wan-emulator.md).
# ES_MIG_BENCH_SIZES="small" (default "small paper") picks the containers,
# ES_MIG_BENCH_MODES="partial" (default "partial complete") the modes.
. "$(dirname "$0")/../../../selftests/lib.sh"
# shellcheck source=selftests/migration/migration.inc
. "$ES_ROOT/selftests/migration/migration.inc"
OUT=$ES_BUILD/bench
mkdir -p "$OUT"
RATE_MBS=10
SIZES=${ES_MIG_BENCH_SIZES:-small paper}
export MIG_STALL_MS=10000
DELAY_MS=100
# The agents start their peer connections with one bandwidth-delay product
# in flight (docs/migration.md, "TCP between agents"): the operator knows
# the path; ES_MIG_BENCH_IW=0 keeps the kernel's ten segments.
# Past the first flight the window is clamped between the pipe (one BDP)
# and pipe plus queue (two): BBR's start-up would otherwise overshoot the
# emulator's 1-BDP queue (ES_MIG_BENCH_CLAMP=0 leaves it unclamped).
BDP_SEGS=$((RATE_MBS * 1000000 * 2 * DELAY_MS / 1000 / 1448))
IW=${ES_MIG_BENCH_IW:-$BDP_SEGS}
CLAMP=${ES_MIG_BENCH_CLAMP:-$((BDP_SEGS * 3 / 2))}
# The target's receive buffer: 2 BDP (the kernel doubles it) when the node
# allows it (net.core.rmem_max), else autotuning (ES_MIG_BENCH_RCVBUF=0).
RCVBUF=$((RATE_MBS * 1000000 * 2 * 2 * DELAY_MS / 1000))
[ "$(cat /proc/sys/net/core/rmem_max)" -ge "$RCVBUF" ] || RCVBUF=0
RCVBUF=${ES_MIG_BENCH_RCVBUF:-$RCVBUF}
export MIG_CONFIG_EXTRA="\"peer_init_cwnd\": $IW, \"peer_cwnd_clamp\": $CLAMP, \"peer_rcvbuf\": $RCVBUF"

link_nodes() {
	es_wan "$MIG_NS_A" "$MIG_IP_A" "$MIG_NS_B" "$MIG_IP_B" --delay-ms "$DELAY_MS" --rate "${RATE_MBS}MB/s" || return 1
	# One bandwidth-delay product is 2 MB: let TCP's windows grow past it.
	for ns in "$MIG_NS_A" "$MIG_NS_B"; do
		es_in "$ns" sysctl -qw net.ipv4.tcp_rmem="4096 131072 33554432" net.ipv4.tcp_wmem="4096 65536 33554432"
	done
	LINK="es_wan $DELAY_MS ms each way, ${RATE_MBS} MB/s, 1-BDP queue; peer initial cwnd $IW segments, clamp $CLAMP, rcvbuf $RCVBUF"
}

# The path's RTT: the mean of 5 pings after one that resolves the neighbour
# (ARP crosses the emulator too: a first ping counted doubles its RTT and
# lifted the mean, and so every bound, by 0.12 s at 200 ms).
rtt_s() {
	es_in "$MIG_NS_A" ping -c 1 -W 2 -q "$MIG_IP_B" >/dev/null
	es_in "$MIG_NS_A" ping -c 5 -i 0.2 -q "$MIG_IP_B" | awk -F/ '/rtt/ { print $5 / 1000 }'
}

# The bound charges what the emulator charges: every full TCP segment
# (1448 bytes of payload with timestamps) is a 1514-byte Ethernet frame on
# the wire (docs/wan-emulator.md).
WIRE_PER_BYTE=$(awk 'BEGIN { print 1514 / 1448 }')

# wan_drops: frames the emulator dropped so far, both directions (queue
# overflow and the rest), the congestion control's overshoot
wan_drops() {
	es_wan_stats | jq '[.a2b, .b2a | .dropped_loss + .dropped_queue + .dropped_memory
		+ .dropped_tx + .dropped_socket] | add'
}

# run_case NAME MODE IMAGE_MB MEM_MB LAYER_KB
run_case() {
	local name=$1 mode=$2 mem=$4 layer=$5 ct=$1-$2 j t bytes bound drops
	mig_run_counter "$ct" --mem-mb "$mem" --write-kb "$layer" >/dev/null
	mig_wait_service a
	if [ "$mode" = complete ]; then rm -rf "$MIG_STATE_B/images/$MIG_IMAGE"
	else mkdir -p "$MIG_STATE_B/images" && cp -a "$MIG_STATE_A/images/$MIG_IMAGE" "$MIG_STATE_B/images/" 2>/dev/null; fi
	j=$ES_TMP/$ct.json
	drops=$(wan_drops)
	mig_migrate --container "$ct" --to "$MIG_NODE_B" --mode "$mode" --stop-source --json --wait-s 900 >"$j" 2>/dev/null
	drops=$(($(wan_drops) - drops))
	mig_api b DELETE "/v1/containers/$ct" >/dev/null
	t=$(jq '.migration_ms / 1000' "$j")
	bytes=$(jq '[.objects[].bytes] | add' "$j")
	bound=$(awk -v b="$bytes" -v w="$WIRE_PER_BYTE" -v r="$RATE_MBS" -v rtt="$RTT" \
		'BEGIN { print b * w / (r * 1e6) + 3 * rtt }')
	floor=$(awk -v b="$bound" -v rtt="$RTT" 'BEGIN { print b - rtt }')
	jq -c --arg name "$name" --arg link "$LINK" --argjson bound "$bound" --argjson rtt "$RTT" \
		--argjson floor "$floor" \
		--argjson image_mb "$3" --argjson mem_mb "$mem" --argjson layer_kb "$layer" --argjson drops "$drops" '{
		container: $name, mode, state, link: $link, image_mb: $image_mb, memory_mb: $mem_mb,
		layer_kb: $layer_kb, migration_s: (.migration_ms / 1000), lower_bound_s: $bound,
		ratio_to_bound: ((.migration_ms / 1000) / $bound), floor_s: $floor,
		ratio_to_floor: ((.migration_ms / 1000) / $floor),
		ratio_to_paper_d: ((.migration_ms / 1000) / (if .mode == "partial" then 6.91 else 124.90 end)),
		rtt_s: $rtt, wan_dropped_frames: $drops, freeze_ms, bytes_sent: ([.objects[].bytes] | add),
		raw_bytes: ([.objects[].raw_bytes] | add),
		phases: [.phases[] | {name, s: (.ms / 1000), bytes}], objects }' "$j" >>"$OUT/migration.jsonl"
	printf '%-6s %-9s %9.2f %9.2f %7.2f %7.2f %7.2f %10.1f %10.1f %8.1f %7d\n' "$name" "$mode" "$t" \
		"$bound" "$(awk -v t="$t" -v b="$bound" 'BEGIN { print t / b }')" \
		"$(awk -v t="$t" -v f="$floor" 'BEGIN { print t / f }')" \
		"$(jq '(.migration_ms / 1000) / (if .mode == "partial" then 6.91 else 124.90 end)' "$j")" \
		"$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" \
		"$(jq '[.objects[].raw_bytes] | add / 1e6' "$j")" "$(jq .freeze_ms "$j")" "$drops"
}

rm -f "$OUT/migration.jsonl"
es_netns_add "$MIG_NS_A" && es_netns_add "$MIG_NS_B" || exit 1
link_nodes || exit 1
mkdir -p "$MIG_STATE_A" "$MIG_STATE_B"
mig_agent a && mig_agent b || exit 1
RTT=$(rtt_s)
printf '%-6s %-9s %9s %9s %7s %7s %7s %10s %10s %8s %7s\n' SIZE MODE TIME_S BOUND_S /BOUND /FLOOR \
	/PAPER_D SENT_MB RAW_MB FREEZE_MS DROPS
for size in $SIZES; do
	case $size in
	small) img=0 mem=4 layer=1024 ;;
	paper) img=900 mem=33 layer=20480 ;;
	*) echo "unknown size $size" >&2; continue ;;
	esac
	MIG_IMAGE=$(bash "$ES_ROOT/tools/fixtures/es-image.sh" --state-dir "$MIG_STATE_A" --image-mb "$img" --build "$ES_BUILD") || exit 1
	for mode in ${ES_MIG_BENCH_MODES:-partial complete}; do
		run_case "$size" "$mode" "$img" "$mem" "$layer"
	done
done
jq -s --arg link "$LINK" '{link: $link, runs: .}' "$OUT/migration.jsonl" >"$OUT/migration.json"
rm -f "$OUT/migration.jsonl"
echo "link: $LINK; RTT measured ${RTT}s; results in $OUT/migration.json"
