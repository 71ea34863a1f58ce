#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# TCP connections through the failures of a zero-downtime migration, on an
# unmodified Redis with three connections: the restore fails (the target's
# agent dies in it), the migration is given up with the old container
# serving, and a retry asked by hand (no session named: every connection
# again) succeeds, although the failed attempt's restored copy of each
# connection was left behind at the target and its stream had been hashed;
# and two of the user's connections closed while the container moves
# (after the checkpoint, about a second before the cut-over on this
# machine): they close on both sides,
# nothing half-open is left where the service runs. Every time: no
# connection reset, nothing lost or applied twice, every key exact.
. "$(dirname "$0")/../lib.sh"
es_require_root drill_tcp_faults
command -v criu >/dev/null || { es_plan 1; es_skip drill_tcp_faults "criu missing (tools/setup/install-deps)"; exit 0; }
command -v redis-server >/dev/null || { es_plan 1; es_skip drill_tcp_faults "redis-server missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 14

CONNS=3
# others_clean NAME SENT: the user's other connections as the first one
others_clean() {
	es_expect_eq "$1: the other connections: none lost, twice, reset or with a wrong counter" \
		"$(drill_q '.other_connections | "\(.sent) \(.lost) \(.answered_twice) \(.resets) \(.replies_with_wrong_counter)"')" \
		"$2 0 0 0 0"
}

# long enough that the connections are still open when the retry comes
drill_run retry --service redis --connections $CONNS --mode partial --rate 20 --count 400 --handoff-at 30 \
	--fault restore_fail --retry
drill_expect_done "Redis, restore fails, then a retry"
others_clean "Redis, retry" $(((CONNS - 1) * 400))
es_expect_eq "Redis, retry: the first attempt failed, the retry carried every connection" \
	"$(jq -r '"\(.[1].state) \(.[0].sessions | length)"' "$DRILL_DIR/zdm.json")" "failed $CONNS"
es_expect_eq "Redis, retry: the failed attempt's copies of the connections aborted at the target" \
	"$(grep -c '"event":"zdm_restored_connection_closed".*"result":"closed"' "$DRILL_DIR/events-node2.log")" "$CONNS"
es_expect_eq "Redis, retry: the agents compared each connection's streams: same bytes" \
	"$(drill_q ".migration.agents_exactly_once | \"\(.passed) \(.blocks_diverged) \(.segments_unhashed)\"")" \
	"true 0 0"

# the other connections send 40 requests (2 s) and close, the handoff at 1.5 s
drill_run close --service redis --connections $CONNS --mode partial --rate 20 --count 160 --handoff-at 30 \
	--others-count 40
drill_expect_done "Redis, connections closed in the migration"
others_clean "Redis, closed in the migration" $(((CONNS - 1) * 40))
es_expect_eq "Redis, closed in the migration: nothing half-open where the service runs now" \
	"$(drill_q .site.half_open_connections)" 0
es_done
