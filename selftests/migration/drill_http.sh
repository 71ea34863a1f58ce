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
# byte streams. A service whose replies carry the time is found out and
# the migration given up, every connection, ab's too, unharmed.
. "$(dirname "$0")/../lib.sh"
es_require_root drill_http
command -v criu >/dev/null || { es_plan 1; es_skip drill_http "criu missing (tools/setup/install-deps)"; exit 0; }
command -v ab >/dev/null || { es_plan 1; es_skip drill_http "ab missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 17

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

drill_run httpclock --service http --service-clock --connections 2 --mode partial --rate 20 --count 80 \
	--handoff-at 20 --ab 600
drill_expect_failed_clean "HTTP, replies with the time"
drill_expect_eq "HTTP, replies with the time: every connection lived on with the old container" \
	"$(drill_q '"\(.requests.resets) \(.other_connections.resets) \(.other_connections.lost)"')" "0 0 0"
drill_expect_eq "HTTP, replies with the time: the reason says the service is not deterministic" \
	"$(drill_q .migration.error | grep -c 'not deterministic')" 1
drill_expect_eq "HTTP, replies with the time: ab unaffected" \
	"$(drill_q '.site.ab | "\(.exit_status) \(.complete) \(.failed) \(.non_2xx) \(.counter)"')" "0 600 0 0 600"
es_done
