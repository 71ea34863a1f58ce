#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The tunnel between the nodes over a real WAN: 5 % loss in both directions
# during the whole migration, and the WAN cut for 3 s and 8 s during the
# transfer and during the replay (a first attempt that fails is retried
# by hand, and the retry must be done); a migration that fails over a
# lossy WAN (the session stays forwarded). Requests the WAN lost are sent
# again by the target from its replay buffer and delivered in sequence at
# the source; replies it lost are sent again by the source from its
# copies. Nothing is lost, answered twice or misnumbered, and nothing is
# given up.
. "$(dirname "$0")/../lib.sh"
es_require_root drill_wan
command -v criu >/dev/null || { es_plan 1; es_skip drill_wan "criu missing (tools/setup/install-deps)"; exit 0; }
# shellcheck source=selftests/migration/drill.inc
. "$(dirname "$0")/drill.inc"
es_plan 32

# 5 % of the frames each way, at 100 requests/s: the migration tunnels
# 170-320 requests and as many replies, so a loss in each direction is all
# but certain (9-21 replies and 7-23 requests sent again in three runs; at
# 50/s, about 120 each way, 2-9 replies were, and 2 runs in about 14 lost
# none)
drill_run loss --rate 100 --count 700 --handoff-at 100 --wan-loss 5
drill_expect_lossy "5 % loss"
drill_expect_eq "5 % loss: migration done, drill passed" "$(drill_q .migration.state) $DRILL_RC" "done 0"
es_expect_ge "5 % loss: requests the WAN lost were sent again and delivered in sequence" \
	"$(cat "$DRILL_DIR"/events-node*.log | grep -c '"event":"zdm_resent"')" 1
es_expect_ge "5 % loss: replies the WAN lost were sent again" \
	"$(cat "$DRILL_DIR"/events-node*.log | grep -c '"event":"zdm_replies_resent"')" 1

# A failed migration (the target's restore) over the same WAN: the session
# stays forwarded, ABORTED, and its requests are still kept until the
# source acknowledges them, so what the WAN loses afterwards is recovered too.
drill_run abort --rate 50 --count 500 --handoff-at 50 --wan-loss 3 --fault restore_fail
drill_expect_lossy "3 % loss, restore fails"
drill_expect_eq "3 % loss, restore fails: migration failed, old container serving, drill passed" \
	"$(drill_q '"\(.migration.state) \(.site.old_running)"') $DRILL_RC" "failed 1 0"

for case in "transfer 3" "transfer 8" "replay 3" "replay 8"; do
	read -r at secs <<<"$case"
	# the user sends through the outage and the recovery after it; a
	# first attempt that failed is retried by hand, and the retry must be done
	drill_run "cut-$at-$secs" --rate 20 --count $((160 + 20 * secs)) --handoff-at 30 --fault wan_outage \
		--fault-at "$at" --outage-s "$secs" --retry
	drill_expect_lossy "WAN cut $secs s in the $at"
	# cut at the transfer's start, the WAN holds the migration until it is
	# back; a cut at the replay may come just after the end (fault_within)
	drill_expect_eq "WAN cut $secs s in the $at: done (the retry's, if the first failed), drill passed$(fault_within "$at" cut label)" \
		"$(drill_q .migration.state) $DRILL_RC$(fault_within "$at" cut got)" "done 0$(fault_within "$at" cut want)"
done
es_done
