#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# An event that cannot be built is dropped, counted
# (edgeshift_events_dropped_total{reason="build_error"}) and logged once,
# never spooled half-built: an interface's name holds any byte the kernel
# takes, not only UTF-8, and JSON text must be UTF-8, so a name such as
# "es\xff" fails the data and the subject of its utilisation.crossed. No
# fault build: es-events-emit gives the Detector that name, as the
# agent's rounds would.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/events_lib.sh"
es_require_root events_unbuilt
es_plan 3

es_netns_add r || exit 1
# port 9 in the test's namespace refuses: what is spooled stays there
cfg="{\"sink\": \"http://127.0.0.1:9/ce\", \"spool_dir\": \"$ES_TMP/spool-bad\",
      \"types\": [\"utilisation.crossed\"], \"utilisation_threshold\": 0.8}"
out=$(ev_emit r "$cfg" --util 0.95,0.1 --ifname $'es\xff' --wait 0.3)
es_diag <<<"$out"
es_expect_eq "a name not UTF-8: up and down not built, counted, nothing spooled" \
	"$(jq -r '"\(.emitted) \(.dropped_build_error) \(.spool_depth)"' <<<"$out")" "0 2 0"
es_expect_eq "logged once" "$(grep -c 'event=event_unbuilt' "$ES_TMP/emit.log")" 1
grep 'event=event_unbuilt' "$ES_TMP/emit.log" | es_diag
out=$(ev_emit r "${cfg/spool-bad/spool-good}" --util 0.95,0.1 --ifname es0 --wait 0.3)
es_expect_eq "control: the same rounds under a UTF-8 name are spooled" \
	"$(jq -r '"\(.emitted) \(.dropped_build_error) \(.spool_depth)"' <<<"$out")" "2 0 2"
es_done
