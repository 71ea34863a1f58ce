#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# session_table: slots, through the agent: sessions in a slot table
# of 1,920 slots (session_map_size 1024, the smallest). A UDP echo
# exchange is counted exactly, packet for packet, with its latency
# samples from the entry's state, in /v1/sessions and in the CLI reading
# the pins; a closed TCP connection is reclaimed (LIVE, RECLAIM, grace
# period, EMPTY) and its counts land in the closed totals; a flood of new
# tuples fills the table and its overflow is counted as no_slot while a
# live session keeps its exact counts (nothing is evicted); idle slots
# are reclaimed and a new session gets one again; IPv6 sessions take
# slots of the same table (/metrics' pressure counts both families); the
# migration object's XDP programs account into the same table; a restart
# adopts the table, and an agent that asks for the maps refuses its pins.
. "$(dirname "$0")/../lib.sh"
es_require_root session_table_slots
T=$ES_BUILD/es-traffic
PER_PKT=$((100 + 8 + 20 + 14))	# UDP payload, UDP, IPv4 and Ethernet headers
FLOOD=4000
es_plan 28

cat >"$ES_TMP/cfg.json" <<JSON
{"session_table": "slots", "session_map_size": 1024, "idle_timeout_ms": 2000,
 "closed_linger_ms": 200, "gc_interval_ms": 200}
