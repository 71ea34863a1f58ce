#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# An established TCP connection survives a migration (spec tcp_established:
# CRIU --tcp-established on dump and restore) when the service IP moves with
# the container (spec service_ip). Three emulated hosts: nodes A and B, and
# a client C with a link to each; C reaches the service IP S through A, and
# after the migration through B (the route switch stands for the network
# converging, or issue 5's forwarding).
#
# The client is stopped (SIGSTOP) while the container moves: the source
# keeps running after its checkpoint, so bytes it exchanged after the dump
# would be unknown to the restored copy and the two TCP ends would no longer
# agree on sequence numbers. Nothing flows between dump and switch here;
# holding the flow is what issue 5's forwarding does.
. "$(dirname "$0")/../lib.sh"
es_require_root migration_tcp
# shellcheck source=selftests/migration/migration.inc
. "$(dirname "$0")/migration.inc"
command -v criu >/dev/null || { es_plan 1; es_skip migration_tcp "criu missing (tools/setup/install-deps)"; exit 0; }

es_plan 12
client=""
trap '[ -n "$client" ] && kill -CONT "$client" 2>/dev/null; mig_cleanup; es_cleanup' EXIT
SVC=10.250.$((RANDOM % 200)).100
CLIENT_IP=10.251.$((RANDOM % 200)).9

mig_setup partial || exit 1
es_netns_add c || exit 1
es_in c sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
es_veth c ca 10.246.0.2 "$MIG_NS_A" ac 10.246.0.1 || exit 1
es_veth c cb 10.245.0.2 "$MIG_NS_B" bc 10.245.0.1 || exit 1
ip -n "$(es_ns c)" addr add "$CLIENT_IP/32" dev lo
ip -n "$(es_ns c)" route add "$SVC/32" via 10.246.0.1 src "$CLIENT_IP"
ip -n "$(es_ns "$MIG_NS_A")" route add "$CLIENT_IP/32" via 10.246.0.2
ip -n "$(es_ns "$MIG_NS_B")" route add "$CLIENT_IP/32" via 10.245.0.2

# has_ip NODE_LETTER: S is on the node's loopback (ip -j).
has_ip() {
	local ns=$MIG_NS_A
	[ "$1" = b ] && ns=$MIG_NS_B
	ip -n "$(es_ns "$ns")" -j addr show dev lo | jq -e --arg s "$SVC" \
		'[.[].addr_info[] | select(.local == $s)] | length == 1' >/dev/null && echo yes || echo no
}

es_expect_eq "a spec with a bad service_ip is refused" \
	"$(mig_api a POST /v1/containers "{\"name\":\"bad\",\"image\":\"$MIG_IMAGE\",\"args\":[\"/bin/true\"],\"service_ip\":\"10.1.2\"}" | tail -n 1)" 400
args=$(printf '"%s",' /usr/local/bin/es-counter serve --udp "$MIG_UDP" --tcp "$MIG_TCP" \
	--state-dir /data --mem-mb 2 --write-kb 64)
code=$(mig_api a POST /v1/containers "{\"name\":\"t1\",\"image\":\"$MIG_IMAGE\",\"args\":[${args%,}],
	\"service_ip\":\"$SVC\",\"tcp_established\":true}" | tail -n 1)
es_expect_eq "container with service_ip and tcp_established started on A" "$code" 200
es_expect_eq "service IP on A's loopback" "$(has_ip a)/$(has_ip b)" "yes/no"
mig_wait_service a

log=$ES_TMP/tcp.log
es_bg es_in c "$COUNTER" client --to "$SVC" --port "$MIG_TCP" --tcp --rate 10 --duration 120 \
	--timeout-ms 60000 --log "$log"
client=$ES_BG_PID
for _ in $(seq 100); do [ "$({ wc -l <"$log"; } 2>/dev/null)" -ge 5 ] 2>/dev/null && break; sleep 0.1; done
kill -STOP "$client"
sleep 0.5	# the last request and its answer settle
before=$(jq -s 'map(select(.counter)) | last | .counter' "$log")
es_expect_ge "client counted through A on one connection" "$before" 5

mig_migrate --container t1 --to "$MIG_NODE_B" --mode partial --json --wait-s 60 \
	>"$ES_TMP/mig.json" 2>"$ES_TMP/mig.err"
es_expect_eq "migration with tcp_established restored" "$(jq -r .state "$ES_TMP/mig.json")" restored
[ "$(jq -r .state "$ES_TMP/mig.json")" = restored ] || es_diag <"$ES_TMP/mig.err"
es_expect_eq "service IP added at B before the restore" "$(has_ip b)" yes
# The network now reaches S through B; the source lets go of S, then stops.
ip -n "$(es_ns c)" route replace "$SVC/32" via 10.245.0.1 src "$CLIENT_IP"
mig_migrate --stop-source-of "$(jq -r .id "$ES_TMP/mig.json")" --json >/dev/null 2>&1
es_expect_eq "service IP moved: only B holds it" "$(has_ip a)/$(has_ip b)" "no/yes"

lines=$(wc -l <"$log")
kill -CONT "$client"
for _ in $(seq 100); do [ "$(wc -l <"$log")" -ge $((lines + 10)) ] && break; sleep 0.1; done
kill "$client"; wait "$client" 2>/dev/null
client=""
after=$(tail -n +$((lines + 1)) "$log")
es_expect_eq "every request after the move answered" "$(jq -s 'map(select(.lost)) | length' <<<"$after")" 0
es_expect_eq "counter continues at B on the same connection" \
	"$(jq -s 'first | .counter' <<<"$after")" $((before + 1))
es_expect_eq "never reconnected (one TCP connection throughout)" \
	"$(jq -s '[.[].conn] | unique | join(",")' "$log" | tr -d '"')" 1
es_expect_eq "B's restored service answers CHECK" "$(mig_check b | jq -r .memory_intact)" true
last=$(jq -s 'map(select(.counter)) | last | .counter' "$log")
es_expect_eq "a new UDP client reaches S at B, answered from S" \
	"$(es_in c "$COUNTER" client --to "$SVC" --port "$MIG_UDP" --count 1 --start-seq 99 --timeout-ms 1000 2>/dev/null | jq .counter)" \
	$((last + 1))
es_done
