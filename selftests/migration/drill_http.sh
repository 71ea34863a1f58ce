#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Zero-downtime migration of an HTTP/1.1 keep-alive service (es-counter
# --http in the drill's runc container) with its user's four connections,
# each GETting /incr/ of a key of its own at 20 per second, and ab -k
# (apache2-utils, unmodified) running 1000 requests against /incr/ab,
# through the handoff and the partial migration. The handoff names no
# session: every established connection of the container, ab's included,
# moves in one migration. No connection is reset, nothing is lost or
# applied twice, each key ends at the number of replies its client got,
# ab completes every request with none failed or non-2xx and the server's
# ab counter equals them, and the agents compared every connection's two
# byte streams. ab with four connections on one key (state they share)
# migrates too: the connections are replayed in their arrival order. (A
# service whose replies carry the time is drill_tcp.sh's.)
. "$(dirname "$0")/../lib.sh"
es_require_root drill_http
command -v criu >/dev/null || { es_plan 1; es_skip drill_http "criu missing (tools/setup/install-deps)"; exit 0; }
command -v ab >/dev/null || { es_plan 1; es_skip drill_http "ab missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 25

CONNS=4
AB_N=1000
drill_run http --service http --connections $CONNS --mode partial --rate 20 --count 120 --handoff-at 30 \
	--ab $AB_N
drill_expect_done "HTTP, $CONNS connections and ab"
# ab's connection is one more the migration carries
drill_expect_connections HTTP http $CONNS 120 $((CONNS + 1))
drill_expect_eq "HTTP: ab: exit 0, all complete, none failed or non-2xx, the server's counter the same" \
	"$(drill_q '.site.ab | "\(.exit_status) \(.complete) \(.failed) \(.non_2xx) \(.counter) \(.passed)"')" \
	"0 $AB_N 0 0 $AB_N true"
# ab's requests in the window were replayed: it was sending through the migration
es_expect_ge "HTTP: ab sent through the migration (its segments replayed)" "$(drill_q .site.ab.replayed)" 1

# ab -c 4: four connections increment one key, the drill's own two each
# their own. The target replays a migration's connections together, in the
# order their segments arrived (each handed once the restored container
# answered the one before), so ab's requests reach the restored container
# in the old one's order and the replies match: done. Replayed side by
# side, each connection on its own, they did not (the replies' values
# differed). Should the order still differ (the old container read two
# requests that came together in another order), the divergence is found
# before any connection is cut over and the migration given up, the old
# container serving them all.
drill_run httpshared --service http --connections 2 --mode partial --rate 20 --count 80 \
	--handoff-at 20 --ab 600 --ab-concurrency 4 --replay-order arrival
case "$(drill_q .migration.state)" in
failed)
	drill_expect_failed_clean "HTTP, ab -c 4 on one key"
	drill_expect_eq "HTTP, ab -c 4 on one key: found before any cut-over, the reason says why" \
		"$(jq '[.[0].sessions[] | select(.cut_over)] | length' "$DRILL_DIR/zdm.json") $(drill_q .migration.error | grep -c 'share state')" \
		"0 1" ;;
*)
	drill_expect_done "HTTP, ab -c 4 on one key"
	es_expect_ge "HTTP, ab -c 4 on one key: ab's segments were replayed, in their arrival order" \
		"$(drill_q .site.ab.replayed)" 1 ;;
esac
drill_expect_eq "HTTP, ab -c 4 on one key: every connection lived on, none reset or lost" \
	"$(drill_q '"\(.requests.resets) \(.other_connections.resets) \(.other_connections.lost)"')" "0 0 0"
drill_expect_eq "HTTP, ab -c 4 on one key: ab unaffected, each of its requests counted once" \
	"$(drill_q '.site.ab | "\(.exit_status) \(.complete) \(.failed) \(.non_2xx) \(.counter)"')" "0 600 0 0 600"

# Twenty connections at 10 requests a second, replayed in arrival order.
# es-counter's HTTP sockets keep Nagle's algorithm: an answer written
# while the one before is unacknowledged is held back until the user's
# ACK of the old container's copy is handed over, a later segment's. Each
# data segment waiting 10 ms for its answer bounded the replay to 100
# segments a second, fewer than the users sent: the catch-up never ended
# and the migration failed (3 of 3 runs of make drill's HTTP plan, and
# this scenario at its 200 ms RTT; at the 40 ms of the drills above the
# ACKs come soon enough). The gate waits 1 ms while the socket has output
# unacknowledged.
drill_run httpmany --service http --connections 20 --mode partial --rate 10 --count 200 \
	--handoff-at 50 --replay-order arrival --delay-ms 100
drill_expect_done "HTTP, 20 connections in arrival order"
drill_expect_connections "HTTP, 20 connections in arrival order" http 20 200 20
es_done
