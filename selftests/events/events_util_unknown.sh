#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# utilisation.crossed through rounds where an interface's capacity is
# unknown (utilisation below 0: its speed unreadable while the carrier is
# down). Such a round gives no verdict: the interface keeps the state it
# has, so one above the threshold is not announced up again when its
# capacity comes back, and its way down is announced once. es-events-emit
# gives the Detector one interface's utilisation a round each, as the
# agent's rounds do (the agent cannot be made to lose a capacity on cue).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/events_lib.sh"
es_require_root events_util_unknown
ev_sdk_or_skip events_util_unknown
es_plan 2

es_netns_add r || exit 1
ev_receiver r sink 8080 --mode binary || exit 1
cfg="{\"sink\": \"http://127.0.0.1:8080/ce\", \"spool_dir\": \"$ES_TMP/spool\",
      \"types\": [\"utilisation.crossed\"], \"utilisation_threshold\": 0.8}"
# above; unknown; above again (no new up: the state was kept); unknown; below
out=$(ev_emit r "$cfg" --util 0.95,-1,0.95,-1,0.1 --wait 20)
es_diag <<<"$out"
es_expect_eq "every event delivered, each valid" \
	"$(jq .delivered <<<"$out") $(ev_jq sink '[.[] | select(.invalid)] | length')" "2 0"
es_expect_eq "up at 0.95, nothing while unknown or still above, one down at 0.1" \
	"$(ev_jq sink '[.[] | "\(.data.direction):\(.data.utilisation)"] | join(" ")')" \
	"up:0.95 down:0.1"
es_done
