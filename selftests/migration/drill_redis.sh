#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Zero-downtime migration of an unmodified Redis (Debian's redis-server in
# the drill's runc container) with its user's five connections, each
# INCRing a key of its own at 20 per second through the handoff and the
# partial migration. The handoff names no session: the source finds every
# established connection of the container's service and moves them all
# in one migration. No connection is reset, nothing is lost or applied
# twice, each key ends at the number of replies its client got, and the
# agents compared every connection's two byte streams. Again with
# pipelining: each connection writes 16 INCRs at a time (redis-benchmark
# -P 16), 800 requests/s in all. With two of three connections idle while
# they move. And with 100 connections.
. "$(dirname "$0")/../lib.sh"
es_require_root drill_redis
command -v criu >/dev/null || { es_plan 1; es_skip drill_redis "criu missing (tools/setup/install-deps)"; exit 0; }
command -v redis-server >/dev/null || { es_plan 1; es_skip drill_redis "redis-server missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 31

CONNS=5
# each connection on a key of its own: replayed each on its own, the
# order the agents offer besides the default (arrival, below)
drill_run redis --service redis --connections $CONNS --mode partial --rate 20 --count 120 --handoff-at 30 \
	--replay-order connection
drill_expect_done "Redis, $CONNS connections"
drill_expect_connections Redis redis $CONNS 120
# every connection may raise a handoff at the target; the first one
# starts the migration, the others find the container migrating
es_expect_eq "Redis: one migration, however many handoffs the connections raised" \
	"$(jq length "$DRILL_DIR/zdm.json")" 1
es_expect_eq "Redis: the old container's connections aborted before it was stopped" \
	"$(grep '"event":"zdm_old_connection_closed"' "$DRILL_DIR/events-node1.log" | jq -r '"\(.found) \(.closed)"')" \
	"true $CONNS"

drill_run redisp --service redis --connections $CONNS --pipeline 16 --mode partial --rate 160 --count 960 \
	--handoff-at 240
drill_expect_done "Redis pipelined, $CONNS connections"
es_expect_eq "Redis pipelined: the other connections: none lost, twice, reset or with a wrong counter" \
	"$(drill_q '.other_connections | "\(.sent) \(.lost) \(.answered_twice) \(.resets) \(.replies_with_wrong_counter)"')" \
	"$(((CONNS - 1) * 960)) 0 0 0 0"

# Two of three connections idle while they move: each sent its 5 requests
# and had its answers before the handoff, and stays open
# (--hold-connections). Nothing of theirs goes through the tunnel, so the
# source made no entry for them, and the old container's RST at its abort
# after the cut-over went to the user from there: both idle clients were
# reset and the source's check failed. The entry is now made for every
# TCP session when the migration starts. (An idle connection whose old
# container sent during the migration needs the replay's probe:
# drill_tcp_faults' retry.)
drill_run idle --service redis --connections 3 --mode partial --rate 20 --count 120 --handoff-at 30 \
	--others-count 5 --hold-connections
drill_expect_done "Redis, two connections idle"
drill_expect_connections "Redis, two connections idle" redis 3 5

# The issue's test size for all sessions of a container: 100 connections,
# each on a key of its own at 5 per second (500 requests/s in all), every
# one carried by the one migration the handoff starts.
drill_run redis100 --service redis --connections 100 --mode partial --rate 5 --count 60 --handoff-at 15
drill_expect_done "Redis, 100 connections"
drill_expect_connections "Redis, 100 connections" redis 100 60
es_done
