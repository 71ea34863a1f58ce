#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Zero-downtime migration of an established TCP connection: the drill's
# user keeps one connection to the reference service (es-counter --tcp, in
# a runc container whose spec has tcp_established) and sends requests at
# 20 and 100 per second through the handoff and the partial migration.
# The connection is never reset, nothing is lost or answered twice, the
# counter is exact, and the agents compared the two containers' byte
# streams. A service whose replies carry the time is found out (the
# restored container's bytes differ) and the migration is given up before
# any cut-over, with the user's two connections unharmed.
. "$(dirname "$0")/../lib.sh"
es_require_root drill_tcp
command -v criu >/dev/null || { es_plan 1; es_skip drill_tcp "criu missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 20

# tcp_checks NAME: one connection throughout, and the agents' comparison of the streams
tcp_checks() {
	es_expect_eq "$1: one TCP connection throughout, never reset" \
		"$(drill_q '"\(.requests.protocol) \(.requests.resets)"')" "tcp 0"
	es_expect_eq "$1: the agents compared the streams: same bytes, all but the edges of the overlap" \
		"$(drill_q '.migration.agents_exactly_once | "\(.passed) \(.blocks_diverged) \(.segments_unhashed) \(.bytes_compared + 126 >= .bytes_both_sent)"')" \
		"true 0 0 true"
}

drill_run t20 --service tcp --mode partial --rate 20 --count 120 --handoff-at 30
drill_expect_done "TCP, 20/s"
tcp_checks "TCP, 20/s"
es_expect_ge "TCP, 20/s: the user's segments replayed into the restored socket" \
	"$(drill_q .migration.replayed)" 1
# stopped the ordinary way, the old socket would send its FIN again after
# the tunnel is gone, straight to the user (seen at 200 ms RTT, 10/s)
es_expect_eq "TCP, 20/s: the old container's connection aborted before it was stopped" \
	"$(grep '"event":"zdm_old_connection_closed"' "$DRILL_DIR/events-node1.log" | jq -r .found)" true

drill_run t100 --service tcp --mode partial --rate 100 --count 600 --handoff-at 150
drill_expect_done "TCP, 100/s"
tcp_checks "TCP, 100/s"

# two connections (of the HTTP service: the TCP one takes one): the target
# replays them together, and the divergence is found in the first round,
# before either is cut over
drill_run clock --service http --service-clock --connections 2 --mode partial --rate 20 --count 120 \
	--handoff-at 30
drill_expect_failed_clean "replies with the time"
drill_expect_eq "replies with the time: both connections lived on with the old container" \
	"$(drill_q '"\(.requests.resets) \(.other_connections.resets) \(.other_connections.lost)"')" "0 0 0"
drill_expect_eq "replies with the time: found before any cut-over; the reason says the service is not deterministic" \
	"$(jq '[.[0].sessions[] | select(.cut_over)] | length' "$DRILL_DIR/zdm.json") $(drill_q .migration.error | grep -c 'not deterministic')" \
	"0 1"
es_done
