#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# TLS on the agents' own listeners (migration.tls_cert/tls_key) with peers
# checked against a CA (migration.tls_ca), all made by openssl here: the
# listener speaks only HTTPS, still refuses a request without the token, a
# partial migration runs over HTTPS, and a source that does not trust the
# target's certificate refuses to send anything to it.
. "$(dirname "$0")/../lib.sh"
es_require_root migration_tls
# shellcheck source=selftests/migration/migration.inc
. "$(dirname "$0")/migration.inc"
command -v criu >/dev/null || { es_plan 1; es_skip migration_tls "criu missing (tools/setup/install-deps)"; exit 0; }
command -v openssl >/dev/null || { es_plan 1; es_skip migration_tls "openssl missing"; exit 0; }

es_plan 10
pki=$ES_TMP/pki
mkdir -p "$pki"
# ca NAME: a self-signed CA.
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=edgeshift test $1" -keyout "$pki/$1.key" -out "$pki/$1.pem" 2>/dev/null
}
# node NAME IP CA: a key and a certificate for IP (and 127.0.0.1) signed by CA.
node() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$pki/$1.key" -out "$pki/$1.csr" 2>/dev/null &&
	openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$3.pem" -CAkey "$pki/$3.key" -CAcreateserial \
		-days 2 -extfile <(printf 'subjectAltName=IP:%s,IP:127.0.0.1\n' "$2") \
		-out "$pki/$1.pem" 2>/dev/null
}
if ! { ca ca && ca other && node a "$MIG_IP_A" ca && node b "$MIG_IP_B" ca && node b-other "$MIG_IP_B" other; }; then
	echo "Bail out! openssl failed"
	exit 1
fi

# tls_agent NODE_LETTER CERT_NAME: start an agent with TLS and CERT_NAME's
# certificate, checking its peer against the CA "ca".
tls_agent() {
	local n=$1 ns=$MIG_NS_A st=$MIG_STATE_A peer=$MIG_NODE_B pip=$MIG_IP_B node=$MIG_NODE_A f
	[ "$n" = b ] && ns=$MIG_NS_B st=$MIG_STATE_B peer=$MIG_NODE_A pip=$MIG_IP_A node=$MIG_NODE_B
	f=$ES_TMP/tls-$n.json
	jq -n --arg st "$st" --arg tok "$MIG_TOKEN" --arg peer "$peer" --arg url "https://$pip:$MIG_PORT" \
		--arg log "$ES_TMP/events-$n.log" --arg cert "$pki/$2.pem" --arg key "$pki/$2.key" \
		--arg ca "$pki/ca.pem" '{state_dir: $st, migration: {token: $tok, peers: {($peer): $url},
		event_log: $log, tls_cert: $cert, tls_key: $key, tls_ca: $ca}}' >"$f"
	es_bg --log "$ES_TMP/agent-tls-$n.log" es_in "$ns" "$ES_BUILD/edgeshiftd" \
		-p "$(es_pin_path "tls$n")" -l "0.0.0.0:$MIG_PORT" --node-name "$node" --config "$f"
	ES_PINS+=("$(es_pin_path "tls$n")")
	eval "MIG_PID_${n^^}=$ES_BG_PID"
	for _ in $(seq 100); do
		es_in "$ns" curl -s -m 1 -k "https://127.0.0.1:$MIG_PORT/healthz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	es_diag <"$ES_TMP/agent-tls-$n.log"
	return 1
}
# https_code NS URL [curl args]: the HTTP status (000 when no HTTP answer came).
https_code() {
	local ns=$1 url=$2
	shift 2
	es_in "$ns" curl -s -m 5 -o /dev/null -w '%{http_code}' "$@" "$url"
}

es_netns_add "$MIG_NS_A" && es_netns_add "$MIG_NS_B" && link_nodes || exit 1
mkdir -p "$MIG_STATE_A" "$MIG_STATE_B/images"
MIG_IMAGE=$(bash "$ES_ROOT/tools/fixtures/es-image.sh" --state-dir "$MIG_STATE_A" --image-mb 0 --build "$ES_BUILD") || exit 1
cp -a "$MIG_STATE_A/images/$MIG_IMAGE" "$MIG_STATE_B/images/"
tls_agent a a && tls_agent b b || exit 1

