#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make console-drill`: the web console on the migration drill's site, to
# watch a migration happen (docs/console.md). The drill (tools/drill/drill.sh,
# its arguments from DRILL; by default the reference 200 ms RTT WAN and the
# handoff 30 s in, time to open the page) runs with ES_DRILL_SITE. Once its
# agents answer, edgeshift-console starts in node 1's namespace with the
# agents' token, and a veth from the host into node 1 makes it reachable at
# http://10.245.0.2:CONSOLE_PORT/ (default 8080). The site stays up after
# the drill until Ctrl-C, which stops the console and lets the drill remove
# everything it made.
. "$(dirname "$0")/../../selftests/lib.sh"
PORT=${CONSOLE_PORT:-8080}
if [ "$(id -u)" != 0 ]; then
	echo "console-drill: needs root (namespaces, BPF, containers)" >&2
	exit 1
fi
SITE=$ES_TMP/site.env
HOST_IF=${ES_PREFIX}dh
DRILL_PID=""
# The drill tears its site down once SITE is gone; killed, it could not.
finish() {
	rm -f "$SITE"
	ip link del "$HOST_IF" 2>/dev/null
	[ -n "$DRILL_PID" ] && wait "$DRILL_PID"
	es_cleanup
}
trap finish EXIT
# shellcheck disable=SC2086 # DRILL is a list of the drill's arguments
ES_DRILL_SITE=$SITE ES_DRILL_SITE_HOLD_S=86400 bash "$ES_ROOT/tools/drill/drill.sh" \
	${DRILL:---count 600 --handoff-at 300} &
DRILL_PID=$!
while [ ! -s "$SITE" ]; do
	kill -0 "$DRILL_PID" 2>/dev/null || { echo "console-drill: the drill ended early" >&2; exit 1; }
	sleep 0.2
done
# shellcheck disable=SC1090
. "$SITE"
printf '%s\n' "$DRILL_TOKEN" >"$ES_TMP/token"
ip link add "$HOST_IF" type veth peer name "${ES_PREFIX}dc" netns "$DRILL_NS1" || exit 1
ip addr add 10.245.0.1/30 dev "$HOST_IF"
ip link set "$HOST_IF" up
ip -n "$DRILL_NS1" addr add 10.245.0.2/30 dev "${ES_PREFIX}dc"
ip -n "$DRILL_NS1" link set "${ES_PREFIX}dc" up
echo "console-drill: http://10.245.0.2:$PORT/#migrations (token $DRILL_TOKEN; Ctrl-C ends)"
nsenter --net="/run/netns/$DRILL_NS1" "$ES_BUILD/edgeshift-console" --control-plane "$DRILL_URL1" \
	--agent "$DRILL_URL2" -l "10.245.0.2:$PORT" --token-file "$ES_TMP/token"