JSON
es_netns_add a && es_netns_add b || exit 1
es_no_ipv6 a b
es_veth a va 10.238.0.1 b vb 10.238.0.2 || exit 1
VA=$(es_ifname va); VB=$(es_ifname vb)
PIN=$(es_pin_path main)
es_agent_start b main --config "$ES_TMP/cfg.json" -i "$VB=test/server" || exit 1
MAC=$(es_in b ip -j link show dev "$VB" | jq -r '.[0].address')
NODE="node=\"$ES_PREFIX-b\""
LBL="$NODE,interface=\"$VB\",namespace=\"test\",pod=\"server\""
slots() { es_metric b "edgeshift_session_slots{$NODE,state=\"$1\"}"; }
skipped() { es_metric b "edgeshift_skipped_packets_total{$LBL,direction=\"rx\",reason=\"$1\"}"; }
created() { es_metric b "edgeshift_sessions_created_total{$LBL}"; }
# wait_live N: until at most N slots are live (max 8 s).
wait_live() {
	local i
	for i in $(seq 80); do
		[ "$(slots live)" -le "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

es_expect_eq "table of 128 buckets, 1,920 slots: es_meta, /metrics, /v1/status" \
	"$(bpftool map dump pinned "$PIN/es_meta" -j | jq '.[0].formatted.value.table_buckets') \
$(es_metric b "edgeshift_session_slots_capacity{$NODE}") \
$(es_metric b "edgeshift_session_map_capacity{$NODE,family=\"ipv4\"}") \
$(es_api b /v1/status | jq -r '.session_map | "\(.table) \(.table_slots)"')" "128 1920 1920 slots 1920"

es_bg es_in b "$T" udp-server --port 7600 --timeout 30
es_wait_listen b u 7600
es_check "udp echo answered" es_in a "$T" udp-client --to 10.238.0.2 --port 7600 \
	--count 200 --size 100
s=$(es_api b "/v1/sessions?proto=udp&port=7600&limit=10")
es_expect_eq "rx and tx packets/bytes exact in /v1/sessions" \
	"$(echo "$s" | jq -r '.matched, (.sessions[0] | "\(.rx.packets)/\(.rx.bytes) \(.tx.packets)/\(.tx.bytes)")' | xargs)" \
	"1 200/$((200 * PER_PKT)) 200/$((200 * PER_PKT))"
es_expect_eq "every exchange a latency sample (state in the entry)" \
	"$(echo "$s" | jq -r '.sessions[0].latency.samples')" 200
c=$("$ES_BUILD/edgeshift" --api http://127.0.0.1:1 --pin-path "$PIN" sessions --port 7600 --json 2>"$ES_TMP/cli.err")
es_expect_eq "the CLI reads the same counts from the pinned table" \
	"$(echo "$c" | jq -r '.sessions[0] | "\(.rx.packets) \(.tx.packets)"')" "200 200"

es_bg es_in b "$T" tcp-server --port 7601 --once --timeout 30
es_wait_listen b t 7601
es_check "tcp transfer" es_in a "$T" tcp-client --to 10.238.0.2 --port 7601 --bytes 1000000
rxb=$(es_api b "/v1/sessions?port=7601" | jq '.sessions[0].rx.bytes')
for i in $(seq 30); do
	[ "$(es_api b "/v1/sessions?port=7601" | jq .matched)" = 0 ] && break
	sleep 0.1
done
es_expect_eq "closed connection reclaimed: fin counted, its rx bytes in the closed totals" \
	"$(es_metric b "edgeshift_sessions_closed_total{$LBL,reason=\"fin\"}") \
$(es_metric b "edgeshift_closed_session_bytes_total{$LBL,direction=\"rx\"}")" "1 $rxb"
es_check "the UDP session's slot reclaimed after the idle timeout" wait_live 0

# The flood: more new tuples than slots, while a live session runs.
created0=$(created)
es_bg --out "$ES_TMP/live.json" es_in a "$T" udp-client --to 10.238.0.2 --port 7600 \
	--count 150 --size 100 --rate 100 --json
live=$ES_BG_PID
sleep 0.3
es_check "flood of $FLOOD new tuples sent" es_in a "$ES_BUILD/es-flood" --dev "$VA" \
	--dst-mac "$MAC" --src-net 10.201.0.0/16 --dst 10.238.0.2 --count $FLOOD --rate 20000 --timeout 20
wait "$live"
es_expect_eq "live session answered throughout" "$(jq .received "$ES_TMP/live.json")" 150
sleep 0.3
es_expect_eq "live session exact through the flood (nothing evicted)" \
	"$(es_api b "/v1/sessions?proto=udp&port=7600" | jq -r '.sessions[0] | "\(.rx.packets) \(.tx.packets)"')" \
	"150 150"
nos=$(skipped no_slot); busy=$(skipped slot_busy); made=$(( $(created) - created0 ))
es_diag <<<"flood: $made slots created (with the live session's), no_slot $nos, slot_busy $busy"
es_expect_ge "a full table counts the overflow as no_slot" "$nos" $((FLOOD - 1920))
es_expect_eq "every flood packet created a slot or was counted skipped" \
	$((made + nos + busy)) $((FLOOD + 1))
es_expect_eq "nothing evicted by the flood (the table refuses instead)" \
	"$(es_metric b "edgeshift_session_evictions_total{node=\"$ES_PREFIX-b\"}")" 0
es_check "the flood's slots reclaimed once idle" wait_live 0
es_check "a new session after the reclaim" es_in a "$T" udp-client --to 10.238.0.2 \
	--port 7600 --count 10 --size 100 --src-port 7700
es_expect_eq "and it is counted exactly in a reclaimed slot" \
	"$(es_api b "/v1/sessions?proto=udp&port=7700" | jq -r '.sessions[0] | "\(.rx.packets) \(.tx.packets)"')" \
	"10 10"

# IPv6 sessions share the table: a flood of new IPv6 tuples (the link
# has no IPv6, so the stack drops them after XDP counted them), each a
# slot of its own, listed as IPv6 with its packet, reclaimed once idle.
# an IPv4 session live meanwhile: /metrics' pressure counts both families
es_bg es_in b "$T" udp-server --port 7603 --timeout 30
es_wait_listen b u 7603
es_bg es_in a "$T" udp-client --to 10.238.0.2 --port 7603 --count 300 --size 100 --rate 100
created0=$(created)
es_check "flood of 500 new IPv6 tuples sent" es_in a "$ES_BUILD/es-flood" --dev "$VA" \
	--dst-mac "$MAC" --src-net fd00:201::/112 --dst fd00:238::2 --count 500 --rate 20000 \
	--dport 9 --timeout 20
v6() {
	es_api b "/v1/sessions?port=9&limit=100000&source=live" |
		jq -r '[.sessions[] | select(.family == "ipv6")] | "\(length) \(map(.rx.packets) | add)"'
}
for _ in $(seq 30); do
	[ "$(v6)" = "500 500" ] && break
	sleep 0.1
done
es_expect_eq "each IPv6 tuple a session in the table, its packet counted" \
	"$(v6) $(( $(created) - created0 ))" "500 500 500"
# entries ipv4, ipv6, capacity, pressure: one scrape, one snapshot
mixed() {
	es_api b /metrics | awk -v n="$NODE" '
		index($0, "edgeshift_session_map_entries{" n ",family=\"ipv4\"}") == 1 { e4 = $NF }
		index($0, "edgeshift_session_map_entries{" n ",family=\"ipv6\"}") == 1 { e6 = $NF }
		index($0, "edgeshift_session_map_capacity{" n ",family=\"ipv4\"}") == 1 { c = $NF }
		index($0, "edgeshift_session_map_pressure{" n "}") == 1 { p = $NF }
		END { printf "%d %d %d %s %.6f\n", (e4 > 0), (e6 >= 500), c, p, c ? (e4 + e6) / c : -1 }'
}
for _ in $(seq 30); do
	m=$(mixed)
	[ "${m%% *}" = 1 ] && [ "$(cut -d' ' -f2 <<<"$m")" = 1 ] && break
	sleep 0.1
done
es_expect_eq "/metrics: both families live, pressure their sum over the table's slots" \
	"$(awk '{ print $1, $2, $3, ($4 == $5) ? "equal" : $4 " against " $5 }' <<<"$m")" \
	"1 1 1920 equal"
es_expect_eq "the IPv6 session maps cut to one entry: nothing goes there" \
	"$(bpftool map show pinned "$PIN/es_sessions6" -j | jq .max_entries) \
$(bpftool map show pinned "$PIN/es_session_state6" -j | jq .max_entries)" "1 1"
es_check "the IPv6 flood's slots reclaimed once idle" wait_live 0

# The migration object's XDP programs account too (es_mig_xdp_wan on a
# node's interface towards the other nodes): into the agent's table, where
# the agent reads, not into the session maps the table cut to one entry.
# The agent does not attach that interface, but it exists: its sessions
# stay until they idle out, past the scans (every 200 ms) in between.
M=$ES_BUILD/es-migctl
trap '"$M" cleanup --pin "$PIN" 2>/dev/null; es_cleanup' EXIT
es_netns_add c || exit 1
es_no_ipv6 c
es_veth c vc 10.239.0.1 b vw 10.239.0.2 || exit 1
es_check "the migration object loads over the table's pins, its XDP program attached" \
	eval 'es_in b "$M" load --pin "$PIN" && es_in b "$M" attach --pin "$PIN" --hook wan --dev "$(es_ifname vw)"'
es_bg es_in b "$T" udp-server --port 7602 --timeout 30
es_wait_listen b u 7602
es_check "udp echo through the migration object's XDP program" es_in c "$T" udp-client \
	--to 10.239.0.2 --port 7602 --count 50 --size 100
sleep 0.6
es_expect_eq "its packets counted in the agent's table, exactly" \
	"$(es_api b "/v1/sessions?proto=udp&port=7602" | jq -r '.sessions[0].rx.packets')" 50
es_check "the migration pins removed" "$M" cleanup --pin "$PIN"

# The pins carry the kind: a restart with the same configuration adopts the
# table (the session is still there), one that asks for the maps is refused.
tbl_id() { bpftool map show pinned "$PIN/es_tbl_entries" -j | jq .id; }
before="$(tbl_id) $(created)"
kill -TERM "$ES_AGENT_PID"
wait "$ES_AGENT_PID"
es_agent_start b main --config "$ES_TMP/cfg.json" -i "$VB=test/server" || exit 1
es_expect_eq "a restarted agent adopts the table and its created count" \
	"$(tbl_id) $(created)" "$before"
kill -TERM "$ES_AGENT_PID"
wait "$ES_AGENT_PID"
echo '{"session_table": "maps", "session_map_size": 1024, "on_layout_mismatch": "refuse"}' \
	>"$ES_TMP/maps.json"
out=$(es_in b "$ES_BUILD/edgeshiftd" --config "$ES_TMP/maps.json" -p "$PIN" -i "$VB" \
	-l 127.0.0.1:9464 2>&1)
rc=$?
if [ $rc != 0 ] && grep -q "session_table slots, this agent wants .* session_table maps" <<<"$out"; then
	es_ok "an agent asking for the maps refuses the table's pins, saying why"
else
	es_not_ok "an agent asking for the maps refuses the table's pins, saying why" "exit $rc: $out"
fi
es_done
