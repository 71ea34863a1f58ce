#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A TCP connection opened while the service is forwarded to the old
# instance (after the checkpoint: not in any image) is carried to the
# restored instance: its SYN is replayed, the data plane learns the new
# ISN from the restored SYN-ACK, and the connection lives on translated
# (es_mig_xlate). The user's client keeps one connection throughout, every
# request answered once, and the counter it reads goes on without a gap:
# the restored instance took every request the old one had answered. Same
# namespaces as migration_forwarding.sh, driven step by step with es-migctl.
. "$(dirname "$0")/../lib.sh"
# shellcheck source=selftests/migration/mig_dp.inc
. "$(dirname "$0")/mig_dp.inc"
es_require_root "mig_late_tcp"
es_plan 13

C=$ES_BUILD/es-counter
mig_dp_tcp 10.246 1024 || exit 1
# every new connection to the service goes to the source, mirrored
mt service --service $SVC:7000/tcp --node $SRC --forward --mirror --limit 1000

es_bg --out "$ES_TMP/client.err" es_in u "$C" client --to $SVC --port 7000 --tcp --rate 25 \
	--count 100 --timeout-ms 3000 --log "$ES_TMP/client.log"
CLIENT=$ES_BG_PID
sleep 1.5
# the connection the data plane found
UPORT=$(mig_dp_tcp_port)
KEY="$USER:$UPORT>$SVC:7000/tcp"
es_expect_eq "the new connection is forwarded to the old instance" \
	"$(mt show --session "$KEY" --json | jq -r '"\(.state) \(.packets.forwarded > 20)"')" \
	"forwarding true"

T0=$(date +%s%N)
R=$(mt tcp-replay --session "$KEY" --timeout-ms 10000 --json)
es_diag <<<"replay took $((($(date +%s%N) - T0) / 1000000)) ms"
es_diag <<<"$R"
es_expect_eq "replayed from its SYN into the restored instance, streams equal, cut over" \
	"$(jq -r '"\(.passed) \(.diverged)"' <<<"$R")" "true 0"
es_expect_eq "the session is cut over" "$(mt show --session "$KEY" --json | jq -r .state)" \
	"cutover"
X=$(mt xlate-show --session "$KEY" --json)
es_diag <<<"$X"
es_expect_eq "translation on, with timestamps, the ISN delta learned from the SYN-ACK" \
	"$(jq -r '"\(.ts) \(.seq_delta != 0)"' <<<"$X")" "true true"
# an echo of a timestamp it never sent is dropped by Linux (and counted here)
es_expect_eq "the restored instance dropped no segment for its timestamp echo" \
	"$(es_in c2 nstat -az TcpExtTSEcrRejected | awk '/TSEcr/ { print $2 }')" 0

wait "$CLIENT"
es_diag <"$ES_TMP/client.err"
L=$ES_TMP/client.log
es_expect_eq "client: 100 requests, 100 answered" \
	"$(jq -s '[.[] | select(.counter)] | length' "$L")" 100
es_expect_eq "one connection throughout: no reset, no reconnect" \
	"$(jq -s '[.[].conn] | unique | join(",")' "$L")" '"1"'
es_expect_eq "counter 1..100 in order: every request applied once, old then restored" \
	"$(jq -s '[.[].counter] == [range(1; 101)]' "$L")" true
sleep 0.3
s=$(mt show --session "$KEY" --json)
es_expect_ge "requests after cut-over served by the restored instance" \
	"$(jq .packets.passed_local <<<"$s")" 10
X=$(mt xlate-show --session "$KEY" --json)
es_expect_ge "user's segments translated towards the restored instance" "$(jq .in_segs <<<"$X")" 10
es_expect_ge "its segments translated towards the user" "$(jq .out_segs <<<"$X")" 10
es_expect_eq "the user's close reached it: FIN both ways, no reset" \
	"$(jq -r '"\(.fin_in) \(.fin_out) \(.rst)"' <<<"$X")" "true true false"
es_done
