#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The Redis drill with an IPv6 user and an IPv6 service (drill.sh --ipv6):
# Debian's redis-server bound to the service's IPv6 address in the
# drill's runc container, five connections INCRing keys of their own
# through the handoff and the partial migration; the nodes' link, and so
# the tunnel, is IPv4. The agent finds the connections in the AF_INET6
# socket dump, CRIU carries the IPv6 sockets, the target replays through a
# raw IPv6 socket and compares each connection's two streams; ten more
# connections opened in the window are replayed from their SYN and
# translated (IPv6 TCP headers). Nothing is lost, applied twice or reset;
# each key ends at its client's replies.
. "$(dirname "$0")/../lib.sh"
es_require_root drill_redis6
command -v criu >/dev/null || { es_plan 1; es_skip drill_redis6 "criu missing (tools/setup/install-deps)"; exit 0; }
command -v redis-server >/dev/null || { es_plan 1; es_skip drill_redis6 "redis-server missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 11

CONNS=5
LATE=10
drill_run redis6 --service redis --ipv6 --connections $CONNS --mode partial --rate 20 --count 120 \
	--handoff-at 30 --late-connections $LATE
drill_expect_done "Redis over IPv6, $CONNS connections"
drill_expect_connections "Redis over IPv6" redis $CONNS 120 $((CONNS + LATE))
es_expect_eq "Redis over IPv6: the connections opened in the window: all answered, none reset" \
	"$(drill_q '.site.late_connections | "\(.connections) \(.sent == .answered) \(.lost) \(.answered_twice) \(.resets) \(.replies_with_wrong_counter)"')" \
	"$LATE true 0 0 0 0"
es_expect_eq "Redis over IPv6: the sessions are the user's IPv6 connections" \
	"$(jq -r '[.[0].sessions[].session | test("^\\[fd00:31:[0-9]+::2\\]:[0-9]+>\\[fd00:30:[0-9]+::1\\]:7000/tcp$")] | all' \
		"$DRILL_DIR/zdm.json")" true
es_expect_eq "Redis over IPv6: the old container's connections aborted before it was stopped" \
	"$(grep '"event":"zdm_old_connection_closed"' "$DRILL_DIR/events-node1.log" | jq -r '"\(.found) \(.closed)"')" \
	"true $((CONNS + LATE))"
es_done
