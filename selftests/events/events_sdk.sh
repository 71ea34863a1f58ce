#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every event type, in both content modes, reaches a consumer no one here
# wrote: a receiver on the official CloudEvents JavaScript SDK validates
# each request (CloudEvents 1.0) and the data schema of docs/events.md.
# K_CE_OVERRIDES' extension is on every event, K_SINK gives the sink.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/events_lib.sh"
es_require_root events_sdk
ev_sdk_or_skip events_sdk
TYPES=11
es_plan 16

es_netns_add r || exit 1
for mode in binary structured; do
	ev_receiver r "$mode" 8080 --mode "$mode" || exit 1
	out=$(K_SINK=http://127.0.0.1:8080/ces K_CE_OVERRIDES='{"extensions":{"edgecluster":"east-1"}}' \
		ev_emit r "{\"content_mode\": \"$mode\", \"spool_dir\": \"$ES_TMP/spool-$mode\"}" \
		--node "$ES_PREFIX-n1" --all --wait 20)
	es_diag <<<"$mode: $out"
	es_expect_eq "$mode: every event delivered" "$(jq .delivered <<<"$out")" "$TYPES"
	es_expect_eq "$mode: every request valid for the SDK and the schema" \
		"$(ev_jq "$mode" '[.[] | select(.invalid)] | length')" 0
	ev_jq "$mode" '.[] | select(.invalid) | .invalid' | head -5 | es_diag
	es_expect_eq "$mode: $TYPES distinct types, each once" \
		"$(ev_jq "$mode" '[.[].type] | unique | length'),$(ev_jq "$mode" 'length')" "$TYPES,$TYPES"
	es_expect_eq "$mode: sent in $mode mode" \
		"$(ev_jq "$mode" "[.[] | select(.mode == \"$mode\")] | length")" "$TYPES"
	es_expect_eq "$mode: K_CE_OVERRIDES extension on every event" \
		"$(ev_jq "$mode" '[.[] | select(.ext_edgecluster == "east-1")] | length')" "$TYPES"
	es_expect_eq "$mode: source names the node" \
		"$(ev_jq "$mode" "[.[] | select(.source | startswith(\"/edgeshift/$ES_PREFIX-n1\"))] | length")" "$TYPES"
	if [ "$mode" = binary ]; then
		# The receiver can say no: an event without a source, and one whose data misses a field.
		post() { es_in r curl -s -o /dev/null -w '%{http_code}' -H 'ce-specversion: 1.0' \
			-H 'ce-id: x1' -H 'ce-type: io.edgeshift.user.attached' -H 'ce-subject: users/x' \
			-H 'ce-time: 2026-01-01T00:00:00Z' -H 'Content-Type: application/json' "$@" \
			http://127.0.0.1:8080/; }
		es_expect_eq "control: the SDK refuses an event without source" \
			"$(post -d '{"user":"x","service":"y","protocol":"udp","interface":"i","first_packet_ns":1}')" 400
		es_expect_eq "control: the schema check refuses data without a field" \
			"$(post -H 'ce-source: /edgeshift/n' -d '{"user":"x"}')" 400
	fi
	ev_stop "$EV_RX_PID"
done
es_expect_eq "the failed migration carries its reason" \
	"$(ev_jq binary '.[] | select(.type == "io.edgeshift.migration.failed") | .data.reason')" \
	"peer unreachable"
es_expect_eq "session.closed carries its totals" \
	"$(ev_jq structured '.[] | select(.type == "io.edgeshift.session.closed") | "\(.data.packets_in) \(.data.bytes_out) \(.data.reason)"')" \
	"3 180 idle"
es_done
