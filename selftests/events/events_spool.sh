#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The spool: events emitted while the broker is down, the emitter killed
# with SIGKILL (twice: during the outage and in the middle of delivery),
# are all delivered once the broker is back, by id, none missing (at least
# once: a few may come twice, with the same id). A full spool drops new
# events and counts every one; a full disk drops them as write errors.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/events_lib.sh"
es_require_root events_spool
ev_sdk_or_skip events_spool
N=${ES_EVENTS_SPOOL_N:-20000}
es_plan 12

es_netns_add r || exit 1
CFG="{\"sink\": \"http://127.0.0.1:8080/\", \"spool_dir\": \"$ES_TMP/spool\",
      \"types\": [\"session.opened\"], \"delivery\": {\"retry\": 2, \"backoffDelay\": \"PT0.05S\"}}"
spooled() { cat "$ES_TMP"/spool/*.seg 2>/dev/null | wc -l; }

# 1. Broker down: N events spooled, then the emitter is killed.
es_bg --out "$ES_TMP/emit1.json" es_in r "$ES_BUILD/es-events-emit" --config "$CFG" \
	--count "$N" --wait 600
pid=$ES_BG_PID
for _ in $(seq 300); do [ "$(spooled)" -ge "$N" ] && break; sleep 0.1; done
kill -9 "$pid"
wait "$pid" 2>/dev/null
es_expect_eq "broker down: all $N events in the spool when the emitter is killed" "$(spooled)" "$N"

# 2. Broker back; the next emitter is killed in the middle of delivering.
ev_receiver r sink 8080 || exit 1
es_bg --out "$ES_TMP/emit2.json" es_in r "$ES_BUILD/es-events-emit" --config "$CFG" --count 0 --wait 600
pid=$ES_BG_PID
for _ in $(seq 600); do [ "$(ev_jq sink length)" -ge $((N / 3)) ] && break; sleep 0.05; done
kill -9 "$pid"
wait "$pid" 2>/dev/null
got=$(ev_jq sink length)
es_diag <<<"killed after $got deliveries"
es_expect_ge "killed in the middle of delivery (some delivered)" "$got" 1
[ "$got" -lt "$N" ] && es_ok "killed before the end ($got of $N)" || es_not_ok "killed before the end" "all $N were delivered first: raise ES_EVENTS_SPOOL_N"

# 3. A third start delivers the rest.
out=$(ev_emit r "$CFG" --count 0 --wait 120)
es_diag <<<"restart: $out"
es_expect_eq "the spool drains" "$(jq .spool_depth <<<"$out")" 0
es_expect_eq "every event delivered: $N distinct subjects" \
	"$(ev_jq sink '[.[] | select(.status == 200) | .subject] | unique | length')" "$N"
es_expect_eq "ids stable across the kills: one id per subject" \
	"$(ev_jq sink '[.[] | "\(.subject) \(.id)"] | unique | length')" "$N"
es_expect_le "at least once, not many more: re-sent after the kill" \
	"$(( $(ev_jq sink length) - N ))" 2
ev_stop "$EV_RX_PID"

# 3b. Four in flight: killed in the middle of delivery, nothing missing either.
PCFG="{\"sink\": \"http://127.0.0.1:8080/\", \"spool_dir\": \"$ES_TMP/parallel\", \"parallelism\": 4,
       \"types\": [\"session.opened\"], \"delivery\": {\"retry\": 2, \"backoffDelay\": \"PT0.05S\"}}"
ev_receiver r par 8080 || exit 1
es_bg --out "$ES_TMP/emit4.json" es_in r "$ES_BUILD/es-events-emit" --config "$PCFG" --count 5000 --wait 600
pid=$ES_BG_PID
for _ in $(seq 600); do [ "$(ev_jq par length)" -ge 1500 ] && break; sleep 0.05; done
kill -9 "$pid"
wait "$pid" 2>/dev/null
ev_emit r "$PCFG" --count 0 --wait 120 >/dev/null
es_expect_eq "parallelism 4, killed while delivering: every event delivered" \
	"$(ev_jq par '[.[] | select(.status == 200) | .subject] | unique | length')" 5000
es_expect_le "parallelism 4: re-sent after the kill at most the events in flight and behind them" \
	"$(( $(ev_jq par length) - 5000 ))" 64
ev_stop "$EV_RX_PID"

# 4. The bound: 150 events into a spool of 100 while the broker is down.
BCFG="{\"sink\": \"http://127.0.0.1:8080/\", \"spool_dir\": \"$ES_TMP/bounded\", \"spool_max_events\": 100,
       \"types\": [\"session.opened\"], \"delivery\": {\"retry\": 0, \"backoffDelay\": \"PT0.05S\"}}"
out=$(ev_emit r "$BCFG" --count 150 --wait 0.5)
es_expect_eq "a full spool drops the newest and counts each" \
	"$(jq '"\(.emitted) \(.dropped) \(.spool_depth)"' <<<"$out")" '"100 50 100"'
ev_receiver r bounded 8080 || exit 1
ev_emit r "$BCFG" --count 0 >/dev/null
es_expect_eq "the 100 kept are delivered, the first 100 emitted" \
	"$(ev_jq bounded '[.[].subject | capture(":(?<p>[0-9]+)/").p | tonumber] | unique | "\(length) \(max)"')" "100 100"
ev_stop "$EV_RX_PID"

# 5. A full disk: the spool made on a tmpfs of 64 KiB, the rest of it
# filled, then 50 events. Each write finds no room (ENOSPC): dropped as a
# write error, not as the spool's bound, which it is far from (the old
# code took ENOSPC for the bound).
mkdir -p "$ES_TMP/tiny" && mount -t tmpfs -o size=64k tmpfs "$ES_TMP/tiny" || exit 1
TCFG="{\"sink\": \"http://127.0.0.1:8080/\", \"spool_dir\": \"$ES_TMP/tiny/spool\",
       \"types\": [\"session.opened\"], \"delivery\": {\"retry\": 0, \"backoffDelay\": \"PT0.05S\"}}"
ev_emit r "$TCFG" --count 0 --wait 0.1 >/dev/null
dd if=/dev/zero of="$ES_TMP/tiny/fill" bs=4k >/dev/null 2>&1
out=$(ev_emit r "$TCFG" --count 50 --wait 0.3)
es_expect_eq "a full disk: each event dropped as a write error, none as the spool's bound" \
	"$(jq '"\(.emitted) \(.dropped_write_error) \(.dropped_spool_full)"' <<<"$out")" '"0 50 0"'
umount "$ES_TMP/tiny"
es_done
