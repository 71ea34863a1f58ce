#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# migration.peer_init_cwnd (docs/migration.md, "TCP between agents"): the
# sockops program the agent attaches to its own cgroup gives a connection
# to a peer's agent the configured initial congestion window, leaves other
# connections alone, and goes away with the agent.
. "$(dirname "$0")/../lib.sh"
es_require_root migration_peer_tcp
# shellcheck source=selftests/migration/migration.inc
. "$(dirname "$0")/migration.inc"

es_plan 5
export MIG_CONFIG_EXTRA='"peer_init_cwnd": 500, "peer_cwnd_clamp": 700, "peer_rcvbuf": 1048576'
mig_setup partial || exit 1

# hold NS IP PORT: an idle connection from NS (same cgroup as the agents)
hold() {
	es_bg es_in "$1" bash -c "exec 3<>/dev/tcp/$2/$3; sleep 3"
	sleep 0.5
}
# field NS FILTER NAME: NAME's value in ss -ti of the connection FILTER
field() {
	es_in "$1" ss -tinH "$2" | grep -o "$3:[0-9]*" | head -n 1 | cut -d: -f2
}

hold "$MIG_NS_A" "$MIG_IP_B" "$MIG_PORT"
es_expect_eq "connection to the peer's agent starts with cwnd 500" \
	"$(field "$MIG_NS_A" "dst $MIG_IP_B:$MIG_PORT" cwnd)" 500
# the peer's agent accepted it with the configured receive buffer (the kernel doubles it)
es_expect_eq "the accepting agent's receive buffer is 2 MiB" \
	"$(es_in "$MIG_NS_B" ss -tinmH "src $MIG_IP_B:$MIG_PORT" | grep -o 'rb[0-9]*' | head -n 1)" rb2097152

# Another port of the same peer is not its agent: the kernel's window.
mkdir -p "$ES_TMP/counter"
es_bg es_in "$MIG_NS_B" "$COUNTER" serve --tcp 9999 --state-dir "$ES_TMP/counter"
sleep 0.5
hold "$MIG_NS_A" "$MIG_IP_B" 9999
es_expect_eq "connection to another port keeps cwnd 10" \
	"$(field "$MIG_NS_A" "dst $MIG_IP_B:9999" cwnd)" 10

# The program goes with the agent: a restarted agent without the setting.
sleep 3
kill "$MIG_PID_A" && wait "$MIG_PID_A" 2>/dev/null
MIG_CONFIG_EXTRA="" mig_agent a || exit 1
hold "$MIG_NS_A" "$MIG_IP_B" "$MIG_PORT"
es_expect_eq "after the agent restarted without it: cwnd 10" \
	"$(field "$MIG_NS_A" "dst $MIG_IP_B:$MIG_PORT" cwnd)" 10
if es_agent_log a1 | grep -q "peer_tcp_attached.*init_cwnd=500 cwnd_clamp=700 rcvbuf=1048576"; then es_ok "the agent logged the attachment"
else es_not_ok "the agent logged the attachment" "$(es_agent_log a1 | tail -3)"; fi
