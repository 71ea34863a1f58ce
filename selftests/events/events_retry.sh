#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Delivery as the Knative Eventing data-plane contract has it, against SDK
# receivers answering chosen status codes: 404, 409, 429, 5xx and network
# errors retried (same id each time), other 4xx never; the backoff between
# attempts as configured (exponential, linear); then the dead-letter sink,
# with Knative's knativeerror* extensions. A 2xx with a large reply body is
# accepted, whatever its size.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/events_lib.sh"
es_require_root events_retry
ev_sdk_or_skip events_retry
es_plan 21

es_netns_add r || exit 1
cfg() {	# NAME DELIVERY-JSON [more fields]
	echo "{\"sink\": \"http://127.0.0.1:8080/\", \"spool_dir\": \"$ES_TMP/spool-$1\",
	       \"types\": [\"session.opened\"], \"delivery\": $2 ${3:+, $3}}"
}

# Every retryable code in turn on one event: each answered, then a 2xx.
RETRYABLE=404,409,429,500,502,503,504
ev_receiver r retryable 8080 --statuses "$RETRYABLE" || exit 1
out=$(ev_emit r "$(cfg retryable '{"retry": 10, "backoffPolicy": "linear", "backoffDelay": "PT0.01S"}')" --count 1)
es_diag <<<"retryable: $out"
es_expect_eq "retryable codes: one event delivered after 7 retries" \
	"$(jq '"\(.delivered) \(.retried) \(.attempts)"' <<<"$out")" '"1 7 8"'
es_expect_eq "the receiver answered $RETRYABLE then 200" \
	"$(ev_jq retryable '[.[].status] | map(tostring) | join(",")')" "$RETRYABLE,200"
es_expect_eq "every attempt carries the same id" "$(ev_jq retryable '[.[].id] | unique | length')" 1
ev_stop "$EV_RX_PID"

# A 2xx with a reply event of 100,000 bytes is accepted at once: the reply's
# size does not make it a network error, retried and dropped.
ev_receiver r bigreply 8080 --reply-bytes 100000 || exit 1
out=$(ev_emit r "$(cfg bigreply '{"retry": 3, "backoffDelay": "PT0.01S"}')" --count 1)
es_diag <<<"bigreply: $out"
es_expect_eq "a 2xx with a large reply body: delivered on the first attempt" \
	"$(jq '"\(.delivered) \(.attempts) \(.retried)"' <<<"$out")" '"1 1 0"'
ev_stop "$EV_RX_PID"

# Other 4xx: one attempt each, the event dropped and counted (no dead-letter sink).
REFUSED=400,401,403,405,410,413,415,422
ev_receiver r refused 8080 --statuses "$REFUSED" || exit 1
out=$(ev_emit r "$(cfg refused '{"retry": 5, "backoffDelay": "PT0.01S"}')" --count 8)
es_diag <<<"refused: $out"
es_expect_eq "other 4xx: never retried" "$(jq '"\(.attempts) \(.retried)"' <<<"$out")" '"8 0"'
es_expect_eq "other 4xx: each event dropped and counted" \
	"$(jq '"\(.delivered) \(.dropped)"' <<<"$out")" '"0 8"'
es_expect_eq "8 distinct events were tried" "$(ev_jq refused '[.[].id] | unique | length')" 8
ev_stop "$EV_RX_PID"

# Backoff timing: the gaps between attempts, in ms.
gaps() { ev_jq "$1" '[.[].recv_ns / 1e6 | floor] | [range(1; length) as $i | .[$i] - .[$i-1]] | map(tostring) | join(" ")'; }
within() {	# NAME GAPS WANT...: each gap at least its want and under want + 150 ms
	local name=$1 g=($2) i bad=""
	shift 2
	local w=("$@")
	[ "${#g[@]}" = "${#w[@]}" ] || bad="gaps '${g[*]}', want ${#w[@]}"
	for i in "${!w[@]}"; do
		[ "${g[$i]:-0}" -ge $(( w[i] - 5 )) ] && [ "${g[$i]:-0}" -le $(( w[i] + 150 )) ] ||
			bad="gaps '${g[*]}' ms, want about '${w[*]}'"
	done
	if [ -z "$bad" ]; then es_ok "$name"; else es_not_ok "$name" "$bad"; fi
}
ev_receiver r expo 8080 --statuses 503,503,503,503 || exit 1
out=$(ev_emit r "$(cfg expo '{"retry": 4, "backoffPolicy": "exponential", "backoffDelay": "PT0.1S"}')" --count 1)
es_expect_eq "exponential: delivered on the 5th attempt" "$(jq .attempts <<<"$out")" 5
within "exponential backoff: 100, 200, 400, 800 ms" "$(gaps expo)" 100 200 400 800
ev_stop "$EV_RX_PID"
ev_receiver r linear 8080 --statuses 503,503,503,503 || exit 1
out=$(ev_emit r "$(cfg linear '{"retry": 4, "backoffPolicy": "linear", "backoffDelay": "PT0.1S"}')" --count 1)
es_expect_eq "linear: delivered on the 5th attempt" "$(jq .attempts <<<"$out")" 5
within "linear backoff: 100, 200, 300, 400 ms" "$(gaps linear)" 100 200 300 400
ev_stop "$EV_RX_PID"

