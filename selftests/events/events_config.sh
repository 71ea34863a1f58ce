#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The "events" configuration is validated before anything starts, with a
# message naming the field (docs/events.md); K_SINK and K_CE_OVERRIDES as a
# SinkBinding sets them are read and checked too.
. "$(dirname "$0")/../lib.sh"

cases=(
	'{"events": []}|events|must be an object'
	'{"events": {"sink": "ftp://x"}}|events.sink|http:// or https:// URL'
	'{"events": {"colour": 1}}|events.colour|not a known field'
	'{"events": {"content_mode": "batched"}}|events.content_mode|"binary" or "structured"'
	'{"events": {"delivery": {"retry": -1}}}|events.delivery.retry|from 0 to 100'
	'{"events": {"delivery": {"backoffPolicy": "random"}}}|events.delivery.backoffPolicy|"exponential" or "linear"'
	'{"events": {"delivery": {"backoffDelay": "200ms"}}}|events.delivery.backoffDelay|ISO-8601 duration'
	'{"events": {"delivery": {"backoffDelay": "PT"}}}|events.delivery.backoffDelay|ISO-8601 duration'
	'{"events": {"delivery": {"timeout": "P1Y2Y"}}}|events.delivery.timeout|ISO-8601 duration'
	'{"events": {"delivery": {"timeout": "PT1S1S"}}}|events.delivery.timeout|ISO-8601 duration'
	'{"events": {"delivery": {"timeout": "PT1S1H"}}}|events.delivery.timeout|ISO-8601 duration'
	'{"events": {"delivery": {"timeout": "PT1e1S"}}}|events.delivery.timeout|ISO-8601 duration'
	'{"events": {"delivery": {"backoffDelay": "PT0x10S"}}}|events.delivery.backoffDelay|ISO-8601 duration'
	'{"events": {"delivery": {"deadLetterSink": 5}}}|events.delivery.deadLetterSink|http://'
	'{"events": {"delivery": {"retries": 5}}}|events.delivery.retries|not a known field'
	'{"events": {"types": ["session.exploded"]}}|events.types[0]|names no event type'
	'{"events": {"services": ["10.0.0.1:99999"]}}|events.services[0]|ADDRESS[:PORT]'
	'{"events": {"services": ["10.0.0.1:80/sctp"]}}|events.services[0]|ADDRESS[:PORT]'
	'{"events": {"spool_dir": "rel"}}|events.spool_dir|absolute path'
	'{"events": {"spool_max_events": 3}}|events.spool_max_events|from 16'
	'{"events": {"utilisation_threshold": 2}}|events.utilisation_threshold|'
	'{"events": {"parallelism": 0}}|events.parallelism|from 1 to 64'
	'{"events": {"latency_slo_ms": {"rtt": 5}}}|events.latency_slo_ms.rtt|not a latency kind'
	'{"events": {"latency_slo_ms": {"service": 0}}}|events.latency_slo_ms.service|above 0'
)
good='{"events": {"sink": "http://broker-ingress.knative-eventing.svc/ns/default",
	"content_mode": "structured", "spool_max_events": 1000, "parallelism": 4,
	"delivery": {"retry": 3, "backoffPolicy": "linear", "backoffDelay": "PT0.5S",
		     "timeout": "PT1M", "deadLetterSink": "https://dls.example/x"},
	"types": ["user.attached", "migration.*", "io.edgeshift.session.closed"],
	"services": ["10.96.0.10:80/tcp", "[fd00::1]:443", "10.96.0.11"],
	"utilisation_threshold": 0.8, "latency_slo_ms": {"service": 50, "handshake": 20}}}'
es_plan $(( ${#cases[@]} + 6 ))

cfg=$ES_TMP/config.json
check() {	# NAME WANT MORE [env...]: --check-config refuses, WANT and MORE in the message
	local name=$1 want=$2 more=$3 out
	shift 3
	if out=$(env "$@" "$ES_BUILD/edgeshiftd" -c "$cfg" --check-config 2>&1); then
		es_not_ok "$name: refused" "accepted: $out"
	elif [[ "$out" == *"$want"* && "$out" == *"$more"* ]]; then
		es_ok "$name: refused, names it"
	else
		es_not_ok "$name: refused, names it" "$out"
	fi
}
for c in "${cases[@]}"; do
	IFS='|' read -r json field msg <<<"$c"
	echo "$json" >"$cfg"
	check "$field" "field '$field'" "$msg"
done

echo "$good" >"$cfg"
es_check "a full events object is valid" "$ES_BUILD/edgeshiftd" -c "$cfg" --check-config
echo '{"events": {}}' >"$cfg"
check "K_SINK that is no URL" "K_SINK must be an http" "" K_SINK=broker
out=$(env K_SINK=http://10.0.0.1/ "$ES_BUILD/edgeshiftd" -c "$cfg" --check-config 2>&1)
es_expect_eq "K_SINK gives the sink (valid, events to it)" "$?/$(grep -cx 'events: to http://10.0.0.1/' <<<"$out")" "0/1"
out=$("$ES_BUILD/edgeshiftd" -c "$cfg" --check-config 2>&1)
es_expect_eq "without K_SINK or a sink: valid, events off" "$?/$(grep -cx 'events: off (no sink)' <<<"$out")" "0/1"
check "K_CE_OVERRIDES with a core attribute" "extension 'type'" "" \
	'K_CE_OVERRIDES={"extensions": {"type": "x"}}'
check "K_CE_OVERRIDES that is no object" "K_CE_OVERRIDES must be" "" 'K_CE_OVERRIDES=[1]'
es_done
