#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The migration data plane on real namespaces: a user, the target node it
# now reaches, a router, the source node still running the service (old
# instance), and the restored instance behind the target. Requests of the
# migrating session are forwarded through the tunnel and answered through
# the target; the replay buffer holds them in order; bpftool shows the
# state; hold, resume, replay and cut-over lose nothing and duplicate
# nothing; a full replay buffer aborts cleanly. With ES_MIG_FAMILY=6 the
# user and the service are IPv6 (mig_dp_net NET 6); with
# ES_MIG_NODE_FAMILY=6 the nodes and the tunnel between them are.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=selftests/migration/mig_dp.inc
. "$(dirname "$0")/mig_dp.inc"
FAMILY=${ES_MIG_FAMILY:-4}
NODE_FAMILY=${ES_MIG_NODE_FAMILY:-4}
es_require_root "migration_forwarding (${ES_MIG_USER_HOOK:-user}, IPv$FAMILY users, IPv$NODE_FAMILY nodes)"
es_plan 36

M=$MIG_DP_M
T=$ES_BUILD/es-traffic
PT=$MIG_DP_PT
PS=$MIG_DP_PS
if [ "$FAMILY" = 6 ]; then
	mig_dp_net 10.245 6 "$NODE_FAMILY" || exit 1
	UDP_IN=Udp6InDatagrams
else
	mig_dp_net 10.247 4 "$NODE_FAMILY" || exit 1
	UDP_IN=UdpInDatagrams
fi
SVC_EP=$(mig_dp_ep "$SVC" 7000)
# The users' interface runs the XDP forwarder, or with ES_MIG_USER_HOOK=usertc its tcx variant.
USER_HOOK=${ES_MIG_USER_HOOK:-user}
mig_dp_up "$USER_HOOK"
mig_dp_servers

S1="$(mig_dp_ep "$USER" 5000)>$SVC_EP"
show() { mt show --session "$1" --json; }

# --- handoff detection and forwarding ---
mt service --service "$SVC_EP" --node $SRC --forward --mirror --limit 1000
es_bg --out "$ES_TMP/events" es_in t "$M" events --pin "$PT" --count 1 --timeout-ms 20000
EV_PID=$ES_BG_PID
sleep 0.2
# 200 requests at 40/s: the migration steps below happen while they flow.
es_bg --out "$ES_TMP/client.json" es_in u "$T" udp-client --to "$SVC" --port 7000 --src-port 5000 \
	--count 200 --size 16 --rate 40 --json
CLIENT=$ES_BG_PID
sleep 0.5
wait "$EV_PID"
es_expect_eq "handoff event names the session and the source node" \
	"$(jq -r '"\(.type) \(.session) \(.node)"' "$ES_TMP/events")" "handoff $S1/udp $SRC"
s=$(show "$S1")
es_expect_eq "session detected and forwarding with mirror" \
	"$(echo "$s" | jq -r '"\(.state) \(.mirror) \(.source)"')" "forwarding true $SRC"
es_check "the agent takes the detected session over" mt start --session "$S1" --source $SRC --limit 1000
sleep 0.3
s=$(show "$S1")
fwd=$(echo "$s" | jq .packets.forwarded)
es_expect_ge "requests forwarded through the tunnel" "$fwd" 20
es_expect_eq "every forwarded request answered by the source, through the target" \
	"$(echo "$s" | jq '.packets.old_replies >= .packets.forwarded - 1')" true
# bpftool's view of the pinned state, by BTF field names.
# Ports are stored in network order; bpftool prints them as host-order integers.
P5000=$(((5000 >> 8) | ((5000 & 255) << 8)))
bt=$(bpftool -j map dump pinned "$PT/es_mig_sessions" |
	jq -c --argjson p "$P5000" '.[] | select(.formatted.key.user_port == $p) | .formatted.value')
es_expect_eq "bpftool map dump shows the session forwarding (seq_state >> 56 = 1)" \
	"$(echo "$bt" | jq '.seq_state / 72057594037927936 | floor')" 1
# The buffer holds the requests after the cursor, in order, each with its number.
recs=$(mt records --session "$S1" --json)
es_expect_eq "replay buffer in order: record seq n holds the client's request n-1" \
	"$(mig_dp_records_in_order "$recs")" true
es_expect_ge "replay buffer holds the records after the cursor" \
	"$(echo "$recs" | jq '.records | length')" 5

# --- checkpoint window: hold, wait until answered, resume ---
H=$(mt hold --session "$S1")
# The checkpoint would be taken here; requests meanwhile are held.
es_expect_ge "hold: hold_seq" "$H" 20
es_check "source answered every request up to hold_seq" mt wait --session "$S1" --seq "$H" --timeout-ms 3000
es_expect_eq "old instance's receive queue empty (sock_diag): nothing a checkpoint would drop" \
	"$(es_in c1 "$M" rqueue --service "$SVC_EP" --json | jq -r '"\(.sockets) \(.bytes)"')" "1 0"
sleep 0.15
sent=$(mt resume --session "$S1" --cursor "$H")
s=$(show "$S1")
es_expect_ge "requests arrived during the hold" "$(echo "$s" | jq '.packets.held')" 1
es_expect_eq "held requests sent to the source after the hold" \
	"$(echo "$s" | jq '.packets.held')" "$sent"
es_expect_eq "back to forwarding, cursor at hold_seq, no record at or before it" \
	"$(echo "$s" | jq -r '"\(.state) \(.cursor) \(.records.lowest > .cursor or .records.count == 0)"')" \
	"forwarding $H true"