# Dead letter: a broker answering 500 always, then one answering 400.
ev_receiver r broken 8080 --always 500 || exit 1
broken=$EV_RX_PID
ev_receiver r dls 8081 || exit 1
dls=$EV_RX_PID
out=$(ev_emit r "$(cfg dead '{"retry": 2, "backoffDelay": "PT0.02S", "deadLetterSink": "http://127.0.0.1:8081/dls"}')" --count 1)
es_diag <<<"dead letter: $out"
es_expect_eq "after 1 + 2 attempts the dead-letter sink has it" \
	"$(ev_jq broken 'length') $(jq .dead_lettered <<<"$out") $(jq .delivered <<<"$out")" "3 1 0"
es_expect_eq "dead-lettered with knativeerrorcode and knativeerrordest" \
	"$(ev_jq dls '.[0] | "\(.ext_knativeerrorcode) \(.ext_knativeerrordest)"')" "500 http://127.0.0.1:8080/"
es_expect_eq "the dead letter is the event (same id), valid for the SDK" \
	"$(ev_jq dls '.[0].id') $(ev_jq dls '[.[] | select(.invalid)] | length')" "$(ev_jq broken '.[0].id') 0"
ev_stop "$broken"
ev_receiver r refusing 8080 --always 400 || exit 1
# with the 16 extensions K_CE_OVERRIDES may hold, each a header of the
# dead letter too: the knativeerror* headers still fit (23 did, then no more)
export K_CE_OVERRIDES
K_CE_OVERRIDES=$(jq -nc '{extensions: ([range(1; 17) | {key: "e\(.)", value: "v"}] | from_entries)}')
out=$(ev_emit r "$(cfg dead400 '{"retry": 2, "backoffDelay": "PT0.02S", "deadLetterSink": "http://127.0.0.1:8081/dls"}')" --count 1)
unset K_CE_OVERRIDES
es_expect_eq "a 400: no retry, straight to the dead-letter sink, every header there" \
	"$(ev_jq refusing 'length') $(jq .dead_lettered <<<"$out") $(ev_jq dls '.[1] | "\(.ext_knativeerrorcode) \(.ext_e16)"')" "1 1 400 v"
ev_stop "$EV_RX_PID"

# Network errors: nothing listens on the sink's port.
out=$(ev_emit r "$(cfg network '{"retry": 3, "backoffDelay": "PT0.02S", "deadLetterSink": "http://127.0.0.1:8081/dls"}')" --count 1)
es_expect_eq "connection refused: retried 3 times, then dead-lettered" \
	"$(jq '"\(.retried) \(.dead_lettered)"' <<<"$out")" '"3 1"'
es_expect_eq "dead letter says network" "$(ev_jq dls '.[2].ext_knativeerrorcode')" network
# Nothing takes it (no sink, the dead-letter sink answers 503): it stays spooled.
ev_stop "$dls"
ev_receiver r dls503 8081 --always 503 || exit 1
out=$(ev_emit r "$(cfg keep '{"retry": 1, "backoffDelay": "PT0.02S", "deadLetterSink": "http://127.0.0.1:8081/dls"}')" --count 1 --wait 1)
es_expect_eq "neither sink takes it: kept in the spool, nothing dropped" \
	"$(jq '"\(.spool_depth) \(.dropped) \(.delivered)"' <<<"$out")" '"1 0 0"'
es_expect_ge "and the dead-letter sink was tried again and again" "$(ev_jq dls503 'length')" 4
ev_stop "$EV_RX_PID"
ev_receiver r after 8080 || exit 1
out=$(ev_emit r "$(cfg keep '{"retry": 1, "backoffDelay": "PT0.02S"}')" --count 0)
es_expect_eq "the next start delivers it once a sink is back" \
	"$(jq '"\(.delivered) \(.spool_depth)"' <<<"$out") $(ev_jq after 'length')" '"1 0" 1'
es_expect_eq "with the id it had" "$(ev_jq after '.[0].id')" "$(ev_jq dls503 '.[0].id')"
es_done