b=https://$MIG_IP_B:$MIG_PORT
es_expect_eq "plain HTTP gets no HTTP answer" "$(https_code "$MIG_NS_A" "http://$MIG_IP_B:$MIG_PORT/healthz")" 000
es_expect_eq "HTTPS with a CA that did not sign it: refused by the client" \
	"$(https_code "$MIG_NS_A" "$b/healthz" --cacert "$pki/other.pem")" 000
es_expect_eq "HTTPS without the token: 401" \
	"$(https_code "$MIG_NS_A" "$b/v1/containers" --cacert "$pki/ca.pem")" 401
es_expect_eq "HTTPS with the token: 200" \
	"$(https_code "$MIG_NS_A" "$b/v1/containers" --cacert "$pki/ca.pem" -H "Authorization: Bearer $MIG_TOKEN")" 200

# The service on A, driven through A's HTTPS API.
export EDGESHIFT_CA=$pki/ca.pem
api_a="https://127.0.0.1:$MIG_PORT"
args=$(printf '"%s",' /usr/local/bin/es-counter serve --udp "$MIG_UDP" --state-dir /data --mem-mb 2 --write-kb 64)
code=$(https_code "$MIG_NS_A" "$api_a/v1/containers" --cacert "$pki/ca.pem" \
	-H "Authorization: Bearer $MIG_TOKEN" -H "Content-Type: application/json" \
	-d "{\"name\":\"t1\",\"image\":\"$MIG_IMAGE\",\"args\":[${args%,}]}")
es_expect_eq "container started on A over HTTPS" "$code" 200
mig_wait_service a
for seq in 1 2 3; do mig_request a "$seq" >/dev/null; done

# A target whose certificate the source's CA did not sign gets nothing.
# (B restarts: containers keep the network namespace of the agent that
# started them, so A keeps running.)
kill "$MIG_PID_B"; wait "$MIG_PID_B" 2>/dev/null
tls_agent b b-other || exit 1
es_in "$MIG_NS_A" "$EDGESHIFT" --api "$api_a" migrate --container t1 --to "$MIG_NODE_B" --mode partial \
	--json --wait-s 60 >"$ES_TMP/untrusted.json" 2>"$ES_TMP/untrusted.err"
if [ "$(jq -r .state "$ES_TMP/untrusted.json")" = failed ] && grep -qi "certificate" "$ES_TMP/untrusted.err"; then
	es_ok "untrusted target certificate: migration refused"
else
	es_not_ok "untrusted target certificate: migration refused" "$(cat "$ES_TMP/untrusted.err")"
fi
es_expect_eq "untrusted: nothing staged at B" "$(find "$MIG_STATE_B/migrations" "$MIG_STATE_B/containers" -mindepth 1 | wc -l)" 0

kill "$MIG_PID_B"; wait "$MIG_PID_B" 2>/dev/null
tls_agent b b || exit 1
es_in "$MIG_NS_A" "$EDGESHIFT" --api "$api_a" migrate --container t1 --to "$MIG_NODE_B" --mode partial \
	--stop-source --json --wait-s 60 >"$ES_TMP/tls.json" 2>"$ES_TMP/tls.err"
es_expect_eq "migration over HTTPS done" "$(jq -r .state "$ES_TMP/tls.json")" "done"
[ "$(jq -r .state "$ES_TMP/tls.json")" = "done" ] || es_diag <"$ES_TMP/tls.err"
es_expect_eq "counter continues at B" "$(mig_request b 4)" 4

jq -n --arg c "$pki/a.pem" '{migration: {token: "0123456789abcdef", tls_cert: $c}}' >"$ES_TMP/half.json"
out=$(es_in "$MIG_NS_A" timeout 10 "$ES_BUILD/edgeshiftd" -p "$(es_pin_path half)" -l 127.0.0.1:1 \
	--config "$ES_TMP/half.json" 2>&1)
if grep -q "migration.tls_key" <<<"$out"; then es_ok "tls_cert without tls_key refused, naming the field"
else es_not_ok "tls_cert without tls_key refused, naming the field" "$out"; fi
es_done
