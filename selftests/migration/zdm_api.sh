#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The zero-downtime API's refusals, on one agent with the migration data
# plane: a session whose service no UDP socket serves (a TCP service named
# without /tcp) is refused with the reason instead of being forwarded as
# nothing and reported done, so is one whose socket cannot be looked for
# (its pod's namespace gone), and so is a TCP session of a container without
# tcp_established; the peer steps that recover what the WAN lost check
# their arguments. The agent has the kernel keep the peer node's neighbour
# resolved (a managed entry), so a handoff's first tunnelled packets do not
# wait for ARP across the WAN.
. "$(dirname "$0")/../lib.sh"
es_require_root zdm_api
es_plan 15

TOKEN=zdm-api-token-0123456789
es_netns_add a && es_netns_add b && es_veth a w 10.250.0.1 b v 10.250.0.2 || exit 1
es_in a ip addr add 10.250.1.1/32 dev lo
cat >"$ES_TMP/config.json" <<JSON
{
	"state_dir": "$ES_TMP/state",
	"migration": { "token": "$TOKEN", "peers": { "peer": "http://10.250.0.2:9464" } },
	"zero_downtime": { "tunnel_addr": "10.250.0.1", "wan_interfaces": ["$(es_ifname w)"] }
}
JSON
mkdir -p "$ES_TMP/state"
trap 'es_runc_cleanup "$ES_TMP/state"; es_cleanup' EXIT
es_agent_start a a --config "$ES_TMP/config.json" || exit 1
es_expect_eq "the peer node's neighbour: managed by the kernel" \
	"$(es_in a ip neigh show 10.250.0.2 | grep -c ' managed ')" 1
# nothing here sends to the peer: the kernel resolves it on its own
state=
for _ in $(seq 30); do
	state=$(es_in a ip neigh show 10.250.0.2 | grep -oE 'REACHABLE|STALE|DELAY|PROBE')
	[ -n "$state" ] && break
	sleep 0.1
done
es_expect_eq "... and resolved before any traffic needs it" "${state:+resolved}" resolved
post() { es_in a curl -s -m 5 -o "$ES_TMP/body" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$ES_AGENT_PORT$1"; }
error() { jq -r .error "$ES_TMP/body"; }

# a TCP service on 7001: no UDP socket there
es_bg es_in a python3 -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.250.1.1", 7001)); s.listen(); time.sleep(60)'
sleep 0.3
S=10.250.0.9:4000%3E10.250.1.1:7001
es_expect_eq "zdm of a TCP service's session: 400" "$(post "/v1/zdm/migrations?container=svc&to=peer&session=$S")" 400
es_expect_eq "zdm of a TCP service's session: the reason" \
	"$(error | grep -c 'no UDP socket serves 10.250.1.1:7001 on this node (a TCP service?')" 1
es_expect_eq "zdm of a session named /tcp: past the UDP check, 404 for the container" \
	"$(post "/v1/zdm/migrations?container=svc&to=peer&session=$S/tcp")/$(error | grep -c "no container")" "404/1"
# a UDP socket on 7002: the session passes, the next check (the container) refuses
es_bg es_in a python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.250.1.1", 7002)); time.sleep(60)'
# bound before it is asked about (python starts slowly on a loaded machine)
for _ in $(seq 100); do [ -n "$(es_in a ss -Hun 'sport = :7002')" ] && break; sleep 0.1; done
es_expect_eq "zdm of a UDP service's session without the container: 404 for the container" \
	"$(post "/v1/zdm/migrations?container=svc&to=peer&session=10.250.0.9:4000%3E10.250.1.1:7002")/$(error | grep -c "no container")" "404/1"
# A TCP session of a container whose connections CRIU would not carry
if command -v runc >/dev/null; then
	image=$(bash "$ES_ROOT/tools/fixtures/es-image.sh" --state-dir "$ES_TMP/state" --build "$ES_BUILD")
	es_expect_eq "a container without tcp_established started" \
		"$(es_in a curl -s -m 30 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
			-d "{\"name\":\"plain\",\"image\":\"$image\",\"args\":[\"/usr/local/bin/es-counter\",\"serve\",\"--tcp\",\"7004\"]}" \
			"http://127.0.0.1:$ES_AGENT_PORT/v1/containers")" 200
	es_expect_eq "zdm of its TCP session: 400, CRIU must carry the connection" \
		"$(post "/v1/zdm/migrations?container=plain&to=peer&session=10.250.0.9:4000%3E10.250.1.1:7004/tcp")/$(error | grep -c 'tcp_established')" "400/1"
else
	es_skip "a container without tcp_established started" "runc missing"
	es_skip "zdm of its TCP session refused" "runc missing"
fi
# The CLI with --api before the command starts one (not a silent list).
zdm_cli() { EDGESHIFT_TOKEN=$TOKEN es_in a "$ES_BUILD/edgeshift" "$@" zdm --container svc --to peer \
	--session 10.250.0.9:4000\>10.250.1.1:7002 >"$ES_TMP/cli.out" 2>&1; echo $?; }
es_expect_eq "edgeshift --api URL zdm --container ...: the start is asked, refused for the container" \
	"$(zdm_cli --api "http://127.0.0.1:$ES_AGENT_PORT")/$(grep -c "no container" "$ES_TMP/cli.out")" "1/1"
es_expect_eq "edgeshift -a URL --timeout-ms N zdm --container ...: the same" \
	"$(zdm_cli -a "http://127.0.0.1:$ES_AGENT_PORT" --timeout-ms 3000)/$(grep -c "no container" "$ES_TMP/cli.out")" "1/1"
es_expect_eq "resend of requests with to < from: 400" \
	"$(post "/v1/zdm/target/resend?session=$S&from=5&to=4")" 400
es_expect_eq "resend of requests for a session this node does not forward: not 200" \
	"$(post "/v1/zdm/target/resend?session=$S&from=1&to=2" | grep -vc 200)" 1
es_expect_eq "resend of replies for a session this node does not serve: 404" \
	"$(post "/v1/zdm/source/resend?session=$S&from=1&to=2")" 404
es_expect_eq "the source's steps: unknown step refused" \
	"$(post "/v1/zdm/source/hold?session=$S")" 404
# a pod record holding the service's address whose namespace is gone: the
# UDP check cannot look, and says so, instead of letting the session through
mkdir -p "$ES_TMP/state/pods/gone"
echo '{"ips": [{"address": "10.250.1.3/32"}]}' >"$ES_TMP/state/pods/gone/cni.json"
es_expect_eq "zdm of a UDP session whose pod's namespace is gone: 400, the reason" \
	"$(post "/v1/zdm/migrations?container=svc&to=peer&session=10.250.0.9:4000%3E10.250.1.3:7002")/$(error | grep -c 'cannot look for the UDP socket serving 10.250.1.3:7002: the network namespace')" \
	"400/1"
es_done
