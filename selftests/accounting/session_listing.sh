#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# GET /v1/sessions answered from the collection scan's index (source=
# snapshot) gives exactly what a read of every session gives (source=live)
# on the same quiescent sessions, in every order the index keeps, says how
# old it is, and listings the index cannot answer (more than it keeps, a
# filter, the latency order, a small node under source=auto) read the maps;
# `edgeshift sessions` says when its counters are the scan's.
. "$(dirname "$0")/../lib.sh"
es_require_root session_listing
es_plan 11

es_ns_pair 10.243.0 || exit 1
cat >"$ES_TMP/cfg.json" <<JSON
{"gc_interval_ms": 300, "idle_timeout_ms": 600000}
JSON
es_agent_start b main --config "$ES_TMP/cfg.json" -i "$VB" || exit 1
MAC=$(es_in b ip -j link show dev "$VB" | jq -r '.[0].address')
flood() {
	es_in a "$ES_BUILD/es-flood" --dev "$VA" --dst-mac "$MAC" --src-net 10.201.0.0/16 \
		--dst 10.243.0.2 --timeout 20 --json "$@" | jq .sent
}
# 1,500 sessions (more than the index keeps), the first 300 with a second,
# larger frame and the first 40 with a third: many ties, three sizes.
sent=$(flood --count 1500)/$(flood --count 300 --size 200)/$(flood --count 40 --size 400)
es_expect_eq "frames sent" "$sent" "1500/300/40"
sleep 1	# quiescent: a scan that started after the last frame has published

api() { es_api b "/v1/sessions?$1"; }
diff=""
for sort in bytes packets first last; do
	for order in desc asc; do
		for limit in 10 1000; do
			q="sort=$sort&order=$order&limit=$limit"
			snap=$(api "$q&source=snapshot" | jq -c '[.source, .matched, .count, .sessions]')
			live=$(api "$q&source=live" | jq -c '["snapshot", .matched, .count, .sessions]')
			[ -n "$snap" ] && [ "$snap" = "$live" ] || diff="$diff $q"
		done
	done
done
es_expect_eq "index answers equal full reads (16 orders and limits)" "${diff:-none}" none
es_expect_eq "and held what they asked: matched/count of limit 1000" \
	"$(api 'limit=1000&source=snapshot' | jq -r '"\(.matched)/\(.count)"')" "1500/1000"

s=$(api 'limit=10&source=snapshot')
now=$(date +%s)
es_expect_eq "the index's answer says its age and time" \
	"$(jq -r '[(.age_ms | type), (.as_of | test("^[0-9-]{10}T[0-9:]{8}[.][0-9]{3}Z$")), (.as_of_ns > 0)] | join(",")' <<<"$s")" \
	"number,true,true"
es_expect_le "its age is within two scan intervals (ms)" "$(jq '.age_ms | floor' <<<"$s")" 1000
es_expect_le "its UTC time is now (s)" \
	"$(( now - $(jq -r '.as_of | sub("[.][0-9]+Z$"; "Z") | fromdate' <<<"$s") ))" 2

src() { api "$1" | jq -r '"\(.source)/\(.count)"'; }
es_expect_eq "more than the index keeps: read live" "$(src 'limit=1001&source=snapshot')" "live/1001"
es_expect_eq "no limit on 1,500 sessions: read live" "$(src 'source=snapshot')" "live/1500"
es_expect_eq "a filter, the latency order: read live" \
	"$(src 'limit=5&proto=udp&source=snapshot'),$(src 'limit=5&sort=latency&source=snapshot')" \
	"live/5,live/5"
es_expect_eq "source=auto on a node under 10,000 sessions: read live" "$(src 'limit=10')" "live/10"
cli() {
	es_in b "$ES_BUILD/edgeshift" --api "http://127.0.0.1:$ES_AGENT_PORT" sessions --top 3 "$@" |
		tail -n 1 | grep -c 'counters of the collection scan [0-9.]* s ago'
}
es_expect_eq "edgeshift sessions says when its counters are the scan's" \
	"$(cli --source snapshot)/$(cli --source live)" "1/0"
es_done