sleep 0.5

# --- replay into the restored instance, cut-over ---
R=$(mt replay --session "$S1")
s=$(show "$S1")
es_expect_eq "cut over after replaying every request after the cursor" \
	"$(echo "$s" | jq -r '"\(.state) \(.replayed == .cut_seq) \(.cut_seq - .cursor)"')" "cutover true $R"
es_expect_ge "some requests replayed" "$R" 1
wait "$CLIENT"
c=$(cat "$ES_TMP/client.json")
es_expect_eq "client: 200 sent, 200 answered, 0 lost" \
	"$(echo "$c" | jq -r '"\(.sent) \(.received) \(.lost)"')" "200 200 0"
es_expect_eq "client: no duplicate or stray reply" "$(echo "$c" | jq .unexpected)" 0
es_expect_eq "user received exactly 200 datagrams" \
	"$(es_in u nstat -az "$UDP_IN" | awk -v c="$UDP_IN" '$1 == c { print $2 }')" 200
sleep 0.3
s=$(show "$S1")
es_expect_eq "each replayed request answered twice, one answer suppressed" \
	"$(echo "$s" | jq '.packets.suppressed_old + .packets.suppressed_new')" "$R"
es_expect_ge "requests after cut-over went to the restored instance" \
	"$(echo "$s" | jq .packets.passed_local)" 1
kill -TERM "$NEW_PID"; wait "$NEW_PID" 2>/dev/null
es_expect_eq "restored instance got each replayed request once, then the new ones" \
	"$(jq .datagrams "$ES_TMP/new.json")" "$((R + $(echo "$s" | jq .packets.passed_local)))"
show "$S1" | es_diag
CUT=$(echo "$s" | jq .cut_seq)
n=$(mt finish --session "$S1")
es_expect_eq "finish deletes the buffer and the entry" \
	"$n $(mt show --session "$S1" --json >/dev/null 2>&1 && echo present || echo gone)" \
	"$(echo "$s" | jq .records.count) gone"

# --- a full replay buffer aborts, forwarding goes on ---
S2="$(mig_dp_ep "$USER" 5001)>$SVC_EP"
es_check "second session forwarding with a 5-record buffer" \
	mt start --session "$S2" --source $SRC --limit 5
c=$(es_in u "$T" udp-client --to "$SVC" --port 7000 --src-port 5001 --count 20 --size 16 --rate 100 --json)
es_expect_eq "buffer full: 20 sent, 20 answered, 0 lost" \
	"$(echo "$c" | jq -r '"\(.sent) \(.received) \(.lost)"')" "20 20 0"
s=$(show "$S2")
es_expect_eq "session aborted, reason buffer_full" \
	"$(echo "$s" | jq -r '"\(.state) \(.abort_reason)"')" "aborted buffer_full"
# aborted, the session still keeps each request until the source's replies
# acknowledge it (the WAN may lose it): more than the 5 copied before
es_expect_eq "forwarded 20; after the abort copied again within 5 of the source's acknowledgement" \
	"$(echo "$s" | jq -r '"\(.packets.mirrored > 5) \(.packets.forwarded)"')" "true 20"
es_check "finish after abort" mt finish --session "$S2"

# --- an abort during the checkpoint window sends what was held ---
S3="$(mig_dp_ep "$USER" 5002)>$SVC_EP"
mt start --session "$S3" --source $SRC --limit 100
mt hold --session "$S3" >/dev/null
es_bg --out "$ES_TMP/client3.json" es_in u "$T" udp-client --to "$SVC" --port 7000 --src-port 5002 \
	--count 10 --size 16 --rate 20 --json
CLIENT=$ES_BG_PID
sleep 0.3
es_check "abort during hold (restore failed)" mt abort --session "$S3"
wait "$CLIENT"
es_expect_eq "abort during hold: 10 sent, 10 answered, 0 lost" \
	"$(jq -r '"\(.sent) \(.received) \(.lost)"' "$ES_TMP/client3.json")" "10 10 0"
es_expect_eq "aborted with the held request sent" \
	"$(show "$S3" | jq -r '"\(.state) \(.packets.held) \(.held_unsent)"')" "aborted 1 false"
mt finish --session "$S3" >/dev/null
kill -TERM "$OLD_PID"; wait "$OLD_PID" 2>/dev/null
es_expect_eq "old instance got each request up to cut-over once, and the 30 of the aborted sessions" \
	"$(jq .datagrams "$ES_TMP/old.json")" "$((CUT + 30))"

# --- cleanup of the pins ---
mt service --service "$SVC_EP" --del
"$M" cleanup --pin "$PT"; "$M" cleanup --pin "$PS"
es_expect_eq "migration pins and links removed" \
	"$(find "$PT" "$PS" -name 'es_mig_*' -o -name 'prog_es_mig_*' -o -name 'mig_*' | wc -l)" 0
# the pin's last reference to a link goes with its inode, freed after an
# RCU grace period, so the link may detach a little after the unlink:
# seen still attached once, right after the cleanup, in a loaded CI run
attached() {
	echo "$(es_in t ip -j link show | jq '[.[] | select(.xdp)] | length')" \
		"$(es_in t bpftool -j net | jq '[.[0].tc[]?] | length')"
}
for _ in $(seq 50); do
	[ "$(attached)" = "0 0" ] && break
	sleep 0.1
done
es_expect_eq "no XDP or tcx program left on the target's interfaces" "$(attached)" "0 0"
es_done
