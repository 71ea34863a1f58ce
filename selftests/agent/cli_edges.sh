#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Edges of the session API and CLI and of the agent's start: `edgeshift
# sessions --help` prints the usage; a malformed --addr is an error (400 from
# the API, exit 2 and the reason from the CLI), not an empty list; an
# interface pattern that matches nothing is warned about; --node-name ''
# is refused like node_name "" in the file, --state-dir not absolute like
# state_dir; the agent keeps its state where --state-dir says (the tests'
# agents in their ES_TMP, not the machine's /var/lib/edgeshift); latency is
# printed in a unit that fits the column (ms for a 30 ms response time,
# not 30000us).
. "$(dirname "$0")/../lib.sh"
es_require_root cli_edges
es_plan 11

out=$("$ES_BUILD/edgeshiftd" --node-name '' --check-config 2>&1)
es_expect_eq "--node-name '' refused (exit 2, the reason)" "$?/$(grep -c 'node-name must be a non-empty' <<<"$out")" "2/1"
out=$("$ES_BUILD/edgeshiftd" --state-dir state --check-config 2>&1)
es_expect_eq "--state-dir not absolute refused (exit 2, the reason)" "$?/$(grep -c 'state-dir must be an absolute path' <<<"$out")" "2/1"

CLI=("$ES_BUILD/edgeshift" --api "http://127.0.0.1:$ES_AGENT_PORT" --pin-path "$(es_pin_path main)")
es_netns_add a && es_netns_add b && es_no_ipv6 a b || exit 1
es_veth a va 10.248.0.1 b vb 10.248.0.2 || exit 1
VB=$(es_ifname vb)
es_agent_start b main -i "$VB" -i "${ES_PREFIX}zz*" || exit 1
es_expect_eq "a pattern that matches nothing: warned" \
	"$(es_agent_log main | grep 'interface_pattern_unmatched' | grep -c "pattern=\"${ES_PREFIX}zz\*\"")" 1
es_expect_eq "a pattern that matches: no warning" \
	"$(es_agent_log main | grep 'interface_pattern_unmatched' | grep -c "pattern=\"$VB\"")" 0
es_expect_eq "the agent's state in the test's --state-dir (images, containers, migrations, runc)" \
	"$(cd "$ES_TMP/state-main" 2>/dev/null && ls -d images containers migrations runc 2>/dev/null | wc -l)" 4

out=$(es_in b "${CLI[@]}" sessions --help 2>&1)
es_expect_eq "edgeshift sessions --help: exit 0 and the usage" "$?/$(grep -c '^Usage: edgeshift sessions' <<<"$out")" "0/1"
code=$(es_in b curl -s -m 5 -o "$ES_TMP/addr.json" -w '%{http_code}' \
	"http://127.0.0.1:$ES_AGENT_PORT/v1/sessions?addr=10.77.0")
es_expect_eq "API: a malformed addr is 400 with the reason" \
	"$code/$(jq -r .error "$ES_TMP/addr.json" | grep -c 'not an IPv4 or IPv6 address')" "400/1"
out=$(es_in b "${CLI[@]}" sessions --addr 10.77.0 2>&1)
es_expect_eq "CLI: a malformed --addr exits 2 with the reason" \
	"$?/$(grep -c "addr=10.77.0': not an IPv4 or IPv6 address" <<<"$out")" "2/1"
es_expect_eq "a well-formed --addr still filters (exit 0)" \
	"$(es_in b "${CLI[@]}" sessions --addr 10.248.0.1 >/dev/null 2>&1; echo $?)" 0

# A service that answers each request after 30 ms: the latency in ms.
es_bg es_in b python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.248.0.2", 7400))
while True:
    d, a = s.recvfrom(2048); time.sleep(0.03); s.sendto(d, a)'
# a loaded machine starts python late: the client must not send before it
# listens (its requests would find no socket and get no answer)
es_wait_listen b u 7400
es_in a "$ES_BUILD/es-traffic" udp-client --to 10.248.0.2 --port 7400 --count 5 --size 16 >/dev/null 2>&1
sleep 0.5
line=$(es_in b "${CLI[@]}" sessions --proto udp --port 7400 2>/dev/null | grep ':7400')
# 30 ms or more (a loaded machine answers later), printed in ms, not us
in_ms=$(grep -cE ' [a-z]+ ([3-9][0-9]|[0-9]{3})\.[0-9]ms ' <<<"$line")
es_expect_eq "a 30 ms response time printed in ms" "$in_ms" 1
[ "$in_ms" = 1 ] || es_diag <<<"the line: '$line'"
hdr=$(es_in b "${CLI[@]}" sessions --proto udp --port 7400 2>/dev/null | head -n 1)
es_expect_eq "the latency stays in its column (STATE starts where the header says)" \
	"$(awk -v h="$hdr" 'BEGIN { print index(h, "STATE") }')" \
	"$(awk '{ print index($0, $NF) }' <<<"$line")"
es_done
